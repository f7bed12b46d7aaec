import { Counter, type Registry } from 'prom-client';

export function createBookingMetrics(registry: Registry) {
  return {
    holds: new Counter({
      name: 'mos_seat_holds_total',
      help: 'Seat hold requests by outcome: placed, unavailable, limit, sale_closed, sale_not_open',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    ordersCreated: new Counter({ name: 'mos_orders_created_total', help: 'Orders placed (PENDING_PAYMENT)', registers: [registry] }),
    ordersEnded: new Counter({
      name: 'mos_orders_ended_total',
      help: 'Pending orders that ended without payment, by how: expired, cancelled',
      labelNames: ['how'] as const,
      registers: [registry],
    }),
    ordersPaid: new Counter({ name: 'mos_orders_paid_total', help: 'Orders paid (the paying statement committed)', registers: [registry] }),
    ordersRefunded: new Counter({
      name: 'mos_orders_refunded_total',
      help: 'Paid orders refunded (the refunding transaction committed)',
      registers: [registry],
    }),
    holdStoreLoads: new Counter({
      name: 'mos_seat_hold_store_loads_total',
      help: 'Showtimes whose hold state was (re)built from PostgreSQL: first use, or after the hot state was lost',
      registers: [registry],
    }),
  };
}

export type BookingMetrics = ReturnType<typeof createBookingMetrics>;
