import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const couponCampaigns = pgTable(
  'coupon_campaigns',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    appliesTo: text('applies_to', { enum: ['ORDER', 'TICKET'] }).notNull(),
    minOrderAmount: integer('min_order_amount').notNull().default(0),
    scopePerformanceId: uuid('scope_performance_id'),
    scopeGrade: text('scope_grade'),
    quantity: integer('quantity').notNull(),
    perUserLimit: integer('per_user_limit').notNull(),
    claimOpensAt: timestamp('claim_opens_at', { withTimezone: true }).notNull(),
    claimClosesAt: timestamp('claim_closes_at', { withTimezone: true }),
    validUntil: timestamp('valid_until', { withTimezone: true }).notNull(),
    fundedBy: text('funded_by', { enum: ['SELLER', 'PLATFORM'] }).notNull(),
    createdBy: uuid('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    /**
     * Invariant 2 across a loss of the hot state (Redis flushed, failed over without the stream,
     * a process restart in embedded mode). The hot state is loaded before this row says so, so a
     * campaign found without hot state while PostgreSQL has it loaded is a loss, never a first
     * load. `hot_epoch` counts the loads (the hot state carries it, so a late writer of an older
     * epoch cannot freeze or replace a newer one). `hot_status`: LIVE — the hot state of
     * `hot_epoch` may be issuing, and its unconsumed events are only there; SEALED — it stopped
     * issuing and every event it appended is in the wallet, so rebuilding from the wallet is
     * exact; LOST — it vanished while it may have held unpersisted issues: claims are refused
     * until an operator reconciles. Existing campaigns were all loaded at creation, hence the
     * defaults.
     */
    hotEpoch: integer('hot_epoch').notNull().default(1),
    hotStatus: text('hot_status', { enum: ['LIVE', 'SEALED', 'LOST'] })
      .notNull()
      .default('LIVE'),
    hotLostAt: timestamp('hot_lost_at', { withTimezone: true }),
  },
  (t) => [
    index('coupon_campaigns_performance_idx').on(t.scopePerformanceId),
    check('coupon_campaigns_quantity_check', sql`${t.quantity} >= 1 and ${t.perUserLimit} >= 1`),
    check('coupon_campaigns_hot_status_check', sql`${t.hotStatus} in ('LIVE', 'SEALED', 'LOST')`),
  ],
);

/**
 * The wallet: one row per issued coupon. (campaign, user, seq) is the natural key of an issue
 * event, so the consumer's insert is idempotent however often an event is delivered
 * (invariant 2: a buyer told "issued" ends up with exactly that coupon).
 */
export const coupons = pgTable(
  'coupons',
  {
    id: uuid('id').primaryKey(),
    campaignId: uuid('campaign_id')
      .notNull()
      .references(() => couponCampaigns.id),
    userId: uuid('user_id').notNull(),
    seq: integer('seq').notNull(),
    status: text('status', { enum: ['AVAILABLE', 'USED'] }).notNull(),
    /** A pending order this coupon is reserved for; cleared if the order expires or is cancelled. */
    reservedOrderId: uuid('reserved_order_id'),
    usedOrderId: uuid('used_order_id'),
    issuedAt: timestamp('issued_at', { withTimezone: true }).notNull(),
    eventId: uuid('event_id').notNull(),
  },
  (t) => [
    uniqueIndex('coupons_issue_uq').on(t.campaignId, t.userId, t.seq),
    index('coupons_user_idx').on(t.userId, t.id),
    index('coupons_reserved_idx').on(t.reservedOrderId),
    check('coupons_status_check', sql`${t.status} in ('AVAILABLE', 'USED')`),
  ],
);
