import { asc, inArray, isNull } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import type { PeriodicJob } from '../jobs/runner.js';
import type { EventBus } from './bus.js';
import type { EventEnvelope } from './envelope.js';
import type { EventMetrics } from './events.metrics.js';
import { outbox } from './outbox.tables.js';

/**
 * Batches one run relays at most before it yields: a run stays well inside the job's lease, so a
 * long backlog does not outlast the leadership that started draining it.
 */
const MAX_BATCHES_PER_RUN = 20;

export interface RelaySettings {
  intervalMs: number;
  batch: number;
}

/**
 * The outbox relay (invariant 4), a leader-elected periodic job. Each batch is one transaction:
 * lock the oldest unpublished rows (`FOR UPDATE SKIP LOCKED`, in outbox order), publish them to
 * the bus, mark them published, commit. A crash or error after publishing and before the commit
 * leaves them unpublished, so the next run publishes them again: delivery is at least once, and
 * consumers dedupe by event id.
 *
 * Order: one relay publishes in `seq` order, and the events of one aggregate are written one
 * after another under the aggregate's row lock, so each aggregate's events reach the bus in the
 * order they happened. SKIP LOCKED only matters when a second relay overlaps the leader (a lease
 * lapsing under a paused leader): the two then take disjoint batches instead of waiting, and
 * order across their batches is not promised.
 */
export class OutboxRelay implements PeriodicJob {
  readonly name = 'events.relay';
  readonly intervalMs: number;

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly metrics: EventMetrics,
    private readonly settings: RelaySettings,
  ) {
    this.intervalMs = settings.intervalMs;
  }

  async run(): Promise<void> {
    for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) if ((await this.relayBatch()) < this.settings.batch) return;
  }

  /** One batch in one transaction: the number of events published. */
  async relayBatch(): Promise<number> {
    const published = await this.db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(outbox)
        .where(isNull(outbox.publishedAt))
        .orderBy(asc(outbox.seq))
        .limit(this.settings.batch)
        .for('update', { skipLocked: true });
      if (!rows.length) return [];
      const events: EventEnvelope[] = rows.map((r) => ({
        id: r.id,
        type: r.type,
        aggregateId: r.aggregateId,
        occurredAt: r.occurredAt.toISOString(),
        version: r.version,
        payload: r.payload as Record<string, unknown>,
      }));
      await this.bus.publish(events);
      await tx
        .update(outbox)
        .set({ publishedAt: this.clock.now() })
        .where(
          inArray(
            outbox.id,
            rows.map((r) => r.id),
          ),
        );
      return events;
    });
    const now = this.clock.now().getTime();
    for (const e of published) {
      this.metrics.published.inc({ type: e.type });
      this.metrics.relayLag.observe(Math.max(0, now - Date.parse(e.occurredAt)) / 1000);
    }
    return published.length;
  }
}
