import { newId } from '../ids.js';

/**
 * What every event carries (docs/architecture.md §5), whatever its transport: an id that consumers dedupe
 * by (UUIDv7), its type (`<aggregate>.<what happened>`, e.g. `order.created`), the aggregate it
 * is about, when it happened (the injected clock's time), and a payload whose shape is fixed by
 * `(type, version)`: a payload change that breaks readers comes with a new version.
 */
export interface EventEnvelope<P = Record<string, unknown>> {
  readonly id: string;
  readonly type: string;
  readonly aggregateId: string;
  /** ISO 8601, UTC. */
  readonly occurredAt: string;
  readonly version: number;
  readonly payload: P;
}

/** Event types are written into SQL text as literals (the outbox part): they must stay plain. */
const TYPE = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

export function assertEventType(type: string): string {
  if (!TYPE.test(type)) throw new Error(`not an event type: ${JSON.stringify(type)} (expected e.g. "order.created")`);
  return type;
}

export function newEvent<P>(type: string, aggregateId: string, occurredAt: Date, payload: P, version = 1): EventEnvelope<P> {
  return { id: newId(), type: assertEventType(type), aggregateId, occurredAt: occurredAt.toISOString(), version, payload };
}
