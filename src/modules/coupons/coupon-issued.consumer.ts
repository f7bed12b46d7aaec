import type { Logger } from 'pino';
import { PollingLoop } from '../../platform/jobs/polling-loop.js';
import type { Alerts } from '../../platform/observability/alerts.js';
import type { CouponEventLog, IssuedEvent } from './coupon-claims.store.js';
import type { CouponMetrics } from './coupons.metrics.js';
import type { CouponsRepository } from './coupons.repository.js';

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
  readonly #loop: PollingLoop;

  constructor(
    private readonly log: CouponEventLog,
    private readonly repo: CouponsRepository,
    private readonly settings: ConsumerSettings,
    private readonly metrics: CouponMetrics,
    private readonly logger: Logger,
    private readonly alerts: Alerts,
  ) {
    this.#loop = new PollingLoop(() => this.drainOnce(), { idleMs: this.settings.idleMs, logger: this.logger, what: 'coupon consumer' });
  }

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
    this.#loop.start();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
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
