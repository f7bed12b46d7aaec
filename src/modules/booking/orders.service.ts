import type { Clock } from '../../platform/clock.js';
import { CommonErrors } from '../../platform/http/errors.js';
import { newId } from '../../platform/ids.js';
import type { CatalogService, SaleSchedule } from '../catalog/index.js';
import type { CouponPlan, CouponsService } from '../coupons/index.js';
import { BookingErrors } from './booking.errors.js';
import type { BookingMetrics } from './booking.metrics.js';
import type { HoldsService } from './holds.service.js';
import type { OrderWithItems, OrdersRepository, TicketRow } from './orders.repository.js';
import { orderName, priceSeats, type Priced } from './pricing.js';
import type { SeatHoldStore } from './seat-holds.store.js';

export interface OrderInput {
  scheduleId: string;
  seatIds: string[];
  couponIds?: string[];
}

export interface OrderView {
  id: string;
  status: OrderWithItems['status'];
  scheduleId: string;
  items: { seatId: string; label: string; grade: string; price: number; discount: number }[];
  subtotal: number;
  discount: number;
  amount: number;
  coupons: { id: string; name: string; discount: number; seatId?: string }[];
  orderName: string;
  expiresAt: string;
  createdAt: string;
  paidAt: string | null;
  cancelledAt: string | null;
}

export interface OrdersServiceDeps {
  repo: OrdersRepository;
  holds: HoldsService;
  store: SeatHoldStore;
  catalog: CatalogService;
  coupons: CouponsService;
  clock: Clock;
  metrics: BookingMetrics;
  paymentWindowSeconds: number;
}

const EXPIRY_BATCH = 200;

/** Orders: placing, reading, cancelling and expiring them. Payment arrives with the payments module. */
export class OrdersService {
  constructor(private readonly deps: OrdersServiceDeps) {}

  /** Prices seats with the best (or the named) coupons, without creating anything. */
  async quote(userId: string, input: OrderInput): Promise<Pick<Priced, 'subtotal' | 'discount' | 'amount'> & { coupons: OrderView['coupons'] }> {
    const { priced, plan } = await this.#price(userId, input);
    return { subtotal: priced.subtotal, discount: priced.discount, amount: priced.amount, coupons: plan.coupons };
  }

  /**
   * Places an order for seats the buyer holds: extends the holds to the payment window, then in
   * one transaction reserves the seats in PostgreSQL (re-checking each is neither sold nor
   * reserved by another order) and records the order with its items.
   */
  async placeOrder(userId: string, input: OrderInput): Promise<OrderView> {
    const schedule = await this.deps.holds.requireOnSale(input.scheduleId);
    const { priced, plan } = await this.#price(userId, input, schedule);
    const now = this.deps.clock.now();
    const expiresAt = new Date(now.getTime() + this.deps.paymentWindowSeconds * 1000);

    const extended = await this.deps.store.extend(input.scheduleId, userId, input.seatIds, expiresAt.getTime(), now.getTime());
    if (!extended.ok) throw BookingErrors.SEATS_NOT_HELD(`${extended.missing.length} of the seats are not held by you`, { seatIds: extended.missing });

    const id = newId();
    const row = {
      id,
      userId,
      scheduleId: input.scheduleId,
      status: 'PENDING_PAYMENT' as const,
      subtotal: priced.subtotal,
      discount: priced.discount,
      amount: priced.amount,
      orderName: orderName(schedule.title, priced.items.map((i) => i.label)),
      expiresAt,
      createdAt: now,
      updatedAt: now,
    };
    const couponLines = plan.coupons.map((c) => ({ orderId: id, couponId: c.id, name: c.name, seatId: c.seatId ?? null, discount: c.discount }));
    const refused = await this.deps.repo.transaction(async (tx) => {
      const taken = await this.deps.catalog.reserveSeats({ scheduleId: input.scheduleId, seatIds: input.seatIds, orderId: id, until: expiresAt }, tx);
      if (taken.length) return taken;
      // Coupons on a pending order are reserved; they come back if it expires or is cancelled.
      await this.deps.coupons.reserve(userId, id, plan.coupons.map((c) => c.id), tx);
      await this.deps.repo.insertOrder(row, priced.items.map((i) => ({ orderId: id, ...i })), couponLines, tx);
      return [];
    });
    if (refused.length) {
      // The database had these seats sold or reserved although the hold store let this buyer
      // hold them (the hot state was lost and rebuilt meanwhile): drop those holds and refuse.
      await this.deps.store.release(input.scheduleId, userId, refused, now.getTime());
      throw BookingErrors.SEAT_UNAVAILABLE('Some seats are sold or in another order', { unavailableSeatIds: refused });
    }
    this.deps.metrics.ordersCreated.inc();
    return toView({ ...row, paidAt: null, cancelledAt: null, cancelReason: null, items: priced.items.map((i) => ({ orderId: id, ...i })), coupons: couponLines });
  }

  async getOrder(userId: string, id: string): Promise<OrderView> {
    const order = await this.deps.repo.findOrder(id);
    // Someone else's order answers as if it did not exist: ids must not be probed.
    if (!order || order.userId !== userId) throw CommonErrors.NOT_FOUND('No such order');
    return toView(order);
  }

  async myOrders(userId: string, limit: number, before?: string): Promise<OrderView[]> {
    return (await this.deps.repo.ordersOf(userId, limit, before)).map(toView);
  }

  async myTickets(userId: string, limit: number, before?: string): Promise<TicketRow[]> {
    return this.deps.repo.ticketsOf(userId, limit, before);
  }

  /** Cancels a pending order: its reservations and holds are released. (Refunds of paid orders arrive with payments.) */
  async cancel(userId: string, id: string, reason?: string): Promise<OrderView> {
    const now = this.deps.clock.now();
    const order = await this.deps.repo.transaction(async (tx) => {
      const locked = await this.deps.repo.lockOrder(id, tx);
      if (!locked || locked.userId !== userId) throw CommonErrors.NOT_FOUND('No such order');
      if (locked.status !== 'PENDING_PAYMENT') throw BookingErrors.NOT_CANCELLABLE(`The order is ${locked.status}`);
      await this.deps.repo.setStatus(id, 'CANCELLED', now, tx, { cancelReason: reason ?? null });
      await this.deps.catalog.releaseReservation({ scheduleId: locked.scheduleId, orderId: id }, tx);
      await this.deps.coupons.release(id, tx);
      return { ...locked, status: 'CANCELLED' as const, cancelledAt: now, cancelReason: reason ?? null, updatedAt: now };
    });
    await this.#releaseHolds(order);
    this.deps.metrics.ordersEnded.inc({ how: 'cancelled' });
    return toView(order);
  }

  /** The expiry job: pending orders past their window become EXPIRED and give their seats back. */
  async expireDue(): Promise<number> {
    const now = this.deps.clock.now();
    const expired = await this.deps.repo.transaction(async (tx) => {
      const due = await this.deps.repo.lockDueOrders(now, EXPIRY_BATCH, tx);
      for (const order of due) {
        await this.deps.repo.setStatus(order.id, 'EXPIRED', now, tx);
        await this.deps.catalog.releaseReservation({ scheduleId: order.scheduleId, orderId: order.id }, tx);
        await this.deps.coupons.release(order.id, tx);
      }
      return due;
    });
    for (const order of expired) await this.#releaseHolds(order);
    if (expired.length) this.deps.metrics.ordersEnded.inc({ how: 'expired' }, expired.length);
    return expired.length;
  }

  async #releaseHolds(order: OrderWithItems): Promise<void> {
    await this.deps.store.release(order.scheduleId, order.userId, order.items.map((i) => i.seatId), this.deps.clock.now().getTime());
  }

  /** Seats priced from the showtime's inventory, with the coupon plan (best, none, or the named ones). */
  async #price(userId: string, input: OrderInput, known?: SaleSchedule): Promise<{ priced: Priced; plan: CouponPlan }> {
    await this.deps.holds.requireSeatsOf(input.scheduleId, input.seatIds);
    const schedule = known ?? (await this.deps.catalog.scheduleForSale(input.scheduleId));
    if (!schedule) throw CommonErrors.NOT_FOUND('No such schedule');
    const seats = await this.deps.catalog.priceSeats(input.scheduleId, input.seatIds);
    const plan = await this.deps.coupons.plan(userId, { performanceId: schedule.performanceId, seats }, input.couponIds);
    return { priced: priceSeats(seats, plan.discountOf), plan };
  }
}

export function toView(order: OrderWithItems): OrderView {
  return {
    id: order.id,
    status: order.status,
    scheduleId: order.scheduleId,
    items: order.items.map((i) => ({ seatId: i.seatId, label: i.label, grade: i.grade, price: i.price, discount: i.discount })),
    subtotal: order.subtotal,
    discount: order.discount,
    amount: order.amount,
    coupons: order.coupons.map((c) => ({ id: c.couponId, name: c.name, discount: c.discount, ...(c.seatId ? { seatId: c.seatId } : {}) })),
    orderName: order.orderName,
    expiresAt: order.expiresAt.toISOString(),
    createdAt: order.createdAt.toISOString(),
    paidAt: order.paidAt?.toISOString() ?? null,
    cancelledAt: order.cancelledAt?.toISOString() ?? null,
  };
}
