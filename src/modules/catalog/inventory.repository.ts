import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { parseUuidArray, queryRows, type Db, type Tx } from '../../platform/db/client.js';
import { positionalSql, type StatementPart } from '../../platform/db/statement.js';
import { performances, scheduleSeats, schedules, seats, venues, type Grade, type VenueLayout } from './catalog.tables.js';

/** The immutable part of one seat of a showtime, in layout order. */
export interface InventorySeat {
  seatId: string;
  label: string;
  section: string;
  row: string;
  number: number;
  grade: string;
  price: number;
}

export type SaleScheduleRow = typeof schedules.$inferSelect & { sellerId: string; title: string };

/**
 * The SQL of a showtime's seat inventory on the sale side: what a buyer's hold, order and
 * payment read and change. Seats move AVAILABLE → RESERVED (a pending order) → SOLD, or back to
 * AVAILABLE when the order ends; every change is conditional, so PostgreSQL is gate 2 of
 * invariant 1 whatever the hot state says (docs/architecture.md §1).
 */
export class InventoryRepository {
  constructor(private readonly db: Db) {}

  /** A live showtime with its performance's seller and title, in one read. */
  async findSaleSchedule(id: string): Promise<SaleScheduleRow | undefined> {
    const [row] = await this.db
      .select({ schedule: schedules, sellerId: performances.sellerId, title: performances.title })
      .from(schedules)
      .innerJoin(performances, eq(performances.id, schedules.performanceId))
      .where(and(eq(schedules.id, id), isNull(schedules.deletedAt), isNull(performances.deletedAt)))
      .limit(1);
    return row && { ...row.schedule, sellerId: row.sellerId, title: row.title };
  }

  /** What a live showtime's drawing needs besides its seats: its venue's layout and its grade legend. */
  async layoutOf(scheduleId: string): Promise<{ layout: VenueLayout; grades: Grade[] } | undefined> {
    const [row] = await this.db
      .select({ layout: venues.layout, grades: performances.grades })
      .from(schedules)
      .innerJoin(performances, eq(performances.id, schedules.performanceId))
      .innerJoin(venues, eq(venues.id, performances.venueId))
      .where(and(eq(schedules.id, scheduleId), isNull(schedules.deletedAt), isNull(performances.deletedAt)))
      .limit(1);
    return row;
  }

  /**
   * The seats of a showtime in layout order, with what never changes: labels, grades, prices.
   * A seat map keeps these for as long as it is cached (a stadium's 300,000), and the driver
   * makes a string per value per row: the few distinct sections, rows and grades are shared
   * instead (`shareRepeated`): about 48 of the ~250 bytes a cached seat weighs, 14 MB of a
   * 300,000-seat showtime (one-character grades V8 shares already).
   */
  async inventory(scheduleId: string): Promise<InventorySeat[]> {
    const rows = await this.db
      .select({
        seatId: scheduleSeats.seatId,
        label: seats.label,
        section: seats.section,
        row: seats.rowLabel,
        number: seats.number,
        grade: scheduleSeats.grade,
        price: scheduleSeats.price,
      })
      .from(scheduleSeats)
      .innerJoin(seats, eq(seats.id, scheduleSeats.seatId))
      .where(eq(scheduleSeats.scheduleId, scheduleId))
      .orderBy(asc(seats.ordinal));
    return shareRepeated(rows);
  }

  /**
   * The one database read of a seat map: whether the showtime exists, which seats are sold, and
   * which are reserved for a pending order. Only taken seats travel, through a partial index,
   * however large the venue.
   */
  /**
   * The showtime's SOLD seats and its RESERVED ones with a live payment window, or undefined when
   * it does not exist (or was deleted). The arrays come as their text (split, not parsed value by
   * value: a stadium's 10,000 ids in a millisecond), and `key` is that text: equal keys, equal seats.
   */
  async takenSeats(scheduleId: string, now: Date): Promise<{ sold: string[]; reserved: string[]; key: string } | undefined> {
    const rows = await queryRows<{ sold: string; reserved: string }>(
      this.db,
      sql`select
            coalesce((select array_agg(ss.seat_id order by ss.seat_id) from schedule_seats ss
                      where ss.schedule_id = sch.id and ss.status = 'SOLD'), '{}')::text as sold,
            coalesce((select array_agg(ss.seat_id order by ss.seat_id) from schedule_seats ss
                      where ss.schedule_id = sch.id and ss.status = 'RESERVED'
                        and ss.reserved_until > ${now.toISOString()}::timestamptz), '{}')::text as reserved
          from schedules sch where sch.id = ${scheduleId} and sch.deleted_at is null`,
    );
    const row = rows[0];
    return row ? { sold: parseUuidArray(row.sold), reserved: parseUuidArray(row.reserved), key: `${row.sold}|${row.reserved}` } : undefined;
  }

  async soldSeatIds(scheduleId: string): Promise<string[]> {
    const rows = await this.db
      .select({ seatId: scheduleSeats.seatId })
      .from(scheduleSeats)
      .where(and(eq(scheduleSeats.scheduleId, scheduleId), eq(scheduleSeats.status, 'SOLD')));
    return rows.map((r) => r.seatId);
  }

  /** Returns the seats of a pending order that ended (expired, cancelled) to sale. */
  async releaseReservation(input: { scheduleId: string; orderId: string }, tx: Tx): Promise<number> {
    const released = await tx
      .update(scheduleSeats)
      .set({ status: 'AVAILABLE', orderId: null, reservedUntil: null })
      .where(and(eq(scheduleSeats.scheduleId, input.scheduleId), eq(scheduleSeats.orderId, input.orderId), eq(scheduleSeats.status, 'RESERVED')))
      .returning({ seatId: scheduleSeats.seatId });
    return released.length;
  }

  /**
   * Gate 2 of invariant 1 in the caller's transaction: `seatSalePart` (the part the paying
   * statement composes) run on its own — the order's seats SOLD only if every one is AVAILABLE
   * or already this order's, else nothing. True when it sold them all.
   */
  async sellSeats(input: { scheduleId: string; seatIds: readonly string[]; orderId: string }, tx: Tx): Promise<boolean> {
    const ids = [...new Set(input.seatIds)];
    const part = seatSalePart({ scheduleId: '$1::uuid', seatIds: '$2::uuid[]', orderId: '$3::uuid' });
    const go = '(select ok from go)';
    const [row] = await queryRows<{ ok: boolean }>(
      tx,
      positionalSql(
        `with locked as (${part.lock}),
              go as (select (select count(*) from locked) = cardinality($2::uuid[]) as ok),
              sold as (${part.apply('locked', go)})
         select ${go} as ok`,
        [input.scheduleId, ids, input.orderId],
      ),
    );
    return row?.ok === true;
  }

  /**
   * A paid order was refunded: its SOLD seats go back to AVAILABLE, in the refunding transaction
   * (booking's `OrdersService#refund`, under the order's row lock). Conditional on each seat being
   * SOLD *to this order*, so a refund can never free a seat another order bought; the caller
   * checks the row count (it must be every seat of the order) and rolls back otherwise.
   * Invariant 1: a seat is back on sale only once its one VALID ticket is cancelled in the same
   * transaction, so `tickets_seat_once_uq` still allows its next sale.
   */
  async releaseSoldSeats(input: { scheduleId: string; seatIds: readonly string[]; orderId: string }, tx: Tx): Promise<number> {
    const ids = [...new Set(input.seatIds)];
    const released = await tx
      .update(scheduleSeats)
      .set({ status: 'AVAILABLE', orderId: null, reservedUntil: null })
      .where(
        and(
          eq(scheduleSeats.scheduleId, input.scheduleId),
          inArray(scheduleSeats.seatId, ids),
          eq(scheduleSeats.orderId, input.orderId),
          eq(scheduleSeats.status, 'SOLD'),
        ),
      )
      .returning({ seatId: scheduleSeats.seatId });
    return released.length;
  }
}

/** The placeholders the seat part is written with (`$n::type` text), named. */
export interface SeatReservationPlaceholders {
  scheduleId: string;
  seatIds: string;
  now: string;
  orderId: string;
  until: string;
}

/**
 * The seat part of a pending order's one-statement placement (booking composes it; see
 * `StatementPart`): the database's half of invariant 1 while the order awaits payment. `lock`
 * takes, in seat order, the requested seats that can be reserved now — AVAILABLE, or RESERVED
 * with a lapsed payment window — of a showtime that is not deleted. A seat another order
 * reserved or sold meanwhile drops out under READ COMMITTED's re-check, so the composer sees a
 * short count and reserves nothing. `apply` reserves the locked seats for the order.
 * Placeholders: `scheduleId` uuid, `seatIds` uuid[], `now` and `until` timestamptz, `orderId` uuid.
 */
export function seatReservationPart(p: SeatReservationPlaceholders): StatementPart {
  return {
    lock: `select seat_id from schedule_seats
            where schedule_id = ${p.scheduleId} and seat_id = any(${p.seatIds})
              and (status = 'AVAILABLE' or (status = 'RESERVED' and reserved_until <= ${p.now}))
              and exists (select 1 from schedules s where s.id = ${p.scheduleId} and s.deleted_at is null)
            order by seat_id
            for update`,
    apply: (locked, go) => `update schedule_seats set status = 'RESERVED', order_id = ${p.orderId}, reserved_until = ${p.until}
            where schedule_id = ${p.scheduleId} and seat_id in (select seat_id from ${locked}) and ${go}`,
  };
}

/** The placeholders `seatSalePart` writes into the composing statement (`$n::type` text). */
export interface SeatSalePlaceholders {
  scheduleId: string;
  seatIds: string;
  orderId: string;
}

/**
 * The seat part of an order's one-statement paying write (booking composes it; see
 * `StatementPart`): gate 2 of invariant 1, the statement form of `InventoryRepository#sellSeats`.
 * `lock` first takes the showtime's row `FOR SHARE` (a showtime being deleted holds it
 * `FOR UPDATE`, so the sale waits for it and then finds it deleted), then, in seat order, the
 * order's seats that are AVAILABLE or already this order's (RESERVED for it, or SOLD to it by a
 * retried confirm). A seat another order took drops out under READ COMMITTED's re-check, so the
 * composer sees a short count and sells nothing. `apply` sells the locked seats to the order.
 * Placeholders: `scheduleId` uuid, `seatIds` uuid[], `orderId` uuid.
 */
export function seatSalePart(p: SeatSalePlaceholders): StatementPart {
  return {
    lock: `select seat_id from schedule_seats
            where schedule_id = ${p.scheduleId} and seat_id = any(${p.seatIds})
              and (status = 'AVAILABLE' or order_id = ${p.orderId})
              and exists (select 1 from schedules s where s.id = ${p.scheduleId} and s.deleted_at is null for share)
            order by seat_id
            for update`,
    apply: (locked, go) => `update schedule_seats set status = 'SOLD', order_id = ${p.orderId}, reserved_until = null
            where schedule_id = ${p.scheduleId} and seat_id in (select seat_id from ${locked}) and ${go}`,
  };
}

/**
 * The catalog's part in the events of a sale (payments composes it into the statement that
 * writes `payment.completed` / `refund.completed`, so settlement can hear who sold what without
 * reading the catalog's tables): one row — the showtime's performance, its seller (owner) and
 * title. A performance's seller and a showtime's performance never change, so the row read with
 * the sale is the one the sale belongs to. Placeholder: `scheduleId` uuid.
 */
export function saleFactsPart(p: { scheduleId: string }): string {
  return `select p.seller_id, p.id as performance_id, p.title as performance_title
             from schedules s join performances p on p.id = s.performance_id where s.id = ${p.scheduleId}`;
}

/** Seats whose equal sections, rows and grades are one string each (the rows are changed in place). */
export function shareRepeated(rows: InventorySeat[]): InventorySeat[] {
  const strings = new Map<string, string>();
  const shared = (value: string) => {
    const known = strings.get(value);
    if (known !== undefined) return known;
    strings.set(value, value);
    return value;
  };
  for (const seat of rows) {
    seat.section = shared(seat.section);
    seat.row = shared(seat.row);
    seat.grade = shared(seat.grade);
  }
  return rows;
}
