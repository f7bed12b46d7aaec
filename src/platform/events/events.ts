import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import type { Alerts } from '../observability/alerts.js';
import type { EventBus } from './bus.js';
import { EventConsumer, type ConsumerSettings, type EventHandlerSpec } from './consumer.js';
import { createEventMetrics } from './events.metrics.js';
import { outboxBacklog } from './outbox.js';
import { OutboxPurge, type PurgeSettings } from './purge.js';
import { OutboxRelay, type RelaySettings } from './relay.js';

export interface EventsDeps {
  db: Db;
  bus: EventBus;
  clock: Clock;
  registry: Registry;
  logger: Logger;
  relay: RelaySettings;
  purge: PurgeSettings;
  consumer: ConsumerSettings;
  /** Told of dead-lettered events; absent = they are only logged and counted. */
  alerts?: Alerts;
}

/**
 * The event platform of one process: the bus the composition root chose, the relay and purge
 * jobs (for the job runner: one leader each), and `consume`, by which a module registers a handler; every
 * registered consumer runs in every worker as one group per handler.
 */
export function createEvents(deps: EventsDeps) {
  const metrics = createEventMetrics(deps.registry, () => outboxBacklog(deps.db));
  const relay = new OutboxRelay(deps.db, deps.bus, deps.clock, metrics, deps.relay, deps.logger.child({ job: 'events.relay' }));
  const purge = new OutboxPurge(deps.db, deps.clock, deps.purge, deps.logger.child({ job: 'events.purge' }));
  const consumers: EventConsumer[] = [];
  return {
    bus: deps.bus,
    metrics,
    relay,
    purge,
    consume(spec: EventHandlerSpec): EventConsumer {
      if (consumers.some((c) => c.name === spec.name)) throw new Error(`an event consumer named ${spec.name} is registered already`);
      const consumer = new EventConsumer(deps.bus, deps.db, deps.clock, spec, deps.consumer, metrics, deps.logger.child({ consumer: spec.name }), deps.alerts);
      consumers.push(consumer);
      return consumer;
    },
    consumers: (): readonly EventConsumer[] => [...consumers],
  };
}

export type Events = ReturnType<typeof createEvents>;
