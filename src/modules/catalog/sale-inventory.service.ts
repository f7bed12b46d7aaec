import type { Clock } from '../../platform/clock.js';
import type { Tx } from '../../platform/db/client.js';
import { CommonErrors, type FieldError } from '../../platform/http/errors.js';
import { CatalogErrors } from './catalog.errors.js';
import type { InventoryRepository, InventorySeat } from './inventory.repository.js';
import { toScheduleView, type SaleSchedule, type WaitingRoomDefaults } from './schedule-view.js';
import { buildSeatMapBase, type SeatMapBase, type SeatMapCache } from './seat-map.js';

/** A showtime on sale and the requested seats of it, priced, in layout order. */
export interface SaleCheck {
  schedule: SaleSchedule;
  seats: InventorySeat[];
}

/**
 * What other modules may do with a showtime's seats — booking's holds and orders today, payments
 * next. The seat inventory's state machine: AVAILABLE → RESERVED (a pending order) → SOLD, or
 * back to AVAILABLE when the order ends; SOLD → AVAILABLE when a paid order is refunded.
 */
export interface SaleInventory {
  /** A live showtime, from a short-lived per-process cache (SCHEDULE_CACHE_MS); undefined if there is none. */
  scheduleForSale(id: string): Promise<SaleSchedule | undefined>;
  /**
   * The one sale check of a hold, a quote or an order, on a showtime its caller already read:
   * 404 without a showtime, 409 SALE_NOT_OPEN / SALE_CLOSED outside its sale window (when `open`
   * is asked), 400 naming each seat id that is not a seat of it; otherwise the seats, priced.
   */
  check(schedule: SaleSchedule | undefined, seatIds: readonly string[], options: { open: boolean }): Promise<SaleCheck>;
  /** Seats PostgreSQL has as sold: what a rebuilt hold store must refuse. */
  soldSeatIds(scheduleId: string): Promise<string[]>;
  /** Returns the seats of a pending order that ended (expired, cancelled) to sale, in the caller's transaction. */
  releaseReservation(input: { scheduleId: string; orderId: string }, tx: Tx): Promise<number>;
  /** Gate 2 of invariant 1 in a transaction of its own (the paying statement composes `seatSalePart` instead): see `InventoryRepository#sellSeats`. */
  sellSeats(input: { scheduleId: string; seatIds: readonly string[]; orderId: string }, tx: Tx): Promise<boolean>;
  /**
   * A paid order was refunded: its seats SOLD to it return to AVAILABLE, in the caller's
   * transaction. True only if every one of `seatIds` did (see `InventoryRepository#releaseSoldSeats`).
   */
  releaseSoldSeats(input: { scheduleId: string; seatIds: readonly string[]; orderId: string }, tx: Tx): Promise<boolean>;
}

export interface SaleInventoryDeps {
  repo: InventoryRepository;
  clock: Clock;
  seatMaps: SeatMapCache;
  scheduleCacheMs: number;
  waitingRoomDefaults: WaitingRoomDefaults;
}

/**
 * The sale side of the catalog. Showtimes, grades and prices never change once created, so the
 * hot path reads them from memory: the showtime from a cache of SCHEDULE_CACHE_MS, the seats and
 * prices from the seat-map cache (built once per showtime per process). The seller-side service
 * and the seat map read model share the caches through `seatMapBase` and `forget`.
 */
export class SaleInventoryService implements SaleInventory {
  readonly #forSale = new Map<string, { at: number; schedule: Promise<SaleSchedule | undefined> }>();
  readonly #buildingBase = new Map<string, Promise<SeatMapBase>>();
  constructor(private readonly deps: SaleInventoryDeps) {}

  /**
   * On the hot path of every queue poll, hold and order, so it is cached for SCHEDULE_CACHE_MS.
   * A deletion reaches other processes within that time (and a sale of a deleted showtime is
   * refused by the database anyway: `sellSeats`, `seatReservationPart`).
   */
  async scheduleForSale(id: string): Promise<SaleSchedule | undefined> {
    const now = this.deps.clock.now().getTime();
    const hit = this.#forSale.get(id);
    if (hit && now - hit.at < this.deps.scheduleCacheMs) return hit.schedule;
    // One read per expiry, shared by every request in flight: without it, all of them missed at
    // the same instant and queued a query each on the pool (the hold bench's p99).
    const schedule = this.deps.repo
      .findSaleSchedule(id)
      .then((row) => row && { ...toScheduleView(row, this.deps.waitingRoomDefaults), sellerId: row.sellerId, title: row.title });
    if (this.#forSale.size > 10_000) this.#forSale.clear();
    this.#forSale.set(id, { at: now, schedule });
    schedule.catch(() => this.#forSale.delete(id));
    return schedule;
  }

  async check(schedule: SaleSchedule | undefined, seatIds: readonly string[], options: { open: boolean }): Promise<SaleCheck> {
    if (!schedule) throw CommonErrors.NOT_FOUND('No such schedule');
    if (options.open) {
      const now = this.deps.clock.now().getTime();
      if (now < Date.parse(schedule.saleOpensAt)) throw CatalogErrors.SALE_NOT_OPEN(`The sale opens at ${schedule.saleOpensAt}`);
      if (now >= Date.parse(schedule.saleClosesAt)) throw CatalogErrors.SALE_CLOSED();
    }
    const base = await this.seatMapBase(schedule.id);
    const indexes: number[] = [];
    const errors: FieldError[] = [];
    for (let i = 0; i < seatIds.length; i++) {
      const index = base.indexOf.get(seatIds[i]!);
      if (index === undefined) errors.push({ path: `/body/seatIds/${i}`, message: 'not a seat of this showtime' });
      else indexes.push(index);
    }
    if (errors.length) throw CommonErrors.VALIDATION_FAILED('Unknown seats', { errors });
    return { schedule, seats: indexes.sort((a, b) => a - b).map((i) => base.seats[i]!) };
  }

  soldSeatIds(scheduleId: string): Promise<string[]> {
    return this.deps.repo.soldSeatIds(scheduleId);
  }

  releaseReservation(input: { scheduleId: string; orderId: string }, tx: Tx): Promise<number> {
    return this.deps.repo.releaseReservation(input, tx);
  }

  sellSeats(input: { scheduleId: string; seatIds: readonly string[]; orderId: string }, tx: Tx): Promise<boolean> {
    return this.deps.repo.sellSeats(input, tx);
  }

  async releaseSoldSeats(input: { scheduleId: string; seatIds: readonly string[]; orderId: string }, tx: Tx): Promise<boolean> {
    return (await this.deps.repo.releaseSoldSeats(input, tx)) === new Set(input.seatIds).size;
  }

  /** The showtime's immutable seat data: cached, or one build shared by every concurrent first caller. */
  async seatMapBase(scheduleId: string): Promise<SeatMapBase> {
    const cached = this.deps.seatMaps.get(scheduleId);
    if (cached) return cached;
    let building = this.#buildingBase.get(scheduleId);
    if (!building) {
      building = this.deps.repo
        .inventory(scheduleId)
        .then((inventory) => {
          const base = buildSeatMapBase(scheduleId, inventory);
          this.deps.seatMaps.set(base);
          return base;
        })
        .finally(() => this.#buildingBase.delete(scheduleId));
      this.#buildingBase.set(scheduleId, building);
    }
    return building;
  }

  /** Drops what this process cached of a showtime (it was deleted). */
  forget(scheduleId: string): void {
    this.deps.seatMaps.delete(scheduleId);
    this.#forSale.delete(scheduleId);
  }
}
