import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../platform/clock.js';
import { TICK_FAILURE_LOG_EVERY_MS as POLL_FAILURE_LOG_EVERY_MS } from '../../platform/http/stream-rooms.js';
import { QueueWatcher } from './queue-stream.js';
import type { QueueView, WaitingRoomService } from './waiting-room.service.js';

const INTERVAL_MS = 100;
const waiting: QueueView = { status: 'WAITING', position: 1, ahead: 0, estimatedWaitSeconds: 0 };

function watcherWith(statuses: () => Promise<(QueueView | undefined)[]>) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const clock = new ManualClock('2026-11-28T00:00:00Z');
  const service = { statuses } as unknown as WaitingRoomService;
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
  return { watcher, lines, intervals };
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
});
