import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import type { EventBus } from './bus.js';
import { EventConsumer, type ConsumerSettings, type EventHandlerSpec } from './consumer.js';
import { createEventMetrics } from './events.metrics.js';
import { outboxBacklog } from './outbox.js';
import { OutboxRelay, type RelaySettings } from './relay.js';

export interface EventsDeps {
  db: Db;
  bus: EventBus;
  clock: Clock;
  registry: Registry;
  logger: Logger;
  relay: RelaySettings;
  consumer: ConsumerSettings;
}

/**
 * The event platform of one process: the bus the composition root chose, the relay job (for the
 * job runner: one leader relays), and `consume`, by which a module registers a handler; every
 * registered consumer runs in every worker as one group per handler.
 */
export function createEvents(deps: EventsDeps) {
  const metrics = createEventMetrics(deps.registry, () => outboxBacklog(deps.db));
  const relay = new OutboxRelay(deps.db, deps.bus, deps.clock, metrics, deps.relay);
  const consumers: EventConsumer[] = [];
  return {
    bus: deps.bus,
    metrics,
    relay,
    consume(spec: EventHandlerSpec): EventConsumer {
      if (consumers.some((c) => c.name === spec.name)) throw new Error(`an event consumer named ${spec.name} is registered already`);
      const consumer = new EventConsumer(deps.bus, deps.db, deps.clock, spec, deps.consumer, metrics, deps.logger.child({ consumer: spec.name }));
      consumers.push(consumer);
      return consumer;
    },
    consumers: (): readonly EventConsumer[] => [...consumers],
  };
}

export type Events = ReturnType<typeof createEvents>;
