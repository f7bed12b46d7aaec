import { asc, inArray, isNull } from 'drizzle-orm';
import type { Logger } from 'pino';
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
/** Longest pause of the relay while its runs fail (PostgreSQL or the bus away). */
const MAX_BACKOFF_MS = 5000;
/** While runs fail, the first failure is logged, then every this many. */
const LOG_EVERY_NTH_FAILURE = 10;

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
 *
 * While its runs fail (PostgreSQL or the bus away), the relay backs off: after the n-th failure
 * in a row it sits out the next 2ⁿ−1 runs, up to MAX_BACKOFF_MS worth of intervals, so a database
 * outage costs a few attempts rather than five a second. The job runner's interval is fixed, so
 * the backoff counts runs (not clock time) and the relay catches its own failures: it logs the
 * first one and every tenth with the count, counts each in `mos_outbox_relay_failures_total`, and
 * logs once when a run succeeds again. `relayBatch` still throws, for callers that drive it.
 */
export class OutboxRelay implements PeriodicJob {
  readonly name = 'events.relay';
  readonly intervalMs: number;
  /** Failed runs in a row. */
  #failures = 0;
  /** Runs still to sit out. */
  #skip = 0;

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly metrics: EventMetrics,
    private readonly settings: RelaySettings,
    private readonly logger?: Logger,
  ) {
    this.intervalMs = settings.intervalMs;
  }

  /** Failed runs in a row (0 once a run succeeds). */
  get failures(): number {
    return this.#failures;
  }

  async run(): Promise<void> {
    if (this.#skip > 0) {
      this.#skip--;
      return;
    }
    try {
      for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) if ((await this.relayBatch()) < this.settings.batch) break;
    } catch (err) {
      this.#failures++;
      this.metrics.relayFailures.inc();
      const maxSkips = Math.max(0, Math.ceil(MAX_BACKOFF_MS / this.intervalMs) - 1);
      this.#skip = Math.min(2 ** Math.min(this.#failures, 30) - 1, maxSkips);
      if (this.#failures === 1 || this.#failures % LOG_EVERY_NTH_FAILURE === 0) {
        this.logger?.error({ err, failures: this.#failures, job: this.name }, 'outbox relay run failed; backing off');
      }
      return;
    }
    if (this.#failures) this.logger?.info({ failures: this.#failures, job: this.name }, 'outbox relay runs again after failed runs');
    this.#failures = 0;
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
