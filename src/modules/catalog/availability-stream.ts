import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import type { AvailabilityMessage } from './availability-codec.js';
import type { SeatAvailability } from './seat-availability.js';

/** While a showtime's refreshes keep failing, one warning per this long (the first failure is logged at once). */
const FAILURE_LOG_EVERY_MS = 30_000;

interface Subscriber {
  /** The version this client has: the last event it was sent. */
  version: number;
  write: (event: string) => void;
  /** The process is closing: the stream ends (the client reconnects elsewhere with Last-Event-ID). */
  end: () => void;
}

interface Room {
  subscribers: Set<Subscriber>;
  timer: NodeJS.Timeout;
  busy: boolean;
  failures: number;
  loggedAt: number;
}

/** One SSE event: the version is its id, so a reconnecting client sends it back as Last-Event-ID. */
export const availabilityEvent = (message: AvailabilityMessage) => `id: ${message.version}\nevent: availability\ndata: ${JSON.stringify(message)}\n\n`;

/**
 * Pushes availability changes to stream clients. One loop per showtime per process looks at the
 * process's snapshot a few times per SEAT_AVAILABILITY_REFRESH_MS — the snapshot reads the hot
 * state at most once per interval, for the loop and every HTTP reader together — and, when the
 * version moved, writes each client the changes since the version it has. Clients at the same
 * version (nearly all of them) share one encoded event, so 2,000 clients cost one encoding and
 * 2,000 socket writes per change, not 2,000 reads.
 */
export class AvailabilityWatcher {
  readonly #rooms = new Map<string, Room>();

  constructor(
    private readonly availability: SeatAvailability,
    private readonly refreshMs: number,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** Starts pushing to a client that was sent `version` already; returns the unsubscribe. */
  subscribe(scheduleId: string, version: number, write: Subscriber['write'], end: Subscriber['end']): () => void {
    let room = this.#rooms.get(scheduleId);
    if (!room) {
      // Looking more often than the interval keeps a change's delay near one interval; the
      // snapshot itself decides when the hot state is read.
      const every = Math.max(20, Math.floor(this.refreshMs / 4));
      const created: Room = { subscribers: new Set(), timer: setInterval(() => void this.#tick(scheduleId), every), busy: false, failures: 0, loggedAt: 0 };
      this.#rooms.set(scheduleId, created);
      room = created;
    }
    const subscriber: Subscriber = { version, write, end };
    room.subscribers.add(subscriber);
    return () => this.#remove(scheduleId, subscriber);
  }

  /** Open streams across every showtime in this process. */
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

  async #tick(scheduleId: string): Promise<void> {
    const room = this.#rooms.get(scheduleId);
    if (!room || room.busy) return;
    room.busy = true;
    try {
      const snapshot = await this.availability.current(scheduleId);
      const events = new Map<number, string>();
      for (const s of room.subscribers) {
        if (s.version >= snapshot.version) continue;
        let event = events.get(s.version);
        if (event === undefined) {
          event = availabilityEvent(this.availability.answer(snapshot, s.version).message);
          events.set(s.version, event);
        }
        s.version = snapshot.version;
        s.write(event);
      }
      if (room.failures) {
        this.logger.info({ scheduleId, failures: room.failures }, 'availability stream refreshes recovered');
        room.failures = 0;
      }
    } catch (err) {
      room.failures++;
      const now = this.clock.now().getTime();
      if (room.failures === 1 || now - room.loggedAt >= FAILURE_LOG_EVERY_MS) {
        room.loggedAt = now;
        this.logger.warn({ err, scheduleId, failures: room.failures, subscribers: room.subscribers.size }, 'availability stream refresh failed; retrying');
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
