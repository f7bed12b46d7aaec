import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Clock } from '../../platform/clock.js';
import { AVAILABILITY_ENCODING, DELTA_ENTRY_BYTES, packChanges, packStatuses, SeatCode, toBase64, type AvailabilityMessage } from './availability-codec.js';
import type { AvailabilitySource, LoadedAvailability } from './availability-source.js';
import type { ContentCoding } from './layout-view.js';
import type { SeatMapBase } from './seat-map.js';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** Showtimes whose snapshot a process keeps (least recently read first out); a snapshot is about one byte per seat. */
const MAX_SHOWTIMES = 1000;

/** One version's changes, by layout index. */
interface Step {
  version: number;
  changes: [index: number, code: number][];
}

/**
 * This process's copy of one showtime's seat statuses at `version`, and the changes of the
 * versions after `historyFrom` (so it can answer a client's `since` without the hot state).
 */
interface Snapshot {
  scheduleId: string;
  codes: Uint8Array;
  version: number;
  /** When the hot state was last read (the injected clock). */
  readAt: number;
  history: Step[];
  /** Every version after this one is in `history`; older ones are not. */
  historyFrom: number;
  historySeats: number;
  /** Messages and bodies built at this version, shared by every reader until the next change. */
  message?: AvailabilityMessage;
  full?: { json: Buffer; gzip?: Promise<Buffer>; br?: Promise<Buffer> };
  deltas: Map<number, AvailabilityMessage>;
}

export interface SeatAvailabilityDeps {
  source: AvailabilitySource;
  /** The showtime's seats in layout order and each seat id's place among them (the seat-map cache). */
  seatsOf: (scheduleId: string) => Promise<Pick<SeatMapBase, 'indexOf' | 'seats'>>;
  clock: Clock;
  /** SEAT_AVAILABILITY_REFRESH_MS: the longest a snapshot is served without reading the hot state again. */
  refreshMs: number;
  /** Seat changes each snapshot keeps for deltas; a client further behind gets the whole state. */
  historySeats: number;
}

/** A response: the message and, for a full state, its prebuilt body. */
export interface AvailabilityAnswer {
  message: AvailabilityMessage;
  snapshot: Snapshot;
}

/**
 * The live availability, served from a per-process snapshot per showtime. A request reads the
 * hot state only when the snapshot is older than SEAT_AVAILABILITY_REFRESH_MS, and every request
 * of that moment shares the one read: however many buyers poll, a process costs the hot state
 * one read per showtime per interval. The version comes from the hot state (one counter per
 * showtime bumped in the same atomic step as each change), so every process agrees on what a
 * version means and a client may move between processes.
 */
export class SeatAvailability {
  readonly #snapshots = new Map<string, Snapshot>();
  readonly #refreshing = new Map<string, Promise<Snapshot>>();
  /** Hot-state reads this process made (the bench and metrics compare it with requests served). */
  reads = 0;

  constructor(private readonly deps: SeatAvailabilityDeps) {}

  /** The showtime's snapshot, refreshed first if it is older than the interval. */
  async current(scheduleId: string): Promise<Snapshot> {
    const snapshot = this.#snapshots.get(scheduleId);
    if (snapshot && this.deps.clock.now().getTime() - snapshot.readAt < this.deps.refreshMs) return snapshot;
    let refreshing = this.#refreshing.get(scheduleId);
    if (!refreshing) {
      refreshing = this.#refresh(scheduleId, snapshot).finally(() => this.#refreshing.delete(scheduleId));
      this.#refreshing.set(scheduleId, refreshing);
    }
    return refreshing;
  }

  /**
   * What a client at version `since` needs: the changes after it, or the whole state when there
   * is no `since`, when this process no longer keeps every change after it, or when the changes
   * would outweigh the whole state. A `since` ahead of this process (the client read a process
   * that refreshed later) gets an empty delta: nothing newer is known here.
   */
  answer(snapshot: Snapshot, since: number | undefined): AvailabilityAnswer {
    if (since === undefined || since < snapshot.historyFrom) return { message: fullMessage(snapshot), snapshot };
    if (since >= snapshot.version) return { message: delta(snapshot, since, since, new Uint8Array(0)), snapshot };
    const cached = snapshot.deltas.get(since);
    if (cached) return { message: cached, snapshot };
    const last = new Map<number, number>();
    for (const step of snapshot.history) {
      if (step.version <= since) continue;
      for (const [index, code] of step.changes) last.set(index, code);
    }
    // 3 bytes per changed seat against a quarter byte per seat: past that, the whole state is smaller.
    if (last.size * DELTA_ENTRY_BYTES * 4 >= snapshot.codes.length) return { message: fullMessage(snapshot), snapshot };
    const message = delta(snapshot, since, snapshot.version, packChanges([...last]));
    if (snapshot.deltas.size > 64) snapshot.deltas.clear();
    snapshot.deltas.set(since, message);
    return { message, snapshot };
  }

  /** The full state's JSON body in a coding, built once per version. */
  async fullBody(snapshot: Snapshot, coding: ContentCoding): Promise<Buffer> {
    const full = (snapshot.full ??= { json: Buffer.from(JSON.stringify(fullMessage(snapshot))) });
    if (coding === 'identity') return full.json;
    if (coding === 'gzip') return (full.gzip ??= gzipAsync(full.json, { level: 6 }));
    return (full.br ??= brotliAsync(full.json, { params: { [constants.BROTLI_PARAM_QUALITY]: 6, [constants.BROTLI_PARAM_SIZE_HINT]: full.json.length } }));
  }

  /** Drops what this process keeps of a showtime (it was deleted). */
  forget(scheduleId: string): void {
    this.#snapshots.delete(scheduleId);
  }

  async #refresh(scheduleId: string, previous: Snapshot | undefined): Promise<Snapshot> {
    const seats = await this.deps.seatsOf(scheduleId);
    const readAt = this.deps.clock.now().getTime();
    this.reads++;
    const read = await this.deps.source.availability(scheduleId, previous?.version ?? null);
    const snapshot = previous && read.kind === 'changes' ? advance(previous, read, seats.indexOf, this.deps.historySeats) : rebuild(scheduleId, read, seats);
    snapshot.readAt = readAt;
    this.#snapshots.delete(scheduleId);
    this.#snapshots.set(scheduleId, snapshot);
    if (this.#snapshots.size > MAX_SHOWTIMES) this.#snapshots.delete(this.#snapshots.keys().next().value!);
    return snapshot;
  }
}

/** A new snapshot from a whole state (the first read, or a log this process fell behind). */
function rebuild(scheduleId: string, read: LoadedAvailability, seats: Pick<SeatMapBase, 'indexOf' | 'seats'>): Snapshot {
  if (read.kind !== 'full') throw new Error('a first availability read must be a full state');
  const codes = new Uint8Array(seats.seats.length);
  const mark = (ids: readonly string[], code: number) => {
    for (const id of ids) {
      const i = seats.indexOf.get(id);
      if (i !== undefined) codes[i] = code;
    }
  };
  mark(read.held, SeatCode.HELD);
  mark(read.sold, SeatCode.SOLD); // sold wins over a hold
  return { scheduleId, codes, version: read.version, readAt: 0, history: [], historyFrom: read.version, historySeats: 0, deltas: new Map() };
}

/**
 * The next snapshot from the changes after the previous one's version. A new object when
 * anything changed, so a response being written from the previous one is never altered under it.
 */
function advance(
  previous: Snapshot,
  read: Extract<LoadedAvailability, { kind: 'changes' }>,
  indexOf: ReadonlyMap<string, number>,
  maxHistory: number,
): Snapshot {
  if (!read.changes.length) return previous;
  const codes = previous.codes.slice();
  const history = [...previous.history];
  let historySeats = previous.historySeats;
  for (const change of read.changes) {
    const step: Step = { version: change.version, changes: [] };
    for (const [seatId, status] of change.seats) {
      const i = indexOf.get(seatId);
      if (i === undefined) continue;
      codes[i] = SeatCode[status];
      step.changes.push([i, SeatCode[status]]);
    }
    history.push(step);
    historySeats += step.changes.length;
  }
  let historyFrom = previous.historyFrom;
  while (historySeats > maxHistory && history.length) {
    const dropped = history.shift()!;
    historySeats -= dropped.changes.length;
    historyFrom = dropped.version;
  }
  return { scheduleId: previous.scheduleId, codes, version: read.version, readAt: 0, history, historyFrom, historySeats, deltas: new Map() };
}

function fullMessage(snapshot: Snapshot): AvailabilityMessage {
  return (snapshot.message ??= {
    scheduleId: snapshot.scheduleId,
    version: snapshot.version,
    encoding: AVAILABILITY_ENCODING,
    full: true,
    data: toBase64(packStatuses(snapshot.codes)),
  });
}

function delta(snapshot: Snapshot, since: number, version: number, bytes: Uint8Array): AvailabilityMessage {
  return { scheduleId: snapshot.scheduleId, version, encoding: AVAILABILITY_ENCODING, full: false, since, data: toBase64(bytes) };
}
