import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const ENTRY_KINDS = ['SALE', 'REFUND'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/**
 * The settlement ledger: one immutable entry per sale (`payment.completed`) and per refund
 * (`refund.completed`), with everything a settlement needs copied from the event — settlement
 * never reads another module's tables. Append-only: a trigger (migration 0011) refuses UPDATE and
 * DELETE; a correction is a new entry. `(order_id, kind)` is unique: an order is sold once and
 * refunded once (whole), so an event delivered twice, or the same fact under another event id,
 * adds nothing. Fees are computed once, when the entry is written (settlement-rules.ts), at the
 * rates then in force; a refund reverses exactly the fees its sale's entry booked.
 */
export const settlementLedger = pgTable(
  'settlement_ledger',
  {
    id: uuid('id').primaryKey(),
    /** The event it was written from. */
    eventId: uuid('event_id').notNull(),
    kind: text('kind', { enum: ENTRY_KINDS }).notNull(),
    sellerId: uuid('seller_id').notNull(),
    performanceId: uuid('performance_id').notNull(),
    performanceTitle: text('performance_title').notNull(),
    scheduleId: uuid('schedule_id').notNull(),
    orderId: uuid('order_id').notNull(),
    /** The PG's approval (SALE) or cancel (REFUND) time: the entry belongs to the period that contains it. */
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    seats: integer('seats').notNull(),
    /** KRW, all non-negative, of the sale (a REFUND entry repeats its sale's figures). */
    listTotal: integer('list_total').notNull(),
    sellerDiscount: integer('seller_discount').notNull(),
    platformDiscount: integer('platform_discount').notNull(),
    charged: integer('charged').notNull(),
    /** SALE: the fee booked; REFUND: the fee given back (the sale's platform fee; its PG fee only if PG_FEE_REFUNDABLE). */
    platformFee: integer('platform_fee').notNull(),
    pgFee: integer('pg_fee').notNull(),
    /** The rates the fees were computed at, in parts per million (audit). */
    platformFeePpm: integer('platform_fee_ppm').notNull(),
    pgFeePpm: integer('pg_fee_ppm').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex('settlement_ledger_event_uq').on(t.eventId),
    uniqueIndex('settlement_ledger_order_kind_uq').on(t.orderId, t.kind),
    index('settlement_ledger_seller_time_idx').on(t.sellerId, t.occurredAt),
    check('settlement_ledger_kind_check', sql`${t.kind} in ('SALE', 'REFUND')`),
    check(
      'settlement_ledger_amounts_check',
      sql`${t.listTotal} >= 0 and ${t.sellerDiscount} >= 0 and ${t.platformDiscount} >= 0 and ${t.charged} >= 0 and ${t.platformFee} >= 0 and ${t.pgFee} >= 0 and ${t.seats} >= 0`,
    ),
  ],
);

/**
 * Ledger entries no settlement has taken yet: written with the entry, removed by the run that
 * settles it (in the statement that writes its line). A run takes every pending entry that occurred
 * before its period's end, so an entry that arrives after its period was settled (a relay delayed,
 * a consumer down) is not lost: the seller's next settlement takes it, on a line showing its time.
 */
export const settlementPending = pgTable(
  'settlement_pending',
  {
    entryId: uuid('entry_id').primaryKey(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('settlement_pending_time_idx').on(t.occurredAt)],
);

/** One per settled period `[period_start, period_end)`; periods never overlap (checked under a table lock by the run). */
export const settlementRuns = pgTable(
  'settlement_runs',
  {
    id: uuid('id').primaryKey(),
    periodStart: timestamp('period_start', { withTimezone: true }).notNull(),
    periodEnd: timestamp('period_end', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex('settlement_runs_period_uq').on(t.periodStart, t.periodEnd),
    check('settlement_runs_period_check', sql`${t.periodStart} < ${t.periodEnd}`),
  ],
);

export const SETTLEMENT_STATUSES = ['PENDING', 'PAID'] as const;
export type SettlementStatus = (typeof SETTLEMENT_STATUSES)[number];

/**
 * A seller's settlement of one run: the sums of its lines, the deficit carried in from the
 * seller's previous settlement, and what is paid out. `gross − seller_discounts − platform_fee −
 * pg_fee − refunds − carried_in + carried_out = net`, `net >= 0`, and at most one of `net`,
 * `carried_out` is positive. Only `status`/`paid_at` ever change, once (PENDING → PAID).
 */
export const settlements = pgTable(
  'settlements',
  {
    id: uuid('id').primaryKey(),
    /** Orders settlements of one seller: the previous one is the one with the greatest seq. */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity(),
    runId: uuid('run_id')
      .notNull()
      .references(() => settlementRuns.id),
    sellerId: uuid('seller_id').notNull(),
    periodStart: timestamp('period_start', { withTimezone: true }).notNull(),
    periodEnd: timestamp('period_end', { withTimezone: true }).notNull(),
    lineCount: integer('line_count').notNull(),
    gross: bigint('gross', { mode: 'number' }).notNull(),
    sellerDiscounts: bigint('seller_discounts', { mode: 'number' }).notNull(),
    platformDiscounts: bigint('platform_discounts', { mode: 'number' }).notNull(),
    refunds: bigint('refunds', { mode: 'number' }).notNull(),
    platformFee: bigint('platform_fee', { mode: 'number' }).notNull(),
    pgFee: bigint('pg_fee', { mode: 'number' }).notNull(),
    /** The sum of the lines' nets: what the period earned, before the carried deficit. */
    subtotal: bigint('subtotal', { mode: 'number' }).notNull(),
    /** The deficit (≥ 0) carried in from the seller's previous settlement. */
    carriedIn: bigint('carried_in', { mode: 'number' }).notNull(),
    /** The deficit (≥ 0) carried into the seller's next settlement. */
    carriedOut: bigint('carried_out', { mode: 'number' }).notNull(),
    /** Paid out: never negative. */
    net: bigint('net', { mode: 'number' }).notNull(),
    status: text('status', { enum: SETTLEMENT_STATUSES }).notNull(),
    paidAt: timestamp('paid_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex('settlements_run_seller_uq').on(t.runId, t.sellerId),
    index('settlements_seller_idx').on(t.sellerId, t.seq),
    check('settlements_status_check', sql`${t.status} in ('PENDING', 'PAID')`),
    check('settlements_net_check', sql`${t.net} >= 0 and ${t.carriedIn} >= 0 and ${t.carriedOut} >= 0`),
    check(
      'settlements_balance_check',
      sql`${t.subtotal} = ${t.gross} - ${t.sellerDiscounts} - ${t.platformFee} - ${t.pgFee} - ${t.refunds} and ${t.net} - ${t.carriedOut} = ${t.subtotal} - ${t.carriedIn}`,
    ),
  ],
);

/**
 * One line per order with activity in the settlement: its sale and/or its refund (both in one
 * period net on one line). Each ledger entry is on one line of one settlement at most (the
 * unique indexes); `net = gross − seller_discount − platform_fee − pg_fee − refunds`.
 */
export const settlementLines = pgTable(
  'settlement_lines',
  {
    settlementId: uuid('settlement_id')
      .notNull()
      .references(() => settlements.id),
    orderId: uuid('order_id').notNull(),
    performanceId: uuid('performance_id').notNull(),
    performanceTitle: text('performance_title').notNull(),
    scheduleId: uuid('schedule_id').notNull(),
    saleEntryId: uuid('sale_entry_id'),
    refundEntryId: uuid('refund_entry_id'),
    soldAt: timestamp('sold_at', { withTimezone: true }),
    refundedAt: timestamp('refunded_at', { withTimezone: true }),
    seats: integer('seats').notNull(),
    /** The sale's figures, when its sale is on this line (else 0). */
    gross: integer('gross').notNull(),
    sellerDiscount: integer('seller_discount').notNull(),
    platformDiscount: integer('platform_discount').notNull(),
    charged: integer('charged').notNull(),
    /** The refunded revenue (list total − seller discount), when its refund is on this line. */
    refunds: integer('refunds').notNull(),
    /** Booked by the sale minus given back by the refund (may be negative on a refund-only line). */
    platformFee: integer('platform_fee').notNull(),
    pgFee: integer('pg_fee').notNull(),
    net: integer('net').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.settlementId, t.orderId] }),
    uniqueIndex('settlement_lines_sale_uq').on(t.saleEntryId),
    uniqueIndex('settlement_lines_refund_uq').on(t.refundEntryId),
  ],
);
