import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * A payment's life (payments.service.ts says why each arrow is safe):
 *
 * - `CONFIRMING` — claimed: a confirm with the Idempotency-Key of `attempt` is about to be, or
 *   is being, sent to the PG. A crash leaves it here; reconciliation asks the PG once it is older
 *   than PAYMENT_RECONCILE_AFTER_SECONDS.
 * - `DONE` — the PG approved it and the paying statement committed (order PAID, seats SOLD,
 *   tickets, coupons USED, `payment.completed`).
 * - `REJECTED` — the PG refused it for good (`pg_code`), or a lookup found it never approved:
 *   the order may be paid by a new attempt (`attempt` + 1, a new key).
 * - `UNKNOWN` — the confirm's outcome is not known (timeout, dropped answer), or a cancel owed
 *   after it could not be confirmed: parked for reconciliation, never confirmed with a new key.
 * - `REFUNDING` — the buyer cancelled the paid order: a full cancel with the Idempotency-Key of
 *   `refund_attempt` (`pgIdempotencyKeys.cancel(orderId, refund_attempt)`) is about to be, or is
 *   being, sent to the PG, or its outcome was not seen. The order stays PAID until the PG's cancel
 *   is known; reconciliation resends the same key. A known refusal puts it back to DONE (`pg_code`),
 *   and the next refund takes `refund_attempt + 1`.
 * - `CANCELED` — the charge was cancelled at the PG in full: either the PG approved it but the
 *   order could not take it (expired, cancelled, seats lost — nothing was sold), or the paid order
 *   was refunded (order REFUNDED, tickets CANCELLED, seats back on sale).
 */
export const PAYMENT_STATUSES = ['CONFIRMING', 'DONE', 'REJECTED', 'UNKNOWN', 'REFUNDING', 'CANCELED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const payments = pgTable(
  'payments',
  {
    id: uuid('id').primaryKey(),
    /** One payment record per order: every attempt to pay it takes this row over. */
    orderId: uuid('order_id').notNull(),
    userId: uuid('user_id').notNull(),
    /** The PG's key of the payment the buyer authenticated (the latest attempt's). */
    paymentKey: text('payment_key').notNull(),
    /** The order's amount, computed by the server (invariant 3). */
    amount: integer('amount').notNull(),
    /** The confirm attempt: names the PG Idempotency-Key (`pgIdempotencyKeys.confirm(orderId, attempt)`). */
    attempt: integer('attempt').notNull(),
    /**
     * The refund attempt of a paid order (0: never asked): names the PG Idempotency-Key of its
     * cancel (`pgIdempotencyKeys.cancel(orderId, refundAttempt)`); + 1 only after a known refusal.
     */
    refundAttempt: integer('refund_attempt').notNull().default(0),
    status: text('status', { enum: PAYMENT_STATUSES }).notNull(),
    /** Korean, as the PG says (카드, 간편결제, …). */
    method: text('method'),
    approvedAt: timestamp('approved_at', { withTimezone: true }),
    /** The PG's cancel time of a paid order's refund (the `refund.completed` settlement books). */
    refundedAt: timestamp('refunded_at', { withTimezone: true }),
    /** The PG's refusal code and message (REJECTED), or what the reconciliation learnt. */
    pgCode: text('pg_code'),
    pgMessage: text('pg_message'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex('payments_order_uq').on(t.orderId),
    // What the reconciliation job scans: only payments whose outcome is open.
    index('payments_open_idx').on(t.updatedAt).where(sql`status in ('CONFIRMING', 'UNKNOWN', 'REFUNDING')`),
    check('payments_status_check', sql`${t.status} in ('CONFIRMING', 'DONE', 'REJECTED', 'UNKNOWN', 'REFUNDING', 'CANCELED')`),
    check('payments_refund_attempt_check', sql`${t.refundAttempt} >= 0`),
    check('payments_attempt_check', sql`${t.attempt} >= 1`),
    check('payments_amount_check', sql`${t.amount} >= 0`),
  ],
);
