import { Counter, type Registry } from 'prom-client';

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
      help: 'Payments of open outcome the reconciliation resolved, by outcome: paid, rejected, cancelled',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}

export type PaymentsMetrics = ReturnType<typeof createPaymentsMetrics>;
