import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gradeArb, optimizerWorkload, specArb, toCoupon } from '../../../test/support/coupon-specs.js';
import { bestCoupons, type Assignment, type CandidateCoupon, type SeatLine } from './best-coupon.js';

const priceArb = fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(0, 1, 7, 1_000, 50_000, 70_000));
const seatsArb = (maxSeats: number) =>
  fc
    .array(fc.record({ grade: gradeArb, price: priceArb }), { minLength: 0, maxLength: maxSeats })
    .map((list) => list.map((s, i): SeatLine => ({ seatId: `seat-${i}`, ...s })));
const couponsArb = (maxCoupons: number) => fc.array(specArb, { maxLength: maxCoupons }).map((specs) => specs.map((s, i) => toCoupon(s, `c${i}`)));
const caseArb = (maxSeats: number, maxCoupons: number) => fc.record({ seats: seatsArb(maxSeats), coupons: couponsArb(maxCoupons) });

// ---------------------------------------------------------------------------------------------
// Reference: the rules, written out independently and naively.
// ---------------------------------------------------------------------------------------------

const clamp = (x: number, hi: number) => Math.min(hi, Math.max(0, Number.isNaN(Math.floor(x)) ? 0 : Math.floor(x)));

function refTicket(c: CandidateCoupon, seat: SeatLine): number {
  return c.ticketDiscount ? clamp(c.ticketDiscount(seat), seat.price) : 0;
}

/** Largest-remainder shares of an ORDER coupon (all zero when it gives nothing). */
function refShares(c: CandidateCoupon, seats: readonly SeatLine[]): number[] {
  const eligible = seats.map((s) => (c.eligible ? c.eligible(s) : true));
  const E = seats.reduce((sum, s, i) => sum + (eligible[i] ? s.price : 0), 0);
  const F = c.orderDiscount ? clamp(c.orderDiscount(E), E) : 0;
  if (F === 0) return seats.map(() => 0);
  // Test prices keep F·price far below 2^53.
  const exact = seats.map((s, i) => (eligible[i] ? F * s.price : 0));
  const shares = exact.map((x) => Math.floor(x / E));
  const left = F - shares.reduce((a, b) => a + b, 0);
  const ranked = exact
    .map((x, i) => ({ i, rem: x % E }))
    .sort((a, b) => b.rem - a.rem || a.i - b.i)
    .slice(0, left);
  for (const { i } of ranked) shares[i]! += 1;
  return shares;
}

interface RefResult {
  total: number;
  items: number[];
  orderDiscount: number;
}

/** Discounts under the rules for a fixed choice: ORDER coupon (or null), ticket coupon per seat (or null). */
function refEvaluate(seats: readonly SeatLine[], order: CandidateCoupon | null, ticketPerSeat: readonly (CandidateCoupon | null)[]): RefResult {
  const shares = order ? refShares(order, seats) : seats.map(() => 0);
  let orderDiscount = 0;
  const items = seats.map((s, i) => {
    const tc = ticketPerSeat[i];
    const t = tc ? refTicket(tc, s) : 0;
    const d = Math.min(s.price, t + shares[i]!);
    orderDiscount += d - t;
    return d;
  });
  return { total: items.reduce((a, b) => a + b, 0), items, orderDiscount };
}

/** Every ≤1 ORDER coupon × every injective partial map seats → TICKET coupons; the maximum total. */
function bruteForceMax(seats: readonly SeatLine[], coupons: readonly CandidateCoupon[]): number {
  const orders = [null, ...coupons.filter((c) => c.appliesTo === 'ORDER')];
  const tickets = coupons.filter((c) => c.appliesTo === 'TICKET');
  let best = 0;
  const chosen: (CandidateCoupon | null)[] = seats.map(() => null);
  const used = new Set<CandidateCoupon>();
  const walk = (i: number, order: CandidateCoupon | null) => {
    if (i === seats.length) {
      best = Math.max(best, refEvaluate(seats, order, chosen).total);
      return;
    }
    chosen[i] = null;
    walk(i + 1, order);
    for (const tc of tickets) {
      if (used.has(tc)) continue;
      used.add(tc);
      chosen[i] = tc;
      walk(i + 1, order);
      used.delete(tc);
    }
    chosen[i] = null;
  };
  for (const o of orders) walk(0, o);
  return best;
}

/** Checks every structural promise of an Assignment and that it is what the rules give for its own choice. */
function expectConsistent(seats: readonly SeatLine[], coupons: readonly CandidateCoupon[], a: Assignment) {
  const byId = new Map(coupons.map((c) => [c.id, c]));
  expect(a.items.map((i) => i.seatId)).toEqual(seats.map((s) => s.seatId));
  a.items.forEach((item, i) => {
    expect(Number.isInteger(item.discount)).toBe(true);
    expect(item.discount).toBeGreaterThanOrEqual(0);
    expect(item.discount).toBeLessThanOrEqual(seats[i]!.price);
  });
  const subtotal = seats.reduce((sum, s) => sum + s.price, 0);
  expect(a.total).toBe(a.items.reduce((sum, i) => sum + i.discount, 0));
  expect(a.total).toBeLessThanOrEqual(subtotal);
  expect(a.coupons.reduce((sum, c) => sum + c.discount, 0)).toBe(a.total);
  expect(new Set(a.coupons.map((c) => c.id)).size).toBe(a.coupons.length);
  for (const line of a.coupons) expect(line.discount).toBeGreaterThan(0);

  const orderLines = a.coupons.filter((l) => byId.get(l.id)?.appliesTo === 'ORDER');
  const ticketLines = a.coupons.filter((l) => byId.get(l.id)?.appliesTo === 'TICKET');
  expect(orderLines.length + ticketLines.length).toBe(a.coupons.length); // every id is a real coupon
  expect(orderLines.length).toBeLessThanOrEqual(1);
  for (const l of orderLines) expect(l.seatId).toBeUndefined();
  const ticketSeats = ticketLines.map((l) => l.seatId);
  expect(new Set(ticketSeats).size).toBe(ticketSeats.length);
  for (const s of ticketSeats) expect(seats.some((seat) => seat.seatId === s)).toBe(true);

  // Re-derive the discounts from the chosen coupons with the reference rules.
  const order = orderLines[0] ? byId.get(orderLines[0].id)! : null;
  const ticketPerSeat = seats.map((s) => {
    const line = ticketLines.find((l) => l.seatId === s.seatId);
    return line ? byId.get(line.id)! : null;
  });
  const ref = refEvaluate(seats, order, ticketPerSeat);
  expect(a.items.map((i) => i.discount)).toEqual(ref.items);
  expect(a.total).toBe(ref.total);
  if (orderLines[0]) expect(orderLines[0].discount).toBe(ref.orderDiscount);
  else expect(ref.orderDiscount).toBe(0);
  for (const l of ticketLines) expect(l.discount).toBe(refTicket(byId.get(l.id)!, seats.find((s) => s.seatId === l.seatId)!));
}

// ---------------------------------------------------------------------------------------------

describe('bestCoupons — properties', () => {
  it('finds the exact maximum (brute force over every assignment, ≤ 4 seats, ≤ 5 coupons)', () => {
    fc.assert(
      fc.property(caseArb(4, 5), ({ seats, coupons }) => {
        const result = bestCoupons(seats, coupons);
        expect(result.total).toBe(bruteForceMax(seats, coupons));
        expectConsistent(seats, coupons, result);
      }),
      { numRuns: 1_000 },
    );
  });

  it('is never worse than any single applicable coupon used alone', () => {
    fc.assert(
      fc.property(caseArb(10, 30), ({ seats, coupons }) => {
        const { total } = bestCoupons(seats, coupons);
        for (const c of coupons) {
          const alone =
            c.appliesTo === 'ORDER'
              ? refEvaluate(
                  seats,
                  c,
                  seats.map(() => null),
                ).total
              : Math.max(
                  0,
                  ...seats.map(
                    (_, i) =>
                      refEvaluate(
                        seats,
                        null,
                        seats.map((__, k) => (k === i ? c : null)),
                      ).total,
                  ),
                );
          expect(total).toBeGreaterThanOrEqual(alone);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never discounts above the price and keeps the one-coupon rules (up to 10 seats, 40 coupons)', () => {
    fc.assert(
      fc.property(caseArb(10, 40), ({ seats, coupons }) => {
        expectConsistent(seats, coupons, bestCoupons(seats, coupons));
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on callbacks being called in any particular order or count', () => {
    // Same coupons, listed in reverse: the same best total.
    fc.assert(
      fc.property(caseArb(6, 12), ({ seats, coupons }) => {
        expect(bestCoupons(seats, [...coupons].reverse()).total).toBe(bestCoupons(seats, coupons).total);
      }),
      { numRuns: 200 },
    );
  });
});

describe('bestCoupons — examples', () => {
  const seat = (seatId: string, grade: string, price: number): SeatLine => ({ seatId, grade, price });
  const fixedOrder = (id: string, amount: number, expiresAt: number): CandidateCoupon => ({ id, appliesTo: 'ORDER', expiresAt, orderDiscount: () => amount });
  const fixedTicket = (id: string, amount: number, expiresAt: number, grade?: string): CandidateCoupon => ({
    id,
    appliesTo: 'TICKET',
    expiresAt,
    ticketDiscount: (s) => (grade === undefined || s.grade === grade ? Math.min(amount, s.price) : 0),
  });

  it('no coupons → nothing off', () => {
    const seats = [seat('a', 'R', 150_000), seat('b', 'S', 90_000)];
    expect(bestCoupons(seats, [])).toEqual({
      total: 0,
      items: [
        { seatId: 'a', discount: 0 },
        { seatId: 'b', discount: 0 },
      ],
      coupons: [],
    });
    expect(bestCoupons([], [fixedOrder('o', 5_000, 1)])).toEqual({ total: 0, items: [], coupons: [] });
  });

  it('is exact where greedy is not: a 50% ORDER coupon on R seats and a TICKET coupon worth 100 on R or 90 on S', () => {
    const seats = [seat('r1', 'R', 150), seat('s1', 'S', 100)];
    const coupons: CandidateCoupon[] = [
      {
        id: 'ticket',
        appliesTo: 'TICKET',
        expiresAt: 1,
        ticketDiscount: (s) => (s.grade === 'R' ? 100 : s.grade === 'S' ? 90 : 0),
      },
      { id: 'half-R', appliesTo: 'ORDER', expiresAt: 1, eligible: (s) => s.grade === 'R', orderDiscount: (sub) => sub * 0.5 },
    ];
    // Greedy (biggest ticket discount first: 100 on R, then 50% of R = 75) gives min(150, 175) = 150.
    // The rules give 165: the ORDER coupon takes 75 off R, the TICKET coupon 90 off S.
    expect(bestCoupons(seats, coupons)).toEqual({
      total: 165,
      items: [
        { seatId: 'r1', discount: 75 },
        { seatId: 's1', discount: 90 },
      ],
      coupons: [
        { id: 'half-R', discount: 75 },
        { id: 'ticket', discount: 90, seatId: 's1' },
      ],
    });
    expect(bruteForceMax(seats, coupons)).toBe(165);
  });

  it('a larger ORDER discount on the same seats can be worth less (largest-remainder Alabama paradox)', () => {
    // 1,130 over 50k/70k/70k splits 298/416/416; 1,131 splits 297/417/417. With both S seats
    // already free through TICKET coupons, only the R seat's share counts: the smaller coupon wins.
    const seats = [seat('r', 'R', 50_000), seat('s1', 'S', 70_000), seat('s2', 'S', 70_000)];
    const coupons = [
      fixedOrder('o-1131', 1_131, 1),
      fixedOrder('o-1130', 1_130, 2),
      fixedTicket('free-s-1', 70_000, 1, 'S'),
      fixedTicket('free-s-2', 70_000, 1, 'S'),
    ];
    const result = bestCoupons(seats, coupons);
    expect(result.total).toBe(140_298);
    expect(result.total).toBe(bruteForceMax(seats, coupons));
    expect(result.coupons.map((c) => c.id)).toEqual(['o-1130', 'free-s-1', 'free-s-2']);
    expectConsistent(seats, coupons, result);
  });

  it('ties go to the earlier-expiring ORDER coupon', () => {
    const seats = [seat('a', 'R', 100_000), seat('b', 'R', 100_000)];
    const later = fixedOrder('later', 10_000, 2_000);
    const sooner = fixedOrder('sooner', 10_000, 1_000);
    for (const coupons of [
      [later, sooner],
      [sooner, later],
    ]) {
      const result = bestCoupons(seats, coupons);
      expect(result.total).toBe(10_000);
      expect(result.coupons).toEqual([{ id: 'sooner', discount: 10_000 }]);
    }
    // Different scopes, same total (10,000 either way): still the sooner one.
    const mixed = [seat('a', 'R', 100_000), seat('b', 'S', 100_000)];
    const allSeats = fixedOrder('all-seats-later', 10_000, 2_000);
    const rOnly: CandidateCoupon = { id: 'r-only-sooner', appliesTo: 'ORDER', expiresAt: 1_000, eligible: (s) => s.grade === 'R', orderDiscount: () => 10_000 };
    expect(bestCoupons(mixed, [allSeats, rOnly]).coupons).toEqual([{ id: 'r-only-sooner', discount: 10_000 }]);
  });

  it('ties go to the earlier-expiring TICKET coupon', () => {
    const seats = [seat('a', 'R', 100_000)];
    const later = fixedTicket('later', 5_000, 2_000);
    const sooner = fixedTicket('sooner', 5_000, 1_000);
    for (const coupons of [
      [later, sooner],
      [sooner, later],
    ]) {
      expect(bestCoupons(seats, coupons).coupons).toEqual([{ id: 'sooner', discount: 5_000, seatId: 'a' }]);
    }
    // Two seats, three equal coupons: the two that expire first are used.
    const two = [seat('a', 'R', 100_000), seat('b', 'R', 100_000)];
    const used = bestCoupons(two, [fixedTicket('t3', 5_000, 3), fixedTicket('t1', 5_000, 1), fixedTicket('t2', 5_000, 2)]).coupons.map((c) => c.id);
    expect(used.sort()).toEqual(['t1', 't2']);
  });

  it('the expiry tie-break never outweighs 1 KRW', () => {
    const seats = [seat('a', 'R', 100_000)];
    const result = bestCoupons(seats, [fixedTicket('sooner', 5_000, 1), fixedTicket('later-but-1-more', 5_001, 9)]);
    expect(result.coupons).toEqual([{ id: 'later-but-1-more', discount: 5_001, seatId: 'a' }]);
  });

  it('does not spend a coupon that would add nothing', () => {
    // The ORDER coupon already makes the seat free; the TICKET coupon stays unused.
    const seats = [seat('a', 'R', 10_000)];
    const result = bestCoupons(seats, [fixedTicket('t', 5_000, 1), { id: 'all', appliesTo: 'ORDER', expiresAt: 1, orderDiscount: (sub) => sub }]);
    expect(result).toEqual({ total: 10_000, items: [{ seatId: 'a', discount: 10_000 }], coupons: [{ id: 'all', discount: 10_000 }] });
  });

  it('caps a seat at its price when an ORDER share and a TICKET coupon overlap', () => {
    // Only seat, price 10,000: ticket 8,000 + order share 5,000 → 10,000; the ORDER coupon reports 2,000.
    const seats = [seat('a', 'R', 10_000)];
    const coupons = [fixedTicket('t', 8_000, 1), fixedOrder('o', 5_000, 1)];
    expect(bestCoupons(seats, coupons)).toEqual({
      total: 10_000,
      items: [{ seatId: 'a', discount: 10_000 }],
      coupons: [
        { id: 'o', discount: 2_000 },
        { id: 't', discount: 8_000, seatId: 'a' },
      ],
    });
  });

  it('decides 10 seats × 100 mixed coupons consistently (its time is measured by `npm run bench`)', () => {
    const { seats: seatLines, coupons } = optimizerWorkload();
    expect(coupons.filter((c) => c.appliesTo === 'ORDER').length).toBeGreaterThan(10);
    expect(coupons.filter((c) => c.appliesTo === 'TICKET').length).toBeGreaterThan(10);
    expectConsistent(seatLines, coupons, bestCoupons(seatLines, coupons));
  });
});
