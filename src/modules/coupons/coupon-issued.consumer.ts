import type { Logger } from 'pino';
import type { Alerts } from '../../platform/observability/alerts.js';
import type { CouponEventLog, IssuedEvent } from './coupon-claims.store.js';
import type { CouponMetrics } from './coupons.metrics.js';
import type { CouponsRepository } from './coupons.repository.js';

/** Longest pause between two passes while every pass fails. */
const MAX_BACKOFF_MS = 5000;

export interface ConsumerSettings {
  /** Unique per process: the consumer's name in the group. */
  name: string;
  batch: number;
  /** How long an event may sit unacknowledged with a consumer before another takes it over. */
  staleAfterMs: number;
  /** Deliveries after which an event that keeps failing goes to the dead-letter stream. */
  maxDeliveries: number;
  /** Pause between polls when there was nothing to do. */
  idleMs: number;
}

/**
 * Persists issued coupons to wallets (invariant 2: a buyer told "issued" ends up with the coupon).
 * At-least-once: an event is acknowledged only after its row is written; the insert is idempotent,
 * so a crash between the two only means the event is delivered again. Events a dead consumer left
 * unacknowledged are taken over after `staleAfterMs`; one that fails `maxDeliveries` times is
 * moved aside to the dead-letter stream and counted in metrics instead of blocking the rest.
 */
export class CouponIssuedConsumer {
  #running: Promise<void> | undefined;
  #stopping = false;

  constructor(
    private readonly log: CouponEventLog,
    private readonly repo: CouponsRepository,
    private readonly settings: ConsumerSettings,
    private readonly metrics: CouponMetrics,
    private readonly logger: Logger,
    private readonly alerts: Alerts,
  ) {}

  /** One pass: take over stale events, read new ones, persist, acknowledge. Returns events handled. */
  async drainOnce(): Promise<number> {
    const { name, batch, staleAfterMs, maxDeliveries } = this.settings;
    const events = [...(await this.log.claimStale(name, staleAfterMs, batch)), ...(await this.log.read(name, batch))];
    if (!events.length) return 0;
    const live: IssuedEvent[] = [];
    for (const event of events) {
      if (event.deliveries > maxDeliveries) {
        await this.log.deadLetter(event, `failed ${event.deliveries - 1} times`);
        this.metrics.deadLettered.inc();
        this.logger.error({ eventId: event.eventId, campaignId: event.campaignId }, 'coupon issue event dead-lettered');
        await this.alerts.notify(
          'dead-letter',
          event.eventId,
          `Coupon issue event ${event.eventId} (campaign ${event.campaignId}, buyer ${event.userId}) failed ${event.deliveries - 1} times and was dead-lettered: the buyer was told ISSUED and has no coupon until it is replayed.`,
        );
      } else live.push(event);
    }
    try {
      this.metrics.persisted.inc(await this.repo.insertIssued(live.map(toRow)));
      await this.log.ack(live);
    } catch {
      // One bad event must not hold back the batch: persist one by one; what still fails stays
      // unacknowledged and comes back after `staleAfterMs`.
      for (const event of live) {
        try {
          this.metrics.persisted.inc(await this.repo.insertIssued([toRow(event)]));
          await this.log.ack([event]);
        } catch (err) {
          this.metrics.failed.inc();
          this.logger.warn({ err, eventId: event.eventId, deliveries: event.deliveries }, 'coupon issue event not persisted; will retry');
        }
      }
    }
    return events.length;
  }

  start(): void {
    if (this.#running) return;
    this.#stopping = false;
    this.#running = (async () => {
      let failures = 0;
      while (!this.#stopping) {
        let handled = 0;
        try {
          handled = await this.drainOnce();
          failures = 0;
        } catch (err) {
          // Redis or PostgreSQL is away: back off (doubling, up to MAX_BACKOFF_MS) rather than
          // log a failed pass every idle interval until it is back.
          failures++;
          if (failures === 1 || failures % 10 === 0) this.logger.error({ err, failures }, 'coupon consumer pass failed');
        }
        const pause = failures ? Math.min(this.settings.idleMs * 2 ** failures, MAX_BACKOFF_MS) : handled ? 0 : this.settings.idleMs;
        if (pause) await new Promise((r) => setTimeout(r, pause));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
    this.#running = undefined;
  }
}

function toRow(e: IssuedEvent) {
  return {
    id: e.eventId,
    campaignId: e.campaignId,
    userId: e.userId,
    seq: e.seq,
    status: 'AVAILABLE' as const,
    issuedAt: new Date(e.occurredAt),
    eventId: e.eventId,
  };
}
