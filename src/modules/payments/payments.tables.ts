import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * A payment's life (payments.service.ts says why each arrow is safe):
 *
 * - `CONFIRMING` — claimed: a confirm with the Idempotency-Key of `attempt` is about to be, or
 *   is being, sent to the PG. A crash leaves it here; reconciliation asks the PG once it is older
 *   than PAYMENT_RECONCILE_AFTER_SECONDS.
 * - `DONE` — the PG approved it and the paying transaction committed (order PAID, seats SOLD,
 *   tickets, coupons USED, `payment.completed`).
 * - `REJECTED` — the PG refused it for good (`pg_code`), or a lookup found it never approved:
 *   the order may be paid by a new attempt (`attempt` + 1, a new key).
 * - `UNKNOWN` — the confirm's outcome is not known (timeout, dropped answer), or a cancel owed
 *   after it could not be confirmed: parked for reconciliation, never confirmed with a new key.
 * - `CANCELED` — the PG approved it but the order could not take it (expired, cancelled, seats
 *   lost), so it was cancelled at the PG: the buyer is refunded, nothing was sold.
 */
export const PAYMENT_STATUSES = ['CONFIRMING', 'DONE', 'REJECTED', 'UNKNOWN', 'CANCELED'] as const;
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
    status: text('status', { enum: PAYMENT_STATUSES }).notNull(),
    /** Korean, as the PG says (카드, 간편결제, …). */
    method: text('method'),
    approvedAt: timestamp('approved_at', { withTimezone: true }),
    /** The PG's refusal code and message (REJECTED), or what the reconciliation learnt. */
    pgCode: text('pg_code'),
    pgMessage: text('pg_message'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex('payments_order_uq').on(t.orderId),
    // What the reconciliation job scans: only payments whose outcome is open.
    index('payments_open_idx').on(t.updatedAt).where(sql`status in ('CONFIRMING', 'UNKNOWN')`),
    check('payments_status_check', sql`${t.status} in ('CONFIRMING', 'DONE', 'REJECTED', 'UNKNOWN', 'CANCELED')`),
    check('payments_attempt_check', sql`${t.attempt} >= 1`),
    check('payments_amount_check', sql`${t.amount} >= 0`),
  ],
);
