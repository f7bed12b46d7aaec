import type { Logger } from 'pino';
import type { Clock } from '../clock.js';

/** While a room's ticks keep failing, one warning per this long (the first failure is logged at once). */
export const TICK_FAILURE_LOG_EVERY_MS = 30_000;

/** A stream client: `end` closes its stream (the process is closing, or the tick says it is done). */
export interface StreamSubscriber {
  end(): void;
}

interface Room<S> {
  subscribers: Set<S>;
  timer: NodeJS.Timeout;
  busy: boolean;
  /** Failed ticks in a row, and when the last of them was logged. */
  failures: number;
  loggedAt: number;
}

export interface StreamRoomsOptions<S> {
  /** How often a room ticks while it has subscribers. */
  everyMs: number;
  /**
   * One tick of one room: read what the room's subscribers follow (one read for all of them) and
   * write each what changed. `remove` takes a subscriber out (its stream ended).
   */
  tick: (key: string, subscribers: ReadonlySet<S>, remove: (subscriber: S) => void) => Promise<void>;
  /** What a tick does, for the log lines (e.g. `queue stream poll`). */
  what: string;
  /** The log field that names a room's key (e.g. `scheduleId`). */
  keyField: string;
  logger: Logger;
  clock: Clock;
}

/**
 * The fan-out loop behind the server-sent event streams: one room per key (a showtime) per
 * process, ticking every `everyMs` while it has subscribers — never a loop per client. A tick
 * never overlaps the previous one of its room (a slow store must not pile loops up); a failed
 * tick is retried at the next interval, and an outage logs its first failure, then one line per
 * TICK_FAILURE_LOG_EVERY_MS with the count, then one line when it recovers.
 */
export class StreamRooms<S extends StreamSubscriber> {
  readonly #rooms = new Map<string, Room<S>>();

  constructor(private readonly options: StreamRoomsOptions<S>) {}

  /** Adds a subscriber to the key's room (starting its loop); returns the unsubscribe. */
  subscribe(key: string, subscriber: S): () => void {
    let room = this.#rooms.get(key);
    if (!room) {
      const created: Room<S> = {
        subscribers: new Set(),
        timer: setInterval(() => void this.#tick(key), this.options.everyMs),
        busy: false,
        failures: 0,
        loggedAt: 0,
      };
      this.#rooms.set(key, created);
      room = created;
    }
    room.subscribers.add(subscriber);
    return () => this.#remove(key, subscriber);
  }

  /** Subscribers across every room in this process. */
  get size(): number {
    let n = 0;
    for (const room of this.#rooms.values()) n += room.subscribers.size;
    return n;
  }

  /** Ends every stream and stops every loop. */
  close(): void {
    for (const [key, room] of this.#rooms) {
      clearInterval(room.timer);
      for (const s of room.subscribers) s.end();
      this.#rooms.delete(key);
    }
  }

  async #tick(key: string): Promise<void> {
    const room = this.#rooms.get(key);
    if (!room || room.busy) return;
    room.busy = true;
    const { logger, clock, what, keyField } = this.options;
    try {
      await this.options.tick(key, room.subscribers, (s) => this.#remove(key, s));
      if (room.failures) {
        logger.info({ [keyField]: key, failures: room.failures }, `${what}s recovered`);
        room.failures = 0;
      }
    } catch (err) {
      room.failures++;
      const now = clock.now().getTime();
      if (room.failures === 1 || now - room.loggedAt >= TICK_FAILURE_LOG_EVERY_MS) {
        room.loggedAt = now;
        logger.warn({ err, [keyField]: key, failures: room.failures, subscribers: room.subscribers.size }, `${what} failed; retrying every interval`);
      }
    } finally {
      room.busy = false;
    }
  }

  #remove(key: string, subscriber: S): void {
    const room = this.#rooms.get(key);
    if (!room) return;
    room.subscribers.delete(subscriber);
    if (!room.subscribers.size) {
      clearInterval(room.timer);
      this.#rooms.delete(key);
    }
  }
}
