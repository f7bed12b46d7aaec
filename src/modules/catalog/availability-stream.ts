import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import { StreamRooms, type StreamSubscriber } from '../../platform/http/stream-rooms.js';
import type { AvailabilityMessage } from './availability-codec.js';
import type { SeatAvailability } from './seat-availability.js';

interface Subscriber extends StreamSubscriber {
  /** The version this client has: the last event it was sent. */
  version: number;
  write: (event: string) => void;
  /** The process is closing: the stream ends (the client reconnects elsewhere with Last-Event-ID). */
  end: () => void;
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
  readonly #rooms: StreamRooms<Subscriber>;

  constructor(availability: SeatAvailability, refreshMs: number, logger: Logger, clock: Clock) {
    this.#rooms = new StreamRooms<Subscriber>({
      // Looking more often than the interval keeps a change's delay near one interval; the
      // snapshot itself decides when the hot state is read.
      everyMs: Math.max(20, Math.floor(refreshMs / 4)),
      what: 'availability stream refresh',
      keyField: 'scheduleId',
      logger,
      clock,
      tick: async (scheduleId, room) => {
        const snapshot = await availability.current(scheduleId);
        const events = new Map<number, string>();
        for (const s of room) {
          if (s.version >= snapshot.version) continue;
          let event = events.get(s.version);
          if (event === undefined) {
            event = availabilityEvent(availability.answer(snapshot, s.version).message);
            events.set(s.version, event);
          }
          s.version = snapshot.version;
          s.write(event);
        }
      },
    });
  }

  /** Starts pushing to a client that was sent `version` already; returns the unsubscribe. */
  subscribe(scheduleId: string, version: number, write: Subscriber['write'], end: Subscriber['end']): () => void {
    return this.#rooms.subscribe(scheduleId, { version, write, end });
  }

  /** Open streams across every showtime in this process. */
  get size(): number {
    return this.#rooms.size;
  }

  close(): void {
    this.#rooms.close();
  }
}
