import type { Logger } from 'pino';
import { PollingLoop } from '../jobs/polling-loop.js';
import type { Clock } from '../clock.js';
import type { Db, Tx } from '../db/client.js';
import type { Alerts } from '../observability/alerts.js';
import type { Delivery, EventBus } from './bus.js';
import type { EventEnvelope } from './envelope.js';
import type { EventMetrics } from './events.metrics.js';
import { processedEvents } from './outbox.tables.js';

/** What a module registers to hear events. */
export interface EventHandlerSpec {
  /**
   * The consumer group, and the key of its rows in `processed_events`: stable across releases
   * (renaming it replays every event the bus still holds to the new name).
   */
  readonly name: string;
  readonly types: readonly string[];
  /**
   * Handles one event inside the transaction that records it as processed: write through `tx`
   * only, so the handler's writes and the dedupe row commit or roll back together. Throwing
   * rolls both back; the event is delivered again later.
   */
  handle(event: EventEnvelope, tx: Tx): Promise<void>;
}

export interface ConsumerSettings {
  /** Unique per process: this consumer's name within each group. */
  consumerName: string;
  batch: number;
  /** How long a delivery may stay unacknowledged before another consumer (or this one) takes it again. */
  staleAfterMs: number;
  /** Failed deliveries after which an event goes to the dead-letter stream. */
  maxDeliveries: number;
  /** Pause when a pass found nothing to do. */
  idleMs: number;
}

/**
 * Runs one handler as a member of its consumer group, in every worker (not leader-elected).
 * Each event is handled in a transaction that first inserts `(consumer, event id)` into
 * `processed_events` (`ON CONFLICT DO NOTHING`): if the row was there, the event was handled
 * before and the delivery is acknowledged without running the handler. So the bus's
 * at-least-once delivery becomes exactly-once effects for whatever the handler writes in `tx`.
 *
 * A failed delivery stays unacknowledged and comes back after `staleAfterMs`; after
 * `maxDeliveries` failed deliveries the event moves to the group's dead-letter stream and counts
 * in `mos_events_dead_lettered_total`. An event delivered more than `maxDeliveries` times
 * without an answer (a handler that kills its process) is moved aside unhandled.
 *
 * Events are handled one at a time in the order read; a retried event may land after later
 * events of its aggregate, so handlers check state rather than assume order.
 */
export class EventConsumer {
  #subscribed: Promise<void> | undefined;
  readonly #loop: PollingLoop;

  constructor(
    private readonly bus: EventBus,
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly spec: EventHandlerSpec,
    private readonly settings: ConsumerSettings,
    private readonly metrics: EventMetrics,
    private readonly logger: Logger,
    /** Told of each dead-lettered event, once per event (ALERT_WEBHOOK_URL). */
    private readonly alerts?: Alerts,
  ) {
    this.#loop = new PollingLoop(() => this.drainOnce(), {
      idleMs: this.settings.idleMs,
      logger: this.logger.child({ consumer: this.spec.name }),
      what: 'event consumer',
    });
  }

  get name(): string {
    return this.spec.name;
  }

  /** One pass: take over stale deliveries, read new ones, handle each. Returns deliveries seen. */
  async drainOnce(): Promise<number> {
    const { name, types } = this.spec;
    const { consumerName, batch, staleAfterMs } = this.settings;
    this.#subscribed ??= this.bus.subscribe(name, types).catch((err: unknown) => {
      this.#subscribed = undefined;
      throw err;
    });
    await this.#subscribed;
    let deliveries: Delivery[];
    try {
      deliveries = [...(await this.bus.claimStale(name, consumerName, types, staleAfterMs, batch)), ...(await this.bus.read(name, consumerName, types, batch))];
    } catch (err) {
      // The group went away with its stream (Redis lost its data): create it again next pass.
      if (String((err as Error)?.message).includes('NOGROUP')) this.#subscribed = undefined;
      throw err;
    }
    for (const d of deliveries) await this.#deliver(d);
    return deliveries.length;
  }

  async #deliver(d: Delivery): Promise<void> {
    const { maxDeliveries } = this.settings;
    if (d.deliveries > maxDeliveries) return this.#deadLetter(d, `not acknowledged after ${d.deliveries - 1} deliveries`);
    let handled: boolean;
    try {
      handled = await this.#handle(d.event);
    } catch (err) {
      this.metrics.failed.inc({ consumer: this.spec.name });
      if (d.deliveries >= maxDeliveries) return this.#deadLetter(d, `failed ${d.deliveries} times; last: ${(err as Error)?.message ?? String(err)}`);
      this.logger.warn({ err, eventId: d.event.id, type: d.event.type, deliveries: d.deliveries }, 'event handler failed; will retry');
      return;
    }
    // Counted once its effects committed: a lost acknowledgement only means a no-op redelivery.
    if (handled) this.metrics.consumed.inc({ consumer: this.spec.name, type: d.event.type });
    await this.bus.ack(this.spec.name, [d]);
  }

  /** False if this consumer had already handled the event (a redelivery). */
  #handle(event: EventEnvelope): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const first = await tx
        .insert(processedEvents)
        .values({ consumer: this.spec.name, eventId: event.id, processedAt: this.clock.now() })
        .onConflictDoNothing()
        .returning({ eventId: processedEvents.eventId });
      if (!first.length) return false;
      await this.spec.handle(event, tx);
      return true;
    });
  }

  async #deadLetter(d: Delivery, reason: string): Promise<void> {
    await this.bus.deadLetter(this.spec.name, d, reason);
    this.metrics.deadLettered.inc({ consumer: this.spec.name });
    this.logger.error({ eventId: d.event.id, type: d.event.type, deliveries: d.deliveries, reason }, 'event dead-lettered');
    // Its effects will never happen unless a person replays it. `notify` never throws, and
    // posts an event once whichever consumer process dead-letters it.
    await this.alerts?.notify(
      'dead-letter',
      d.event.id,
      `Event ${d.event.id} (${d.event.type}, aggregate ${d.event.aggregateId}) was dead-lettered by consumer ${this.spec.name} after ${d.deliveries} deliveries: ${reason}. Its effects are missing until it is replayed.`,
    );
  }

  start(): void {
    this.#loop.start();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
  }
}
