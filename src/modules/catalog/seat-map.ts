import type { InventorySeat } from './catalog.repository.js';

/**
 * The seat map of a showtime, split into what never changes and what does. Labels, grades and
 * prices are fixed when the showtime is created, so each seat's JSON up to its status is
 * rendered once and kept; a request only supplies the sold and held sets and stitches strings.
 * A 50,000-seat map is then a string join, not 50,000 objects through a serializer.
 */
export interface SeatMapBase {
  readonly scheduleId: string;
  readonly seatIds: readonly string[];
  readonly idSet: ReadonlySet<string>;
  /** `{"seatId":…,"price":…,"status":"` for each seat, in layout order. */
  readonly prefixes: readonly string[];
}

export function buildSeatMapBase(scheduleId: string, inventory: readonly InventorySeat[]): SeatMapBase {
  return {
    scheduleId,
    seatIds: inventory.map((s) => s.seatId),
    idSet: new Set(inventory.map((s) => s.seatId)),
    prefixes: inventory.map(
      (s) =>
        `{"seatId":${JSON.stringify(s.seatId)},"label":${JSON.stringify(s.label)},"section":${JSON.stringify(s.section)},` +
        `"row":${JSON.stringify(s.row)},"number":${s.number},"grade":${JSON.stringify(s.grade)},"price":${s.price},"status":"`,
    ),
  };
}

/**
 * The response body of `GET /v1/schedules/:id/seats`. SOLD comes from the database and wins;
 * HELD from the hold store; `heldByMe` appears on the viewer's own holds only.
 */
export function renderSeatMap(base: SeatMapBase, sold: ReadonlySet<string>, held: ReadonlyMap<string, string>, viewerId: string | undefined): string {
  const parts = new Array<string>(base.seatIds.length);
  for (let i = 0; i < base.seatIds.length; i++) {
    const id = base.seatIds[i]!;
    const prefix = base.prefixes[i]!;
    if (sold.has(id)) parts[i] = `${prefix}SOLD"}`;
    else {
      const holder = held.get(id);
      if (holder === undefined) parts[i] = `${prefix}AVAILABLE"}`;
      else parts[i] = viewerId !== undefined && holder === viewerId ? `${prefix}HELD","heldByMe":true}` : `${prefix}HELD"}`;
    }
  }
  return `{"scheduleId":${JSON.stringify(base.scheduleId)},"seats":[${parts.join(',')}]}`;
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
