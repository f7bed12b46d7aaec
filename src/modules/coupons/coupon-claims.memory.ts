import type { Clock } from '../../platform/clock.js';
import type { CampaignRules, ClaimResult, CouponClaimStore, CouponEventLog, HotState, IssuedEvent } from './coupon-claims.store.js';

interface Entry {
  event: Omit<IssuedEvent, 'deliveries'>;
  consumer: string | null;
  deliveredAt: number;
  deliveries: number;
  acked: boolean;
}

/**
 * Single-process adapter (embedded mode): the claim rules of coupon-claims.lua, and an
 * in-process event log with the consumer-group semantics the wallet consumer relies on.
 */
export class MemoryCouponStore implements CouponClaimStore, CouponEventLog {
  readonly #campaigns = new Map<string, { rules: CampaignRules; epoch: number; frozen: boolean; stock: number; users: Map<string, number> }>();
  readonly #log: Entry[] = [];
  readonly #dead: { eventId: string; reason: string }[] = [];
  #next = 0;
  constructor(private readonly clock: Clock) {}

  async claim(campaignId: string, userId: string, now: number, event: { eventId: string; occurredAt: string }): Promise<ClaimResult> {
    const c = this.#campaigns.get(campaignId);
    if (!c) return { answer: 'NOT_LOADED' };
    if (c.frozen) return { answer: 'FROZEN' };
    const { claimOpensAt, claimClosesAt, perUserLimit } = c.rules;
    if (now < claimOpensAt || (claimClosesAt !== null && now >= claimClosesAt)) return { answer: 'CLAIM_NOT_OPEN' };
    const had = c.users.get(userId) ?? 0;
    if (had >= perUserLimit) return { answer: 'ALREADY_CLAIMED' };
    if (c.stock <= 0) return { answer: 'SOLD_OUT' };
    c.stock -= 1;
    c.users.set(userId, had + 1);
    this.#log.push({
      event: { ref: String(++this.#next), eventId: event.eventId, campaignId, userId, seq: had + 1, occurredAt: event.occurredAt },
      consumer: null,
      deliveredAt: 0,
      deliveries: 0,
      acked: false,
    });
    return { answer: 'ISSUED', seq: had + 1, remaining: c.stock };
  }

  async load(rules: CampaignRules, issuedByUser: ReadonlyMap<string, number>): Promise<void> {
    const epoch = rules.epoch ?? 1;
    const c = this.#campaigns.get(rules.campaignId);
    if (c && !c.frozen && c.epoch >= epoch) return;
    const issued = [...issuedByUser.values()].reduce((a, b) => a + b, 0);
    this.#campaigns.set(rules.campaignId, { rules, epoch, frozen: false, stock: rules.quantity - issued, users: new Map(issuedByUser) });
  }

  async remaining(campaignId: string): Promise<number | null> {
    const c = this.#campaigns.get(campaignId);
    return c ? (c.frozen ? 0 : c.stock) : null;
  }

  async status(campaignId: string): Promise<HotState> {
    const c = this.#campaigns.get(campaignId);
    if (!c) return { state: 'MISSING' };
    return c.frozen ? { state: 'FROZEN', epoch: c.epoch } : { state: 'LIVE', epoch: c.epoch, remaining: c.stock };
  }

  async freeze(campaignId: string, epoch: number): Promise<void> {
    const c = this.#campaigns.get(campaignId);
    if (c && (!c.frozen || c.epoch >= epoch)) return;
    this.#campaigns.set(campaignId, {
      rules: { campaignId, quantity: 0, perUserLimit: 0, claimOpensAt: 0, claimClosesAt: null },
      epoch,
      frozen: true,
      stock: 0,
      users: new Map(),
    });
  }

  /**
   * This state dies with the process: stop issuing (every campaign answers FROZEN from here on)
   * and say what was held, so the caller can seal each campaign once its events are persisted.
   */
  async handOver(): Promise<{ campaignId: string; epoch: number }[]> {
    const held: { campaignId: string; epoch: number }[] = [];
    for (const [campaignId, c] of this.#campaigns) {
      if (!c.frozen) held.push({ campaignId, epoch: c.epoch });
      c.frozen = true;
    }
    return held;
  }

  async unconsumed(campaignId: string): Promise<number> {
    return this.#log.filter((e) => !e.acked && e.event.campaignId === campaignId).length;
  }

  async read(consumer: string, count: number): Promise<IssuedEvent[]> {
    const out: IssuedEvent[] = [];
    for (const entry of this.#log) {
      if (out.length >= count) break;
      if (entry.consumer !== null) continue;
      out.push(this.#deliver(entry, consumer));
    }
    return out;
  }

  async claimStale(consumer: string, minIdleMs: number, count: number): Promise<IssuedEvent[]> {
    const now = this.clock.now().getTime();
    const out: IssuedEvent[] = [];
    for (const entry of this.#log) {
      if (out.length >= count) break;
      if (entry.consumer === null || entry.acked || now - entry.deliveredAt < minIdleMs) continue;
      out.push(this.#deliver(entry, consumer));
    }
    return out;
  }

  async ack(events: readonly IssuedEvent[]): Promise<void> {
    const refs = new Set(events.map((e) => e.ref));
    for (const entry of this.#log) if (refs.has(entry.event.ref)) entry.acked = true;
    // Acknowledged entries at the head are done for good.
    while (this.#log[0]?.acked) this.#log.shift();
  }

  async deadLetter(event: IssuedEvent, reason: string): Promise<void> {
    this.#dead.push({ eventId: event.eventId, reason });
    await this.ack([event]);
  }

  async deadLetters(): Promise<{ eventId: string; reason: string }[]> {
    return [...this.#dead];
  }

  #deliver(entry: Entry, consumer: string): IssuedEvent {
    entry.consumer = consumer;
    entry.deliveredAt = this.clock.now().getTime();
    entry.deliveries += 1;
    return { ...entry.event, deliveries: entry.deliveries };
  }
}
