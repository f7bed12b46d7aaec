import { sql } from 'drizzle-orm';
import { queryRows, type Db, type Tx } from '../db/client.js';
import { assertEventType, type EventEnvelope } from './envelope.js';
import { outbox } from './outbox.tables.js';

/**
 * Writes events into the outbox inside the caller's transaction (invariant 4): they commit or
 * roll back with the state change they describe, and the relay publishes them afterwards.
 */
export async function appendOutbox(tx: Tx | Db, events: readonly EventEnvelope<unknown>[]): Promise<void> {
  if (!events.length) return;
  await tx.insert(outbox).values(
    events.map((e) => ({
      id: e.id,
      type: assertEventType(e.type),
      aggregateId: e.aggregateId,
      occurredAt: new Date(e.occurredAt),
      version: e.version,
      payload: e.payload,
    })),
  );
}

/**
 * The SQL expressions (the composer's placeholders, or SQL built from them) of one event written
 * by a composed one-statement write. The type and version are fixed per statement and written as
 * literals, so the statement text stays fixed and can be prepared.
 */
export interface OutboxEventSql {
  /** A `uuid` expression: the event id, a fresh UUIDv7 per execution. */
  id: string;
  type: string;
  /** A `uuid` expression. */
  aggregateId: string;
  /** A `timestamptz` expression. */
  occurredAt: string;
  version?: number;
  /** A `jsonb` expression, e.g. `jsonb_build_object('orderId', $6::uuid, …)`. */
  payload: string;
}

/**
 * The outbox's piece of a composed statement (see `StatementPart` in ../db/statement.ts): an
 * insert, to stand as one more CTE, that writes the event only where the composer's `go` holds.
 * It locks nothing, so it adds no lock order; it adds one insert and no round trip.
 */
export function outboxInsert(event: OutboxEventSql, go: string): string {
  const version = event.version ?? 1;
  if (!Number.isInteger(version) || version < 1) throw new Error(`not an event version: ${version}`);
  return `insert into outbox (id, type, aggregate_id, occurred_at, version, payload)
       select ${event.id}, '${assertEventType(event.type)}', ${event.aggregateId}, ${event.occurredAt}, ${version}, ${event.payload}
       where ${go}`;
}

/** A `timestamptz` expression as the JSON text JavaScript's `toISOString()` would write (UTC, milliseconds). */
export function isoTimestampSql(expression: string): string {
  return `to_char(${expression} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** Events not yet relayed (a count on the backlog's partial index). */
export async function outboxBacklog(db: Db): Promise<number> {
  const [row] = await queryRows<{ n: string | number }>(db, sql`select count(*) as n from outbox where published_at is null`);
  return Number(row?.n ?? 0);
}
