import { and, asc, desc, eq, gt, lt, type SQL, sql } from 'drizzle-orm';
import { queryRows, type Db, type Tx } from '../../platform/db/client.js';
import type { EntryKind } from './settlement-rules.js';
import { settlementLedger, settlementLines, settlementRuns, settlements } from './settlement.tables.js';

export type SettlementRow = typeof settlements.$inferSelect;
export type LineRow = typeof settlementLines.$inferSelect;
export type NewEntry = Omit<typeof settlementLedger.$inferInsert, 'recordedAt'>;

/** The run's outcome: its settlements, and whether this call made them (false: the period was settled already). */
export interface RunOutcome {
  runId: string;
  created: boolean;
  settlements: SettlementRow[];
}

/** Another period overlaps the one asked for (thrown inside the run's transaction). */
export class PeriodOverlapsError extends Error {
  override name = 'PeriodOverlapsError';
  constructor(readonly other: { periodStart: Date; periodEnd: Date }) {
    super(`overlaps the settled period [${other.periodStart.toISOString()}, ${other.periodEnd.toISOString()})`);
  }
}

export interface SalesRow {
  performanceId: string;
  performanceTitle: string;
  scheduleId: string;
  sold: number;
  refundedTickets: number;
  gross: number;
  refunded: number;
  discountsSellerFunded: number;
}

/** Counts and sums of the ledger over a period, as the consistency check compares them with the payments'. */
export interface LedgerFigures {
  sales: { count: number; amount: number };
  refunds: { count: number; amount: number };
}

/**
 * A UUIDv7 made by PostgreSQL (48 bits of Unix ms from the clock, version 7, the rest random):
 * the run makes one settlement per seller in one statement, so their ids are made there too.
 */
const UUID_V7 = sql.raw(`encode(set_byte(overlay(uuid_send(gen_random_uuid())
    placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6),
    6, (get_byte(uuid_send(gen_random_uuid()), 6) & 15) | 112), 'hex')::uuid`);

const iso = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/** Every SQL statement of the settlement module; it touches no other module's table. */
export class SettlementRepository {
  constructor(private readonly db: Db) {}

  /**
   * Appends an entry to the ledger and marks it pending, in one statement (the consumer's
   * transaction). An entry of the same event, or of the same order and kind, is there already:
   * nothing is written (false) — a duplicated or replayed event changes nothing.
   */
  async append(entry: NewEntry, recordedAt: Date, tx: Tx): Promise<boolean> {
    const e = entry;
    const rows = await queryRows<{ entry_id: string }>(
      tx,
      sql`with entry as (
            insert into settlement_ledger (id, event_id, kind, seller_id, performance_id, performance_title, schedule_id, order_id, occurred_at, seats,
                                           list_total, seller_discount, platform_discount, charged, platform_fee, pg_fee, platform_fee_ppm, pg_fee_ppm, recorded_at)
            values (${e.id}::uuid, ${e.eventId}::uuid, ${e.kind}, ${e.sellerId}::uuid, ${e.performanceId}::uuid, ${e.performanceTitle}, ${e.scheduleId}::uuid,
                    ${e.orderId}::uuid, ${iso(e.occurredAt)}, ${e.seats}, ${e.listTotal}, ${e.sellerDiscount}, ${e.platformDiscount}, ${e.charged},
                    ${e.platformFee}, ${e.pgFee}, ${e.platformFeePpm}, ${e.pgFeePpm}, ${iso(recordedAt)})
            on conflict do nothing
            returning id, occurred_at)
          insert into settlement_pending (entry_id, occurred_at) select id, occurred_at from entry returning entry_id`,
    );
    return rows.length === 1;
  }

  /** The fees the order's sale entry booked, and at which rates (a refund gives back exactly these). */
  async saleFees(orderId: string, tx: Tx): Promise<{ platformFee: number; pgFee: number; platformFeePpm: number; pgFeePpm: number } | undefined> {
    const [row] = await tx
      .select({
        platformFee: settlementLedger.platformFee,
        pgFee: settlementLedger.pgFee,
        platformFeePpm: settlementLedger.platformFeePpm,
        pgFeePpm: settlementLedger.pgFeePpm,
      })
      .from(settlementLedger)
      .where(and(eq(settlementLedger.orderId, orderId), eq(settlementLedger.kind, 'SALE' satisfies EntryKind)));
    return row;
  }

  /**
   * Settles `[start, end)`, in one transaction. Runs take turns on a lock of `settlement_runs`
   * (so the overlap check, the carried deficits and the pending entries are each read by one
   * run at a time). The period settled already → its settlements as they are (`created: false`);
   * any other overlapping period → `PeriodOverlapsError`. Otherwise one set-based statement:
   * it takes every pending entry that occurred before `end` (deleting its pending row, so a
   * concurrent consumer's entry not yet committed stays for the next run), groups them into one
   * line per (seller, order) and one settlement per seller, carries in each seller's deficit
   * from their previous settlement, and writes the settlements and their lines. No loop per
   * entry: the work is PostgreSQL's, in a handful of hash aggregates and bulk inserts.
   */
  async run(runId: string, start: Date, end: Date, now: Date): Promise<RunOutcome> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`lock table settlement_runs in share row exclusive mode`);
      const overlapping = await tx
        .select()
        .from(settlementRuns)
        .where(and(lt(settlementRuns.periodStart, end), gt(settlementRuns.periodEnd, start)));
      const same = overlapping.find((r) => r.periodStart.getTime() === start.getTime() && r.periodEnd.getTime() === end.getTime());
      if (same) return { runId: same.id, created: false, settlements: await this.#ofRun(same.id, tx) };
      if (overlapping[0]) throw new PeriodOverlapsError(overlapping[0]);
      await tx.insert(settlementRuns).values({ id: runId, periodStart: start, periodEnd: end, createdAt: now });
      await tx.execute(this.#settleStatement(runId, start, end, now));
      return { runId, created: true, settlements: await this.#ofRun(runId, tx) };
    });
  }

  #settleStatement(runId: string, start: Date, end: Date, now: Date): SQL {
    const sale = sql.raw(`kind = 'SALE'`);
    const refund = sql.raw(`kind = 'REFUND'`);
    return sql`
      with taken as (
        delete from settlement_pending where occurred_at < ${iso(end)} returning entry_id
      ), lines as (
        select l.seller_id, l.order_id,
               (array_agg(l.performance_id))[1] as performance_id, (array_agg(l.performance_title))[1] as performance_title,
               (array_agg(l.schedule_id))[1] as schedule_id,
               (array_agg(l.id) filter (where ${sale}))[1] as sale_entry_id, (array_agg(l.id) filter (where ${refund}))[1] as refund_entry_id,
               min(l.occurred_at) filter (where ${sale}) as sold_at, min(l.occurred_at) filter (where ${refund}) as refunded_at,
               (coalesce(sum(l.seats) filter (where ${sale}), 0) - coalesce(sum(l.seats) filter (where ${refund}), 0))::int as seats,
               coalesce(sum(l.list_total) filter (where ${sale}), 0)::int as gross,
               coalesce(sum(l.seller_discount) filter (where ${sale}), 0)::int as seller_discount,
               coalesce(sum(l.platform_discount) filter (where ${sale}), 0)::int as platform_discount,
               coalesce(sum(l.charged) filter (where ${sale}), 0)::int as charged,
               coalesce(sum(l.list_total - l.seller_discount) filter (where ${refund}), 0)::int as refunds,
               sum(case when ${sale} then l.platform_fee else -l.platform_fee end)::int as platform_fee,
               sum(case when ${sale} then l.pg_fee else -l.pg_fee end)::int as pg_fee
        from taken t join settlement_ledger l on l.id = t.entry_id
        group by l.seller_id, l.order_id
      ), per_seller as (
        select seller_id, count(*)::int as line_count, sum(gross)::bigint as gross, sum(seller_discount)::bigint as seller_discounts,
               sum(platform_discount)::bigint as platform_discounts, sum(refunds)::bigint as refunds, sum(platform_fee)::bigint as platform_fee,
               sum(pg_fee)::bigint as pg_fee, sum(gross - seller_discount - platform_fee - pg_fee - refunds)::bigint as subtotal
        from lines group by seller_id
      ), previous as (
        select distinct on (s.seller_id) s.seller_id, s.carried_out
        from settlements s join per_seller p on p.seller_id = s.seller_id
        order by s.seller_id, s.seq desc
      ), made as (
        insert into settlements (id, run_id, seller_id, period_start, period_end, line_count, gross, seller_discounts, platform_discounts, refunds,
                                 platform_fee, pg_fee, subtotal, carried_in, carried_out, net, status, created_at)
        select ${UUID_V7}, ${runId}::uuid, p.seller_id, ${iso(start)}, ${iso(end)}, p.line_count, p.gross, p.seller_discounts, p.platform_discounts,
               p.refunds, p.platform_fee, p.pg_fee, p.subtotal, coalesce(v.carried_out, 0),
               greatest(0, coalesce(v.carried_out, 0) - p.subtotal), greatest(0, p.subtotal - coalesce(v.carried_out, 0)), 'PENDING', ${iso(now)}
        from per_seller p left join previous v on v.seller_id = p.seller_id
        order by p.seller_id
        returning id, seller_id
      )
      insert into settlement_lines (settlement_id, order_id, performance_id, performance_title, schedule_id, sale_entry_id, refund_entry_id, sold_at,
                                    refunded_at, seats, gross, seller_discount, platform_discount, charged, refunds, platform_fee, pg_fee, net)
      select m.id, l.order_id, l.performance_id, l.performance_title, l.schedule_id, l.sale_entry_id, l.refund_entry_id, l.sold_at, l.refunded_at,
             l.seats, l.gross, l.seller_discount, l.platform_discount, l.charged, l.refunds, l.platform_fee, l.pg_fee,
             l.gross - l.seller_discount - l.platform_fee - l.pg_fee - l.refunds
      from lines l join made m on m.seller_id = l.seller_id`;
  }

  #ofRun(runId: string, db: Db | Tx = this.db): Promise<SettlementRow[]> {
    return db.select().from(settlements).where(eq(settlements.runId, runId)).orderBy(asc(settlements.sellerId));
  }

  async find(id: string): Promise<SettlementRow | undefined> {
    const [row] = await this.db.select().from(settlements).where(eq(settlements.id, id));
    return row;
  }

  /** PENDING → PAID at `at`; a PAID settlement is left as it is. The settlement as it now is. */
  async markPaid(id: string, at: Date): Promise<SettlementRow | undefined> {
    const [paid] = await this.db
      .update(settlements)
      .set({ status: 'PAID', paidAt: at })
      .where(and(eq(settlements.id, id), eq(settlements.status, 'PENDING')))
      .returning();
    return paid ?? this.find(id);
  }

  /** The seller's settlements, newest first, after the one with id `before` (keyset on `seq`). */
  async ofSeller(sellerId: string, limit: number, before?: string): Promise<SettlementRow[]> {
    return this.db
      .select()
      .from(settlements)
      .where(
        and(
          eq(settlements.sellerId, sellerId),
          before ? sql`${settlements.seq} < (select seq from settlements where id = ${before}::uuid and seller_id = ${sellerId}::uuid)` : undefined,
        ),
      )
      .orderBy(desc(settlements.seq))
      .limit(limit);
  }

  /** A settlement's lines in order id order, after `afterOrderId` (keyset: a page costs the same however deep). */
  async lines(settlementId: string, limit: number, afterOrderId?: string): Promise<LineRow[]> {
    return this.db
      .select()
      .from(settlementLines)
      .where(and(eq(settlementLines.settlementId, settlementId), afterOrderId ? gt(settlementLines.orderId, afterOrderId) : undefined))
      .orderBy(asc(settlementLines.orderId))
      .limit(limit);
  }

  /** Live sales of a seller per performance and showtime, from the ledger, for entries that occurred in `[from, to)`. */
  async sales(sellerId: string, from: Date, to: Date): Promise<SalesRow[]> {
    const rows = await queryRows<Record<string, unknown>>(
      this.db,
      sql`select performance_id, (array_agg(performance_title))[1] as performance_title, schedule_id,
                 coalesce(sum(seats) filter (where kind = 'SALE'), 0) as sold,
                 coalesce(sum(seats) filter (where kind = 'REFUND'), 0) as refunded_tickets,
                 coalesce(sum(list_total) filter (where kind = 'SALE'), 0) as gross,
                 coalesce(sum(list_total - seller_discount) filter (where kind = 'REFUND'), 0) as refunded,
                 coalesce(sum(seller_discount) filter (where kind = 'SALE'), 0) as discounts_seller_funded
          from settlement_ledger
          where seller_id = ${sellerId}::uuid and occurred_at >= ${iso(from)} and occurred_at < ${iso(to)}
          group by performance_id, schedule_id
          order by performance_id, schedule_id`,
    );
    return rows.map((r) => ({
      performanceId: String(r.performance_id),
      performanceTitle: String(r.performance_title),
      scheduleId: String(r.schedule_id),
      sold: Number(r.sold),
      refundedTickets: Number(r.refunded_tickets),
      gross: Number(r.gross),
      refunded: Number(r.refunded),
      discountsSellerFunded: Number(r.discounts_seller_funded),
    }));
  }

  /** Counts and sums (KRW charged, KRW refunded) of the ledger's entries that occurred in `[from, to)`. */
  async figures(from: Date, to: Date): Promise<LedgerFigures> {
    const [r] = await queryRows<Record<string, unknown>>(
      this.db,
      sql`select count(*) filter (where kind = 'SALE') as sales, coalesce(sum(charged) filter (where kind = 'SALE'), 0) as sales_amount,
                 count(*) filter (where kind = 'REFUND') as refunds, coalesce(sum(charged) filter (where kind = 'REFUND'), 0) as refunds_amount
          from settlement_ledger where occurred_at >= ${iso(from)} and occurred_at < ${iso(to)}`,
    );
    return {
      sales: { count: Number(r?.sales ?? 0), amount: Number(r?.sales_amount ?? 0) },
      refunds: { count: Number(r?.refunds ?? 0), amount: Number(r?.refunds_amount ?? 0) },
    };
  }
}
