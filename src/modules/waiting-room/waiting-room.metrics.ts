import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function createWaitingRoomMetrics(registry: Registry) {
  return {
    waiting: new Gauge({
      name: 'mos_waiting_room_waiting',
      help: 'Buyers waiting (queue and pre-queue) per showtime',
      labelNames: ['schedule'] as const,
      registers: [registry],
    }),
    active: new Gauge({
      name: 'mos_waiting_room_active',
      help: 'Admitted buyers in the active set per showtime',
      labelNames: ['schedule'] as const,
      registers: [registry],
    }),
    admitted: new Counter({ name: 'mos_waiting_room_admitted_total', help: 'Buyers admitted', labelNames: ['schedule'] as const, registers: [registry] }),
    dropped: new Counter({
      name: 'mos_waiting_room_dropped_total',
      help: 'Buyers dropped: admission expired, or stopped polling while waiting',
      labelNames: ['schedule', 'reason'] as const,
      registers: [registry],
    }),
    staleTicks: new Counter({ name: 'mos_waiting_room_stale_ticks_total', help: 'Ticks refused because a newer leader had ticked', registers: [registry] }),
    tickDuration: new Histogram({
      name: 'mos_waiting_room_tick_seconds',
      help: 'Duration of one admission tick over every room',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}

export type WaitingRoomMetrics = ReturnType<typeof createWaitingRoomMetrics>;
