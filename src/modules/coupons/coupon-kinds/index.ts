import { fixed } from './fixed.js';
import { gradeFixed } from './grade-fixed.js';
import type { CouponKind } from './kind.js';
import { percent } from './percent.js';

export type { AppliesTo, CouponKind } from './kind.js';

/** The registry: one line per kind. */
export const couponKinds: readonly CouponKind<never>[] = [fixed, percent, gradeFixed] as readonly CouponKind<never>[];

const byName = new Map(couponKinds.map((k) => [k.name, k as unknown as CouponKind]));

export function couponKind(name: string): CouponKind | undefined {
  return byName.get(name);
}
