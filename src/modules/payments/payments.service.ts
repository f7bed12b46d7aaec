import type { Clock } from '../../platform/clock.js';
import { CommonErrors } from '../../platform/http/errors.js';
import { UUID_PATTERN } from '../../platform/http/schemas.js';
import { newId } from '../../platform/ids.js';
import type { Alerts } from '../../platform/observability/alerts.js';
import {
  BookingErrors,
  OrderNotPayableError,
  OrderNotRefundableError,
  type OrderView,
  type PaidOrder,
  type PayableOrder,
  type PayingOrders,
  type PayOrder,
  type RefundedOrder,
  type TicketRow,
} from '../booking/index.js';
import { type PgGateway, type PgResult, pgIdempotencyKeys, type TossPayment } from './pg-gateway.js';
import { PaymentErrors } from './payments.errors.js';
import { paymentCompleted, refundCompleted } from './payments.events.js';
import type { PaymentsMetrics } from './payments.metrics.js';
import type { PaymentDoneTypes, PaymentFigures, PaymentRow, PaymentsRepository, SaleFactsInput } from './payments.repository.js';

export interface ConfirmInput {
  paymentKey: string;
  orderId: string;
  amount: number;
}

/** `200` of `POST /v1/payments/confirm`. */
export interface ConfirmResult {
  order: OrderView;
  payment: { paymentKey: string; status: 'DONE'; method: string | null; approvedAt: string; totalAmount: number };
  tickets: TicketRow[];
}

/** What a confirm ends in: paid (200), or parked until the PG's outcome is known (202). */
export type ConfirmOutcome = { kind: 'paid'; result: ConfirmResult } | { kind: 'pending' };

/**
 * What `POST /v1/orders/:id/cancel` ends in: the order as it now is (200: a pending order
 * CANCELLED, a paid one REFUNDED), or a refund parked until the PG's outcome is known (202).
 */
/**
 * What a `PAYMENT_STATUS_CHANGED` webhook came to, once recorded: the order paid, a paid order
 * refunded, an open payment rejected or cancelled, nothing to change (a repeat, or a status that
 * records nothing), or a payment of no order of MOS.
 */
export type WebhookOutcome = 'paid' | 'refunded' | 'rejected' | 'cancelled' | 'unchanged' | 'ignored';

export type CancelOutcome = { kind: 'done'; order: OrderView } | { kind: 'pending' };

interface Log {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface PaymentsServiceDeps {
  repo: PaymentsRepository;
  pg: PgGateway;
  orders: PayingOrders;
  /** Frees the buyer's waiting-room slot for the showtime once they paid (a no-op without a waiting room). */
  leaveWaitingRoom: (userId: string, scheduleId: string) => Promise<void>;
  clock: Clock;
  logger: Log;
  metrics: PaymentsMetrics;
  /** Failures that need a person: a payment parked too long, a charge refunded because its order could not take it, a refund the PG refuses. */
  alerts: Alerts;
  /** PAYMENT_RECONCILE_AFTER_SECONDS, in ms. */
  reconcileAfterMs: number;
  /** PAYMENT_PARKED_ALERT_MINUTES, in ms. */
  parkedAlertMs: number;
}

/** What the statement writing a sale's event reads to add the sale's facts (seller, performance, who funds the discount). */
function saleFactsOf(order: OrderView): SaleFactsInput {
  return { scheduleId: order.scheduleId, coupons: order.coupons.map((c) => ({ couponId: c.id, discount: c.discount })), discount: order.discount };
}

/** Statuses whose outcome is open: a verdict about the attempt may still land on them. */
const OPEN = ['CONFIRMING', 'UNKNOWN'] as const;
const RECONCILE_BATCH = 100;
/** Toss's limit on `cancelReason` (docs/toss.md B6). */
const CANCEL_REASON_MAX = 200;
const DEFAULT_REFUND_REASON = 'Cancelled by the buyer';

/**
 * Confirming a payment and resolving the ones whose outcome was not seen. `confirm` reads as its
 * named steps: *load* the order, *check the amount*, *claim* the payment row, *charge* at the PG
 * (no transaction, lock or pooled connection held meanwhile), then *commit* the paying
 * transaction — or *refund* at the PG a charge the order can no longer take.
 *
 * Invariant 3 — an order is charged at most once, for the amount the server computed:
 * - the amount sent to the PG is the order's, and a client's other amount is refused before
 *   anything is sent;
 * - every confirm of one attempt sends the same PG Idempotency-Key (`confirm:<orderId>[:<n>]`),
 *   so concurrent confirms, client retries and the reconciliation get the PG's first answer
 *   instead of a second charge; a new key (the next attempt) is taken only after a known, final
 *   refusal (`REJECTED`);
 * - an outcome not seen (timeout, dropped answer, crash) is parked (`UNKNOWN`, or a `CONFIRMING`
 *   row a crash left) and resolved by asking the PG (`reconcile`), never by confirming with a new key.
 *
 * Invariant 1 — a charge the order cannot take (it expired or was cancelled meanwhile, or its
 * seats went to another order) is cancelled at the PG (`cancel:<orderId>:1`), never sold twice.
 */
export class PaymentsService {
  /** Booking's paying statement with payments' part in it, prepared once. */
  readonly #pay: PayOrder<PaymentDoneTypes>;

  constructor(private readonly deps: PaymentsServiceDeps) {
    this.#pay = deps.orders.preparePay(deps.repo.payingPart());
  }

  async confirm(userId: string, input: ConfirmInput): Promise<ConfirmOutcome> {
    const { deps } = this;
    // Step: load. Someone else's order answers as if it did not exist.
    const found = await deps.orders.payableOrder(input.orderId);
    if (!found || found.userId !== userId) throw CommonErrors.NOT_FOUND('No such order');
    const { order } = found;
    if (order.status === 'PAID') return this.#alreadyPaid(order.id, input.paymentKey, order);

    // Step: check the amount — the order's, computed by the server; nothing is sent otherwise.
    if (input.amount !== order.amount) {
      this.#count('amount_mismatch');
      throw PaymentErrors.AMOUNT_MISMATCH(`The order's amount is ${order.amount}`, { amount: order.amount });
    }
    // Nothing is charged for an order that can no longer be paid: the PG's session just lapses.
    const now = deps.clock.now();
    if (order.status !== 'PENDING_PAYMENT' || now.getTime() >= Date.parse(order.expiresAt)) {
      this.#count('order_expired');
      throw PaymentErrors.ORDER_EXPIRED(`The order is ${order.status === 'PENDING_PAYMENT' ? 'past its payment window' : order.status}`);
    }

    // Step: claim.
    const { row, claimed } = await deps.repo.claim({ id: newId(), orderId: order.id, userId, paymentKey: input.paymentKey, amount: order.amount, now });
    if (row.status === 'DONE') return this.#alreadyPaid(order.id, input.paymentKey, undefined, row);
    if (row.status === 'CANCELED') throw PaymentErrors.ORDER_EXPIRED('The payment was cancelled: the order could not take it');
    if (!claimed && row.paymentKey !== input.paymentKey) {
      // Another payment of this order is in flight or of unknown outcome: confirming this one
      // too could charge the order twice. It is resolved first (the reconciliation), and the
      // buyer hears "pending" meanwhile.
      this.#count('pending');
      return { kind: 'pending' };
    }

    // Step: charge — outside any transaction: a PG call can take PG_DEADLINE_MS.
    const result = await deps.pg.confirm({
      paymentKey: row.paymentKey,
      orderId: row.orderId,
      amount: row.amount,
      idempotencyKey: pgIdempotencyKeys.confirm(row.orderId, row.attempt),
    });
    return this.#settle(row, result, found);
  }

  /** What the PG answered to an attempt, recorded and answered. */
  async #settle(row: PaymentRow, result: PgResult, loaded: PayableOrder): Promise<ConfirmOutcome> {
    const { deps } = this;
    const now = deps.clock.now();
    switch (result.kind) {
      case 'done': {
        const p = result.payment;
        if (p.orderId === row.orderId && p.totalAmount === row.amount) return { kind: 'paid', result: await this.#commit(row, p, loaded) };
        // The client checks it already; a payment of another order or amount never pays this one.
        deps.logger.error({ orderId: row.orderId, pgOrderId: p.orderId, pgAmount: p.totalAmount }, 'the PG confirmed another order or amount');
        await deps.repo.settle(row.orderId, row.attempt, ['CONFIRMING'], { status: 'UNKNOWN', pgMessage: 'confirmed another order or amount' }, now);
        this.#count('pending');
        return { kind: 'pending' };
      }
      case 'rejected':
        await this.#reject(row, result.code, result.message);
        this.#count('rejected');
        throw PaymentErrors.PAYMENT_REJECTED(result.message, { pgCode: result.code });
      case 'unknown':
        await deps.repo.settle(row.orderId, row.attempt, ['CONFIRMING'], { status: 'UNKNOWN', pgMessage: `${result.reason}: ${result.detail}` }, now);
        deps.logger.warn(
          { orderId: row.orderId, attempt: row.attempt, reason: result.reason, detail: result.detail },
          'payment outcome unknown; parked for reconciliation',
        );
        this.#count('pending');
        return { kind: 'pending' };
      case 'unavailable':
        // Nothing reached the PG, so the row stays CONFIRMING with its attempt: the buyer's retry
        // sends the same key. Marking it REJECTED instead would let that retry take the next key
        // while a concurrent confirm of this attempt — from another process, whose breaker is
        // closed — may have reached the PG and charged: two keys in flight for one order is what
        // invariant 3 forbids. A row nobody retries is old enough for the reconciliation after
        // PAYMENT_RECONCILE_AFTER_SECONDS, which asks the PG and then rejects it.
        this.#count('unavailable');
        throw CommonErrors.SERVICE_UNAVAILABLE('The payment gateway is unavailable; retry shortly', {}, { 'retry-after': String(result.retryAfterSeconds) });
    }
  }

  /**
   * Step: commit — the PG approved `payment`. One statement (booking's, with payments' part in
   * it: `paymentDonePart`), one round trip, no transaction held open: under the order's row lock
   * the seats SOLD, tickets, coupons USED and the order PAID, the payment DONE and
   * `payment.completed` into the outbox (invariant 4). After it commits, the hot state learns the
   * seats are sold and the buyer's waiting-room slot is freed. An order that cannot take the
   * payment writes nothing, and the charge is refunded (`#refund`). `loaded` is the order as the
   * confirm read it (its seats and coupons never change); the reconciliation and the webhook
   * read it here.
   */
  async #commit(row: Pick<PaymentRow, 'id' | 'orderId'>, payment: TossPayment, loaded?: PayableOrder): Promise<ConfirmResult> {
    const { deps } = this;
    const payable = loaded ?? (await deps.orders.payableOrder(row.orderId));
    if (!payable) throw new Error(`no order ${row.orderId} to pay`);
    const at = deps.clock.now();
    const approvedAt = payment.approvedAt ? new Date(payment.approvedAt) : at;
    let paid: PaidOrder;
    try {
      paid = await this.#pay(payable, at, (paid) => {
        const event = paymentCompleted(
          {
            paymentId: row.id,
            orderId: row.orderId,
            userId: paid.userId,
            scheduleId: paid.scheduleId,
            seatIds: paid.seatIds,
            couponIds: paid.couponIds,
            ticketIds: paid.tickets.map((t) => t.id),
            paymentKey: payment.paymentKey,
            amount: payment.totalAmount,
            method: payment.method,
            approvedAt: approvedAt.toISOString(),
            listTotal: paid.order.subtotal,
          },
          at,
        );
        const facts = saleFactsOf(paid.order);
        return {
          paymentKey: payment.paymentKey,
          method: payment.method,
          approvedAt: approvedAt.toISOString(),
          couponIds: facts.coupons.map((c) => c.couponId),
          couponDiscounts: facts.coupons.map((c) => c.discount),
          orderDiscount: facts.discount,
          eventId: event.id,
          eventPayload: JSON.stringify(event.payload),
        };
      });
    } catch (err) {
      if (!(err instanceof OrderNotPayableError)) throw err;
      // A concurrent confirm of the same attempt, or the reconciliation, committed it first.
      if (err.status === 'PAID') return this.#paidResult(row.orderId);
      return this.#refund(row.orderId, payment, err);
    }
    this.#count('paid');
    // The database has the sale; what follows only tells the hot state, and may fail alone.
    await deps.orders.afterPaid(paid).catch((err: unknown) => deps.logger.warn({ err, orderId: row.orderId }, 'hold store not told of a sale; it reloads'));
    await deps
      .leaveWaitingRoom(paid.userId, paid.scheduleId)
      .catch((err: unknown) => deps.logger.warn({ err, orderId: row.orderId }, 'waiting-room slot not freed; it lapses'));
    return {
      order: paid.order,
      payment: {
        paymentKey: payment.paymentKey,
        status: 'DONE',
        method: payment.method,
        approvedAt: (approvedAt ?? deps.clock.now()).toISOString(),
        totalAmount: payment.totalAmount,
      },
      tickets: paid.tickets,
    };
  }

  /**
   * Step: refund — the PG charged an order that can no longer take it. The charge is cancelled
   * in full with the order's one cancel key, so every path that gets here (the buyer's confirm,
   * a concurrent one, the reconciliation) cancels it once. If the cancel's outcome is not known,
   * the payment is parked UNKNOWN: the reconciliation finds it DONE at the PG, gets here again
   * and sends the same cancel.
   */
  async #refund(orderId: string, payment: TossPayment, why: OrderNotPayableError): Promise<never> {
    const { deps } = this;
    const reason = why.seatsLost
      ? 'The seats of the order went to another order before the payment was confirmed'
      : `The order was ${why.status} before the payment was confirmed`;
    const cancelled = await deps.pg.cancel({ paymentKey: payment.paymentKey, cancelReason: reason, idempotencyKey: pgIdempotencyKeys.cancel(orderId, 1) });
    const now = deps.clock.now();
    if (cancelled.kind === 'done') {
      await deps.repo.markCanceled(orderId, payment.paymentKey, reason, now);
      deps.logger.info({ orderId, paymentKey: payment.paymentKey, reason }, 'payment cancelled at the PG: the order could not take it');
      this.#count('refunded');
      // The buyer paid and got nothing: someone should tell them (the PG's refund takes days to show).
      await deps.alerts.notify(
        'payment-refunded-seats-lost',
        orderId,
        `Order ${orderId}: the PG approved payment ${payment.paymentKey} (${payment.totalAmount} KRW) but ${why.seatsLost ? 'its seats went to another order' : `the order was ${why.status}`} before it could be recorded; the charge was cancelled at the PG. Nothing was sold: tell the buyer.`,
      );
    } else {
      const row = await deps.repo.findByOrder(orderId);
      if (row) await deps.repo.settle(orderId, row.attempt, OPEN, { status: 'UNKNOWN', pgMessage: `refund owed: ${reason}` }, now);
      deps.logger.error(
        { orderId, paymentKey: payment.paymentKey, cancel: cancelled },
        'a charge the order cannot take was not cancelled yet; the reconciliation retries',
      );
      this.#count('refund_pending');
    }
    throw PaymentErrors.ORDER_EXPIRED(`${reason}; the payment is cancelled`);
  }

  /** The order is PAID already: the same answer as the confirm that paid it, if it is this payment. */
  async #alreadyPaid(orderId: string, paymentKey: string, order?: OrderView, known?: PaymentRow): Promise<ConfirmOutcome> {
    const row = known ?? (await this.deps.repo.findByOrder(orderId));
    if (row?.status !== 'DONE' || row.paymentKey !== paymentKey) {
      throw PaymentErrors.ORDER_EXPIRED('The order is paid already, with another payment');
    }
    return { kind: 'paid', result: await this.#paidResult(row.orderId, row, order) };
  }

  async #paidResult(orderId: string, known?: PaymentRow, knownOrder?: OrderView): Promise<ConfirmResult> {
    const [row, found, tickets] = await Promise.all([
      known ?? this.deps.repo.findByOrder(orderId),
      knownOrder ? { order: knownOrder } : this.deps.orders.payableOrder(orderId),
      this.deps.orders.ticketsOfOrder(orderId),
    ]);
    if (row?.status !== 'DONE' || found?.order.status !== 'PAID') throw new Error(`order ${orderId} is not paid`);
    return {
      order: found.order,
      payment: {
        paymentKey: row.paymentKey,
        status: 'DONE',
        method: row.method,
        approvedAt: (row.approvedAt ?? row.updatedAt).toISOString(),
        totalAmount: row.amount,
      },
      tickets,
    };
  }

  /**
   * The reconciliation job: payments whose outcome is open — UNKNOWN, or CONFIRMING for longer
   * than PAYMENT_RECONCILE_AFTER_SECONDS (a crash between the claim and the answer) — are
   * resolved by asking the PG for the order's payment. It never confirms: an approval found is
   * committed (or refunded, when the order cannot take it); a refusal or a payment the PG never
   * approved is REJECTED, so the buyer may try again with a new key; no answer: next run.
   */
  async reconcile(): Promise<number> {
    const { deps } = this;
    const now = deps.clock.now();
    const staleBefore = new Date(now.getTime() - deps.reconcileAfterMs);
    const rows = await deps.repo.open(staleBefore, RECONCILE_BATCH);
    let resolved = 0;
    for (const row of rows) {
      try {
        if (await this.#reconcileOne(row, staleBefore)) resolved++;
      } catch (err) {
        if (PaymentErrors.ORDER_EXPIRED.is(err)) {
          resolved++;
          continue;
        }
        deps.logger.error({ err, orderId: row.orderId }, 'payment reconciliation failed; next run retries');
      }
    }
    await this.#alertParked();
    return resolved;
  }

  /**
   * Payments still open PAYMENT_PARKED_ALERT_MINUTES after they last changed — after this run
   * tried them — need a person (the PG keeps not answering, or answers something MOS cannot act
   * on). Each is alerted once per payment (`payment-parked`, keyed by the payment id: the alerts'
   * claim makes it once across runs and processes within ALERT_REPEAT_AFTER_SECONDS).
   */
  async #alertParked(): Promise<void> {
    const { deps } = this;
    const now = deps.clock.now();
    const parked = await deps.repo.parked(new Date(now.getTime() - deps.parkedAlertMs), RECONCILE_BATCH);
    deps.metrics.parked.set(parked.length);
    for (const row of parked) {
      deps.logger.error(
        { paymentId: row.id, orderId: row.orderId, status: row.status, since: row.updatedAt.toISOString(), pgMessage: row.pgMessage },
        'payment parked too long',
      );
      await deps.alerts.notify(
        'payment-parked',
        row.id,
        `Payment ${row.id} of order ${row.orderId} (${row.amount} KRW) has been ${row.status} since ${row.updatedAt.toISOString()}, over ${Math.round(deps.parkedAlertMs / 60_000)} minutes: ${row.pgMessage ?? 'the PG has not answered'}. The reconciliation keeps asking the PG; check it with the PG.`,
      );
    }
  }

  /** True when the payment's outcome is now known. */
  async #reconcileOne(row: PaymentRow, staleBefore: Date): Promise<boolean> {
    const { deps } = this;
    if (row.status === 'REFUNDING') return this.#reconcileRefund(row, staleBefore);
    const found = await deps.pg.getByOrderId(row.orderId);
    // A lookup that found nothing approved says "not charged" only for an attempt old enough not
    // to be in flight still (PAYMENT_RECONCILE_AFTER_SECONDS > PG_DEADLINE_MS).
    const old = row.updatedAt.getTime() <= staleBefore.getTime();
    const reject = async (code: string, message: string) => {
      const done = await this.#reject(row, code, message);
      if (done) this.#reconciled('rejected');
      return done;
    };
    if (found.kind === 'not-found') return old ? reject('NOT_FOUND_PAYMENT', 'The PG has no payment of this order') : false;
    if (found.kind !== 'found') return false; // no answer (or a refused lookup): the next run asks again
    const p = found.payment;
    if (p.orderId !== row.orderId) return false;
    switch (p.status) {
      case 'DONE':
        if (p.totalAmount !== row.amount) {
          deps.logger.error(
            { orderId: row.orderId, pgAmount: p.totalAmount, amount: row.amount },
            'the PG approved another amount for the order: needs a person',
          );
          return false;
        }
        await this.#commit(row, p);
        this.#reconciled('paid');
        return true;
      case 'CANCELED':
      case 'PARTIAL_CANCELED': {
        const done = await deps.repo.markCanceled(row.orderId, p.paymentKey, 'cancelled at the PG', deps.clock.now());
        if (done) this.#reconciled('cancelled');
        return done;
      }
      case 'ABORTED':
      case 'EXPIRED':
        return reject(p.failure?.code ?? p.status, p.failure?.message ?? `The payment is ${p.status}`);
      default:
        // READY / IN_PROGRESS / WAITING_FOR_DEPOSIT: the PG has not approved it.
        return old ? reject('NOT_CONFIRMED', `The PG has the payment ${p.status}, not approved`) : false;
    }
  }

  /**
   * `POST /v1/orders/:id/cancel`. A pending order is cancelled by booking (`OrdersService#cancel`).
   * A paid one is refunded, in named steps: *load* the order, *check* the refund cutoff, *claim*
   * the refund on the payment row (DONE → REFUNDING at the next refund attempt, or the attempt in
   * flight), *refund* at the PG — a full cancel with `cancel:<orderId>:<refund attempt>`, with no
   * transaction, lock or pooled connection held — then *commit* the refunding transaction.
   *
   * Invariant 3 (a refund happens at most once): every cancel of one refund attempt sends the same
   * PG Idempotency-Key, so concurrent cancels, client retries and the reconciliation get the PG's
   * first answer; the commit is conditional on the order still being PAID (under its row lock), so
   * of two cancels that both hear "cancelled", one commits and the other answers the refunded order.
   */
  /** Counts and sums of the payments approved and refunded in `[from, to)` (settlement's consistency check). */
  figures(from: Date, to: Date): Promise<PaymentFigures> {
    return this.deps.repo.figures(from, to);
  }

  async cancelOrder(userId: string, orderId: string, reason?: string): Promise<CancelOutcome> {
    const { deps } = this;
    // Step: load. Someone else's order answers as if it did not exist.
    const found = await deps.orders.payableOrder(orderId);
    if (!found || found.userId !== userId) throw CommonErrors.NOT_FOUND('No such order');
    if (found.order.status !== 'PAID') return { kind: 'done', order: await deps.orders.cancel(userId, orderId, reason) };

    // Step: check — the showtime's refund cutoff, before anything is sent to the PG.
    const now = deps.clock.now();
    try {
      await deps.orders.checkRefundable(found.order, now);
    } catch (err) {
      if (BookingErrors.NOT_CANCELLABLE.is(err)) this.#refunded('not_cancellable');
      throw err;
    }

    // Step: claim.
    const { row } = await deps.repo.claimRefund(orderId, now);
    if (!row) throw new Error(`paid order ${orderId} has no payment`);
    if (row.status === 'CANCELED') return { kind: 'done', order: await this.#currentOrder(orderId) }; // a concurrent refund committed
    if (row.status !== 'REFUNDING') {
      // Between this claim and the row it read, a concurrent attempt was refused (back to DONE).
      throw PaymentErrors.REFUND_REJECTED(row.pgMessage ?? 'The refund was refused', { pgCode: row.pgCode ?? 'UNKNOWN' });
    }

    // Step: refund at the PG — outside any transaction: a PG call can take PG_DEADLINE_MS.
    const cancelReason = (reason?.trim() || DEFAULT_REFUND_REASON).slice(0, CANCEL_REASON_MAX);
    const result = await deps.pg.cancel({ paymentKey: row.paymentKey, cancelReason, idempotencyKey: pgIdempotencyKeys.cancel(orderId, row.refundAttempt) });
    switch (result.kind) {
      case 'done': {
        const order = await this.#afterCancelAnswer(row, result.payment, reason ?? null);
        if (!order) {
          this.#refunded('pending');
          return { kind: 'pending' };
        }
        this.#refunded('refunded');
        return { kind: 'done', order };
      }
      case 'rejected':
        await this.#refundRefused(row, result.code, result.message);
        this.#refunded('rejected');
        throw PaymentErrors.REFUND_REJECTED(result.message, { pgCode: result.code });
      case 'unknown':
        await deps.repo.settleRefund(
          orderId,
          row.refundAttempt,
          { status: 'REFUNDING', pgMessage: `refund outcome unknown (${result.reason}): ${result.detail}` },
          deps.clock.now(),
        );
        deps.logger.warn(
          { orderId, refundAttempt: row.refundAttempt, reason: result.reason, detail: result.detail },
          'refund outcome unknown; parked for reconciliation',
        );
        this.#refunded('pending');
        return { kind: 'pending' };
      case 'unavailable':
        // Nothing reached the PG; the row stays REFUNDING at its attempt, so a retry (or the
        // reconciliation, which carries an asked-for refund through) sends the same key — a
        // concurrent cancel of this attempt from another process may have reached the PG with it.
        this.#refunded('unavailable');
        throw CommonErrors.SERVICE_UNAVAILABLE('The payment gateway is unavailable; retry shortly', {}, { 'retry-after': String(result.retryAfterSeconds) });
    }
  }

  /**
   * The PG answered a refund's cancel with `payment`. Fully cancelled → *commit* (the order as it
   * now is). Anything else (a partial cancel MOS never asks for) stays REFUNDING for a person: undefined.
   */
  async #afterCancelAnswer(row: PaymentRow, payment: TossPayment, reason: string | null): Promise<OrderView | undefined> {
    const { deps } = this;
    if (payment.status === 'CANCELED' && payment.balanceAmount === 0) return this.#commitRefund(row, payment, reason);
    deps.logger.error(
      { orderId: row.orderId, status: payment.status, balance: payment.balanceAmount },
      'the PG did not cancel the whole charge: needs a person',
    );
    await deps.repo.settleRefund(
      row.orderId,
      row.refundAttempt,
      { status: 'REFUNDING', pgMessage: `the PG has the payment ${payment.status} with ${payment.balanceAmount} KRW left` },
      deps.clock.now(),
    );
    return undefined;
  }

  /**
   * Step: commit a refund — the PG cancelled the charge. One transaction: booking's part under the
   * order's row lock (tickets CANCELLED, seats AVAILABLE with the row count checked, coupons still
   * valid AVAILABLE, order REFUNDED), the payment CANCELED and `refund.completed` into the outbox
   * (invariant 4). After it commits, the hold store learns the seats are for sale again. An order no
   * longer PAID was refunded by a concurrent cancel (or the reconciliation): its view is the answer.
   */
  async #commitRefund(row: PaymentRow, payment: TossPayment, reason: string | null): Promise<OrderView> {
    const { deps } = this;
    const at = deps.clock.now();
    const why = reason ?? payment.cancels?.at(-1)?.cancelReason ?? DEFAULT_REFUND_REASON;
    // When the refund occurred, for settlement: the PG's cancel, else now.
    const pgCanceledAt = payment.cancels?.at(-1)?.canceledAt;
    const canceledAt = pgCanceledAt && !Number.isNaN(Date.parse(pgCanceledAt)) ? new Date(pgCanceledAt) : at;
    let refunded: RefundedOrder;
    try {
      refunded = await deps.repo.transaction(async (tx) => {
        const refunded = await deps.orders.refund(row.orderId, at, tx, reason ?? why);
        await deps.repo.markRefunded(row.orderId, why, at, tx, canceledAt);
        await deps.repo.appendEventsWithFacts(
          [
            refundCompleted(
              {
                paymentId: row.id,
                orderId: row.orderId,
                userId: refunded.userId,
                scheduleId: refunded.scheduleId,
                seatIds: refunded.seatIds,
                ticketIds: refunded.ticketIds,
                couponIds: refunded.couponIds,
                restoredCouponIds: refunded.restoredCouponIds,
                paymentKey: payment.paymentKey,
                amount: payment.totalAmount - payment.balanceAmount,
                reason: why,
                refundedAt: at.toISOString(),
                listTotal: refunded.order.subtotal,
                chargedAmount: payment.totalAmount,
                approvedAt: row.approvedAt?.toISOString() ?? null,
                canceledAt: canceledAt.toISOString(),
              },
              at,
            ),
          ],
          saleFactsOf(refunded.order),
          tx,
        );
        return refunded;
      });
    } catch (err) {
      if (err instanceof OrderNotRefundableError && err.status === 'REFUNDED') return this.#currentOrder(row.orderId);
      throw err;
    }
    deps.logger.info({ orderId: row.orderId, paymentKey: payment.paymentKey }, 'paid order refunded');
    // The database has the refund; what follows only tells the hot state, and may fail alone.
    await deps.orders
      .afterRefunded(refunded)
      .catch((err: unknown) => deps.logger.error({ err, orderId: row.orderId }, 'hold store not told of a refund; its seats stay unholdable until it reloads'));
    return refunded.order;
  }

  /** The PG refused a refund for good: the payment is DONE again (the next refund takes a new key), and a person is told. */
  async #refundRefused(row: PaymentRow, code: string, message: string): Promise<void> {
    const { deps } = this;
    await deps.repo.settleRefund(row.orderId, row.refundAttempt, { status: 'DONE', pgCode: code, pgMessage: message }, deps.clock.now());
    deps.logger.error({ orderId: row.orderId, refundAttempt: row.refundAttempt, pgCode: code, pgMessage: message }, 'the PG refused a refund');
    await deps.alerts.notify(
      'refund-rejected',
      row.orderId,
      `Order ${row.orderId}: the PG refused to refund payment ${row.paymentKey} (${row.amount} KRW), refund attempt ${row.refundAttempt}: ${code} ${message}. The order stays PAID; refund it by hand or ask the PG.`,
    );
  }

  /**
   * The reconciliation of a refund whose outcome was not seen, by what the PG has of the order's payment:
   * - CANCELED → commit the refund;
   * - still DONE, and the attempt recent (it may be in flight) → send the same cancel again: the
   *   same key, so if the first one did reach the PG, the PG answers it, never a second cancel;
   * - still DONE, and the attempt older than PAYMENT_RECONCILE_AFTER_SECONDS (> PG_DEADLINE_MS, so
   *   none of its requests is in flight) → the next refund attempt, a new key: no cancel under the
   *   old key took effect, and that key would only replay its first, failed answer (Toss replays
   *   errors too, docs/toss.md B7). A second full cancel can never refund twice: after one, the balance is 0;
   * - no answer → the next run.
   */
  async #reconcileRefund(row: PaymentRow, staleBefore: Date): Promise<boolean> {
    const { deps } = this;
    const found = await deps.pg.getByOrderId(row.orderId);
    if (found.kind !== 'found' || found.payment.paymentKey !== row.paymentKey) return false;
    const p = found.payment;
    if (p.status === 'CANCELED') {
      await this.#commitRefund(row, p, null);
      this.#reconciled('refunded');
      return true;
    }
    if (p.status !== 'DONE') return false; // PARTIAL_CANCELED: MOS never asks for one; it stays parked and is alerted
    let attempt = row;
    if (row.updatedAt.getTime() <= staleBefore.getTime()) {
      const next = await deps.repo.nextRefundAttempt(row.orderId, row.refundAttempt, deps.clock.now());
      if (!next) return false;
      attempt = next;
    }
    const result = await deps.pg.cancel({
      paymentKey: attempt.paymentKey,
      cancelReason: DEFAULT_REFUND_REASON,
      idempotencyKey: pgIdempotencyKeys.cancel(attempt.orderId, attempt.refundAttempt),
    });
    switch (result.kind) {
      case 'done':
        if (!(await this.#afterCancelAnswer(attempt, result.payment, null))) return false;
        this.#reconciled('refunded');
        return true;
      case 'rejected':
        await this.#refundRefused(attempt, result.code, result.message);
        this.#reconciled('refund_rejected');
        return true;
      case 'unknown':
        if (attempt !== row) {
          await deps.repo.settleRefund(
            attempt.orderId,
            attempt.refundAttempt,
            { status: 'REFUNDING', pgMessage: `refund outcome unknown (${result.reason}): ${result.detail}` },
            deps.clock.now(),
          );
        }
        return false;
      case 'unavailable':
        return false;
    }
  }

  /**
   * `POST /v1/payments/webhooks/toss` (`PAYMENT_STATUS_CHANGED`). The body is never trusted: only
   * its `paymentKey` is read, and the payment is fetched from the PG (`getByPaymentKey`). What the
   * PG answers drives the same steps as the confirm and the reconciliation, by the order's payment row:
   * - `DONE`, the row open (`CONFIRMING`/`UNKNOWN`) at this paymentKey and amount → *commit* (or
   *   *refund*, when the order can no longer take the charge: `cancelled`);
   * - `CANCELED`, the row `DONE`/`REFUNDING` (the charge was cancelled at the PG's side, e.g. from
   *   its console, or a refund's answer is not recorded yet) → the refund's *commit*: order
   *   `REFUNDED`, tickets `CANCELLED`, seats back, coupons back, `refund.completed` — the PG's
   *   cancel is not sent again;
   * - `CANCELED`/`PARTIAL_CANCELED`, the row open → `CANCELED` (as the reconciliation);
   * - `ABORTED`/`EXPIRED`, the row open at this paymentKey → `REJECTED`;
   * - anything else, or a row already past it → nothing (`unchanged`): a repeated delivery changes nothing.
   * A payment the PG does not know, or of no order of MOS, is `ignored`. Every outcome returned is
   * recorded (committed) already; a lookup without an answer throws 503, so the PG delivers again.
   */
  async paymentStatusChanged(paymentKey: string): Promise<WebhookOutcome> {
    const outcome = await this.#paymentStatusChanged(paymentKey);
    this.deps.metrics.webhooks.inc({ outcome });
    return outcome;
  }

  async #paymentStatusChanged(paymentKey: string): Promise<WebhookOutcome> {
    const { deps } = this;
    // Step: verify — the PG's own answer, never the body's.
    const found = await deps.pg.getByPaymentKey(paymentKey);
    if (found.kind === 'not-found') {
      deps.logger.warn({ paymentKey }, 'webhook about a payment the PG does not know: acknowledged, nothing done');
      return 'ignored';
    }
    if (found.kind !== 'found') {
      deps.metrics.webhooks.inc({ outcome: 'unavailable' });
      deps.logger.warn({ paymentKey, lookup: found }, 'webhook: the payment could not be looked up at the PG; the PG delivers it again');
      const retryAfter = found.kind === 'unavailable' ? found.retryAfterSeconds : 60;
      throw CommonErrors.SERVICE_UNAVAILABLE('The payment could not be looked up at the PG; deliver it again later', {}, { 'retry-after': String(retryAfter) });
    }
    const p = found.payment;
    // An orderId that is not a UUID is no order of MOS (and is kept away from a uuid column).
    const row = p.paymentKey === paymentKey && UUID_PATTERN.test(p.orderId) ? await deps.repo.findByOrder(p.orderId) : undefined;
    if (!row) {
      deps.logger.warn({ paymentKey, orderId: p.orderId, status: p.status }, 'webhook about a payment of no order MOS knows: acknowledged, nothing done');
      return 'ignored';
    }
    const open = (OPEN as readonly string[]).includes(row.status);
    const same = row.paymentKey === p.paymentKey;
    const log = { orderId: row.orderId, paymentKey, pgStatus: p.status, status: row.status };
    switch (p.status) {
      case 'DONE':
        if (open && same && p.totalAmount === row.amount) {
          try {
            await this.#commit(row, p);
          } catch (err) {
            // The order could not take the charge: *refund* cancelled it at the PG (or parked it UNKNOWN for the reconciliation).
            if (PaymentErrors.ORDER_EXPIRED.is(err)) return 'cancelled';
            throw err;
          }
          return 'paid';
        }
        // Recorded already (paid, being refunded, or refunded): a repeat, or a late delivery.
        if (same && !open && row.status !== 'REJECTED') return 'unchanged';
        // The PG approved what the row does not hold: another paymentKey or amount, or a refused attempt.
        await this.#unrecordedCharge(row, p);
        return 'unchanged';
      case 'CANCELED':
      case 'PARTIAL_CANCELED':
        if (!same) return 'unchanged';
        if (row.status === 'DONE' || row.status === 'REFUNDING') {
          if (p.status === 'CANCELED' && p.balanceAmount === 0) {
            await this.#commitRefund(row, p, null);
            deps.logger.info(log, 'webhook: the charge was cancelled at the PG; the paid order is refunded');
            return 'refunded';
          }
          deps.logger.error({ ...log, balance: p.balanceAmount }, 'webhook: a paid order was partly cancelled at the PG: needs a person');
          await deps.alerts.notify(
            'payment-partly-cancelled',
            row.orderId,
            `Order ${row.orderId}: payment ${p.paymentKey} was partly cancelled at the PG (${p.balanceAmount} of ${p.totalAmount} KRW left). MOS never asks for a partial cancel; the order stays PAID: settle it by hand.`,
          );
          return 'unchanged';
        }
        if (open) return (await deps.repo.markCanceled(row.orderId, p.paymentKey, 'cancelled at the PG', deps.clock.now())) ? 'cancelled' : 'unchanged';
        return 'unchanged';
      case 'ABORTED':
      case 'EXPIRED':
        if (!open || !same) return 'unchanged';
        return (await this.#reject(row, p.failure?.code ?? p.status, p.failure?.message ?? `The payment is ${p.status}`)) ? 'rejected' : 'unchanged';
      default:
        // READY / IN_PROGRESS / WAITING_FOR_DEPOSIT: nothing approved, nothing to record.
        return 'unchanged';
    }
  }

  /** The attempt ends REJECTED (only from CONFIRMING/UNKNOWN at that attempt), with `payment.failed` in the same statement. */
  #reject(row: Pick<PaymentRow, 'orderId' | 'attempt'>, pgCode: string, pgMessage: string): Promise<boolean> {
    return this.deps.repo.reject(row.orderId, row.attempt, { pgCode, pgMessage }, this.deps.clock.now(), newId());
  }

  /** The PG has a charge of the order that its payment row does not record: a person must look (it is not refunded automatically). */
  async #unrecordedCharge(row: PaymentRow, p: TossPayment): Promise<void> {
    const { deps } = this;
    deps.logger.error(
      { orderId: row.orderId, paymentKey: p.paymentKey, rowPaymentKey: row.paymentKey, status: row.status, pgAmount: p.totalAmount, amount: row.amount },
      'webhook: the PG approved a payment the order does not record: needs a person',
    );
    await deps.alerts.notify(
      'payment-unrecorded',
      p.paymentKey,
      `Order ${row.orderId}: the PG has payment ${p.paymentKey} (${p.totalAmount} KRW) DONE, but MOS records payment ${row.paymentKey} (${row.amount} KRW) ${row.status}. Check it with the PG; cancel the extra charge by hand.`,
    );
  }

  async #currentOrder(orderId: string): Promise<OrderView> {
    const found = await this.deps.orders.payableOrder(orderId);
    if (!found) throw new Error(`no order ${orderId}`);
    return found.order;
  }

  #refunded(outcome: string): void {
    this.deps.metrics.refunds.inc({ outcome });
  }

  #count(outcome: string): void {
    this.deps.metrics.confirms.inc({ outcome });
  }

  #reconciled(outcome: string): void {
    this.deps.metrics.reconciled.inc({ outcome });
  }
}
