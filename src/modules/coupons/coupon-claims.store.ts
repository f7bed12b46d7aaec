export type ClaimAnswer = 'ISSUED' | 'SOLD_OUT' | 'ALREADY_CLAIMED' | 'CLAIM_NOT_OPEN';

/**
 * NOT_LOADED: no hot state here (a first load, or a loss: PostgreSQL tells which). FROZEN: the hot
 * state was lost and the campaign awaits reconciliation; nothing is offered meanwhile.
 */
export type ClaimResult =
  | { answer: 'ISSUED'; seq: number; remaining: number }
  | { answer: Exclude<ClaimAnswer, 'ISSUED'> }
  | { answer: 'NOT_LOADED' }
  | { answer: 'FROZEN' }
  /**
   * The replicas the store must wait for are not in step (Redis WAIT fell short): refused before
   * the claim, or — if they fell behind in between — issued on the master without the promise (a
   * failover now could lose it); such a claim may still reach the wallet.
   */
  | { answer: 'UNREPLICATED' };

/** What the hot state holds for a campaign. */
export type HotState = { state: 'LIVE'; epoch: number; remaining: number } | { state: 'FROZEN'; epoch: number } | { state: 'MISSING' };

export interface CampaignRules {
  campaignId: string;
  quantity: number;
  perUserLimit: number;
  claimOpensAt: number;
  claimClosesAt: number | null;
  /** Which load of the campaign this is (coupon_campaigns.hot_epoch); 1 when omitted. */
  epoch?: number;
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
  /**
   * Builds a campaign's hot state (from PostgreSQL's issued coupons) unless a live one of this
   * epoch or a newer one exists already; a frozen or older one is replaced.
   */
  load(rules: CampaignRules, issuedByUser: ReadonlyMap<string, number>): Promise<void>;
  /** Coupons left, or null if the campaign has no hot state here (0 while frozen). */
  remaining(campaignId: string): Promise<number | null>;
  status(campaignId: string): Promise<HotState>;
  /** Marks a lost hot state of `epoch`: claims answer FROZEN. Never touches a live state. */
  freeze(campaignId: string, epoch: number): Promise<void>;
  /**
   * The process is ending (graceful shutdown). A store whose state dies with the process (memory)
   * stops issuing and returns the campaigns it held, so they can be sealed once their events are
   * persisted; a store that outlives the process (Redis) returns null and changes nothing.
   */
  handOver(): Promise<{ campaignId: string; epoch: number }[] | null>;
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
  /** Events of a campaign not yet acknowledged (delivered or not): 0 when all are persisted. */
  unconsumed(campaignId: string): Promise<number>;
  /** Dead-lettered events (operations and tests). */
  deadLetters(): Promise<{ eventId: string; reason: string }[]>;
}
