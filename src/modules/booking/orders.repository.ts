import { randomBytes } from 'node:crypto';
import { and, asc, desc, eq, inArray, lt, lte, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../platform/db/client.js';
import { isUniqueViolation } from '../../platform/db/errors.js';
import { newId } from '../../platform/ids.js';
import { BookingErrors } from './booking.errors.js';
import { orderCoupons, orderItems, orders, tickets, type OrderStatus } from './booking.tables.js';
import type { PendingHold } from './seat-holds.store.js';

export type OrderRow = typeof orders.$inferSelect;
export type OrderItemRow = typeof orderItems.$inferSelect;
export type TicketRow = typeof tickets.$inferSelect;
export type OrderCouponRow = typeof orderCoupons.$inferSelect;
export type OrderWithItems = OrderRow & { items: OrderItemRow[]; coupons: OrderCouponRow[] };

/** Every SQL statement of the booking module. */
export class OrdersRepository {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  async insertOrder(
    order: typeof orders.$inferInsert,
    items: (typeof orderItems.$inferInsert)[],
    coupons: (typeof orderCoupons.$inferInsert)[],
    tx: Tx,
  ): Promise<void> {
    // The order and its items in one statement: a round trip less on the hottest write path.
    await tx.execute(sql`
      with o as (
        insert into orders (id, user_id, schedule_id, status, subtotal, discount, amount, order_name, expires_at, created_at, updated_at)
        values (${order.id}, ${order.userId}, ${order.scheduleId}, ${order.status}, ${order.subtotal}, ${order.discount}, ${order.amount},
                ${order.orderName}, ${(order.expiresAt as Date).toISOString()}::timestamptz, ${(order.createdAt as Date).toISOString()}::timestamptz,
                ${(order.updatedAt as Date).toISOString()}::timestamptz)
        returning id
      )
      insert into order_items (order_id, seat_id, label, grade, price, discount)
      select o.id, u.seat_id, u.label, u.grade, u.price, u.discount
      from o, unnest(${sql.param(items.map((i) => i.seatId))}::uuid[], ${sql.param(items.map((i) => i.label))}::text[],
                     ${sql.param(items.map((i) => i.grade))}::text[], ${sql.param(items.map((i) => i.price))}::int[],
                     ${sql.param(items.map((i) => i.discount))}::int[]) as u(seat_id, label, grade, price, discount)`);
    if (coupons.length) await tx.insert(orderCoupons).values(coupons);
  }

  /** Items and applied coupons of the given orders, attached. */
  async #withLines(rows: OrderRow[], db: Db | Tx = this.db): Promise<OrderWithItems[]> {
    if (!rows.length) return [];
    const ids = rows.map((r) => r.id);
    const [items, coupons] = await Promise.all([
      db.select().from(orderItems).where(inArray(orderItems.orderId, ids)).orderBy(asc(orderItems.label)),
      db.select().from(orderCoupons).where(inArray(orderCoupons.orderId, ids)),
    ]);
    return rows.map((r) => ({ ...r, items: items.filter((i) => i.orderId === r.id), coupons: coupons.filter((c) => c.orderId === r.id) }));
  }

  async findOrder(id: string, db: Db | Tx = this.db): Promise<OrderWithItems | undefined> {
    const rows = await db.select().from(orders).where(eq(orders.id, id)).limit(1);
    return (await this.#withLines(rows, db))[0];
  }

  /** Locks the order for the rest of the caller's transaction (cancel, expire and pay take turns). */
  async lockOrder(id: string, tx: Tx): Promise<OrderWithItems | undefined> {
    const rows = await tx.select().from(orders).where(eq(orders.id, id)).for('update').limit(1);
    return (await this.#withLines(rows, tx))[0];
  }

  async setStatus(id: string, status: OrderStatus, at: Date, tx: Tx, extra: { cancelReason?: string | null } = {}): Promise<void> {
    await tx
      .update(orders)
      .set({
        status,
        updatedAt: at,
        ...(status === 'CANCELLED' ? { cancelledAt: at, cancelReason: extra.cancelReason ?? null } : {}),
        ...(status === 'PAID' ? { paidAt: at } : {}),
      })
      .where(eq(orders.id, id));
  }

  /** Newest first; `before` is the id of the last order of the previous page. */
  async ordersOf(userId: string, limit: number, before?: string): Promise<OrderWithItems[]> {
    const rows = await this.db
      .select()
      .from(orders)
      .where(and(eq(orders.userId, userId), before ? lt(orders.id, before) : undefined))
      .orderBy(desc(orders.id))
      .limit(limit);
    return this.#withLines(rows);
  }

  /**
   * Pending orders whose payment window has ended, locked for the expiry job. SKIP LOCKED lets a
   * confirm or cancel that holds an order finish first; the job takes it on its next run.
   */
  async lockDueOrders(now: Date, limit: number, tx: Tx): Promise<OrderWithItems[]> {
    const rows = await tx
      .select()
      .from(orders)
      .where(and(eq(orders.status, 'PENDING_PAYMENT'), lte(orders.expiresAt, now)))
      .orderBy(asc(orders.expiresAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    return this.#withLines(rows, tx);
  }

  /** Seats of live pending orders of a showtime with their buyers: what a reloaded hold store must know. */
  async pendingHolds(scheduleId: string, now: Date): Promise<PendingHold[]> {
    const rows = await this.db
      .select({ seatId: orderItems.seatId, userId: orders.userId, expiresAt: orders.expiresAt })
      .from(orders)
      .innerJoin(orderItems, eq(orderItems.orderId, orders.id))
      .where(and(eq(orders.scheduleId, scheduleId), eq(orders.status, 'PENDING_PAYMENT'), sql`${orders.expiresAt} > ${now.toISOString()}::timestamptz`));
    return rows.map((r) => ({ seatId: r.seatId, userId: r.userId, expiresAt: r.expiresAt.getTime() }));
  }

  /** True if the seat is in one of the buyer's pending orders for the showtime. */
  async inPendingOrder(userId: string, scheduleId: string, seatId: string): Promise<boolean> {
    const rows = await this.db
      .select({ id: orders.id })
      .from(orders)
      .innerJoin(orderItems, eq(orderItems.orderId, orders.id))
      .where(and(eq(orders.userId, userId), eq(orders.scheduleId, scheduleId), eq(orders.status, 'PENDING_PAYMENT'), eq(orderItems.seatId, seatId)))
      .limit(1);
    return rows.length > 0;
  }

  /**
   * Writes one ticket per item of a paid order, in the paying transaction. A second VALID ticket
   * for a seat violates `tickets_seat_once_uq` and surfaces as SEAT_UNAVAILABLE, never a 500.
   */
  async issueTickets(order: OrderWithItems, at: Date, tx: Tx): Promise<TicketRow[]> {
    try {
      return await tx
        .insert(tickets)
        .values(
          order.items.map((item) => ({
            id: newId(),
            orderId: order.id,
            userId: order.userId,
            scheduleId: order.scheduleId,
            seatId: item.seatId,
            seatLabel: item.label,
            code: randomBytes(12).toString('base64url'),
            status: 'VALID' as const,
            createdAt: at,
          })),
        )
        .returning();
    } catch (err) {
      if (isUniqueViolation(err, 'tickets_seat_once_uq')) {
        throw BookingErrors.SEAT_UNAVAILABLE('A seat of this order already has a ticket', { unavailableSeatIds: order.items.map((i) => i.seatId) });
      }
      throw err;
    }
  }

  async ticketsOf(userId: string, limit: number, before?: string): Promise<TicketRow[]> {
    return this.db
      .select()
      .from(tickets)
      .where(and(eq(tickets.userId, userId), before ? lt(tickets.id, before) : undefined))
      .orderBy(desc(tickets.id))
      .limit(limit);
  }
}
