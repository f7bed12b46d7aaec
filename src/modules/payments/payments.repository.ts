import { and, asc, eq, inArray, lte, or, type SQL, sql } from 'drizzle-orm';
import { queryRows, type Db, type Tx } from '../../platform/db/client.js';
import { assertEventType, type EventEnvelope } from '../../platform/events/envelope.js';
import { positionalSql } from '../../platform/db/statement.js';
import { appendOutbox } from '../../platform/events/outbox.js';
import type { PayingExtension } from '../booking/index.js';
import { PAYMENT_COMPLETED_VERSION, PaymentEvents } from './payments.events.js';
import { payments, type PaymentStatus } from './payments.tables.js';

export type PaymentRow = typeof payments.$inferSelect;

/** What a settled attempt writes besides its status. */
export interface PaymentOutcome {
  status: PaymentStatus;
  pgCode?: string | null;
  pgMessage?: string | null;
}

/** What the statement writing a sale's event reads to add the sale's facts (`SaleFacts`) to its payload. */
export interface SaleFactsInput {
  scheduleId: string;
  /** The order's coupons with the discount each gave. */
  coupons: readonly { couponId: string; discount: number }[];
  /** The order's whole discount (KRW): what the seller does not fund, the platform does. */
  discount: number;
}

/**
 * The other modules' parts of the statements that write a sale's events: each module writes the
 * SQL of its own tables, as text with the composer's placeholders (`$n::type`), so a composed
 * statement stays fixed and can be prepared.
 */
export interface SaleFactsParts {
  /** One row: `seller_id`, `performance_id`, `performance_title` of the showtime (the catalog's). Placeholder: `scheduleId` uuid. */
  saleFacts(p: { scheduleId: string }): string;
  /** One row: `seller_funded`, the KRW of the order's discounts its seller funds (the coupons'). Placeholders: `couponIds` uuid[], `discounts` int[]. */
  discountFunding(p: { couponIds: string; discounts: string }): string;
}

/** Counts and sums of the payments of a period, for settlement's consistency check. */
export interface PaymentFigures {
  /** Payments approved in the period (by the PG's approval time), whatever became of them since. */
  sales: { count: number; amount: number };
  /** Paid orders refunded in the period (by the PG's cancel time). */
  refunds: { count: number; amount: number };
}

/** The payload of a sale's event with the sale's facts merged in, from the parts' rows `f` and `d`. */
function withSaleFacts(payload: string, orderDiscount: string): string {
  return `${payload} || jsonb_build_object('sellerId', f.seller_id, 'performanceId', f.performance_id, 'performanceTitle', f.performance_title,
                                           'sellerDiscount', d.seller_funded, 'platformDiscount', ${orderDiscount} - d.seller_funded)`;
}

export type PaymentDoneTypes = {
  paymentKey: 'text';
  method: 'text';
  approvedAt: 'timestamptz';
  eventId: 'uuid';
  eventPayload: 'jsonb';
  couponIds: 'uuid[]';
  couponDiscounts: 'int[]';
  orderDiscount: 'int';
};

/**
 * Payments' part of booking's one-statement paying write (`PayingExtension`, prepared once as
 * `payments_pay_order`): it locks the order's payment row — the statement pays nothing without
 * one, nor for a showtime whose performance is not found — and, where the statement goes ahead,
 * marks it DONE with the PG's paymentKey, method and approval time, and writes
 * `payment.completed` into the outbox: its payload built by the caller, with the sale's facts
 * (seller, performance, who funds the discount) read by the catalog's and the coupons' parts in
 * the same statement. The sale, the payment and its event in one round trip (invariant 4).
 */
export function paymentDonePart(parts: SaleFactsParts): PayingExtension<PaymentDoneTypes> {
  return {
    name: 'payments_pay_order',
    types: {
      paymentKey: 'text',
      method: 'text',
      approvedAt: 'timestamptz',
      eventId: 'uuid',
      eventPayload: 'jsonb',
      couponIds: 'uuid[]',
      couponDiscounts: 'int[]',
      orderDiscount: 'int',
    },
    part: (booking, own) => {
      const facts = parts.saleFacts({ scheduleId: booking.scheduleId });
      const funding = parts.discountFunding({ couponIds: own.couponIds, discounts: own.couponDiscounts });
      return {
        lock: `select id from payments where order_id = ${booking.orderId} for update`,
        check: `exists (${facts})`,
        writes: (locked, go) => [
          `update payments set status = 'DONE', payment_key = ${own.paymentKey}, method = ${own.method}, approved_at = ${own.approvedAt},
              pg_code = null, pg_message = null, updated_at = ${booking.at}
       where id in (select id from ${locked}) and ${go}`,
          `insert into outbox (id, type, aggregate_id, occurred_at, version, payload)
       select ${own.eventId}, '${assertEventType(PaymentEvents.paymentCompleted)}', ${booking.orderId}, ${booking.at}, ${PAYMENT_COMPLETED_VERSION},
              ${withSaleFacts(own.eventPayload, own.orderDiscount)}
       from (${facts}) as f cross join (${funding}) as d
       where ${go}`,
        ],
      };
    },
  };
}

/** Every SQL statement of the payments module. */
export class PaymentsRepository {
  /** The claim runs on every confirm: a prepared query, built once, parsed and planned once per connection. */
  readonly #claim;

  constructor(
    private readonly db: Db,
    private readonly parts?: SaleFactsParts,
  ) {
    const now = sql`${sql.placeholder('now')}::timestamptz`;
    this.#claim = db
      .insert(payments)
      .values({
        id: sql.placeholder('id'),
        orderId: sql.placeholder('orderId'),
        userId: sql.placeholder('userId'),
        paymentKey: sql.placeholder('paymentKey'),
        amount: sql.placeholder('amount'),
        attempt: 1,
        status: 'CONFIRMING',
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoUpdate({
        target: payments.orderId,
        set: {
          attempt: sql`${payments.attempt} + 1`,
          paymentKey: sql`excluded.payment_key`,
          amount: sql`excluded.amount`,
          status: 'CONFIRMING',
          pgCode: null,
          pgMessage: null,
          updatedAt: sql`excluded.updated_at`,
        },
        setWhere: sql`${payments.status} = 'REJECTED'`,
      })
      .returning()
      .prepare('payments_claim');
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  /** Payments' part of the paying statement (`paymentDonePart`), with the other modules' parts for the sale's facts. */
  payingPart(): PayingExtension<PaymentDoneTypes> {
    if (!this.parts) throw new Error('PaymentsRepository was made without the sale facts parts');
    return paymentDonePart(this.parts);
  }

  /**
   * The *claim* of a confirm, one statement: the order's payment row is inserted CONFIRMING at
   * attempt 1, or — only if its last attempt was REJECTED (a known, final failure) — taken over
   * by this attempt: `attempt + 1`, so the PG Idempotency-Key is new (Toss replays a key's first
   * answer, the refusal, for 15 days), and the new paymentKey. Any other row (CONFIRMING,
   * UNKNOWN, DONE, CANCELED) is left as it is and returned with `claimed: false`: the caller
   * reuses its attempt, hence its key, so two confirms of one order in flight at once send the
   * same key and the PG charges once (invariant 3).
   *
   * Concurrent claims of one order meet on `payments_order_uq`: the second waits for the first's
   * row and then sees it (ON CONFLICT re-checks the committed row), so exactly one inserts.
   */
  async claim(input: {
    id: string;
    orderId: string;
    userId: string;
    paymentKey: string;
    amount: number;
    now: Date;
  }): Promise<{ row: PaymentRow; claimed: boolean }> {
    const [taken] = await this.#claim.execute({ ...input, now: input.now.toISOString() });
    if (taken) return { row: taken, claimed: true };
    const existing = await this.findByOrder(input.orderId);
    if (!existing) throw new Error(`the payment of order ${input.orderId} was neither claimed nor found`);
    return { row: existing, claimed: false };
  }

  async findByOrder(orderId: string, db: Db | Tx = this.db): Promise<PaymentRow | undefined> {
    const [row] = await db.select().from(payments).where(eq(payments.orderId, orderId)).limit(1);
    return row;
  }

  /**
   * Settles attempt `attempt` of the order's payment, only while it is in one of `from`: a late
   * verdict about an attempt never overwrites a newer one, nor a DONE or CANCELED payment.
   * True when it did.
   */
  async settle(orderId: string, attempt: number, from: readonly PaymentStatus[], outcome: PaymentOutcome, at: Date): Promise<boolean> {
    const updated = await this.db
      .update(payments)
      .set({
        status: outcome.status,
        ...(outcome.pgCode !== undefined ? { pgCode: outcome.pgCode } : {}),
        ...(outcome.pgMessage !== undefined ? { pgMessage: outcome.pgMessage } : {}),
        updatedAt: at,
      })
      .where(and(eq(payments.orderId, orderId), eq(payments.attempt, attempt), inArray(payments.status, [...from])))
      .returning({ id: payments.id });
    return updated.length === 1;
  }

  /**
   * Attempt `attempt` of the order's payment ends REJECTED — only while it is still open
   * (`CONFIRMING`/`UNKNOWN`), as `settle` — and `payment.failed` goes into the outbox in the same
   * statement (one more CTE, written only where the update took: invariant 4 at no extra round
   * trip). True when it did.
   */
  async reject(orderId: string, attempt: number, failure: { pgCode: string; pgMessage: string }, at: Date, eventId: string): Promise<boolean> {
    const iso = at.toISOString();
    const rows = await queryRows<{ id: string }>(
      this.db,
      sql`with rejected as (
            update payments set status = 'REJECTED', pg_code = ${failure.pgCode}, pg_message = ${failure.pgMessage}, updated_at = ${iso}::timestamptz
            where order_id = ${orderId}::uuid and attempt = ${attempt} and status in ('CONFIRMING', 'UNKNOWN')
            returning id, order_id, user_id, payment_key, amount, attempt
          ), failed as (
            insert into outbox (id, type, aggregate_id, occurred_at, version, payload)
            select ${eventId}::uuid, ${PaymentEvents.paymentFailed}, order_id, ${iso}::timestamptz, 1,
                   jsonb_build_object('paymentId', id, 'orderId', order_id, 'userId', user_id, 'paymentKey', payment_key, 'amount', amount,
                                      'attempt', attempt, 'pgCode', ${failure.pgCode}::text, 'pgMessage', ${failure.pgMessage}::text, 'failedAt', ${iso}::text)
            from rejected
          )
          select id from rejected`,
    );
    return rows.length === 1;
  }

  /**
   * `outboxInsertSql` with the sale's facts (`SaleFacts`) merged into each payload by joining the
   * catalog's and the coupons' parts: no round trip of its own. An event whose showtime is not
   * found is not written; the caller checks the count and rolls back.
   */
  #outboxInsertWithFacts(events: readonly EventEnvelope<unknown>[], facts: SaleFactsInput): SQL {
    if (!this.parts) throw new Error('PaymentsRepository was made without the sale facts parts');
    const rows = events.map(
      (e) =>
        sql`(${e.id}::uuid, ${assertEventType(e.type)}::text, ${e.aggregateId}::uuid, ${e.occurredAt}::timestamptz, ${e.version}::int, ${JSON.stringify(e.payload)}::jsonb)`,
    );
    const saleFacts = positionalSql(this.parts.saleFacts({ scheduleId: '$1::uuid' }), [facts.scheduleId]);
    const funding = positionalSql(this.parts.discountFunding({ couponIds: '$1::uuid[]', discounts: '$2::int[]' }), [
      facts.coupons.map((c) => c.couponId),
      facts.coupons.map((c) => c.discount),
    ]);
    return sql`insert into outbox (id, type, aggregate_id, occurred_at, version, payload)
        select e.id, e.type, e.aggregate_id, e.occurred_at, e.version, ${positionalSql(withSaleFacts('e.payload', '$1::int'), [facts.discount])}
        from (values ${sql.join(rows, sql`, `)}) as e(id, type, aggregate_id, occurred_at, version, payload)
        cross join (${saleFacts}) as f
        cross join (${funding}) as d
        returning id`;
  }

  /** Events of a sale into the outbox in the caller's transaction (invariant 4), with the sale's facts read in the same statement. */
  async appendEventsWithFacts(events: readonly EventEnvelope<unknown>[], facts: SaleFactsInput, tx: Tx): Promise<void> {
    const written = await queryRows<{ id: string }>(tx, this.#outboxInsertWithFacts(events, facts));
    if (written.length !== events.length) throw new Error(`the events of schedule ${facts.scheduleId} were not written: it has no performance`);
  }

  /**
   * Counts and sums (KRW) of the payments approved, and of the paid orders refunded, in
   * `[from, to)`: what settlement's consistency check compares its ledger with.
   */
  async figures(from: Date, to: Date): Promise<PaymentFigures> {
    const f = from.toISOString();
    const t = to.toISOString();
    const [row] = await queryRows<{ sales: number; sales_amount: string | number; refunds: number; refunds_amount: string | number }>(
      this.db,
      sql`select count(*) filter (where approved_at >= ${f}::timestamptz and approved_at < ${t}::timestamptz)::int as sales,
                 coalesce(sum(amount) filter (where approved_at >= ${f}::timestamptz and approved_at < ${t}::timestamptz), 0) as sales_amount,
                 count(*) filter (where refunded_at >= ${f}::timestamptz and refunded_at < ${t}::timestamptz)::int as refunds,
                 coalesce(sum(amount) filter (where refunded_at >= ${f}::timestamptz and refunded_at < ${t}::timestamptz), 0) as refunds_amount
          from payments
          where (approved_at >= ${f}::timestamptz and approved_at < ${t}::timestamptz)
             or (refunded_at >= ${f}::timestamptz and refunded_at < ${t}::timestamptz)`,
    );
    return {
      sales: { count: Number(row?.sales ?? 0), amount: Number(row?.sales_amount ?? 0) },
      refunds: { count: Number(row?.refunds ?? 0), amount: Number(row?.refunds_amount ?? 0) },
    };
  }

  /** The approved payment was cancelled at the PG (the order could not take it): CANCELED, unless it is DONE (or REFUNDING, a paid order's). */
  async markCanceled(orderId: string, paymentKey: string, reason: string, at: Date): Promise<boolean> {
    const updated = await this.db
      .update(payments)
      .set({ status: 'CANCELED', paymentKey, pgCode: null, pgMessage: reason, updatedAt: at })
      .where(and(eq(payments.orderId, orderId), inArray(payments.status, ['CONFIRMING', 'UNKNOWN', 'REJECTED'])))
      .returning({ id: payments.id });
    return updated.length === 1;
  }

  /**
   * The *claim* of a refund, one statement: a DONE payment becomes REFUNDING at the next refund
   * attempt (a new PG cancel key: Toss replays a key's first answer, so a refusal seen for the
   * last one would be all a resend got). A payment already REFUNDING is returned as it is with
   * `claimed: false`, and the caller resends its attempt's key: two refunds of one order in
   * flight at once send the same key, and the PG cancels once (invariant 3). Any other status is
   * returned as it is, unclaimed.
   */
  async claimRefund(orderId: string, now: Date): Promise<{ row: PaymentRow | undefined; claimed: boolean }> {
    const [taken] = await this.db
      .update(payments)
      .set({ status: 'REFUNDING', refundAttempt: sql`${payments.refundAttempt} + 1`, pgCode: null, pgMessage: null, updatedAt: now })
      .where(and(eq(payments.orderId, orderId), eq(payments.status, 'DONE')))
      .returning();
    if (taken) return { row: taken, claimed: true };
    return { row: await this.findByOrder(orderId), claimed: false };
  }

  /**
   * A REFUNDING payment moves on to the next refund attempt (a new PG cancel key), only from
   * attempt `refundAttempt`: the reconciliation found the charge still DONE at the PG long after
   * that attempt could be in flight, so its key can only replay a failure. Undefined if the row
   * moved meanwhile.
   */
  async nextRefundAttempt(orderId: string, refundAttempt: number, now: Date): Promise<PaymentRow | undefined> {
    const [row] = await this.db
      .update(payments)
      .set({ refundAttempt: sql`${payments.refundAttempt} + 1`, pgCode: null, pgMessage: null, updatedAt: now })
      .where(and(eq(payments.orderId, orderId), eq(payments.refundAttempt, refundAttempt), eq(payments.status, 'REFUNDING')))
      .returning();
    return row;
  }

  /**
   * Settles refund attempt `refundAttempt` of a REFUNDING payment without committing a refund:
   * back to DONE with the PG's refusal (`status: 'DONE'`), or still REFUNDING with what is known
   * (`status: 'REFUNDING'`, an outcome not seen). A later attempt's row is never touched. True when it did.
   */
  async settleRefund(orderId: string, refundAttempt: number, outcome: PaymentOutcome & { status: 'DONE' | 'REFUNDING' }, at: Date): Promise<boolean> {
    const updated = await this.db
      .update(payments)
      .set({ status: outcome.status, pgCode: outcome.pgCode ?? null, pgMessage: outcome.pgMessage ?? null, updatedAt: at })
      .where(and(eq(payments.orderId, orderId), eq(payments.refundAttempt, refundAttempt), eq(payments.status, 'REFUNDING')))
      .returning({ id: payments.id });
    return updated.length === 1;
  }

  /**
   * The paid order's charge was cancelled at the PG: CANCELED, in the refunding transaction
   * (under the order's row lock, while the order was PAID). The PG's cancel is the truth whatever
   * the row says meanwhile (REFUNDING, or DONE after a concurrent attempt's refusal).
   */
  async markRefunded(orderId: string, reason: string, at: Date, tx: Tx, refundedAt: Date = at): Promise<void> {
    await tx
      .update(payments)
      .set({ status: 'CANCELED', pgCode: null, pgMessage: reason, updatedAt: at, refundedAt })
      .where(and(eq(payments.orderId, orderId), inArray(payments.status, ['REFUNDING', 'DONE'])));
  }

  /**
   * Payments whose outcome is open, oldest first: every UNKNOWN and REFUNDING one, and CONFIRMING
   * ones not touched since `staleBefore` (a confirm that old is not in flight: a crash left it). A
   * REFUNDING one may still be in flight: resending its cancel with the same key is answered with
   * the PG's first answer (or "in progress"), never a second cancel.
   */
  async open(staleBefore: Date, limit: number): Promise<PaymentRow[]> {
    return this.db
      .select()
      .from(payments)
      .where(or(inArray(payments.status, ['UNKNOWN', 'REFUNDING']), and(eq(payments.status, 'CONFIRMING'), lte(payments.updatedAt, staleBefore))))
      .orderBy(asc(payments.updatedAt))
      .limit(limit);
  }

  /** Payments whose outcome has been open since before `before` (UNKNOWN, CONFIRMING, REFUNDING): parked too long. */
  async parked(before: Date, limit: number): Promise<PaymentRow[]> {
    return this.db
      .select()
      .from(payments)
      .where(and(inArray(payments.status, ['CONFIRMING', 'UNKNOWN', 'REFUNDING']), lte(payments.updatedAt, before)))
      .orderBy(asc(payments.updatedAt))
      .limit(limit);
  }

  /** Events of a state change, into the outbox in the caller's transaction (invariant 4). */
  async appendEvents(events: readonly EventEnvelope<unknown>[], tx: Tx): Promise<void> {
    await appendOutbox(tx, events);
  }

  /** Inserts a row as given (tests: what a process that crashed mid-confirm leaves behind). */
  async insert(row: typeof payments.$inferInsert): Promise<void> {
    await this.db.insert(payments).values(row);
  }
}
