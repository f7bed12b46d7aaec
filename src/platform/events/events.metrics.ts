import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function createEventMetrics(registry: Registry, backlog: () => Promise<number>) {
  return {
    /**
     * Read from the database at scrape time, so any process reports the true backlog whether or
     * not it leads the relay. A failed read leaves the last value (and the readiness check
     * reports the database).
     */
    backlog: new Gauge({
      name: 'mos_outbox_backlog',
      help: 'Outbox events not yet published by the relay',
      registers: [registry],
      async collect() {
        try {
          this.set(await backlog());
        } catch {
          // keep the last value
        }
      },
    }),
    relayLag: new Histogram({
      name: 'mos_outbox_relay_lag_seconds',
      help: 'Time from an event occurring to the relay publishing it',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    relayFailures: new Counter({
      name: 'mos_outbox_relay_failures_total',
      help: 'Outbox relay runs that failed (PostgreSQL or the bus unavailable); the relay backs off while they fail',
      registers: [registry],
    }),
    published: new Counter({
      name: 'mos_events_published_total',
      help: 'Events the relay published to the bus, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    consumed: new Counter({
      name: 'mos_events_consumed_total',
      help: 'Events a consumer handled (a redelivery it had already handled is not counted), by consumer and type',
      labelNames: ['consumer', 'type'] as const,
      registers: [registry],
    }),
    failed: new Counter({
      name: 'mos_events_failed_total',
      help: 'Deliveries whose handler failed (the event is retried, then dead-lettered), by consumer',
      labelNames: ['consumer'] as const,
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'mos_events_dead_lettered_total',
      help: 'Events moved to the dead-letter stream after too many failed deliveries, by consumer',
      labelNames: ['consumer'] as const,
      registers: [registry],
    }),
  };
}

export type EventMetrics = ReturnType<typeof createEventMetrics>;
