import type { Clock } from '../../platform/clock.js';
import type { Tx } from '../../platform/db/client.js';
import { CommonErrors } from '../../platform/http/errors.js';
import { newId } from '../../platform/ids.js';
import type { SaleCheck, SaleInventory, SaleSchedule } from '../catalog/index.js';
import { CouponErrors, type CouponPlan, type OrderCoupons } from '../coupons/index.js';
import { BookingErrors } from './booking.errors.js';
import { BookingEvents, orderEnded } from './booking.events.js';
import type { BookingMetrics } from './booking.metrics.js';
import type { HoldsService } from './holds.service.js';
import type { OrderStatus } from './booking.tables.js';
import {
  newTickets,
  type OrderCouponRow,
  type OrderItemRow,
  type OrderWithItems,
  type OrdersRepository,
  type PayingExtension,
  type PlacementRefusal,
  type TicketRow,
} from './orders.repository.js';
import { orderName, priceSeats, type Priced } from './pricing.js';

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
  inventory: Pick<SaleInventory, 'scheduleForSale' | 'check' | 'releaseReservation' | 'releaseSoldSeats'>;
  coupons: OrderCoupons;
  clock: Clock;
  metrics: BookingMetrics;
  paymentWindowSeconds: number;
  maxSeatsPerBuyer: number;
  /** REFUND_CUTOFF_MINUTES: a paid order is refundable until this long before its showtime starts. */
  refundCutoffMinutes: number;
}

/** An order as the payments flow sees it: the view, and whose it is. */
export interface PayableOrder {
  order: OrderView;
  userId: string;
}

/**
 * Pays an order as it was loaded, at `at`, with the caller's values for its part of the paying
 * statement — given the order as it will read once paid (its tickets, for the caller's event).
 */
export type PayOrder<S extends Record<string, string>> = (
  payable: PayableOrder,
  at: Date,
  own: (paid: PaidOrder) => { readonly [K in keyof S]: unknown },
) => Promise<PaidOrder>;

/** What paying an order wrote, in the paying statement. */
export interface PaidOrder extends PayableOrder {
  scheduleId: string;
  seatIds: string[];
  couponIds: string[];
  tickets: TicketRow[];
}

/**
 * The order cannot take the payment: it is no longer PENDING_PAYMENT (`status`), or its seats are
 * sold or reserved to another order (`seatsLost`). Thrown when the paying statement, atomic, wrote
 * nothing.
 */
export class OrderNotPayableError extends Error {
  override name = 'OrderNotPayableError';
  constructor(
    readonly status: OrderStatus,
    readonly seatsLost: boolean,
  ) {
    super(seatsLost ? 'The seats of the order are sold or on another order' : `The order is ${status}`);
  }
}

/** What refunding a paid order wrote, in the refunding transaction. */
export interface RefundedOrder extends PayableOrder {
  scheduleId: string;
  seatIds: string[];
  /** Every coupon the order used. */
  couponIds: string[];
  /** Those of them given back to the wallet (still valid); the others stay USED. */
  restoredCouponIds: string[];
  /** The tickets cancelled. */
  ticketIds: string[];
}

/**
 * The order cannot be refunded: it is not PAID (any more). Thrown inside the refunding
 * transaction, so whatever the step wrote before it is rolled back with it; a concurrent refund
 * that committed first leaves it REFUNDED.
 */
export class OrderNotRefundableError extends Error {
  override name = 'OrderNotRefundableError';
  constructor(readonly status: OrderStatus) {
    super(`The order is ${status}`);
  }
}

/** An order being placed: what the placing statement writes besides its priced lines. */
type NewOrder = Pick<OrderWithItems, 'id' | 'userId' | 'scheduleId' | 'expiresAt' | 'createdAt' | 'idempotencyKey'>;

/** Seats priced with a coupon plan: what an order's lines are made of. */
interface PricedOrder {
  priced: Priced;
  plan: CouponPlan;
}

const EXPIRY_BATCH = 200;

/** Refusals a retried placement may meet because its first attempt succeeded. */
const REFUSALS = [BookingErrors.SEATS_NOT_HELD, BookingErrors.SEAT_UNAVAILABLE, BookingErrors.HOLD_LIMIT_EXCEEDED, CommonErrors.IDEMPOTENCY_KEY_REUSED];

/** The same showtime and seats: what the first request with a key asked for. */
function sameRequest(order: OrderWithItems, input: OrderInput): boolean {
  const seats = new Set(order.items.map((i) => i.seatId));
  return order.scheduleId === input.scheduleId && seats.size === input.seatIds.length && input.seatIds.every((id) => seats.has(id));
}

/**
 * Orders: quoting, placing, reading, cancelling and expiring them. Placing is a sequence of named
 * steps — check the sale, price, hold for payment, reserve — that the payments flow (confirm,
 * expiry, refund) reuses rather than walking the seats a second way.
 */
export class OrdersService {
  constructor(private readonly deps: OrdersServiceDeps) {}

  /** Prices seats with the best (or the named) coupons, without creating anything. */
  async quote(userId: string, input: OrderInput): Promise<Pick<Priced, 'subtotal' | 'discount' | 'amount'> & { coupons: OrderView['coupons'] }> {
    const sale = await this.deps.inventory.check(await this.deps.inventory.scheduleForSale(input.scheduleId), input.seatIds, { open: false });
    const { priced, plan } = await this.#price(userId, sale, input.couponIds);
    return { subtotal: priced.subtotal, discount: priced.discount, amount: priced.amount, coupons: plan.coupons };
  }

  /**
   * Places an order for seats the buyer holds, on a showtime the caller read (the request's one
   * read of it): checks the sale and the seats, prices them, extends the holds to the payment
   * window, then in one statement reserves the seats in PostgreSQL (re-checking each is neither
   * sold nor reserved by another order, and that the buyer's pending orders stay within the
   * per-buyer limit) and the coupons, and records the order with its items and the request's
   * Idempotency-Key.
   *
   * Most buyers own no coupon. When the best coupons are to be applied (none named, none
   * declined), the first attempt prices without reading the wallet and its statement goes ahead
   * only if the buyer owns no coupon; a buyer who does gets a second attempt, priced with the
   * best of them. Either way the order is what reading the wallet first would have made.
   *
   * A refusal is never the answer to work that succeeded: if the buyer already placed an order
   * with this key (the process died before its response was stored, and the client retried),
   * that order is the answer.
   */
  async placeOrder(userId: string, schedule: SaleSchedule | undefined, input: OrderInput, idempotencyKey?: string): Promise<OrderView> {
    try {
      return await this.#placeOrder(userId, schedule, input, idempotencyKey ?? null);
    } catch (err) {
      if (idempotencyKey === undefined || !REFUSALS.some((e) => e.is(err))) throw err;
      const earlier = await this.deps.repo.findByIdempotencyKey(userId, idempotencyKey);
      if (!earlier) throw err;
      if (!sameRequest(earlier, input)) throw CommonErrors.IDEMPOTENCY_KEY_REUSED('This Idempotency-Key placed an order for other seats');
      return toView(earlier);
    }
  }

  async #placeOrder(userId: string, schedule: SaleSchedule | undefined, input: OrderInput, idempotencyKey: string | null): Promise<OrderView> {
    const sale = await this.deps.inventory.check(schedule, input.seatIds, { open: true });
    const walletUnread = input.couponIds === undefined;
    const first = await this.#price(userId, sale, walletUnread ? [] : input.couponIds);
    const now = this.deps.clock.now();
    const order: NewOrder = {
      id: newId(),
      userId,
      scheduleId: sale.schedule.id,
      expiresAt: new Date(now.getTime() + this.deps.paymentWindowSeconds * 1000),
      createdAt: now,
      idempotencyKey,
    };
    await this.deps.holds.extendForOrder(userId, order.scheduleId, input.seatIds, order.expiresAt, now);
    const placed =
      (await this.#reserve(order, sale, first, { onlyIfNoCoupons: walletUnread })) ??
      (await this.#reserve(order, sale, await this.#price(userId, sale, input.couponIds), { onlyIfNoCoupons: false }));
    if (!placed) throw new Error('The order statement held back for coupons it was told not to check');
    this.deps.metrics.ordersCreated.inc();
    return placed;
  }

  /** Step: the checked seats priced with the coupon plan (best, none, or the named ones). */
  async #price(userId: string, sale: SaleCheck, couponIds: string[] | undefined): Promise<PricedOrder> {
    const plan = await this.deps.coupons.plan(userId, { performanceId: sale.schedule.performanceId, seats: sale.seats }, couponIds);
    return { priced: priceSeats(sale.seats, plan.discountOf), plan };
  }

  /**
   * Step: the placing statement. Undefined if it held back only because the buyer owns coupons
   * (`onlyIfNoCoupons`); anything else that stood in the way is the refusal it explains.
   */
  async #reserve(order: NewOrder, sale: SaleCheck, { priced, plan }: PricedOrder, options: { onlyIfNoCoupons: boolean }): Promise<OrderView | undefined> {
    // Field by field, as every object on this path: a spread here took V8's slow path per order.
    const row = {
      id: order.id,
      userId: order.userId,
      scheduleId: order.scheduleId,
      expiresAt: order.expiresAt,
      createdAt: order.createdAt,
      idempotencyKey: order.idempotencyKey,
      subtotal: priced.subtotal,
      discount: priced.discount,
      amount: priced.amount,
      orderName: orderName(
        sale.schedule.title,
        priced.items.map((i) => i.label),
      ),
    };
    const couponLines = plan.coupons.map((c) => ({ couponId: c.id, name: c.name, seatId: c.seatId ?? null, discount: c.discount }));
    const result = await this.deps.repo.placeOrder(row, priced.items, couponLines, {
      onlyIfNoCoupons: options.onlyIfNoCoupons,
      maxSeatsPerBuyer: this.deps.maxSeatsPerBuyer,
    });
    if (!result.placed) return this.#refusal(order, priced, couponLines, result);
    // Its view from what placed it, field by field (a row rebuilt with spreads took V8's slow path).
    return toView({
      id: row.id,
      status: 'PENDING_PAYMENT',
      scheduleId: row.scheduleId,
      subtotal: row.subtotal,
      discount: row.discount,
      amount: row.amount,
      orderName: row.orderName,
      expiresAt: row.expiresAt,
      createdAt: row.createdAt,
      paidAt: null,
      cancelledAt: null,
      items: priced.items,
      coupons: couponLines,
    });
  }

  /** Step: what stood in the way of a placement that wrote nothing, as the refusal the buyer gets. */
  async #refusal(order: NewOrder, priced: Priced, couponLines: { couponId: string }[], result: PlacementRefusal): Promise<undefined> {
    if (result.keyUsed) throw CommonErrors.IDEMPOTENCY_KEY_REUSED('This Idempotency-Key already placed an order');
    const free = new Set(result.freeSeatIds);
    const taken = priced.items.map((i) => i.seatId).filter((seatId) => !free.has(seatId));
    if (taken.length) {
      await this.deps.holds.forgetTaken(order.userId, order.scheduleId, taken, order.createdAt);
      throw BookingErrors.SEAT_UNAVAILABLE('Some seats are sold or in another order', { unavailableSeatIds: taken });
    }
    if (!result.withinLimit) {
      throw BookingErrors.HOLD_LIMIT_EXCEEDED(`At most ${this.deps.maxSeatsPerBuyer} seats per buyer per showtime, pending orders included`, {
        maxSeatsPerBuyer: this.deps.maxSeatsPerBuyer,
        holding: priced.items.length,
      });
    }
    if (!result.couponsCheck) return undefined;
    const freeCoupons = new Set(result.freeCouponIds);
    throw CouponErrors.COUPON_NOT_APPLICABLE('A coupon went on another order meanwhile', {
      couponIds: couponLines.map((c) => c.couponId).filter((c) => !freeCoupons.has(c)),
    });
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

  /** An order and its owner, for the payments flow (which answers 404 for anyone else's). */
  async payableOrder(id: string): Promise<PayableOrder | undefined> {
    const order = await this.deps.repo.findOrder(id);
    return order && { order: toView(order), userId: order.userId };
  }

  /** The tickets of an order (a paid order's, answered again to a repeated confirm). */
  ticketsOfOrder(orderId: string): Promise<TicketRow[]> {
    return this.deps.repo.ticketsOfOrder(orderId);
  }

  /**
   * Prepares the statement that pays an order, with the caller's part in it (payments': its
   * payment DONE and `payment.completed`; see `PayingExtension`). The function it returns pays
   * the order as it was loaded (`payableOrder`; its seats and coupons never change once placed)
   * in one statement — one round trip, no transaction held open: a PENDING_PAYMENT order sells
   * its seats, issues a ticket per seat, spends its coupons and becomes PAID at `at`, together
   * with the caller's writes. Otherwise nothing is written and it throws `OrderNotPayableError`.
   *
   * Invariant 1, gate 2: the seats are sold only if every one is AVAILABLE or already this
   * order's (`seatSalePart`, under their row locks, taken in seat order); a seat another order
   * took after this one's window lapsed makes the count short, and the sale is refused whole. The
   * tickets' unique index is the last line behind it. The statement locks the order's row first,
   * as cancel and expiry do, so a paid order is never expired, nor an expired one paid.
   */
  preparePay<S extends Record<string, string>>(extension: PayingExtension<S>): PayOrder<S> {
    const run = this.deps.repo.preparePaying(extension);
    return async (payable, at, own) => {
      const { order, userId } = payable;
      const seatIds = order.items.map((i) => i.seatId);
      const tickets = newTickets(order, userId, at).sort((a, b) => (a.seatLabel < b.seatLabel ? -1 : a.seatLabel > b.seatLabel ? 1 : 0));
      const paid: PaidOrder = {
        order: { ...order, status: 'PAID', paidAt: at.toISOString() },
        userId,
        scheduleId: order.scheduleId,
        seatIds,
        couponIds: order.coupons.map((c) => c.id),
        tickets,
      };
      const outcome = await run({ orderId: order.id, userId, scheduleId: order.scheduleId, seatIds, at, tickets }, own(paid));
      if (outcome.paid) return paid;
      if (outcome.status === null) throw new Error(`no order ${order.id} to pay`);
      if (!outcome.ownLocked) throw new Error(`the paying statement of order ${order.id} found none of the caller's rows`);
      if (outcome.status !== 'PENDING_PAYMENT') throw new OrderNotPayableError(outcome.status, false);
      throw new OrderNotPayableError(outcome.status, outcome.seatsLost);
    };
  }

  /** After the paying statement: the hold store learns the seats are sold (their holds end). */
  async afterPaid(paid: Pick<PaidOrder, 'scheduleId' | 'seatIds'>): Promise<void> {
    await this.deps.holds.soldForOrder(paid);
    this.deps.metrics.ordersPaid.inc();
  }

  /**
   * Whether a paid order may still be refunded at `now`: until REFUND_CUTOFF_MINUTES before its
   * showtime starts (409 NOT_CANCELLABLE from then on). Asked before anything is sent to the PG;
   * a refund the PG made is committed whatever the time (the money is back with the buyer).
   */
  async checkRefundable(order: Pick<OrderView, 'scheduleId'>, now: Date): Promise<void> {
    // A showtime with sales cannot be deleted (HAS_SALES); one that is gone has nothing to refund against.
    const schedule = await this.deps.inventory.scheduleForSale(order.scheduleId);
    if (!schedule) throw BookingErrors.NOT_CANCELLABLE('The showtime no longer exists');
    const cutoffMs = this.deps.refundCutoffMinutes * 60_000;
    if (now.getTime() >= Date.parse(schedule.startsAt) - cutoffMs) {
      throw BookingErrors.NOT_CANCELLABLE(
        cutoffMs
          ? `Refunds close ${this.deps.refundCutoffMinutes} minutes before the showtime starts (${schedule.startsAt})`
          : `The showtime started at ${schedule.startsAt}`,
      );
    }
  }

  /**
   * Booking's part of the refunding transaction (`tx`, the payments module's), once the PG has
   * refunded the charge: under the order's row lock, a PAID order cancels its tickets, gives its
   * seats back to sale (`releaseSoldSeats`, conditional on each being sold to this order, row
   * count checked), gives back its coupons that are still valid, and becomes REFUNDED at `at`.
   * Otherwise (a concurrent refund committed first) it throws `OrderNotRefundableError` and the
   * caller's transaction rolls back.
   *
   * Invariant 1: the tickets are cancelled in the same transaction as the seats are freed, so a
   * seat is never on sale with a VALID ticket, and its next sale's ticket passes `tickets_seat_once_uq`.
   */
  async refund(orderId: string, at: Date, tx: Tx, reason?: string | null): Promise<RefundedOrder> {
    const order = await this.deps.repo.lockOrder(orderId, tx);
    if (!order) throw new Error(`no order ${orderId} to refund`);
    if (order.status !== 'PAID') throw new OrderNotRefundableError(order.status);
    const seatIds = order.items.map((i) => i.seatId);
    const tickets = await this.deps.repo.cancelTickets(orderId, tx);
    if (!(await this.deps.inventory.releaseSoldSeats({ scheduleId: order.scheduleId, seatIds, orderId }, tx))) {
      // Only a paid order's own refund frees its seats: a short count is a broken invariant, not a race.
      throw new Error(`the seats of paid order ${orderId} are not all sold to it`);
    }
    const restoredCouponIds = await this.deps.coupons.restore(orderId, at, tx);
    if (!(await this.deps.repo.markRefunded(orderId, at, reason ?? null, tx))) throw new OrderNotRefundableError(order.status);
    const refunded: OrderWithItems = { ...order, status: 'REFUNDED', cancelledAt: at, cancelReason: reason ?? null, updatedAt: at };
    return {
      order: toView(refunded),
      userId: order.userId,
      scheduleId: order.scheduleId,
      seatIds,
      couponIds: order.coupons.map((c) => c.couponId),
      restoredCouponIds,
      ticketIds: tickets.map((t) => t.id),
    };
  }

  /** After the refunding transaction committed: the hold store learns the seats are for sale again. */
  async afterRefunded(refunded: Pick<RefundedOrder, 'scheduleId' | 'seatIds'>): Promise<void> {
    await this.deps.holds.unsoldForOrder(refunded);
    this.deps.metrics.ordersRefunded.inc();
  }

  /**
   * Cancels a pending order: its reservations and holds are released, and `order.cancelled` goes
   * into the outbox in the same transaction. A paid order is refunded instead, by the payments
   * module (`PaymentsService#cancelOrder`, which orchestrates `checkRefundable` and `refund`).
   */
  async cancel(userId: string, id: string, reason?: string): Promise<OrderView> {
    const now = this.deps.clock.now();
    const order = await this.deps.repo.transaction(async (tx) => {
      const locked = await this.deps.repo.lockOrder(id, tx);
      if (!locked || locked.userId !== userId) throw CommonErrors.NOT_FOUND('No such order');
      if (locked.status !== 'PENDING_PAYMENT') throw BookingErrors.NOT_CANCELLABLE(`The order is ${locked.status}`);
      await this.deps.repo.setStatus(id, 'CANCELLED', now, tx, { cancelReason: reason ?? null });
      await this.deps.inventory.releaseReservation({ scheduleId: locked.scheduleId, orderId: id }, tx);
      await this.deps.coupons.release(id, tx);
      await this.deps.repo.appendEvents([orderEnded(BookingEvents.orderCancelled, locked, now, reason)], tx);
      return { ...locked, status: 'CANCELLED' as const, cancelledAt: now, cancelReason: reason ?? null, updatedAt: now };
    });
    await this.#releaseHolds(order);
    this.deps.metrics.ordersEnded.inc({ how: 'cancelled' });
    return toView(order);
  }

  /**
   * The expiry job: pending orders past their window become EXPIRED and give their seats back;
   * each one's `order.expired` goes into the outbox in the same transaction.
   */
  async expireDue(): Promise<number> {
    const now = this.deps.clock.now();
    const expired = await this.deps.repo.transaction(async (tx) => {
      const due = await this.deps.repo.lockDueOrders(now, EXPIRY_BATCH, tx);
      for (const order of due) {
        await this.deps.repo.setStatus(order.id, 'EXPIRED', now, tx);
        await this.deps.inventory.releaseReservation({ scheduleId: order.scheduleId, orderId: order.id }, tx);
        await this.deps.coupons.release(order.id, tx);
      }
      await this.deps.repo.appendEvents(
        due.map((order) => orderEnded(BookingEvents.orderExpired, order, now)),
        tx,
      );
      return due;
    });
    for (const order of expired) await this.#releaseHolds(order);
    if (expired.length) this.deps.metrics.ordersEnded.inc({ how: 'expired' }, expired.length);
    return expired.length;
  }

  #releaseHolds(order: OrderWithItems): Promise<void> {
    return this.deps.holds.releaseForOrder({ userId: order.userId, scheduleId: order.scheduleId, seatIds: order.items.map((i) => i.seatId) });
  }
}

/**
 * What an order's view is made of: an order as read back from PostgreSQL, or one just placed
 * (its priced lines and coupon lines, before they carry the order's id).
 */
type Viewable = Omit<OrderWithItems, 'userId' | 'idempotencyKey' | 'updatedAt' | 'cancelReason' | 'items' | 'coupons'> & {
  items: readonly Omit<OrderItemRow, 'orderId'>[];
  coupons: readonly Omit<OrderCouponRow, 'orderId'>[];
};

export function toView(order: Viewable): OrderView {
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
