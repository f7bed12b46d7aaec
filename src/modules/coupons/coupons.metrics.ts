import { Counter, type Registry } from 'prom-client';

export function createCouponMetrics(registry: Registry) {
  return {
    claims: new Counter({ name: 'mos_coupon_claims_total', help: 'Coupon claims by answer', labelNames: ['answer'] as const, registers: [registry] }),
    persisted: new Counter({ name: 'mos_coupon_events_persisted_total', help: 'Issued coupons written to wallets by the consumer', registers: [registry] }),
    deadLettered: new Counter({ name: 'mos_coupon_events_dead_lettered_total', help: 'Issue events moved to the dead-letter stream after too many failed attempts', registers: [registry] }),
    failed: new Counter({ name: 'mos_coupon_events_failed_total', help: 'Attempts to persist an issue event that failed (retried later)', registers: [registry] }),
  };
}

export type CouponMetrics = ReturnType<typeof createCouponMetrics>;
