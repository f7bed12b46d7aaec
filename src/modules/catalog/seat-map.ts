import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { InventorySeat } from './inventory.repository.js';

/**
 * The seat map of a showtime, split into what never changes and what does. Labels, grades and
 * prices are fixed when the showtime is created, so the whole response body is rendered once,
 * as bytes, with every seat AVAILABLE. A request copies those bytes and overwrites the status of
 * each taken seat in place — work in proportion to the taken seats, not to the venue: a
 * 50,000-seat map is one memcpy plus a few writes, not 50,000 objects through a serializer.
 *
 * In-place writes need every status value to take the same bytes, so each is padded to the
 * width of `"AVAILABLE"` with spaces after the closing quote — whitespace between JSON tokens,
 * which every JSON parser ignores: `"status":"SOLD"     }`.
 */
export interface SeatMapBase {
  readonly scheduleId: string;
  /** Every seat with its grade and price, in layout order: pricing an order reads it from here. */
  readonly seats: readonly InventorySeat[];
  /** The full body with every seat AVAILABLE. Never mutated: requests with no taken seat get it as is. */
  readonly template: Buffer;
  /** Byte offset of each seat's status value (its opening quote) in the template. */
  readonly offsets: Int32Array;
  /** A seat id's place in `seats` (and `offsets`). */
  readonly indexOf: ReadonlyMap<string, number>;
}

const AVAILABLE = '"AVAILABLE"';
const SOLD = Buffer.from('"SOLD"     ', 'latin1');
const HELD = Buffer.from('"HELD"     ', 'latin1');
/** What replaces a viewer's own seat's padded status value: it is longer, so the body is spliced. */
const HELD_BY_ME = Buffer.from('"HELD","heldByMe":true', 'latin1');

export function buildSeatMapBase(scheduleId: string, inventory: readonly InventorySeat[]): SeatMapBase {
  const head = `{"scheduleId":${JSON.stringify(scheduleId)},"seats":[`;
  const offsets = new Int32Array(inventory.length);
  let at = Buffer.byteLength(head);
  const parts: string[] = [head];
  inventory.forEach((s, i) => {
    const piece =
      `${i ? ',' : ''}{"seatId":${JSON.stringify(s.seatId)},"label":${JSON.stringify(s.label)},"section":${JSON.stringify(s.section)},` +
      `"row":${JSON.stringify(s.row)},"number":${s.number},"grade":${JSON.stringify(s.grade)},"price":${s.price},"status":`;
    at += Buffer.byteLength(piece);
    offsets[i] = at;
    at += AVAILABLE.length + 1; // the value and the closing brace
    parts.push(piece, AVAILABLE, '}');
  });
  parts.push(']}');
  // Only the template, its offsets and the index are kept: the seats' JSON lives in the template
  // once (a 300,000-seat showtime's per-seat strings, id list and id set weighed ~210 MB of heap).
  return { scheduleId, seats: inventory, template: Buffer.from(parts.join('')), offsets, indexOf: new Map(inventory.map((s, i) => [s.seatId, i])) };
}

/**
 * The response body of `GET /v1/schedules/:id/seats`. SOLD comes from the database and wins;
 * HELD from the hold store; `heldByMe` appears on the viewer's own holds only.
 */
export function renderSeatMap(base: SeatMapBase, sold: ReadonlySet<string>, held: ReadonlyMap<string, string>, viewerId: string | undefined): Buffer {
  if (!sold.size && !held.size) return base.template;
  const out = Buffer.allocUnsafe(base.template.length);
  base.template.copy(out);
  const mine: number[] = [];
  for (const [seat, holder] of held) {
    const i = base.indexOf.get(seat);
    if (i === undefined) continue;
    HELD.copy(out, base.offsets[i]);
    if (viewerId !== undefined && holder === viewerId) mine.push(i);
  }
  for (const seat of sold) {
    const i = base.indexOf.get(seat);
    if (i !== undefined) SOLD.copy(out, base.offsets[i]);
  }
  const own = mine.filter((i) => !sold.has(base.seats[i]!.seatId)).sort((a, b) => a - b);
  return own.length ? withHeldByMe(out, base.offsets, own) : out;
}

/**
 * The viewer's own held seats get `"heldByMe":true`, which is longer than the padded status
 * value it replaces: the body is spliced around those few seats (a buyer holds at most
 * MAX_SEATS_PER_BUYER) — copies of the rest, never a re-render of every seat.
 */
function withHeldByMe(body: Buffer, offsets: Int32Array, own: readonly number[]): Buffer {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const i of own) {
    pieces.push(body.subarray(from, offsets[i]), HELD_BY_ME);
    from = offsets[i]! + HELD.length;
  }
  pieces.push(body.subarray(from));
  return Buffer.concat(pieces, body.length + own.length * (HELD_BY_ME.length - HELD.length));
}

/**
 * Keeps seat-map bases in memory, least recently used first out, bounded by the total number of
 * seats held (a 50,000-seat stadium weighs 25 times a 2,000-seat hall).
 */
export class SeatMapCache {
  readonly #entries = new Map<string, SeatMapBase>();
  #seats = 0;
  constructor(private readonly maxSeats: number) {}

  get(scheduleId: string): SeatMapBase | undefined {
    const hit = this.#entries.get(scheduleId);
    if (hit) {
      this.#entries.delete(scheduleId);
      this.#entries.set(scheduleId, hit);
    }
    return hit;
  }

  set(base: SeatMapBase): void {
    this.delete(base.scheduleId);
    if (base.seats.length > this.maxSeats) return;
    this.#entries.set(base.scheduleId, base);
    this.#seats += base.seats.length;
    for (const [id, entry] of this.#entries) {
      if (this.#seats <= this.maxSeats) break;
      this.#entries.delete(id);
      this.#seats -= entry.seats.length;
    }
  }

  delete(scheduleId: string): void {
    const entry = this.#entries.get(scheduleId);
    if (!entry) return;
    this.#entries.delete(scheduleId);
    this.#seats -= entry.seats.length;
  }
}

const gzipAsync = promisify(gzip);

/**
 * gzip of seat maps, reused while a showtime's map stays the same. A 50,000-seat map is ~7.5 MB
 * and gzip costs tens of milliseconds of CPU on it, yet between two changes every reader gets
 * the same bytes: comparing them with the last ones compressed (a memcmp, ~1 ms) saves the rest.
 * Level 1: a map that does change is compressed per request, so CPU counts more than the last
 * percent of size (large venues should read the layout once and then the availability).
 */
export class SeatMapGzip {
  readonly #last = new Map<string, { raw: Buffer; gz: Promise<Buffer> }>();
  constructor(private readonly maxShowtimes = 16) {}

  gzip(scheduleId: string, raw: Buffer): Promise<Buffer> {
    const hit = this.#last.get(scheduleId);
    if (hit && (hit.raw === raw || hit.raw.equals(raw))) return hit.gz;
    const entry = { raw, gz: gzipAsync(raw, { level: 1 }) };
    this.#last.delete(scheduleId);
    this.#last.set(scheduleId, entry);
    if (this.#last.size > this.maxShowtimes) this.#last.delete(this.#last.keys().next().value!);
    entry.gz.catch(() => {
      if (this.#last.get(scheduleId) === entry) this.#last.delete(scheduleId);
    });
    return entry.gz;
  }
}

/** The hold store's answer as text, in its order: equal keys, equal holds (a different order only costs a render). */
export function heldKey(held: ReadonlyMap<string, string>): string {
  let key = '';
  for (const [seat, holder] of held) key += `${seat}=${holder},`;
  return key;
}

/**
 * The last seat map rendered per showtime and what it was rendered from (the database's taken
 * seats and the hold store's holds, as keys): a reader who finds both unchanged gets the same
 * buffer, neither rendered nor compared again. A few showtimes at most: a 50,000-seat map is ~7.5 MB.
 */
export class SeatMapMemo {
  readonly #last = new Map<string, { key: string; body: Buffer }>();
  constructor(private readonly maxShowtimes = 8) {}

  get(scheduleId: string, key: string): Buffer | undefined {
    const hit = this.#last.get(scheduleId);
    return hit?.key === key ? hit.body : undefined;
  }

  set(scheduleId: string, key: string, body: Buffer): void {
    this.#last.delete(scheduleId);
    this.#last.set(scheduleId, { key, body });
    if (this.#last.size > this.maxShowtimes) this.#last.delete(this.#last.keys().next().value!);
  }

  delete(scheduleId: string): void {
    this.#last.delete(scheduleId);
  }
}
