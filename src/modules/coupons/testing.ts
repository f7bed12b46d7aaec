/**
 * What tests and the bench may reach inside the coupons module, and nothing else may: the claim
 * store and event log behind the service (to plant a campaign the database does not know, to
 * read a dead consumer's events, to count what is left).
 */
import type { CouponClaimStore, CouponEventLog } from './coupon-claims.store.js';

export const internals = Symbol('coupons internals');

export function couponStore(module: { [internals]: { store: CouponClaimStore & CouponEventLog } }): CouponClaimStore & CouponEventLog {
  return module[internals].store;
}
