import { Counter, Gauge, type Registry } from 'prom-client';

export function createPaymentsMetrics(registry: Registry) {
  return {
    confirms: new Counter({
      name: 'mos_payment_confirms_total',
      help: 'Payment confirms by outcome: paid, rejected, pending (202), unavailable, amount_mismatch, order_expired, refunded, refund_pending',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    reconciled: new Counter({
      name: 'mos_payments_reconciled_total',
      help: 'Payments of open outcome the reconciliation resolved, by outcome: paid, rejected, cancelled, refunded, refund_rejected',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    refunds: new Counter({
      name: 'mos_payment_refunds_total',
      help: 'Cancels of paid orders through the PG, by outcome: refunded, pending (202), rejected (the PG refused), unavailable (503), not_cancellable (the cutoff passed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    webhooks: new Counter({
      name: 'mos_payment_webhooks_total',
      help: 'PAYMENT_STATUS_CHANGED webhooks by outcome: paid, refunded, rejected, cancelled, unchanged, ignored (200), unavailable (503: the PG lookup had no answer)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    parked: new Gauge({
      name: 'mos_payments_parked',
      help: 'Payments open (UNKNOWN, CONFIRMING, REFUNDING) beyond PAYMENT_PARKED_ALERT_MINUTES, as the last reconciliation run on this process found them (up to 100)',
      registers: [registry],
    }),
  };
}

export type PaymentsMetrics = ReturnType<typeof createPaymentsMetrics>;
