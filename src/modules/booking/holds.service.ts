import type { Clock } from '../../platform/clock.js';
import { CommonErrors } from '../../platform/http/errors.js';
import { CatalogErrors, type CatalogService, type SaleSchedule } from '../catalog/index.js';
import { BookingErrors } from './booking.errors.js';
import type { BookingMetrics } from './booking.metrics.js';
import type { OrdersRepository } from './orders.repository.js';
import type { SeatHoldStore } from './seat-holds.store.js';

export interface HoldsServiceDeps {
  store: SeatHoldStore;
  orders: OrdersRepository;
  catalog: CatalogService;
  clock: Clock;
  metrics: BookingMetrics;
  maxSeatsPerBuyer: number;
  holdTtlSeconds: number;
}

/** Seat holds: gate 1 of invariant 1, in front of the database's conditional updates. */
export class HoldsService {
  readonly #loading = new Map<string, Promise<void>>();
  constructor(private readonly deps: HoldsServiceDeps) {}

  async hold(userId: string, scheduleId: string, seatIds: readonly string[]): Promise<{ scheduleId: string; seatIds: string[]; expiresAt: string }> {
    const schedule = await this.requireOnSale(scheduleId);
    await this.requireSeatsOf(schedule.id, seatIds);
    const { store, clock, maxSeatsPerBuyer, holdTtlSeconds, metrics } = this.deps;
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
    if (!(await this.deps.catalog.scheduleForSale(scheduleId))) throw CommonErrors.NOT_FOUND('No such schedule');
    const holds = await this.deps.store.holdsOf(scheduleId, userId, this.deps.clock.now().getTime());
    const first = holds.length ? Math.min(...holds.map((h) => h.expiresAt)) : null;
    return { seatIds: holds.map((h) => h.seatId).sort(), expiresAt: first === null ? null : new Date(first).toISOString() };
  }

  async release(userId: string, scheduleId: string, seatId: string): Promise<void> {
    if (!(await this.deps.catalog.scheduleForSale(scheduleId))) throw CommonErrors.NOT_FOUND('No such schedule');
    const now = this.deps.clock.now();
    const inOrder = async () => (await this.deps.orders.seatsInPendingOrdersOf(userId, scheduleId, [seatId], now)).size > 0;
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
    const [sold, pending] = await Promise.all([this.deps.catalog.soldSeatIds(scheduleId), this.deps.orders.pendingHolds(scheduleId, now)]);
    await this.deps.store.load(scheduleId, sold, pending, now.getTime());
    this.deps.metrics.holdStoreLoads.inc();
  }

  /** The showtime, if its sale window is open now: 404, 409 SALE_NOT_OPEN or SALE_CLOSED otherwise. */
  async requireOnSale(scheduleId: string): Promise<SaleSchedule> {
    const schedule = await this.deps.catalog.scheduleForSale(scheduleId);
    if (!schedule) throw CommonErrors.NOT_FOUND('No such schedule');
    const now = this.deps.clock.now().getTime();
    if (now < Date.parse(schedule.saleOpensAt)) {
      this.deps.metrics.holds.inc({ outcome: 'sale_not_open' });
      throw CatalogErrors.SALE_NOT_OPEN(`The sale opens at ${schedule.saleOpensAt}`);
    }
    if (now >= Date.parse(schedule.saleClosesAt)) {
      this.deps.metrics.holds.inc({ outcome: 'sale_closed' });
      throw CatalogErrors.SALE_CLOSED();
    }
    return schedule;
  }

  /** 400 for seat ids that are not seats of this showtime. */
  async requireSeatsOf(scheduleId: string, seatIds: readonly string[]): Promise<void> {
    const known = await this.deps.catalog.seatIdsOf(scheduleId);
    if (!known) throw CommonErrors.NOT_FOUND('No such schedule');
    const errors = seatIds.flatMap((id, i) => (known.has(id) ? [] : [{ path: `/body/seatIds/${i}`, message: 'not a seat of this showtime' }]));
    if (errors.length) throw CommonErrors.VALIDATION_FAILED('Unknown seats', { errors });
  }
}
