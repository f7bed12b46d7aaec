import type { TSchema } from '@sinclair/typebox';
import type { FieldError } from '../../../platform/http/errors.js';

export type AppliesTo = 'ORDER' | 'TICKET';

/**
 * A coupon kind: one file each, listed in `index.ts`. Adding a kind touches nothing else:
 * campaign validation, the OpenAPI document and the optimizer all read the registry.
 */
export interface CouponKind<P = Record<string, unknown>> {
  readonly name: string;
  /** JSON schema of the kind's `params` (validated at campaign creation, published in OpenAPI). */
  readonly params: TSchema;
  /** Which targets the kind can discount. */
  readonly appliesTo: readonly AppliesTo[];
  /** Rules the schema cannot express; paths relative to `params`. */
  validate?(params: P): FieldError[];
  /**
   * The discount on `base` — the eligible order subtotal for ORDER coupons, the seat's price for
   * TICKET coupons (then `seat` is given). 0 = does not apply. The caller caps it at `base`.
   */
  discount(params: P, base: number, seat?: { grade: string }): number;
}

export const defineKind = <P>(kind: CouponKind<P>): CouponKind<P> => kind;
