import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mode } from '../../src/config.js';
import { ManualClock } from '../../src/platform/clock.js';
import { queryRows } from '../../src/platform/db/client.js';
import { type EventEnvelope, newEvent } from '../../src/platform/events/envelope.js';
import { newId } from '../../src/platform/ids.js';
import { createTestEnv, type TestEnv } from '../support/harness.js';

/**
 * The ledger and the runs against the real database, in both modes: what the consumer books
 * from events (duplicated, out of order, at the day's last and first millisecond), and the
 * set-based run checked against a model of the rules over random histories (late events,
 * refunds in later periods, both kinds of discount funding, carried deficits, runs repeated).
 */

const DAY = 86_400_000;
const kst = (local: string) => new Date(`${local}+09:00`);
const RATES = { platform: 0.105, pg: 0.0275 };

interface Sale {
  orderId: string;
  sellerId: string;
  listTotal: number;
  sellerDiscount: number;
  platformDiscount: number;
  seats: number;
}

const performanceId = newId();
const scheduleId = newId();

function saleEvent(s: Sale, at: Date): EventEnvelope {
  const charged = s.listTotal - s.sellerDiscount - s.platformDiscount;
  return newEvent(
    'payment.completed',
    s.orderId,
    at,
    {
      paymentId: newId(),
      orderId: s.orderId,
      userId: newId(),
      scheduleId,
      seatIds: Array.from({ length: s.seats }, newId),
      couponIds: [],
      ticketIds: [],
      paymentKey: `pk-${s.orderId}`,
      amount: charged,
      method: '카드',
      approvedAt: at.toISOString(),
      listTotal: s.listTotal,
      sellerId: s.sellerId,
      performanceId,
      performanceTitle: '공연, "제목"',
      sellerDiscount: s.sellerDiscount,
      platformDiscount: s.platformDiscount,
    },
    2,
  );
}

function refundEvent(s: Sale, soldAt: Date, at: Date): EventEnvelope {
  const charged = s.listTotal - s.sellerDiscount - s.platformDiscount;
  return newEvent(
    'refund.completed',
    s.orderId,
    at,
    {
      paymentId: newId(),
      orderId: s.orderId,
      userId: newId(),
      scheduleId,
      seatIds: Array.from({ length: s.seats }, newId),
      ticketIds: [],
      couponIds: [],
      restoredCouponIds: [],
      paymentKey: `pk-${s.orderId}`,
      amount: charged,
      reason: 'test',
      refundedAt: at.toISOString(),
      listTotal: s.listTotal,
      chargedAmount: charged,
      approvedAt: soldAt.toISOString(),
      canceledAt: at.toISOString(),
      sellerId: s.sellerId,
      performanceId,
      performanceTitle: '공연, "제목"',
      sellerDiscount: s.sellerDiscount,
      platformDiscount: s.platformDiscount,
    },
    2,
  );
}

/** Fee as the rules state it: half up to the won. */
const fee = (base: number, rate: number) => Math.floor((base * Math.round(rate * 1e6)) / 1e6 + 0.5);

describe.each(['embedded', 'production'] as Mode[])('settlement ledger and runs (%s)', (mode) => {
  let t: TestEnv;
  const clock = new ManualClock(kst('2040-01-01T00:00:00'));
  beforeAll(async () => {
    t = await createTestEnv(mode, { PLATFORM_FEE_RATE: String(RATES.platform), PG_FEE_RATE: String(RATES.pg), PG_FEE_REFUNDABLE: 'true' }, { clock });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const service = () => t.ctx.settlement.service;
  const record = (event: EventEnvelope) => t.ctx.database.db.transaction((tx) => service().record(event, tx));
  const ledgerOf = (orderId: string) =>
    queryRows<{ kind: string; platform_fee: number; pg_fee: number }>(
      t.ctx.database.db,
      sql`select kind, platform_fee, pg_fee from settlement_ledger where order_id = ${orderId}::uuid order by kind`,
    );

  it('books a duplicated, re-sent or out-of-order event once: the refund gives back exactly what the sale booked', async () => {
    const sale: Sale = { orderId: newId(), sellerId: newId(), listTotal: 123_457, sellerDiscount: 3_000, platformDiscount: 2_000, seats: 2 };
    const soldAt = kst('2029-01-10T12:00:00');
    const refund = refundEvent(sale, soldAt, kst('2029-01-11T12:00:00'));
    const sold = saleEvent(sale, soldAt);
    await record(refund); // the refund first
    await record(sold);
    await record(sold); // the same event again
    await record({ ...sold, id: newId() }); // the same fact under another id
    await record({ ...refund, id: newId() });
    expect(await ledgerOf(sale.orderId)).toEqual([
      { kind: 'REFUND', platform_fee: fee(120_457, RATES.platform), pg_fee: fee(118_457, RATES.pg) },
      { kind: 'SALE', platform_fee: fee(120_457, RATES.platform), pg_fee: fee(118_457, RATES.pg) },
    ]);
    // Append-only: the database refuses to change or remove an entry.
    await expect(t.ctx.database.db.execute(sql`update settlement_ledger set list_total = 0 where order_id = ${sale.orderId}::uuid`)).rejects.toThrow();
    await expect(t.ctx.database.db.execute(sql`delete from settlement_ledger where order_id = ${sale.orderId}::uuid`)).rejects.toThrow();
    // A v1 event (no seller) is not booked: it throws, so the consumer retries and dead-letters it, alerted.
    await expect(record({ ...sold, id: newId(), version: 1 })).rejects.toThrow(/v2/);
  });

  it('puts a sale at 23:59:59.999 KST in that day and one at 00:00:00.000 KST in the next', async () => {
    const seller = newId();
    const a: Sale = { orderId: newId(), sellerId: seller, listTotal: 10_000, sellerDiscount: 0, platformDiscount: 0, seats: 1 };
    const b: Sale = { ...a, orderId: newId(), listTotal: 20_000 };
    await record(saleEvent(a, kst('2029-02-01T23:59:59.999')));
    await record(saleEvent(b, kst('2029-02-02T00:00:00.000')));
    const first = await service().run(kst('2029-02-01T00:00:00'), kst('2029-02-02T00:00:00'));
    expect(first.settlements.filter((s) => s.sellerId === seller)).toEqual([expect.objectContaining({ gross: 10_000, lineCount: 1 })]);
    const second = await service().run(kst('2029-02-02T00:00:00'), kst('2029-02-03T00:00:00'));
    expect(second.settlements.filter((s) => s.sellerId === seller)).toEqual([expect.objectContaining({ gross: 20_000, lineCount: 1 })]);
  });

  it('settles random histories as the rules say: sums to the won, net never negative, deficits carried, runs idempotent, every entry once', async () => {
    let base = kst('2029-06-01T00:00:00').getTime();
    const orders = fc.array(
      fc.record({
        seller: fc.integer({ min: 0, max: 2 }),
        listTotal: fc.integer({ min: 0, max: 500_000 }),
        sellerShare: fc.integer({ min: 0, max: 100 }),
        platformShare: fc.integer({ min: 0, max: 100 }),
        seats: fc.integer({ min: 1, max: 4 }),
        soldAt: fc.integer({ min: 0, max: 3 * DAY - 1 }),
        refundAfter: fc.option(fc.integer({ min: 0, max: 2 * DAY }), { nil: undefined }),
        saleLag: fc.integer({ min: 0, max: DAY / 2 }),
        refundLag: fc.integer({ min: 0, max: DAY / 2 }),
      }),
      { maxLength: 25 },
    );
    await fc.assert(
      fc.asyncProperty(orders, async (generated) => {
        const sellers = [newId(), newId(), newId()];
        const events: { event: EventEnvelope; arrives: number; occurs: number; sale: Sale; kind: 'SALE' | 'REFUND' }[] = [];
        for (const o of generated) {
          const sellerDiscount = Math.floor((o.listTotal * o.sellerShare) / 100);
          const platformDiscount = Math.floor(((o.listTotal - sellerDiscount) * o.platformShare) / 100);
          const sale: Sale = { orderId: newId(), sellerId: sellers[o.seller]!, listTotal: o.listTotal, sellerDiscount, platformDiscount, seats: o.seats };
          const soldAt = base + o.soldAt;
          events.push({ event: saleEvent(sale, new Date(soldAt)), arrives: soldAt + o.saleLag, occurs: soldAt, sale, kind: 'SALE' });
          if (o.refundAfter !== undefined) {
            const at = soldAt + o.refundAfter;
            events.push({ event: refundEvent(sale, new Date(soldAt), new Date(at)), arrives: at + o.refundLag, occurs: at, sale, kind: 'REFUND' });
          }
        }
        // The model: what each settlement must be, by seller and run.
        const carried = new Map<string, number>();
        const settledEntries = new Set<string>();
        let delivered = 0;
        const ordered = [...events].sort((x, y) => x.arrives - y.arrives);
        for (let k = 1; k <= 4; k++) {
          const end = base + k * DAY;
          const runAt = end + 3_600_000;
          // Everything that has arrived by the run (a duplicate of each now and then).
          while (delivered < ordered.length && (k === 4 || ordered[delivered]!.arrives <= runAt)) {
            const e = ordered[delivered++]!;
            await record(e.event);
            if (delivered % 3 === 0) await record(e.event);
          }
          const outcome = await service().run(new Date(end - DAY), new Date(k === 4 ? end + 10 * DAY : end));
          const taken = ordered.slice(0, delivered).filter((e) => !settledEntries.has(e.event.id) && e.occurs < (k === 4 ? end + 10 * DAY : end));
          for (const e of taken) settledEntries.add(e.event.id);
          for (const seller of sellers) {
            const mine = taken.filter((e) => e.sale.sellerId === seller);
            const got = outcome.settlements.filter((s) => s.sellerId === seller);
            if (!mine.length) {
              expect(got).toEqual([]);
              continue;
            }
            let subtotal = 0;
            let gross = 0;
            let refunds = 0;
            for (const e of mine) {
              const revenue = e.sale.listTotal - e.sale.sellerDiscount;
              const charged = revenue - e.sale.platformDiscount;
              const fees = fee(revenue, RATES.platform) + fee(charged, RATES.pg);
              if (e.kind === 'SALE') {
                gross += e.sale.listTotal;
                subtotal += revenue - fees;
              } else {
                refunds += revenue;
                subtotal -= revenue - fees; // PG_FEE_REFUNDABLE=true here: both fees come back
              }
            }
            const carriedIn = carried.get(seller) ?? 0;
            const net = Math.max(0, subtotal - carriedIn);
            const carriedOut = Math.max(0, carriedIn - subtotal);
            carried.set(seller, carriedOut);
            expect(got).toEqual([
              expect.objectContaining({ gross, refunds, subtotal, carriedIn, carriedOut, net, lineCount: new Set(mine.map((e) => e.sale.orderId)).size }),
            ]);
            const s = got[0]!;
            expect(s.gross - s.sellerDiscounts - s.platformFee - s.pgFee - s.refunds - s.carriedIn + s.carriedOut).toBe(s.net);
            const lines = await service().lines(s.id, 1000);
            expect(lines.reduce((n, l) => n + l.net, 0)).toBe(s.subtotal);
            expect(lines.reduce((n, l) => n + l.platformFee, 0)).toBe(s.platformFee);
          }
          // The same period again: the same settlements.
          expect(await service().run(new Date(end - DAY), new Date(k === 4 ? end + 10 * DAY : end))).toEqual({ ...outcome, created: false });
        }
        expect(settledEntries.size).toBe(events.length);
        base += 20 * DAY;
      }),
      { numRuns: mode === 'embedded' ? 12 : 20 },
    );
    const pending = await queryRows<{ n: number }>(t.ctx.database.db, sql`select count(*)::int as n from settlement_pending`);
    expect(pending[0]!.n).toBe(0);
  });
});
