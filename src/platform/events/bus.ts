import type { EventEnvelope } from './envelope.js';

/** One delivery of an event to a consumer of a group. */
export interface Delivery {
  /** The transport's handle of this entry (a stream entry id), for ack and dead-lettering. */
  readonly ref: string;
  readonly event: EventEnvelope;
  /** How many times the group has delivered this entry, this delivery included. */
  readonly deliveries: number;
}

export interface DeadLetter {
  readonly event: EventEnvelope;
  readonly reason: string;
  readonly deliveries: number;
}

/**
 * The event transport between the relay and the consumers: Redis Streams in production
 * (bus.redis.ts), an in-process log in embedded mode (bus.memory.ts); one contract suite
 * (test/contract/event-bus.test.ts) holds both to the same semantics:
 *
 * - one log holds every event; `publish` appends in the order given, so each aggregate's
 *   events keep their outbox order whatever their types;
 * - a consumer group reads the log from its beginning (events published before the group
 *   existed included), skipping the types it does not consume; within a group each entry goes
 *   to one consumer;
 * - an entry stays pending with its consumer until acknowledged; another consumer may take it
 *   over once it has been idle `minIdleMs`, and each hand-out counts as a delivery;
 * - `deadLetter` moves an entry aside (acknowledging it) into the group's dead-letter log.
 *
 * Delivery is at least once: consumers dedupe by event id (consumer.ts).
 */
export interface EventBus {
  publish(events: readonly EventEnvelope[]): Promise<void>;
  /** Creates the group on the log if it is missing; idempotent. */
  subscribe(group: string, types: readonly string[]): Promise<void>;
  /** Entries of `types` no consumer of the group has been given yet, in log order (at most `count`; fewer when other types were stepped over). */
  read(group: string, consumer: string, types: readonly string[], count: number): Promise<Delivery[]>;
  /** Up to `count` entries left unacknowledged for at least `minIdleMs`, now given to `consumer`. */
  claimStale(group: string, consumer: string, types: readonly string[], minIdleMs: number, count: number): Promise<Delivery[]>;
  ack(group: string, deliveries: readonly Delivery[]): Promise<void>;
  deadLetter(group: string, delivery: Delivery, reason: string): Promise<void>;
  deadLetters(group: string, types: readonly string[]): Promise<DeadLetter[]>;
}
