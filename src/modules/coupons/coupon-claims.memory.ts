import type { Clock } from '../../platform/clock.js';
import type { CampaignRules, ClaimResult, CouponClaimStore, CouponEventLog, IssuedEvent } from './coupon-claims.store.js';

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
  readonly #campaigns = new Map<string, { rules: CampaignRules; stock: number; users: Map<string, number> }>();
  readonly #log: Entry[] = [];
  readonly #dead: { eventId: string; reason: string }[] = [];
  #next = 0;
  constructor(private readonly clock: Clock) {}

  async claim(campaignId: string, userId: string, now: number, event: { eventId: string; occurredAt: string }): Promise<ClaimResult> {
    const c = this.#campaigns.get(campaignId);
    if (!c) return { answer: 'NOT_LOADED' };
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
    if (this.#campaigns.has(rules.campaignId)) return;
    const issued = [...issuedByUser.values()].reduce((a, b) => a + b, 0);
    this.#campaigns.set(rules.campaignId, { rules, stock: rules.quantity - issued, users: new Map(issuedByUser) });
  }

  async remaining(campaignId: string): Promise<number | null> {
    return this.#campaigns.get(campaignId)?.stock ?? null;
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
