import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { queryRows, type Db } from '../db/client.js';
import type { PeriodicJob } from '../jobs/runner.js';

/** Batches of each table one run deletes at most: a run stays well inside the job's lease. */
const MAX_BATCHES_PER_RUN = 50;

export interface PurgeSettings {
  intervalMs: number;
  /** Published outbox rows and processed_events rows older than this are deleted. */
  retentionMs: number;
  /** Rows one statement deletes at most. */
  batch: number;
}

/**
 * Outbox housekeeping, a leader-elected periodic job: deletes outbox rows published more than
 * `retentionMs` ago, and `processed_events` rows recorded more than `retentionMs` ago. An
 * unpublished row is never touched, however old: the relay still owes it to the bus.
 *
 * A `processed_events` row is what makes a redelivery a no-op (invariant 4), so the retention
 * must outlast any redelivery: the bus hands an unacknowledged event out again within
 * EVENT_CONSUMER_STALE_MS, and an acknowledged one never, so hours are plenty and days are safe.
 *
 * Each batch is its own short statement (`delete … where key in (select … limit n)`): no long
 * transaction, no lock held across batches, and the relay and the consumers go on meanwhile.
 * Neither table has an index on its timestamp (one would cost every relay update and every
 * consumed event a second index write, for a job that runs every few minutes): each batch scans
 * until it has found `batch` old rows, and the oldest rows sit first in the heap.
 */
export class OutboxPurge implements PeriodicJob {
  readonly name = 'events.purge';
  readonly intervalMs: number;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly settings: PurgeSettings,
    private readonly logger?: Logger,
  ) {
    this.intervalMs = settings.intervalMs;
  }

  async run(): Promise<void> {
    const purged = await this.purge();
    if (purged.outbox || purged.processedEvents) this.logger?.info(purged, 'old outbox and processed-event rows purged');
  }

  /** One run: how many rows of each table it deleted. */
  async purge(): Promise<{ outbox: number; processedEvents: number }> {
    const cutoff = new Date(this.clock.now().getTime() - this.settings.retentionMs).toISOString();
    const { batch } = this.settings;
    const outbox = await this.#inBatches(
      () => sql`delete from outbox where id in (
        select id from outbox where published_at is not null and published_at < ${cutoff}::timestamptz limit ${batch}
      ) returning 1 as x`,
    );
    const processedEvents = await this.#inBatches(
      () => sql`delete from processed_events where (consumer, event_id) in (
        select consumer, event_id from processed_events where processed_at < ${cutoff}::timestamptz limit ${batch}
      ) returning 1 as x`,
    );
    return { outbox, processedEvents };
  }

  async #inBatches(statement: () => ReturnType<typeof sql>): Promise<number> {
    let total = 0;
    for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) {
      const deleted = (await queryRows<{ x: number }>(this.db, statement())).length;
      total += deleted;
      if (deleted < this.settings.batch) break;
    }
    return total;
  }
}
