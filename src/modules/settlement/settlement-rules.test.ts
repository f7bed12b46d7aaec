import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dayContaining, previousDay } from './settlement-calendar.js';
import { csvField, csvRecord } from './settlement-csv.js';
import { type Entry, fee, lineOf, type Rates, ratePpm, refundFees, runPeriod, saleFees, type SellerSettlement, settle } from './settlement-rules.js';

const DAY = 86_400_000;

describe('fees', () => {
  it('rounds half up to the won, once per entry', () => {
    expect(fee(10_000, ratePpm(0.035))).toBe(350);
    expect(fee(15, ratePpm(0.1))).toBe(2); // 1.5 → 2
    expect(fee(14, ratePpm(0.1))).toBe(1); // 1.4 → 1
    expect(fee(0, ratePpm(0.5))).toBe(0);
    expect(ratePpm(0.0275)).toBe(27_500);
  });

  it('is the exact product rounded half up, for every base and rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_000_000_000 }), fc.integer({ min: 0, max: 1_000_000 }), (base, ppm) => {
        const f = fee(base, ppm);
        const exact = BigInt(base) * BigInt(ppm);
        // f − ½ ≤ exact / 10⁶ < f + ½
        expect(BigInt(f) * 1_000_000n - 500_000n <= exact).toBe(true);
        expect(exact < BigInt(f) * 1_000_000n + 500_000n).toBe(true);
      }),
    );
  });

  it('reverses on refund exactly what the sale booked; the PG fee only if refundable', () => {
    const booked = saleFees(
      { listTotal: 100_000, sellerDiscount: 10_000, platformDiscount: 5_000, charged: 85_000 },
      { platformFeePpm: 100_000, pgFeePpm: 33_000 },
    );
    expect(booked).toEqual({ platformFee: 9_000, pgFee: 2_805 });
    expect(refundFees(booked, false)).toEqual({ platformFee: 9_000, pgFee: 0 });
    expect(refundFees(booked, true)).toEqual(booked);
  });
});

describe('a line and a settlement', () => {
  const rates = { platformFeePpm: 100_000, pgFeePpm: 30_000 };
  const figures = { listTotal: 100_000, sellerDiscount: 10_000, platformDiscount: 5_000, charged: 85_000 };
  const sale: Entry = { id: 's', kind: 'SALE', sellerId: 'x', orderId: 'o', occurredAt: 0, seats: 2, ...figures, ...saleFees(figures, rates) };
  const refund: Entry = { ...sale, id: 'r', kind: 'REFUND', ...refundFees(saleFees(figures, rates), false) };

  it('a sale: the seller earns list − seller discount − fees; the platform-funded discount is not the seller cost', () => {
    expect(lineOf('o', [sale])).toMatchObject({
      gross: 100_000,
      sellerDiscount: 10_000,
      platformDiscount: 5_000,
      platformFee: 9_000,
      pgFee: 2_550,
      refunds: 0,
      net: 78_450,
    });
  });

  it('a sale and its refund in one period net on one line: the seller bears the PG fee the PG keeps', () => {
    expect(lineOf('o', [sale, refund])).toMatchObject({ gross: 100_000, refunds: 90_000, platformFee: 0, pgFee: 2_550, net: -2_550, seats: 0 });
  });

  it('a refund alone (its sale settled before) is a negative line; the deficit is carried, never paid negative', () => {
    const line = lineOf('o', [refund]);
    expect(line).toMatchObject({ gross: 0, refunds: 90_000, platformFee: -9_000, pgFee: 0, net: -81_000 });
    expect(settle([line], 0)).toMatchObject({ subtotal: -81_000, net: 0, carriedOut: 81_000 });
    expect(settle([lineOf('o2', [sale])], 81_000)).toMatchObject({ subtotal: 78_450, carriedIn: 81_000, net: 0, carriedOut: 2_550 });
    expect(settle([lineOf('o2', [sale])], 50_000)).toMatchObject({ net: 28_450, carriedOut: 0 });
  });
});

/** A random history: orders of a few sellers, some refunded (possibly in a later period), events arriving late. */
const history = fc
  .record({
    rates: fc.record({ platformFeePpm: fc.integer({ min: 0, max: 300_000 }), pgFeePpm: fc.integer({ min: 0, max: 50_000 }), pgFeeRefundable: fc.boolean() }),
    periods: fc.integer({ min: 1, max: 6 }),
    orders: fc.array(
      fc.record({
        seller: fc.constantFrom('a', 'b', 'c'),
        listTotal: fc.integer({ min: 0, max: 2_000_000 }),
        sellerShare: fc.double({ min: 0, max: 1, noNaN: true }),
        platformShare: fc.double({ min: 0, max: 1, noNaN: true }),
        seats: fc.integer({ min: 1, max: 4 }),
        soldAt: fc.integer({ min: 0, max: 6 * DAY - 1 }),
        refundAfter: fc.option(fc.integer({ min: 0, max: 3 * DAY }), { nil: undefined }),
        saleLag: fc.integer({ min: 0, max: DAY }),
        refundLag: fc.integer({ min: 0, max: DAY }),
      }),
      { maxLength: 40 },
    ),
  })
  .map(({ rates, periods, orders }) => {
    const entries: (Entry & { arrivesAt: number })[] = [];
    orders.forEach((o, i) => {
      const sellerDiscount = Math.floor(o.listTotal * o.sellerShare);
      const platformDiscount = Math.floor((o.listTotal - sellerDiscount) * o.platformShare);
      const figures = { listTotal: o.listTotal, sellerDiscount, platformDiscount, charged: o.listTotal - sellerDiscount - platformDiscount };
      const booked = saleFees(figures, rates);
      const base = { sellerId: o.seller, orderId: `o${i}`, seats: o.seats, ...figures };
      entries.push({ ...base, id: `s${i}`, kind: 'SALE', occurredAt: o.soldAt, arrivesAt: o.soldAt + o.saleLag, ...booked });
      if (o.refundAfter !== undefined) {
        const at = o.soldAt + o.refundAfter;
        entries.push({ ...base, id: `r${i}`, kind: 'REFUND', occurredAt: at, arrivesAt: at + o.refundLag, ...refundFees(booked, rates.pgFeeRefundable) });
      }
    });
    return { rates: rates as Rates, periods, entries };
  });

/** Runs day after day (each an hour after the day closed, with what has arrived by then), then one last run that takes everything. */
function simulate(entries: readonly (Entry & { arrivesAt: number })[], periods: number) {
  const carried = new Map<string, number>();
  let pending: (Entry & { arrivesAt: number })[] = [];
  let notYet = [...entries];
  const runs: SellerSettlement[][] = [];
  for (let k = 1; k <= periods + 1; k++) {
    const end = k <= periods ? k * DAY : Number.MAX_SAFE_INTEGER;
    const runAt = end === Number.MAX_SAFE_INTEGER ? end : end + 3_600_000;
    pending = [...pending, ...notYet.filter((e) => e.arrivesAt <= runAt)];
    notYet = notYet.filter((e) => e.arrivesAt > runAt);
    const { settlements, left } = runPeriod(pending, end, carried);
    pending = left as typeof pending;
    runs.push(settlements);
  }
  return { runs, carried, pending };
}

describe('settlement over random histories (property)', () => {
  it('balances every settlement to the won: totals are the sums of the lines, gross − discounts − fees − refunds − carried in + carried out = net ≥ 0', () => {
    fc.assert(
      fc.property(history, ({ entries, periods }) => {
        for (const s of simulate(entries, periods).runs.flat()) {
          const sum = (pick: (l: SellerSettlement['lines'][number]) => number) => s.lines.reduce((n, l) => n + pick(l), 0);
          expect([s.gross, s.refunds, s.sellerDiscounts, s.platformFee, s.pgFee, s.subtotal]).toEqual([
            sum((l) => l.gross),
            sum((l) => l.refunds),
            sum((l) => l.sellerDiscount),
            sum((l) => l.platformFee),
            sum((l) => l.pgFee),
            sum((l) => l.net),
          ]);
          for (const l of s.lines) expect(l.gross - l.sellerDiscount - l.platformFee - l.pgFee - l.refunds).toBe(l.net);
          expect(s.gross - s.sellerDiscounts - s.platformFee - s.pgFee - s.refunds - s.carriedIn + s.carriedOut).toBe(s.net);
          expect(s.net).toBeGreaterThanOrEqual(0);
          expect(s.carriedOut).toBeGreaterThanOrEqual(0);
          expect(s.net === 0 || s.carriedOut === 0).toBe(true);
          for (const v of [s.net, s.subtotal, s.platformFee, s.pgFee]) expect(Number.isSafeInteger(v)).toBe(true);
        }
      }),
    );
  });

  it('settles every entry exactly once, late ones included, and a refund never before its sale', () => {
    fc.assert(
      fc.property(history, ({ entries, periods }) => {
        const { runs, pending } = simulate(entries, periods);
        expect(pending).toEqual([]);
        const lines = runs.flat().flatMap((s) => s.lines);
        expect(lines.filter((l) => l.sold)).toHaveLength(entries.filter((e) => e.kind === 'SALE').length);
        expect(lines.filter((l) => l.refunded)).toHaveLength(entries.filter((e) => e.kind === 'REFUND').length);
      }),
    );
  });

  it('carries deficits across consecutive periods so that what is paid adds up: Σ net = Σ entry nets + the deficit still carried', () => {
    fc.assert(
      fc.property(history, ({ entries, periods }) => {
        const { runs, carried } = simulate(entries, periods);
        for (const seller of ['a', 'b', 'c']) {
          const mine = runs.flat().filter((s) => s.sellerId === seller);
          const paid = mine.reduce((n, s) => n + s.net, 0);
          const earned = entries
            .filter((e) => e.sellerId === seller)
            .reduce(
              (n, e) =>
                n +
                (e.kind === 'SALE' ? e.listTotal - e.sellerDiscount - e.platformFee - e.pgFee : -(e.listTotal - e.sellerDiscount - e.platformFee - e.pgFee)),
              0,
            );
          // A deficit still carried is what was paid out beyond what was earned (it is owed back by the next settlements).
          expect(paid).toBe(earned + (carried.get(seller) ?? 0));
          // Each settlement carries in what the seller's previous one carried out.
          mine.forEach((s, i) => expect(s.carriedIn).toBe(i === 0 ? 0 : mine[i - 1]!.carriedOut));
        }
      }),
    );
  });

  it('is a function of what is pending: running the same inputs again gives the same settlements', () => {
    fc.assert(
      fc.property(history, ({ entries, periods }) => {
        expect(simulate(entries, periods)).toEqual(simulate(entries, periods));
      }),
    );
  });
});

describe('calendar days in SETTLEMENT_TIMEZONE', () => {
  const kst = (iso: string) => new Date(`${iso}+09:00`);

  it('puts 23:59:59.999 KST in that day and 00:00:00.000 KST in the next', () => {
    const day = dayContaining(kst('2026-03-01T12:00:00'), 'Asia/Seoul');
    expect(day).toEqual({ start: kst('2026-03-01T00:00:00'), end: kst('2026-03-02T00:00:00') });
    expect(dayContaining(kst('2026-03-01T23:59:59.999'), 'Asia/Seoul').start).toEqual(kst('2026-03-01T00:00:00'));
    expect(dayContaining(kst('2026-03-02T00:00:00.000'), 'Asia/Seoul').start).toEqual(kst('2026-03-02T00:00:00'));
  });

  it('yesterday is the last closed day, whatever UTC says', () => {
    // 2026-03-02 00:30 KST is still 2026-03-01 in UTC.
    expect(previousDay(kst('2026-03-02T00:30:00'), 'Asia/Seoul')).toEqual({ start: kst('2026-03-01T00:00:00'), end: kst('2026-03-02T00:00:00') });
    expect(previousDay(kst('2026-03-01T23:59:59.999'), 'Asia/Seoul').end).toEqual(kst('2026-03-01T00:00:00'));
  });

  it('knows days of 23 and 25 hours where the zone has daylight saving', () => {
    const spring = dayContaining(new Date('2026-03-08T12:00:00Z'), 'America/New_York');
    expect(spring.end.getTime() - spring.start.getTime()).toBe(23 * 3_600_000);
    const autumn = dayContaining(new Date('2026-11-01T12:00:00Z'), 'America/New_York');
    expect(autumn.end.getTime() - autumn.start.getTime()).toBe(25 * 3_600_000);
  });
});

describe('CSV (RFC 4180)', () => {
  it('quotes fields with commas, quotes and line breaks, doubling the quotes; CRLF ends a record', () => {
    expect(csvRecord(['plain', '콘서트, 서울', 'say "hi"', 'two\nlines', 'cr\rhere', 12, null])).toBe(
      'plain,"콘서트, 서울","say ""hi""","two\nlines","cr\rhere",12,\r\n',
    );
    expect(csvField('')).toBe('');
  });
});
