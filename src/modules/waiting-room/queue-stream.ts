import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import type { QueueView, WaitingRoomService } from './waiting-room.service.js';

/** While a room's polls keep failing, one warning per this long (the first failure is logged at once). */
export const POLL_FAILURE_LOG_EVERY_MS = 30_000;

interface Room {
  subscribers: Set<Subscriber>;
  timer: NodeJS.Timeout;
  busy: boolean;
  /** Failed polls in a row, and when the last of them was logged. */
  failures: number;
  loggedAt: number;
}

interface Subscriber {
  userId: string;
  last: string;
  send: (view: QueueView) => void;
  /** The buyer was admitted (or left the queue): the stream ends. */
  end: () => void;
}

/**
 * Pushes queue positions to stream clients. One loop per showtime per process asks the store
 * for every subscriber's standing in one round trip each interval — never a poll loop per
 * client — and writes an event only when a buyer's standing changed (at most one per interval).
 */
export class QueueWatcher {
  readonly #rooms = new Map<string, Room>();

  constructor(
    private readonly service: WaitingRoomService,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** Starts watching a buyer whose first event was already sent as `initial`; returns the unsubscribe. */
  subscribe(scheduleId: string, userId: string, initial: QueueView, send: Subscriber['send'], end: Subscriber['end']): () => void {
    let room = this.#rooms.get(scheduleId);
    if (!room) {
      const created: Room = {
        subscribers: new Set<Subscriber>(),
        timer: setInterval(() => void this.#poll(scheduleId), this.intervalMs),
        busy: false,
        failures: 0,
        loggedAt: 0,
      };
      this.#rooms.set(scheduleId, created);
      room = created;
    }
    const subscriber: Subscriber = { userId, last: JSON.stringify(strip(initial)), send, end };
    room.subscribers.add(subscriber);
    return () => this.#remove(scheduleId, subscriber);
  }

  /** Subscribers across every showtime (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const room of this.#rooms.values()) n += room.subscribers.size;
    return n;
  }

  close(): void {
    for (const [id, room] of this.#rooms) {
      clearInterval(room.timer);
      for (const s of room.subscribers) s.end();
      this.#rooms.delete(id);
    }
  }

  async #poll(scheduleId: string): Promise<void> {
    const room = this.#rooms.get(scheduleId);
    if (!room || room.busy) return; // a slow store must not pile loops up
    room.busy = true;
    try {
      const subscribers = [...room.subscribers];
      const views = await this.service.statuses(
        scheduleId,
        subscribers.map((s) => s.userId),
      );
      subscribers.forEach((s, i) => {
        const view = views[i];
        if (!view) {
          s.end();
          this.#remove(scheduleId, s);
          return;
        }
        const key = JSON.stringify(strip(view));
        if (key !== s.last) {
          s.last = key;
          s.send(view);
        }
        if (view.status === 'ADMITTED') {
          s.end();
          this.#remove(scheduleId, s);
        }
      });
      if (room.failures) {
        this.logger.info({ scheduleId, failures: room.failures }, 'queue stream polls recovered');
        room.failures = 0;
      }
    } catch (err) {
      // The next interval tries again; a stream client sees no event meanwhile. The store is
      // asked every interval for every room, so an outage would write a line per room per
      // interval: log the first failure, then one line per POLL_FAILURE_LOG_EVERY_MS with the count.
      room.failures++;
      const now = this.clock.now().getTime();
      if (room.failures === 1 || now - room.loggedAt >= POLL_FAILURE_LOG_EVERY_MS) {
        room.loggedAt = now;
        this.logger.warn({ err, scheduleId, failures: room.failures, subscribers: room.subscribers.size }, 'queue stream poll failed; retrying every interval');
      }
    } finally {
      room.busy = false;
    }
  }

  #remove(scheduleId: string, subscriber: Subscriber): void {
    const room = this.#rooms.get(scheduleId);
    if (!room) return;
    room.subscribers.delete(subscriber);
    if (!room.subscribers.size) {
      clearInterval(room.timer);
      this.#rooms.delete(scheduleId);
    }
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
