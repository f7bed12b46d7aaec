import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../platform/clock.js';
import { TICK_FAILURE_LOG_EVERY_MS as POLL_FAILURE_LOG_EVERY_MS } from '../../platform/http/stream-rooms.js';
import { QueueWatcher } from './queue-stream.js';
import { STREAM_READ_CHUNK } from './queue-stream.js';
import type { PollPace, QueueView, WaitingRoomService } from './waiting-room.service.js';

const INTERVAL_MS = 100;
const waiting: QueueView = { status: 'WAITING', position: 1, ahead: 0, estimatedWaitSeconds: 0 };

function watcherWith(statuses: (scheduleId: string, userIds: readonly string[]) => Promise<(QueueView | undefined)[]>, pace: PollPace | null = null) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const clock = new ManualClock('2026-11-28T00:00:00Z');
  const service = { statuses, pace: async () => (pace ? { ...pace, now: clock.now().getTime() } : null) } as unknown as WaitingRoomService;
  const watcher = new QueueWatcher(service, INTERVAL_MS, logger, clock);
  watcher.subscribe(
    'sch_1',
    'user_1',
    waiting,
    () => {},
    () => {},
  );
  /** Runs `n` poll intervals, the clock moving with them. */
  const intervals = async (n: number) => {
    for (let i = 0; i < n; i++) {
      clock.advance(INTERVAL_MS);
      await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    }
  };
  return { watcher, lines, intervals, clock };
}

describe('queue stream polling', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs a failing store at once, then one line per period with the count, and the recovery', async () => {
    vi.useFakeTimers();
    let down = true;
    const { watcher, lines, intervals } = watcherWith(async () => {
      if (down) throw new Error('connection is closed');
      return [waiting];
    });

    await intervals(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, scheduleId: 'sch_1', failures: 1, err: { message: 'connection is closed' } });

    // A period's worth of failed polls writes nothing more until the period has passed.
    await intervals(POLL_FAILURE_LOG_EVERY_MS / INTERVAL_MS - 1);
    expect(lines).toHaveLength(1);
    await intervals(1);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 40, failures: POLL_FAILURE_LOG_EVERY_MS / INTERVAL_MS + 1 });

    down = false;
    await intervals(1);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ level: 30, msg: 'queue stream polls recovered', failures: POLL_FAILURE_LOG_EVERY_MS / INTERVAL_MS + 1 });
    await intervals(5);
    expect(lines).toHaveLength(3);
    watcher.close();
  });

  it('reads each subscriber at its pace — every second near the front, rarely far back — in chunks of STREAM_READ_CHUNK', async () => {
    vi.useFakeTimers();
    const pace: PollPace = { now: 0, opensAt: 0, admitPerSecond: 100, mostSeconds: 20 };
    const reads = new Map<string, number>();
    const calls: number[] = [];
    const viewOf = (userId: string): QueueView => {
      const ahead = Number(userId.slice(1));
      return { status: 'WAITING', position: ahead + 1, ahead, estimatedWaitSeconds: Math.ceil(ahead / 100) };
    };
    const { watcher, intervals } = watcherWith(async (_id, userIds) => {
      calls.push(userIds.length);
      for (const u of userIds) reads.set(u, (reads.get(u) ?? 0) + 1);
      return userIds.map(viewOf);
    }, pace);
    // 2,500 more buyers, 0 to 24,990 places back; all are due at the next tick.
    for (let i = 0; i < 2500; i++)
      watcher.subscribe(
        'sch_1',
        `u${i * 10}`,
        viewOf(`u${i * 10}`),
        () => {},
        () => {},
      );
    await intervals(1);
    expect(calls).toEqual([STREAM_READ_CHUNK, STREAM_READ_CHUNK, 501]);
    await intervals(300); // 30 s at 100 ms per interval
    // The front (ETA ≤ 2 s) is read about every second; 24,990 places back (ETA 250 s), once per 20 s at most.
    expect(reads.get('u0')).toBeGreaterThanOrEqual(28);
    expect(reads.get('u24990')).toBeGreaterThanOrEqual(2);
    expect(reads.get('u24990')).toBeLessThanOrEqual(3);
    const total = [...reads.values()].reduce((a, b) => a + b, 0);
    // Read every interval, 2,501 subscribers would have cost 750,000 reads in 30 s.
    expect(total).toBeLessThan(20_000);
    watcher.close();
  });
});
