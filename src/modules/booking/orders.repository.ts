import { randomBytes } from 'node:crypto';
import { and, asc, desc, eq, inArray, lt, lte, sql } from 'drizzle-orm';
import { parseUuidArray, type Db, type Tx } from '../../platform/db/client.js';
import { parameters, preparedStatement, type StatementPart } from '../../platform/db/statement.js';
import { isUniqueViolation } from '../../platform/db/errors.js';
import type { EventEnvelope } from '../../platform/events/envelope.js';
import { appendOutbox, isoTimestampSql, outboxInsert } from '../../platform/events/outbox.js';
import { newId } from '../../platform/ids.js';
import type { SeatReservationPlaceholders, SeatSalePlaceholders } from '../catalog/index.js';
import type { CouponReservationPlaceholders } from '../coupons/index.js';
import { BookingErrors } from './booking.errors.js';
import { BookingEvents } from './booking.events.js';
import { orderCoupons, orderItems, orders, tickets, type OrderStatus } from './booking.tables.js';
import type { PendingHold } from './seat-holds.store.js';

export type OrderRow = typeof orders.$inferSelect;
export type OrderItemRow = typeof orderItems.$inferSelect;
export type TicketRow = typeof tickets.$inferSelect;
export type OrderCouponRow = typeof orderCoupons.$inferSelect;
export type OrderWithItems = OrderRow & { items: OrderItemRow[]; coupons: OrderCouponRow[] };

/**
 * The other modules' parts of an order's placement (catalog's seats, coupons' coupons), each
 * given the placeholders it is to use.
 */
export interface PlacementParts {
  seats: (p: SeatReservationPlaceholders) => StatementPart;
  coupons: (p: CouponReservationPlaceholders) => StatementPart;
}

/** The other modules' parts of an order's paying write (coupons': the order's coupons USED), each given the order's id. */
export interface PayingParts {
  /** Catalog's: the order's seats SOLD, only if every one can be (`seatSalePart`). */
  seats: (p: SeatSalePlaceholders) => StatementPart;
  /** Coupons': the coupons reserved for the order USED, where `go` holds (`couponUsePart`). */
  couponsUsed: (p: { orderId: string }, go: string) => string;
}

/**
 * The caller's part of the paying statement — payments': its payment DONE and `payment.completed`
 * — with parameters of its own (`types`, named apart from booking's), so the composed text stays
 * fixed and is prepared once (`name`). `lock` selects and locks the rows the part needs: the
 * statement goes ahead only if it finds at least one, and only where `check` (an SQL boolean) holds. `writes` are data-modifying statements,
 * each standing as one CTE, effective only where the composer's `go` holds.
 */
export interface PayingExtension<S extends Record<string, string>> {
  name: string;
  types: S;
  part(
    booking: { readonly orderId: string; readonly scheduleId: string; readonly at: string },
    own: { readonly [K in keyof S]: string },
  ): { lock: string; check?: string; writes: (locked: string, go: string) => string[] };
}

/** What the paying statement answered. */
interface PayingRow {
  paid: boolean;
  /** The order's status when the statement locked it (null: no such order). */
  status: OrderStatus | null;
  /** How many of the order's seats could be sold. */
  seats: number | string;
  /** Whether the caller's part found its rows. */
  own_locked: boolean;
}

const PAY = {
  orderId: 'uuid',
  userId: 'uuid',
  scheduleId: 'uuid',
  seatIds: 'uuid[]',
  at: 'timestamptz',
  ticketIds: 'uuid[]',
  ticketSeatIds: 'uuid[]',
  ticketLabels: 'text[]',
  ticketCodes: 'text[]',
} as const;

/**
 * The one statement that pays an order (its text, with payments' part, is committed as a
 * snapshot beside this file, `__snapshots__/pay-order.sql`). It locks in a fixed order — the
 * order's row, the showtime's row (shared) and the order's seats (catalog's part), then the
 * caller's rows — and decides `go` once: the order is PENDING_PAYMENT, its every seat can be sold
 * to it, the seats are exactly the order's, and the caller's part found its rows. Every write is
 * conditional on `go`: the seats SOLD, a ticket per seat, the order's coupons USED (coupons'
 * part), the order PAID, and the caller's writes. One round trip, atomic without a transaction
 * around it; a second VALID ticket for a seat still fails the whole statement on
 * `tickets_seat_once_uq`.
 */
export function payOrderStatement<S extends Record<string, string>>(parts: PayingParts, extension: PayingExtension<S>) {
  const clash = Object.keys(extension.types).find((name) => name in PAY);
  if (clash) throw new Error(`the paying statement's parameter ${clash} is booking's own`);
  const params = parameters({ ...PAY, ...extension.types } as typeof PAY & S);
  const p = params.p as { readonly [K in keyof typeof PAY]: string } & { readonly [K in keyof S]: string };
  const go = '(select ok from go)';
  const seats = parts.seats({ scheduleId: p.scheduleId, seatIds: p.seatIds, orderId: p.orderId });
  const own = extension.part({ orderId: p.orderId, scheduleId: p.scheduleId, at: p.at }, p);
  const writes = own
    .writes('own_locked', go)
    .map((w, i) => `,\n     own_write_${i} as (${w})`)
    .join('');
  const text = `with paying_order as (select status from orders where id = ${p.orderId} for update),
     lockable_seats as (${seats.lock}),
     own_locked as (${own.lock}),
     go as (select coalesce((select status = 'PENDING_PAYMENT' from paying_order), false)
               and (select count(*) from lockable_seats) = cardinality(${p.seatIds})
               and (select count(*) = cardinality(${p.seatIds}) and count(*) filter (where seat_id = any(${p.seatIds})) = count(*)
                    from order_items where order_id = ${p.orderId})
               and exists (select 1 from own_locked)
               and ${own.check ?? 'true'} as ok),
     sold_seats as (${seats.apply('lockable_seats', go)}),
     new_tickets as (
       insert into tickets (id, order_id, user_id, schedule_id, seat_id, seat_label, code, status, created_at)
       select u.id, ${p.orderId}, ${p.userId}, ${p.scheduleId}, u.seat_id, u.seat_label, u.code, 'VALID', ${p.at}
       from unnest(${p.ticketIds}, ${p.ticketSeatIds}, ${p.ticketLabels}, ${p.ticketCodes}) as u(id, seat_id, seat_label, code)
       where ${go}),
     used_coupons as (${parts.couponsUsed({ orderId: p.orderId }, go)}),
     paid_order as (update orders set status = 'PAID', paid_at = ${p.at}, updated_at = ${p.at} where id = ${p.orderId} and ${go})${writes}
select ${go} as paid, (select status from paying_order) as status, (select count(*) from lockable_seats) as seats,
       exists (select 1 from own_locked) as own_locked`;
  return { text, values: params.values as (input: { readonly [K in keyof typeof PAY]: unknown } & { readonly [K in keyof S]: unknown }) => unknown[] };
}

export type NewOrder = Pick<
  OrderRow,
  'id' | 'userId' | 'scheduleId' | 'subtotal' | 'discount' | 'amount' | 'orderName' | 'expiresAt' | 'createdAt' | 'idempotencyKey'
>;

type PlacedRow = { placed: boolean; free_seats: string[] | string; free_coupons: string[] | string; coupons_check: boolean; within_limit: boolean };

/** The placing statement's parameters, by name: the statement text and `placeOrder`'s values both come from here. */
const PLACE = parameters({
  scheduleId: 'uuid',
  seatIds: 'uuid[]',
  now: 'timestamptz',
  userId: 'uuid',
  couponIds: 'uuid[]',
  orderId: 'uuid',
  until: 'timestamptz',
  subtotal: 'int',
  discount: 'int',
  amount: 'int',
  orderName: 'text',
  labels: 'text[]',
  grades: 'text[]',
  prices: 'int[]',
  discounts: 'int[]',
  couponNames: 'text[]',
  couponSeatIds: 'uuid[]',
  couponDiscounts: 'int[]',
  onlyIfNoCoupons: 'boolean',
  idempotencyKey: 'text',
  maxSeatsPerBuyer: 'int',
  eventId: 'uuid',
});

/**
 * The one statement that places an order (its text is committed as a snapshot beside this file,
 * `__snapshots__/place-order.sql`, so a reviewer sees what runs). Its parts lock in a fixed order
 * — seats, then coupons — then `go` is decided once and every write is conditional on it, so the
 * statement is atomic without a transaction around it.
 *
 * The per-buyer limit counts the seats on the buyer's live pending orders with the seats being
 * ordered: the hold store is gate 1 of the limit, but a hold it lost (a release racing an order,
 * a rebuilt hot state) must not let one buyer reserve more than the limit in PostgreSQL. Under
 * READ COMMITTED two placements of one buyer could each miss the other's uncommitted order, but
 * the hold store lets no buyer hold more than the limit at once, and an order needs its seats held.
 *
 * `order.created` is one more part (invariant 4): the outbox row is inserted under the same `go`
 * as the order, so the event exists exactly when the order does, at the cost of one insert and
 * no round trip. Its payload (`OrderCreatedV1`) is built in SQL from the statement's parameters.
 */
export function placeOrderStatement(parts: PlacementParts): string {
  const { p } = PLACE;
  const seats = parts.seats({ scheduleId: p.scheduleId, seatIds: p.seatIds, now: p.now, orderId: p.orderId, until: p.until });
  const coupons = parts.coupons({ userId: p.userId, couponIds: p.couponIds, orderId: p.orderId, onlyIfNoCoupons: p.onlyIfNoCoupons });
  const go = '(select ok from go)';
  return `with lockable_seats as (${seats.lock}),
     lockable_coupons as (${coupons.lock}),
     pending_seats_of_buyer as (
       select count(*) as n from order_items oi join orders o on o.id = oi.order_id
       where o.user_id = ${p.userId} and o.schedule_id = ${p.scheduleId} and o.status = 'PENDING_PAYMENT' and o.expires_at > ${p.now}),
     checks as (select ${seats.check ?? 'true'} as seats, ${coupons.check ?? 'true'} as coupons,
                       (select n from pending_seats_of_buyer) + cardinality(${p.seatIds}) <= ${p.maxSeatsPerBuyer} as within_limit),
     go as (select (select count(*) from lockable_seats) = cardinality(${p.seatIds})
               and (select count(*) from lockable_coupons) = cardinality(${p.couponIds})
               and (select seats and coupons and within_limit from checks) as ok),
     reserved_seats as (${seats.apply('lockable_seats', go)}),
     reserved_coupons as (${coupons.apply('lockable_coupons', go)}),
     new_order as (
       insert into orders (id, user_id, schedule_id, status, subtotal, discount, amount, order_name, expires_at, created_at, updated_at, idempotency_key)
       select ${p.orderId}, ${p.userId}, ${p.scheduleId}, 'PENDING_PAYMENT', ${p.subtotal}, ${p.discount}, ${p.amount}, ${p.orderName}, ${p.until}, ${p.now}, ${p.now}, ${p.idempotencyKey}
       where ${go}
       returning id),
     new_items as (
       insert into order_items (order_id, seat_id, label, grade, price, discount)
       select new_order.id, u.seat_id, u.label, u.grade, u.price, u.discount
       from new_order, unnest(${p.seatIds}, ${p.labels}, ${p.grades}, ${p.prices}, ${p.discounts}) as u(seat_id, label, grade, price, discount)),
     new_coupons as (
       insert into order_coupons (order_id, coupon_id, name, seat_id, discount)
       select new_order.id, u.coupon_id, u.name, u.seat_id, u.discount
       from new_order, unnest(${p.couponIds}, ${p.couponNames}, ${p.couponSeatIds}, ${p.couponDiscounts}) as u(coupon_id, name, seat_id, discount)),
     order_created as (${outboxInsert(
       {
         id: p.eventId,
         type: BookingEvents.orderCreated,
         aggregateId: p.orderId,
         occurredAt: p.now,
         payload: `jsonb_build_object('orderId', ${p.orderId}, 'userId', ${p.userId}, 'scheduleId', ${p.scheduleId},
                'seatIds', to_jsonb(${p.seatIds}), 'couponIds', to_jsonb(${p.couponIds}),
                'subtotal', ${p.subtotal}, 'discount', ${p.discount}, 'amount', ${p.amount}, 'orderName', ${p.orderName},
                'expiresAt', ${isoTimestampSql(p.until)})`,
       },
       go,
     )})
select ${go} as placed,
       array(select seat_id from lockable_seats) as free_seats,
       array(select id from lockable_coupons) as free_coupons,
       (select coupons from checks) as coupons_check,
       (select within_limit from checks) as within_limit`;
}

/**
 * An order's columns with its items (in label order, as `#withLines` reads them) and applied
 * coupons as JSON arrays: the order and its lines in one statement.
 */
const ORDER_WITH_LINES = {
  order: orders,
  items: sql<OrderItemRow[] | string>`coalesce((select json_agg(json_build_object('orderId', i.order_id, 'seatId', i.seat_id, 'label', i.label,
      'grade', i.grade, 'price', i.price, 'discount', i.discount) order by i.label) from order_items i where i.order_id = ${orders.id}), '[]')`,
  coupons: sql<OrderCouponRow[] | string>`coalesce((select json_agg(json_build_object('orderId', c.order_id, 'couponId', c.coupon_id, 'name', c.name,
      'seatId', c.seat_id, 'discount', c.discount)) from order_coupons c where c.order_id = ${orders.id}), '[]')`,
};

/** A row read with `ORDER_WITH_LINES`, as `OrderWithItems` (a driver may hand JSON back as text). */
function withLines(row: { order: OrderRow; items: OrderItemRow[] | string; coupons: OrderCouponRow[] | string }): OrderWithItems {
  const json = <T>(v: T[] | string): T[] => (typeof v === 'string' ? (JSON.parse(v) as T[]) : v);
  return { ...row.order, items: json(row.items), coupons: json(row.coupons) };
}

/** What stood in the way of a placement that wrote nothing. */
export interface PlacementRefusal {
  placed: false;
  /** Requested seats the database could reserve now (the others are sold or on another order). */
  freeSeatIds: string[];
  freeCouponIds: string[];
  couponsCheck: boolean;
  withinLimit: boolean;
  /** The buyer already has an order placed with this Idempotency-Key. */
  keyUsed: boolean;
}

/** A VALID ticket per seat of the order, each with a fresh id and an unguessable code (128 random bits). */
export function newTickets(
  order: { id: string; scheduleId: string; items: readonly { seatId: string; label: string }[] },
  userId: string,
  at: Date,
): TicketRow[] {
  return order.items.map((item) => ({
    id: newId(),
    orderId: order.id,
    userId,
    scheduleId: order.scheduleId,
    seatId: item.seatId,
    seatLabel: item.label,
    code: randomBytes(16).toString('base64url'),
    status: 'VALID' as const,
    createdAt: at,
  }));
}

/** Every SQL statement of the booking module. */
export class OrdersRepository {
  readonly #placeOrder: (db: Db, values: readonly unknown[]) => Promise<PlacedRow[]>;
  readonly #findOrder;

  constructor(
    private readonly db: Db,
    parts: PlacementParts,
    private readonly paying: PayingParts,
  ) {
    this.#placeOrder = preparedStatement<PlacedRow>('booking_place_order', placeOrderStatement(parts));
    this.#findOrder = db
      .select(ORDER_WITH_LINES)
      .from(orders)
      .where(eq(orders.id, sql.placeholder('id')))
      .limit(1)
      .prepare('booking_find_order');
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  /**
   * Places a pending order in one statement — one round trip, atomic without a transaction
   * around it: locks the seats (catalog's part) and the coupons (coupons' part), and only if it
   * got every one of both (and, with `onlyIfNoCoupons`, the buyer owns no coupon), and the buyer's
   * pending orders with these seats stay within `maxSeatsPerBuyer`, reserves them and writes the
   * order with its items, coupons and Idempotency-Key. Otherwise it writes nothing and tells
   * which seats and coupons were still free and which checks held, so the caller can say what
   * stood in the way. A placed order's `order.created` event is in the outbox with it.
   */
  async placeOrder(
    order: NewOrder,
    items: readonly Omit<OrderItemRow, 'orderId'>[],
    coupons: readonly Omit<OrderCouponRow, 'orderId'>[],
    options: { onlyIfNoCoupons: boolean; maxSeatsPerBuyer: number },
  ): Promise<{ placed: true } | PlacementRefusal> {
    const values = PLACE.values({
      scheduleId: order.scheduleId,
      seatIds: items.map((i) => i.seatId),
      now: order.createdAt.toISOString(),
      userId: order.userId,
      couponIds: coupons.map((c) => c.couponId),
      orderId: order.id,
      until: order.expiresAt.toISOString(),
      subtotal: order.subtotal,
      discount: order.discount,
      amount: order.amount,
      orderName: order.orderName,
      labels: items.map((i) => i.label),
      grades: items.map((i) => i.grade),
      prices: items.map((i) => i.price),
      discounts: items.map((i) => i.discount),
      couponNames: coupons.map((c) => c.name),
      couponSeatIds: coupons.map((c) => c.seatId),
      couponDiscounts: coupons.map((c) => c.discount),
      onlyIfNoCoupons: options.onlyIfNoCoupons,
      idempotencyKey: order.idempotencyKey,
      maxSeatsPerBuyer: options.maxSeatsPerBuyer,
      eventId: newId(),
    });
    let row: PlacedRow;
    try {
      [row] = (await this.#placeOrder(this.db, values)) as [PlacedRow];
    } catch (err) {
      // The statement is atomic: the key's unique index refusing the order refused all of it.
      if (isUniqueViolation(err, 'orders_idempotency_key_uq')) {
        return { placed: false, freeSeatIds: [], freeCouponIds: [], couponsCheck: true, withinLimit: true, keyUsed: true };
      }
      throw err;
    }
    if (row.placed) return { placed: true };
    return {
      placed: false,
      freeSeatIds: parseUuidArray(row.free_seats),
      freeCouponIds: parseUuidArray(row.free_coupons),
      couponsCheck: row.coupons_check,
      withinLimit: row.within_limit,
      keyUsed: false,
    };
  }

  /**
   * Prepares the paying statement with the caller's part (`payOrderStatement`, prepared once per
   * pooled connection). The function it returns runs it — one round trip — with the tickets to
   * issue (`newTickets`), and tells whether the order was paid or what stood in the way: its
   * status, seats no longer its to sell (a short count, or a seat that still has a VALID ticket),
   * or the caller's rows missing.
   */
  preparePaying<S extends Record<string, string>>(extension: PayingExtension<S>) {
    const statement = payOrderStatement(this.paying, extension);
    const run = preparedStatement<PayingRow>(extension.name, statement.text);
    return async (
      input: { orderId: string; userId: string; scheduleId: string; seatIds: readonly string[]; at: Date; tickets: readonly TicketRow[] },
      own: { readonly [K in keyof S]: unknown },
    ): Promise<{ paid: true } | { paid: false; status: OrderStatus | null; seatsLost: boolean; ownLocked: boolean }> => {
      const values = statement.values({
        ...own,
        orderId: input.orderId,
        userId: input.userId,
        scheduleId: input.scheduleId,
        seatIds: input.seatIds,
        at: input.at.toISOString(),
        ticketIds: input.tickets.map((t) => t.id),
        ticketSeatIds: input.tickets.map((t) => t.seatId),
        ticketLabels: input.tickets.map((t) => t.seatLabel),
        ticketCodes: input.tickets.map((t) => t.code),
      });
      let row: PayingRow;
      try {
        [row] = (await run(this.db, values)) as [PayingRow];
      } catch (err) {
        // The statement is atomic: a seat with a VALID ticket already refused all of it.
        if (isUniqueViolation(err, 'tickets_seat_once_uq')) return { paid: false, status: 'PENDING_PAYMENT', seatsLost: true, ownLocked: true };
        throw err;
      }
      if (row.paid) return { paid: true };
      return { paid: false, status: row.status, seatsLost: Number(row.seats) !== input.seatIds.length, ownLocked: row.own_locked };
    };
  }

  /** The buyer's order placed with this Idempotency-Key, if any. */
  async findByIdempotencyKey(userId: string, key: string): Promise<OrderWithItems | undefined> {
    const rows = await this.db
      .select()
      .from(orders)
      .where(and(eq(orders.userId, userId), eq(orders.idempotencyKey, key)))
      .limit(1);
    return (await this.#withLines(rows))[0];
  }

  /** Of the given seats, those on the buyer's own live pending orders for the showtime. */
  async seatsInPendingOrdersOf(userId: string, scheduleId: string, seatIds: readonly string[], now: Date): Promise<Set<string>> {
    if (!seatIds.length) return new Set();
    const rows = await this.db
      .select({ seatId: orderItems.seatId })
      .from(orders)
      .innerJoin(orderItems, eq(orderItems.orderId, orders.id))
      .where(
        and(
          eq(orders.userId, userId),
          eq(orders.scheduleId, scheduleId),
          eq(orders.status, 'PENDING_PAYMENT'),
          sql`${orders.expiresAt} > ${now.toISOString()}::timestamptz`,
          inArray(orderItems.seatId, [...seatIds]),
        ),
      );
    return new Set(rows.map((r) => r.seatId));
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

  /** One order with its lines, in one round trip (the lines aggregated as JSON beside the row). */
  /** An order with its lines, by id. It runs on every confirm and order read: a prepared query, built once. */
  async findOrder(id: string): Promise<OrderWithItems | undefined> {
    const [row] = await this.#findOrder.execute({ id });
    return row && withLines(row);
  }

  /**
   * Locks the order for the rest of the caller's transaction (cancel, expire and pay take turns),
   * and reads it with its lines in the same round trip (`FOR UPDATE` locks the order row only).
   */
  async lockOrder(id: string, tx: Tx): Promise<OrderWithItems | undefined> {
    const [row] = await tx.select(ORDER_WITH_LINES).from(orders).where(eq(orders.id, id)).for('update', { of: orders }).limit(1);
    return row && withLines(row);
  }

  async setStatus(
    id: string,
    status: Extract<OrderStatus, 'CANCELLED' | 'EXPIRED'>,
    at: Date,
    tx: Tx,
    extra: { cancelReason?: string | null } = {},
  ): Promise<void> {
    await tx
      .update(orders)
      .set({
        status,
        updatedAt: at,
        ...(status === 'CANCELLED' ? { cancelledAt: at, cancelReason: extra.cancelReason ?? null } : {}),
      })
      .where(eq(orders.id, id));
  }

  /**
   * The paid order is refunded, in the refunding transaction (under its row lock). Conditional on
   * PAID: of two refunds racing, the second finds nothing to change. True when it did.
   */
  async markRefunded(id: string, at: Date, reason: string | null, tx: Tx): Promise<boolean> {
    const updated = await tx
      .update(orders)
      .set({ status: 'REFUNDED', cancelledAt: at, cancelReason: reason, updatedAt: at })
      .where(and(eq(orders.id, id), eq(orders.status, 'PAID')))
      .returning({ id: orders.id });
    return updated.length === 1;
  }

  /** The order's VALID tickets turn CANCELLED (its seats may then be ticketed again: `tickets_seat_once_uq` is partial). */
  async cancelTickets(orderId: string, tx: Tx): Promise<TicketRow[]> {
    return tx
      .update(tickets)
      .set({ status: 'CANCELLED' })
      .where(and(eq(tickets.orderId, orderId), eq(tickets.status, 'VALID')))
      .returning();
  }

  /** The tickets of one order, in seat-label order. */
  async ticketsOfOrder(orderId: string): Promise<TicketRow[]> {
    return this.db.select().from(tickets).where(eq(tickets.orderId, orderId)).orderBy(asc(tickets.seatLabel));
  }

  /** Events of a state change, into the outbox in the caller's transaction (invariant 4). */
  async appendEvents(events: readonly EventEnvelope<unknown>[], tx: Tx): Promise<void> {
    await appendOutbox(tx, events);
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

  /**
   * Writes one ticket per item of an order in the caller's transaction (the paying statement
   * writes its own, `newTickets`; tests race the index with this). A second VALID ticket for a seat violates `tickets_seat_once_uq` and surfaces as SEAT_UNAVAILABLE, never a 500.
   */
  issueTickets(order: OrderWithItems, at: Date, tx: Tx): Promise<TicketRow[]> {
    return this.#writeTickets(order, at, tx);
  }

  async #writeTickets(order: OrderWithItems, at: Date, tx: Tx): Promise<TicketRow[]> {
    const issued = newTickets(order, order.userId, at);
    const atSql = sql`${at.toISOString()}::timestamptz`;
    const insert = sql`insert into tickets (id, order_id, user_id, schedule_id, seat_id, seat_label, code, status, created_at)
        select u.id, ${order.id}::uuid, ${order.userId}::uuid, ${order.scheduleId}::uuid, u.seat_id, u.seat_label, u.code, 'VALID', ${atSql}
        from unnest(${sql.param(issued.map((t) => t.id))}::uuid[], ${sql.param(issued.map((t) => t.seatId))}::uuid[],
                    ${sql.param(issued.map((t) => t.seatLabel))}::text[], ${sql.param(issued.map((t) => t.code))}::text[]) as u(id, seat_id, seat_label, code)`;
    try {
      await tx.execute(insert);
    } catch (err) {
      if (isUniqueViolation(err, 'tickets_seat_once_uq')) {
        throw BookingErrors.SEAT_UNAVAILABLE('A seat of this order already has a ticket', { unavailableSeatIds: order.items.map((i) => i.seatId) });
      }
      throw err;
    }
    return issued;
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
