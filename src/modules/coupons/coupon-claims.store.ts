export type ClaimAnswer = 'ISSUED' | 'SOLD_OUT' | 'ALREADY_CLAIMED' | 'CLAIM_NOT_OPEN';

export type ClaimResult = { answer: 'ISSUED'; seq: number; remaining: number } | { answer: Exclude<ClaimAnswer, 'ISSUED'> } | { answer: 'NOT_LOADED' };

export interface CampaignRules {
  campaignId: string;
  quantity: number;
  perUserLimit: number;
  claimOpensAt: number;
  claimClosesAt: number | null;
}

/** One issued coupon, as the claim step appended it to the campaign's event stream. */
export interface IssuedEvent {
  /** Position in the log, for acknowledging. */
  ref: string;
  eventId: string;
  campaignId: string;
  userId: string;
  seq: number;
  occurredAt: string;
  /** Times this event was handed to a consumer (1 on first delivery). */
  deliveries: number;
}

/** Hot state of first-come campaigns. Both adapters pass one contract suite. */
export interface CouponClaimStore {
  /** One atomic step: window, per-user limit, stock, record, event. */
  claim(campaignId: string, userId: string, now: number, event: { eventId: string; occurredAt: string }): Promise<ClaimResult>;
  /** Builds a campaign's hot state (from PostgreSQL's issued coupons) unless it exists already. */
  load(rules: CampaignRules, issuedByUser: ReadonlyMap<string, number>): Promise<void>;
  /** Coupons left, or null if the campaign has no hot state here. */
  remaining(campaignId: string): Promise<number | null>;
}

/**
 * The issue events, consumed by a group: each event goes to one consumer; unacknowledged events
 * of a consumer that died are claimed by another after `minIdleMs`.
 */
export interface CouponEventLog {
  /** New events for this consumer. */
  read(consumer: string, count: number): Promise<IssuedEvent[]>;
  /** Events delivered to some consumer but not acknowledged for `minIdleMs`, now handed to this one. */
  claimStale(consumer: string, minIdleMs: number, count: number): Promise<IssuedEvent[]>;
  ack(events: readonly IssuedEvent[]): Promise<void>;
  /** Moves an event that keeps failing to the dead-letter stream (and acknowledges it). */
  deadLetter(event: IssuedEvent, reason: string): Promise<void>;
  /** Dead-lettered events (operations and tests). */
  deadLetters(): Promise<{ eventId: string; reason: string }[]>;
}
