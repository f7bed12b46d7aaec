/**
 * Coupons as data — FIXED and PERCENT, with and without a cap, grade-scoped or not — turned into
 * the optimizer's callbacks: shared by the best-coupon property tests
 * (src/modules/coupons/best-coupon.test.ts) and the optimizer's timing in bench/coupons.ts.
 */
import fc from 'fast-check';
import type { CandidateCoupon, SeatLine } from '../../src/modules/coupons/index.js';

export const GRADES = ['R', 'S', 'A'] as const;

export type Spec =
  | { kind: 'TICKET_FIXED'; amount: number; grade: string | null; capped: boolean; expiresAt: number }
  | { kind: 'TICKET_PERCENT'; percent: number; max: number | null; grade: string | null; expiresAt: number }
  | { kind: 'ORDER_FIXED'; amount: number; grade: string | null; minSpend: number; expiresAt: number }
  | { kind: 'ORDER_PERCENT'; percent: number; max: number | null; grade: string | null; expiresAt: number };

const inScope = (grade: string | null, seat: SeatLine) => grade === null || seat.grade === grade;

export function toCoupon(spec: Spec, id: string): CandidateCoupon {
  switch (spec.kind) {
    case 'TICKET_FIXED':
      return {
        id,
        appliesTo: 'TICKET',
        expiresAt: spec.expiresAt,
        // `capped: false` returns more than the price, which the rules clamp.
        ticketDiscount: (seat) => (inScope(spec.grade, seat) ? (spec.capped ? Math.min(spec.amount, seat.price) : spec.amount) : 0),
      };
    case 'TICKET_PERCENT':
      return {
        id,
        appliesTo: 'TICKET',
        expiresAt: spec.expiresAt,
        // Fractional on purpose: the rules floor it.
        ticketDiscount: (seat) => {
          if (!inScope(spec.grade, seat)) return 0;
          const raw = (seat.price * spec.percent) / 100;
          return spec.max === null ? raw : Math.min(raw, spec.max);
        },
      };
    case 'ORDER_FIXED':
      return {
        id,
        appliesTo: 'ORDER',
        expiresAt: spec.expiresAt,
        ...(spec.grade === null ? {} : { eligible: (seat: SeatLine) => seat.grade === spec.grade }),
        orderDiscount: (subtotal) => (subtotal >= spec.minSpend ? spec.amount : 0),
      };
    case 'ORDER_PERCENT':
      return {
        id,
        appliesTo: 'ORDER',
        expiresAt: spec.expiresAt,
        eligible: (seat) => inScope(spec.grade, seat),
        orderDiscount: (subtotal) => {
          const raw = (subtotal * spec.percent) / 100;
          return spec.max === null ? raw : Math.min(raw, spec.max);
        },
      };
  }
}

export const gradeArb = fc.constantFrom(...GRADES);
const scopeArb = fc.option(gradeArb, { nil: null });
const amountArb = fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(0, 1, 1_000, 5_000, 10_000, 50_000));
const percentArb = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constantFrom(5, 10, 33, 50, 100));
const maxArb = fc.option(amountArb, { nil: null });
const expiryArb = fc.integer({ min: 0, max: 5 }); // small range: plenty of ties

export const specArb: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({ kind: fc.constant('TICKET_FIXED' as const), amount: amountArb, grade: scopeArb, capped: fc.boolean(), expiresAt: expiryArb }),
  fc.record({ kind: fc.constant('TICKET_PERCENT' as const), percent: percentArb, max: maxArb, grade: scopeArb, expiresAt: expiryArb }),
  fc.record({
    kind: fc.constant('ORDER_FIXED' as const),
    amount: amountArb,
    grade: scopeArb,
    minSpend: fc.constantFrom(0, 0, 50_000, 150_000),
    expiresAt: expiryArb,
  }),
  fc.record({ kind: fc.constant('ORDER_PERCENT' as const), percent: percentArb, max: maxArb, grade: scopeArb, expiresAt: expiryArb }),
);

/**
 * The optimizer's sizing case: 10 seats and 100 mixed coupons with distinct expiries, always the
 * same ones (fixed seeds).
 */
export function optimizerWorkload(): { seats: SeatLine[]; coupons: CandidateCoupon[] } {
  const [seats] = fc.sample(fc.array(fc.record({ grade: gradeArb, price: fc.integer({ min: 10_000, max: 200_000 }) }), { minLength: 10, maxLength: 10 }), {
    numRuns: 1,
    seed: 20_240_601,
  });
  const specs = fc.sample(specArb, { numRuns: 100, seed: 42 });
  return {
    seats: seats!.map((s, i): SeatLine => ({ seatId: `seat-${i}`, ...s })),
    coupons: specs.map((s, i) => toCoupon({ ...s, expiresAt: 1_700_000_000_000 + i * 3_600_000 }, `c${i}`)),
  };
}
