import { Counter, type Registry } from 'prom-client';

export function createCouponMetrics(registry: Registry) {
  return {
    claims: new Counter({ name: 'mos_coupon_claims_total', help: 'Coupon claims by answer', labelNames: ['answer'] as const, registers: [registry] }),
    persisted: new Counter({ name: 'mos_coupon_events_persisted_total', help: 'Issued coupons written to wallets by the consumer', registers: [registry] }),
    deadLettered: new Counter({
      name: 'mos_coupon_events_dead_lettered_total',
      help: 'Issue events moved to the dead-letter stream after too many failed attempts',
      registers: [registry],
    }),
    failed: new Counter({
      name: 'mos_coupon_events_failed_total',
      help: 'Attempts to persist an issue event that failed (retried later)',
      registers: [registry],
    }),
    hotStateLost: new Counter({
      name: 'mos_coupon_hot_state_lost_total',
      help: 'Campaigns whose hot state (stock, buyers, unconsumed issue events) was found lost and frozen until reconciled; alert on any increase',
      registers: [registry],
    }),
    hotStateRebuilt: new Counter({
      name: 'mos_coupon_hot_state_rebuilt_total',
      help: 'Campaign hot states rebuilt from the wallet, by reason (sealed, sold-out: automatic and safe; reconciled: by an operator)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}

export type CouponMetrics = ReturnType<typeof createCouponMetrics>;
