import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * The transactional outbox (invariant 4): a state change that others must hear about writes its
 * event here in its own transaction (or statement), and the relay publishes it afterwards.
 * `published_at` stays null until the relay has handed the event to the bus.
 */
export const outbox = pgTable(
  'outbox',
  {
    /** The event id (UUIDv7): what consumers dedupe by. */
    id: uuid('id').primaryKey(),
    /**
     * Outbox order, from a sequence: the relay publishes in this order. It is taken when the row
     * is inserted, so of two events of one aggregate (written under the aggregate's row lock, one
     * after the other commits) the later always has the larger seq — which UUIDv7 ids made
     * by the clocks of different processes would not promise.
     */
    seq: bigint('seq', { mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    type: text('type').notNull(),
    aggregateId: uuid('aggregate_id').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    version: integer('version').notNull().default(1),
    payload: jsonb('payload').notNull(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
  },
  // The backlog in relay order; a published row leaves the index, so it stays as small as the backlog.
  (t) => [index('outbox_unpublished_idx').on(t.seq).where(sql`published_at is null`)],
);

/** Events each consumer has handled: the handler's writes and this row commit together, so a redelivery is a no-op. */
export const processedEvents = pgTable(
  'processed_events',
  {
    consumer: text('consumer').notNull(),
    eventId: uuid('event_id').notNull(),
    processedAt: timestamp('processed_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);
