import type { Clock } from '../../platform/clock.js';
import { CommonErrors } from '../../platform/http/errors.js';
import { CatalogErrors, type LoadedAvailability, type SaleInventory, type SaleSchedule } from '../catalog/index.js';
import { BookingErrors } from './booking.errors.js';
import type { BookingMetrics } from './booking.metrics.js';
import type { PendingHold, SeatHoldStore } from './seat-holds.store.js';

/** What the hold store's owner needs to know of pending orders (booking's own table). */
export interface PendingOrderSeats {
  /** Seats of live pending orders of a showtime with their buyers: what a rebuilt hold store must know. */
  pendingHolds(scheduleId: string, now: Date): Promise<PendingHold[]>;
  /** Of the given seats, those on the buyer's own live pending orders for the showtime. */
  seatsInPendingOrdersOf(userId: string, scheduleId: string, seatIds: readonly string[], now: Date): Promise<Set<string>>;
}

export interface HoldsServiceDeps {
  store: SeatHoldStore;
  inventory: Pick<SaleInventory, 'scheduleForSale' | 'check' | 'soldSeatIds'>;
  pendingOrders: PendingOrderSeats;
  clock: Clock;
  metrics: BookingMetrics;
  maxSeatsPerBuyer: number;
  holdTtlSeconds: number;
}

/**
 * Seat holds: gate 1 of invariant 1, in front of the database's conditional updates. Every call
 * to the hold store goes through here — a buyer's holds, and what an order does to them (extend
 * them to the payment window, give them back, learn again who has a seat).
 */
export class HoldsService {
  readonly #loading = new Map<string, Promise<void>>();
  constructor(private readonly deps: HoldsServiceDeps) {}

  /** Holds the seats, all or nothing, on a showtime the caller read (the request's one read). */
  async hold(
    userId: string,
    schedule: SaleSchedule | undefined,
    seatIds: readonly string[],
  ): Promise<{ scheduleId: string; seatIds: string[]; expiresAt: string }> {
    const { store, clock, maxSeatsPerBuyer, holdTtlSeconds, metrics } = this.deps;
    const { schedule: onSale } = await this.#checkSale(schedule, seatIds);
    const scheduleId = onSale.id;
    const attempt = () => store.hold(scheduleId, userId, seatIds, clock.now().getTime(), holdTtlSeconds * 1000, maxSeatsPerBuyer);
    let result = await attempt();
    if (result.kind === 'not-loaded') {
      // New showtime, or the hot state was lost (flush, failover): rebuild from PostgreSQL first,
      // so a seat the database has as sold or reserved is never held by someone else.
      await this.load(scheduleId);
      result = await attempt();
    }
    switch (result.kind) {
      case 'held':
        metrics.holds.inc({ outcome: 'placed' });
        return { scheduleId, seatIds: [...seatIds], expiresAt: new Date(result.expiresAt).toISOString() };
      case 'unavailable':
        metrics.holds.inc({ outcome: 'unavailable' });
        throw BookingErrors.SEAT_UNAVAILABLE(`${result.seatIds.length} of the seats are taken`, { unavailableSeatIds: result.seatIds });
      case 'limit':
        metrics.holds.inc({ outcome: 'limit' });
        throw BookingErrors.HOLD_LIMIT_EXCEEDED(`At most ${maxSeatsPerBuyer} seats per buyer per showtime`, { maxSeatsPerBuyer, holding: result.holding });
      default:
        throw new Error(`hold store for ${scheduleId} did not load`);
    }
  }

  async myHolds(userId: string, scheduleId: string): Promise<{ seatIds: string[]; expiresAt: string | null }> {
    if (!(await this.deps.inventory.scheduleForSale(scheduleId))) throw CommonErrors.NOT_FOUND('No such schedule');
    const holds = await this.deps.store.holdsOf(scheduleId, userId, this.deps.clock.now().getTime());
    const first = holds.length ? Math.min(...holds.map((h) => h.expiresAt)) : null;
    return { seatIds: holds.map((h) => h.seatId).sort(), expiresAt: first === null ? null : new Date(first).toISOString() };
  }

  async release(userId: string, scheduleId: string, seatId: string): Promise<void> {
    if (!(await this.deps.inventory.scheduleForSale(scheduleId))) throw CommonErrors.NOT_FOUND('No such schedule');
    const now = this.deps.clock.now();
    const inOrder = async () => (await this.deps.pendingOrders.seatsInPendingOrdersOf(userId, scheduleId, [seatId], now)).size > 0;
    if (await inOrder()) throw BookingErrors.HOLD_IN_ORDER();
    await this.deps.store.release(scheduleId, userId, [seatId], now.getTime());
    // An order placed between the check and the release has the seat now: the hold store learns
    // it back, or the buyer's limit and the seat would be free in the hot state while PostgreSQL
    // keeps the seat reserved.
    if (await inOrder()) {
      await this.load(scheduleId);
      throw BookingErrors.HOLD_IN_ORDER();
    }
  }

  /** An order's step: the buyer's holds on its seats last until `until` (the payment window); all or nothing. */
  async extendForOrder(userId: string, scheduleId: string, seatIds: readonly string[], until: Date, now: Date): Promise<void> {
    const extended = await this.deps.store.extend(scheduleId, userId, seatIds, until.getTime(), now.getTime());
    if (!extended.ok) throw BookingErrors.SEATS_NOT_HELD(`${extended.missing.length} of the seats are not held by you`, { seatIds: extended.missing });
  }

  /**
   * The order was paid (after its transaction committed): its seats are sold, never holdable
   * again, and the buyer's holds on them end (`markSold` ends them in the same step).
   */
  async soldForOrder(order: { scheduleId: string; seatIds: readonly string[] }): Promise<void> {
    await this.deps.store.markSold(order.scheduleId, order.seatIds, this.deps.clock.now().getTime());
  }

  /**
   * The paid order was refunded (after its transaction committed): its seats are for sale again.
   * A store that misses this (the call failed) still refuses them until it is reloaded from
   * PostgreSQL — never the other way round, so invariant 1 does not depend on it.
   */
  async unsoldForOrder(order: { scheduleId: string; seatIds: readonly string[] }): Promise<void> {
    await this.deps.store.markUnsold(order.scheduleId, order.seatIds, this.deps.clock.now().getTime());
  }

  /** The order ended (cancelled, expired): its buyer's holds on its seats go. */
  async releaseForOrder(order: { userId: string; scheduleId: string; seatIds: readonly string[] }): Promise<void> {
    await this.deps.store.release(order.scheduleId, order.userId, order.seatIds, this.deps.clock.now().getTime());
  }

  /**
   * The database has these seats sold or reserved although the hold store let this buyer hold
   * them. Seats on the buyer's own pending orders stay held: releasing them would free the
   * buyer's per-buyer limit (and the seats, to others) while the database keeps them reserved.
   * The rest are someone else's: the buyer's holds on them go, and the hold store is told again
   * who has them (sold seats, other buyers' pending orders), so nobody else holds them either.
   */
  async forgetTaken(userId: string, scheduleId: string, taken: readonly string[], now: Date): Promise<void> {
    const mine = await this.deps.pendingOrders.seatsInPendingOrdersOf(userId, scheduleId, taken, now);
    const others = taken.filter((seatId) => !mine.has(seatId));
    if (!others.length) return;
    await this.deps.store.release(scheduleId, userId, others, now.getTime());
    await this.load(scheduleId);
  }

  /**
   * The showtime's seat statuses since `since` (the catalog's live availability): one hot-state
   * read. A showtime the store has no state for (new, or lost in a flush) is loaded from
   * PostgreSQL first, as a hold would, so sold seats never read AVAILABLE after a flush.
   */
  async availability(scheduleId: string, since: number | null): Promise<LoadedAvailability> {
    const read = () => this.deps.store.availability(scheduleId, since, this.deps.clock.now().getTime());
    let result = await read();
    if (result.kind === 'not-loaded') {
      await this.load(scheduleId);
      result = await read();
    }
    if (result.kind === 'not-loaded') throw new Error(`hold store for ${scheduleId} did not load`);
    return result;
  }

  /** Every live hold of a showtime (seat → holder): the catalog's seat map reads it. */
  heldSeats(scheduleId: string): Promise<Map<string, string>> {
    return this.deps.store.heldSeats(scheduleId, this.deps.clock.now().getTime());
  }

  /**
   * Rebuilds the hold store's view of a showtime from PostgreSQL: sold seats and pending orders.
   * After a flush every hold request of a busy showtime finds it unloaded at once; one load per
   * process serves them all instead of each querying the database.
   */
  load(scheduleId: string): Promise<void> {
    let loading = this.#loading.get(scheduleId);
    if (!loading) {
      loading = this.#load(scheduleId).finally(() => this.#loading.delete(scheduleId));
      this.#loading.set(scheduleId, loading);
    }
    return loading;
  }

  async #load(scheduleId: string): Promise<void> {
    const now = this.deps.clock.now();
    const [sold, pending] = await Promise.all([this.deps.inventory.soldSeatIds(scheduleId), this.deps.pendingOrders.pendingHolds(scheduleId, now)]);
    await this.deps.store.load(scheduleId, sold, pending, now.getTime());
    this.deps.metrics.holdStoreLoads.inc();
  }

  /** The sale check of a hold, counting refusals by the sale window. */
  async #checkSale(schedule: SaleSchedule | undefined, seatIds: readonly string[]) {
    try {
      return await this.deps.inventory.check(schedule, seatIds, { open: true });
    } catch (err) {
      if (CatalogErrors.SALE_NOT_OPEN.is(err)) this.deps.metrics.holds.inc({ outcome: 'sale_not_open' });
      if (CatalogErrors.SALE_CLOSED.is(err)) this.deps.metrics.holds.inc({ outcome: 'sale_closed' });
      throw err;
    }
  }
}
