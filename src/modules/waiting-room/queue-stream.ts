import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import { StreamRooms, type StreamSubscriber } from '../../platform/http/stream-rooms.js';
import { type QueueView, type WaitingRoomService, pollAfterSeconds } from './waiting-room.service.js';

interface Subscriber extends StreamSubscriber {
  userId: string;
  last: string;
  /** Epoch ms when this buyer's place is read next (its `pollAfterSeconds`). */
  dueAt: number;
  send: (view: QueueView) => void;
  /** The buyer was admitted (or left the queue): the stream ends. */
  end: () => void;
}

/** Buyers read per store round trip in a tick: bounds the store's script and each synchronous slice of the loop. */
export const STREAM_READ_CHUNK = 1000;

/**
 * Pushes queue positions to stream clients. One loop per showtime per process (`StreamRooms`)
 * reads the standing of the subscribers that are due — each at the pace a polling buyer would
 * be told (`pollAfterSeconds`: every second near the front, rarely far back) — in round trips of
 * STREAM_READ_CHUNK buyers, never a poll loop per client, and writes an event only when a
 * buyer's standing changed. The read is also the buyer's heartbeat, and the pace is never
 * longer than a third of the abandon timeout. Reading every subscriber every interval cost a
 * process tens of thousands of reads and writes per second, in one synchronous slice per tick,
 * at 100,000 buyers.
 */
export class QueueWatcher {
  readonly #rooms: StreamRooms<Subscriber>;

  constructor(service: WaitingRoomService, intervalMs: number, logger: Logger, clock: Clock) {
    this.#rooms = new StreamRooms<Subscriber>({
      everyMs: intervalMs,
      what: 'queue stream poll',
      keyField: 'scheduleId',
      logger,
      clock,
      tick: async (scheduleId, room, remove) => {
        const now = clock.now().getTime();
        const due: Subscriber[] = [];
        for (const s of room) if (s.dueAt <= now) due.push(s);
        if (!due.length) return;
        const pace = await service.pace(scheduleId);
        for (let i = 0; i < due.length; i += STREAM_READ_CHUNK) {
          const chunk = due.slice(i, i + STREAM_READ_CHUNK);
          const views = await service.statuses(
            scheduleId,
            chunk.map((s) => s.userId),
          );
          chunk.forEach((s, k) => {
            const view = views[k];
            if (!view) {
              s.end();
              remove(s);
              return;
            }
            if (pace) s.dueAt = now + pollAfterSeconds(view, pace) * 1000;
            const key = JSON.stringify(strip(view));
            if (key !== s.last) {
              s.last = key;
              s.send(view);
            }
            if (view.status === 'ADMITTED') {
              s.end();
              remove(s);
            }
          });
        }
      },
    });
  }

  /**
   * Starts watching a buyer whose first event was already sent as `initial`, reading its place
   * next at `dueAt` (epoch ms; by default at the next tick); returns the unsubscribe.
   */
  subscribe(scheduleId: string, userId: string, initial: QueueView, send: Subscriber['send'], end: Subscriber['end'], dueAt = 0): () => void {
    return this.#rooms.subscribe(scheduleId, { userId, last: JSON.stringify(strip(initial)), dueAt, send, end });
  }

  /** Subscribers across every showtime (for tests and metrics). */
  get size(): number {
    return this.#rooms.size;
  }

  close(): void {
    this.#rooms.close();
  }
}

/** What decides "changed": the token is re-signed on every read, so it does not count. */
function strip(view: QueueView): Omit<QueueView, 'admissionToken' | 'admissionExpiresAt'> {
  return { status: view.status, position: view.position, ahead: view.ahead, estimatedWaitSeconds: view.estimatedWaitSeconds };
}

/**
 * Open queue streams per buyer, in this process. Each stream costs a connection and a place
 * in the showtime's loop, so one buyer may not open any number of them. Per process: behind a
 * load balancer a buyer could reach the cap once per API process — a bound still, and one
 * that needs no shared counter to leak when a process dies with streams open.
 */
export class StreamSlots {
  readonly #open = new Map<string, number>();
  constructor(private readonly maxPerUser: number) {}

  /** A slot for the user and how to give it back (once), or undefined when they hold them all. */
  acquire(userId: string): (() => void) | undefined {
    const open = this.#open.get(userId) ?? 0;
    if (open >= this.maxPerUser) return undefined;
    this.#open.set(userId, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(userId) ?? 1) - 1;
      if (left > 0) this.#open.set(userId, left);
      else this.#open.delete(userId);
    };
  }
}
