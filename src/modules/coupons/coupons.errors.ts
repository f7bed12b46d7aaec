import { defineError } from '../../platform/http/errors.js';

export const CouponErrors = {
  SOLD_OUT: defineError('SOLD_OUT', 409, 'No coupons left in this campaign'),
  ALREADY_CLAIMED: defineError('ALREADY_CLAIMED', 409, 'You already hold as many coupons of this campaign as allowed'),
  CLAIM_NOT_OPEN: defineError('CLAIM_NOT_OPEN', 409, 'This campaign is not open for claims'),
  COUPON_NOT_APPLICABLE: defineError<{ couponIds: string[] }>('COUPON_NOT_APPLICABLE', 409, 'A coupon cannot be applied to this order'),
  /** Admin reconcile of a campaign whose hot state is live, or whose events are still being persisted. */
  NOT_RECONCILABLE: defineError('NOT_RECONCILABLE', 409, 'The campaign cannot be reconciled now'),
} as const;
