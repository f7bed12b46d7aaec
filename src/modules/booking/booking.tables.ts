import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const ORDER_STATUSES = ['PENDING_PAYMENT', 'PAID', 'EXPIRED', 'CANCELLED', 'REFUNDED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id').notNull(),
    scheduleId: uuid('schedule_id').notNull(),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    subtotal: integer('subtotal').notNull(),
    discount: integer('discount').notNull(),
    /** What the buyer pays: computed by the server, never taken from a client (invariant 3). */
    amount: integer('amount').notNull(),
    orderName: text('order_name').notNull(),
    /** End of the payment window. */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    paidAt: timestamp('paid_at', { withTimezone: true }),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    cancelReason: text('cancel_reason'),
    /**
     * The client's Idempotency-Key of the request that placed it. If the process dies between
     * the commit and storing the response, a retry with the key finds this order instead of
     * refusing its own seats (the response store lost the answer, the database did not).
     */
    idempotencyKey: text('idempotency_key'),
  },
  (t) => [
    index('orders_user_idx').on(t.userId, t.id),
    index('orders_pending_expiry_idx').on(t.expiresAt).where(sql`status = 'PENDING_PAYMENT'`),
    index('orders_schedule_idx').on(t.scheduleId, t.status),
    uniqueIndex('orders_idempotency_key_uq').on(t.userId, t.idempotencyKey),
    // The per-buyer limit counts the buyer's pending seats in every placement: this index keeps
    // that a lookup of a few rows, where the showtime's index would scan every pending order.
    index('orders_pending_by_buyer_idx').on(t.userId, t.scheduleId).where(sql`status = 'PENDING_PAYMENT'`),
    check('orders_status_check', sql`${t.status} in ('PENDING_PAYMENT', 'PAID', 'EXPIRED', 'CANCELLED', 'REFUNDED')`),
    check('orders_amount_check', sql`${t.amount} = ${t.subtotal} - ${t.discount} and ${t.amount} >= 0 and ${t.discount} >= 0`),
  ],
);

export const orderItems = pgTable(
  'order_items',
  {
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    seatId: uuid('seat_id').notNull(),
    label: text('label').notNull(),
    grade: text('grade').notNull(),
    price: integer('price').notNull(),
    discount: integer('discount').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.seatId] }), check('order_items_discount_check', sql`${t.discount} between 0 and ${t.price}`)],
);

/**
 * A ticket per sold seat. The partial unique index is the last line of invariant 1: whatever
 * happened before, a second VALID ticket for one seat of one showtime cannot be written. (A
 * refunded ticket turns CANCELLED, so its seat can be sold again.)
 */
export const tickets = pgTable(
  'tickets',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    userId: uuid('user_id').notNull(),
    scheduleId: uuid('schedule_id').notNull(),
    seatId: uuid('seat_id').notNull(),
    seatLabel: text('seat_label').notNull(),
    /** What a gate scans: 128 random bits (unguessable), unique. */
    code: text('code').notNull().unique(),
    status: text('status', { enum: ['VALID', 'CANCELLED'] }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex('tickets_seat_once_uq').on(t.scheduleId, t.seatId).where(sql`status = 'VALID'`),
    index('tickets_user_idx').on(t.userId, t.id),
    check('tickets_status_check', sql`${t.status} in ('VALID', 'CANCELLED')`),
  ],
);

/** The coupons applied to an order, as priced when it was placed. */
export const orderCoupons = pgTable(
  'order_coupons',
  {
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    couponId: uuid('coupon_id').notNull(),
    name: text('name').notNull(),
    seatId: uuid('seat_id'),
    discount: integer('discount').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.couponId] })],
);
