import { and, asc, desc, eq, ilike, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Db, type Tx } from '../../platform/db/client.js';
import { performances, schedules, seats, venues, type Grade, type SeatGradeRule } from './catalog.tables.js';
import type { SeatSpec } from './layout.js';

export type VenueRow = typeof venues.$inferSelect;
export type PerformanceRow = typeof performances.$inferSelect;
export type ScheduleRow = typeof schedules.$inferSelect;

/** Rows per INSERT when a venue's seats are written: large enough to be few, small enough to stay light. */
const SEAT_BATCH = 10_000;

/** Every SQL statement of the catalog module. */
export class CatalogRepository {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(fn);
  }

  // ---- venues ----

  async insertVenue(venue: typeof venues.$inferInsert, seatSpecs: Iterable<SeatSpec>, newId: () => string, tx: Tx): Promise<void> {
    await tx.insert(venues).values(venue);
    let batch: SeatSpec[] = [];
    const flush = async () => {
      if (!batch.length) return;
      // One statement per batch: the seats travel as arrays and unnest into rows server-side.
      await tx.execute(sql`
        insert into seats (id, venue_id, section, row_label, number, label, ordinal)
        select u.id, ${venue.id}::uuid, u.section, u.row_label, u.number, u.label, u.ordinal
        from unnest(
          ${sql.param(batch.map(() => newId()))}::uuid[],
          ${sql.param(batch.map((s) => s.section))}::text[],
          ${sql.param(batch.map((s) => s.rowLabel))}::text[],
          ${sql.param(batch.map((s) => s.number))}::int[],
          ${sql.param(batch.map((s) => s.label))}::text[],
          ${sql.param(batch.map((s) => s.ordinal))}::int[]
        ) as u(id, section, row_label, number, label, ordinal)`);
      batch = [];
    };
    for (const spec of seatSpecs) {
      batch.push(spec);
      if (batch.length === SEAT_BATCH) await flush();
    }
    await flush();
  }

  async findVenue(id: string, db: Db | Tx = this.db): Promise<VenueRow | undefined> {
    const [row] = await db.select().from(venues).where(eq(venues.id, id)).limit(1);
    return row;
  }

  async venueSeats(venueId: string): Promise<{ id: string; section: string; rowLabel: string; number: number; label: string }[]> {
    return this.db
      .select({ id: seats.id, section: seats.section, rowLabel: seats.rowLabel, number: seats.number, label: seats.label })
      .from(seats)
      .where(eq(seats.venueId, venueId))
      .orderBy(asc(seats.ordinal));
  }

  // ---- quotas ----

  /**
   * Serializes a seller's creations until the transaction ends, so that the count a quota is
   * checked against cannot change before the insert it admits: without it, concurrent creates
   * would each see room for one more. A transaction-level advisory lock, so nothing to release.
   */
  async lockSellerQuota(sellerId: string, tx: Tx): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`catalog-quota:${sellerId}`}, 0))`);
  }

  async venueUsage(ownerId: string, tx: Tx): Promise<{ venues: number; seats: number }> {
    const [row] = await queryRows<{ venues: number | string; seats: number | string }>(
      tx,
      sql`select count(*) as venues, coalesce(sum(seat_count), 0) as seats from venues where owner_id = ${ownerId}`,
    );
    return { venues: Number(row!.venues), seats: Number(row!.seats) };
  }

  async livePerformanceCount(sellerId: string, tx: Tx): Promise<number> {
    const [row] = await queryRows<{ n: number | string }>(tx, sql`select count(*) as n from performances where seller_id = ${sellerId} and deleted_at is null`);
    return Number(row!.n);
  }

  /** Live showtimes of the performance, and seats across every live showtime of its seller. */
  async scheduleUsage(performanceId: string, sellerId: string, tx: Tx): Promise<{ ofPerformance: number; sellerSeats: number }> {
    const [row] = await queryRows<{ of_performance: number | string; seller_seats: number | string }>(
      tx,
      sql`select count(*) filter (where s.performance_id = ${performanceId}) as of_performance,
                 coalesce(sum(s.seat_count), 0) as seller_seats
          from schedules s join performances p on p.id = s.performance_id
          where p.seller_id = ${sellerId} and p.deleted_at is null and s.deleted_at is null`,
    );
    return { ofPerformance: Number(row!.of_performance), sellerSeats: Number(row!.seller_seats) };
  }

  // ---- performances ----

  async insertPerformance(row: typeof performances.$inferInsert, db: Db | Tx = this.db): Promise<PerformanceRow> {
    const [created] = await db.insert(performances).values(row).returning();
    return created!;
  }

  async findPerformance(id: string, db: Db | Tx = this.db): Promise<PerformanceRow | undefined> {
    const [row] = await db
      .select()
      .from(performances)
      .where(and(eq(performances.id, id), isNull(performances.deletedAt)))
      .limit(1);
    return row;
  }

  async updatePerformance(id: string, patch: { title?: string; description?: string | null }, at: Date): Promise<PerformanceRow | undefined> {
    const [row] = await this.db
      .update(performances)
      .set({ ...patch, updatedAt: at })
      .where(and(eq(performances.id, id), isNull(performances.deletedAt)))
      .returning();
    return row;
  }

  /** Newest first; `after` is the id of the last item of the previous page (UUIDv7 ids sort by creation). */
  async listPerformances(opts: { q?: string; after?: string; limit: number; now: Date }) {
    const conditions: SQL[] = [isNull(performances.deletedAt)];
    if (opts.q) conditions.push(ilike(performances.title, `%${escapeLike(opts.q)}%`));
    if (opts.after) conditions.push(lt(performances.id, opts.after));
    return this.db
      .select({
        id: performances.id,
        title: performances.title,
        venueId: performances.venueId,
        sellerId: performances.sellerId,
        grades: performances.grades,
        nextScheduleAt: sql<Date | string | null>`(
          select min(s.starts_at) from schedules s
          where s.performance_id = "performances"."id" and s.deleted_at is null and s.starts_at > ${opts.now.toISOString()}::timestamptz
        )`,
      })
      .from(performances)
      .where(and(...conditions))
      .orderBy(desc(performances.id))
      .limit(opts.limit);
  }

  async softDeletePerformance(id: string, at: Date, tx: Tx): Promise<void> {
    await tx
      .update(schedules)
      .set({ deletedAt: at })
      .where(and(eq(schedules.performanceId, id), isNull(schedules.deletedAt)));
    await tx.update(performances).set({ deletedAt: at }).where(eq(performances.id, id));
  }

  /** Locks the performance row so a concurrent sale or deletion waits for this transaction. */
  async lockPerformance(id: string, tx: Tx): Promise<PerformanceRow | undefined> {
    const [row] = await tx
      .select()
      .from(performances)
      .where(and(eq(performances.id, id), isNull(performances.deletedAt)))
      .for('update')
      .limit(1);
    return row;
  }

  // ---- schedules ----

  async insertSchedule(row: typeof schedules.$inferInsert, tx: Tx): Promise<ScheduleRow> {
    const [created] = await tx.insert(schedules).values(row).returning();
    return created!;
  }

  /**
   * Fills a showtime's inventory in one statement: every seat of the venue with its grade
   * (the rules of `grading.ts#gradeOf` as a CASE: first match wins, else the default) and that
   * grade's price. Returns the number of seats.
   */
  async createInventory(
    scheduleId: string,
    venueId: string,
    grading: { grades: Grade[]; seatGrades: SeatGradeRule[]; defaultGrade: string },
    tx: Tx,
  ): Promise<number> {
    const whens = grading.seatGrades.map((rule) =>
      rule.rows === undefined
        ? sql`when s.section = ${rule.section} then ${rule.grade}`
        : sql`when s.section = ${rule.section} and s.row_label = any(${sql.param(rule.rows)}::text[]) then ${rule.grade}`,
    );
    const gradeCase = whens.length ? sql`case ${sql.join(whens, sql` `)} else ${grading.defaultGrade} end` : sql`${grading.defaultGrade}`;
    const inserted = await queryRows<{ n: number }>(
      tx,
      sql`
      with graded as (
        select s.id, (${gradeCase})::text as grade from seats s where s.venue_id = ${venueId}
      ), ins as (
        insert into schedule_seats (schedule_id, seat_id, grade, price)
        select ${scheduleId}::uuid, g.id, g.grade, p.price
        from graded g
        join unnest(${sql.param(grading.grades.map((x) => x.name))}::text[], ${sql.param(grading.grades.map((x) => x.price))}::int[]) as p(name, price)
          on p.name = g.grade
        returning 1
      )
      select count(*)::int as n from ins`,
    );
    return inserted[0]!.n;
  }

  async findSchedule(id: string, db: Db | Tx = this.db): Promise<ScheduleRow | undefined> {
    const [row] = await db
      .select()
      .from(schedules)
      .where(and(eq(schedules.id, id), isNull(schedules.deletedAt)))
      .limit(1);
    return row;
  }

  async schedulesOf(performanceIds: string[]): Promise<ScheduleRow[]> {
    if (!performanceIds.length) return [];
    return this.db
      .select()
      .from(schedules)
      .where(and(inArray(schedules.performanceId, performanceIds), isNull(schedules.deletedAt)))
      .orderBy(asc(schedules.startsAt));
  }

  /** Locks a live showtime's row: a sale (which takes it FOR SHARE) and a deletion exclude each other. */
  async lockSchedule(id: string, tx: Tx): Promise<boolean> {
    const rows = await tx
      .select({ id: schedules.id })
      .from(schedules)
      .where(and(eq(schedules.id, id), isNull(schedules.deletedAt)))
      .for('update');
    return rows.length === 1;
  }

  async lockSchedulesOf(performanceId: string, tx: Tx): Promise<string[]> {
    const rows = await tx
      .select({ id: schedules.id })
      .from(schedules)
      .where(and(eq(schedules.performanceId, performanceId), isNull(schedules.deletedAt)))
      .for('update');
    return rows.map((r) => r.id);
  }

  async softDeleteSchedule(id: string, at: Date, tx: Tx): Promise<void> {
    await tx.update(schedules).set({ deletedAt: at }).where(eq(schedules.id, id));
  }

  /** True if any seat of any live showtime of the performance (or of the one showtime) was sold. */
  async hasSales(scope: { performanceId: string } | { scheduleId: string }, tx: Tx): Promise<boolean> {
    const rows = await queryRows<{ sold: boolean }>(
      tx,
      'scheduleId' in scope
        ? sql`select exists(select 1 from schedule_seats where schedule_id = ${scope.scheduleId} and status = 'SOLD') as sold`
        : sql`select exists(
                select 1 from schedule_seats ss join schedules s on s.id = ss.schedule_id
                where s.performance_id = ${scope.performanceId} and ss.status = 'SOLD') as sold`,
    );
    return rows[0]!.sold;
  }
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
