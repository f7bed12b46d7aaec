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
  readonly seatIds: readonly string[];
  readonly idSet: ReadonlySet<string>;
  /** Every seat with its grade and price, in layout order: pricing an order reads it from here. */
  readonly seats: readonly InventorySeat[];
  /** The full body with every seat AVAILABLE. Never mutated: requests with no taken seat get it as is. */
  readonly template: Buffer;
  /** Byte offset of each seat's status value (its opening quote) in the template. */
  readonly offsets: Int32Array;
  readonly indexOf: ReadonlyMap<string, number>;
  /** Per-seat JSON up to the status value, for the personalised (heldByMe) rendering. */
  readonly prefixes: readonly string[];
}

const AVAILABLE = '"AVAILABLE"';
const SOLD = Buffer.from('"SOLD"     ', 'latin1');
const HELD = Buffer.from('"HELD"     ', 'latin1');

export function buildSeatMapBase(scheduleId: string, inventory: readonly InventorySeat[]): SeatMapBase {
  const head = `{"scheduleId":${JSON.stringify(scheduleId)},"seats":[`;
  const prefixes = inventory.map(
    (s) =>
      `{"seatId":${JSON.stringify(s.seatId)},"label":${JSON.stringify(s.label)},"section":${JSON.stringify(s.section)},` +
      `"row":${JSON.stringify(s.row)},"number":${s.number},"grade":${JSON.stringify(s.grade)},"price":${s.price},"status":`,
  );
  const offsets = new Int32Array(inventory.length);
  let at = Buffer.byteLength(head);
  const parts: string[] = [head];
  prefixes.forEach((prefix, i) => {
    const piece = `${i ? ',' : ''}${prefix}`;
    at += Buffer.byteLength(piece);
    offsets[i] = at;
    at += AVAILABLE.length + 1; // the value and the closing brace
    parts.push(piece, AVAILABLE, '}');
  });
  parts.push(']}');
  return {
    scheduleId,
    seatIds: inventory.map((s) => s.seatId),
    idSet: new Set(inventory.map((s) => s.seatId)),
    seats: inventory,
    template: Buffer.from(parts.join('')),
    offsets,
    indexOf: new Map(inventory.map((s, i) => [s.seatId, i])),
    prefixes,
  };
}

/**
 * The response body of `GET /v1/schedules/:id/seats`. SOLD comes from the database and wins;
 * HELD from the hold store; `heldByMe` appears on the viewer's own holds only.
 */
export function renderSeatMap(base: SeatMapBase, sold: ReadonlySet<string>, held: ReadonlyMap<string, string>, viewerId: string | undefined): Buffer {
  if (viewerId !== undefined) {
    for (const holder of held.values()) if (holder === viewerId) return renderPersonal(base, sold, held, viewerId);
  }
  if (!sold.size && !held.size) return base.template;
  const out = Buffer.allocUnsafe(base.template.length);
  base.template.copy(out);
  for (const seat of held.keys()) {
    const i = base.indexOf.get(seat);
    if (i !== undefined) HELD.copy(out, base.offsets[i]);
  }
  for (const seat of sold) {
    const i = base.indexOf.get(seat);
    if (i !== undefined) SOLD.copy(out, base.offsets[i]);
  }
  return out;
}

/** The viewer holds seats: their own are marked `heldByMe`, which changes lengths, so render whole. */
function renderPersonal(base: SeatMapBase, sold: ReadonlySet<string>, held: ReadonlyMap<string, string>, viewerId: string): Buffer {
  const parts = new Array<string>(base.seatIds.length);
  for (let i = 0; i < base.seatIds.length; i++) {
    const id = base.seatIds[i]!;
    const prefix = base.prefixes[i]!;
    if (sold.has(id)) parts[i] = `${prefix}"SOLD"}`;
    else {
      const holder = held.get(id);
      if (holder === undefined) parts[i] = `${prefix}"AVAILABLE"}`;
      else parts[i] = holder === viewerId ? `${prefix}"HELD","heldByMe":true}` : `${prefix}"HELD"}`;
    }
  }
  return Buffer.from(`{"scheduleId":${JSON.stringify(base.scheduleId)},"seats":[${parts.join(',')}]}`);
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
    if (base.seatIds.length > this.maxSeats) return;
    this.#entries.set(base.scheduleId, base);
    this.#seats += base.seatIds.length;
    for (const [id, entry] of this.#entries) {
      if (this.#seats <= this.maxSeats) break;
      this.#entries.delete(id);
      this.#seats -= entry.seatIds.length;
    }
  }

  delete(scheduleId: string): void {
    const entry = this.#entries.get(scheduleId);
    if (!entry) return;
    this.#entries.delete(scheduleId);
    this.#seats -= entry.seatIds.length;
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
