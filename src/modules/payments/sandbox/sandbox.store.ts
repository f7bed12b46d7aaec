/**
 * The sandbox PG's own ledger: what it authorized, charged and refunded, and the responses it
 * keeps for Idempotency-Key replays. In memory, on purpose: the sandbox is a test PG, and a
 * restart forgets every payment (MOS's tables are never its store). Every change is one
 * synchronous step, so two concurrent requests on one payment never interleave inside it.
 */
import type { Clock } from '../../../platform/clock.js';
import type { TossErrorCode } from './toss.errors.js';
import type { TossCard, TossPayment, TossPaymentStatus } from './toss.wire.js';

export interface CancelRecord {
  cancelAmount: number;
  cancelReason: string;
  taxFreeAmount: number;
  /** The balance after this cancel. */
  refundableAmount: number;
  canceledAt: Date;
  transactionKey: string;
  receiptKey: string;
}

export interface PaymentRecord {
  readonly paymentKey: string;
  readonly orderId: string;
  readonly orderName: string;
  readonly totalAmount: number;
  /** When the buyer authenticated (checkout): the 10-minute session and the 30-minute expiry run from here. */
  readonly requestedAt: Date;
  /** The outcome the buyer's card is fixed to at confirm (a checkout's `testCode`). */
  readonly testCode: TossErrorCode | null;
  balanceAmount: number;
  taxFreeAmount: number;
  status: TossPaymentStatus;
  approvedAt: Date | null;
  failure: { code: string; message: string } | null;
  card: TossCard | null;
  lastTransactionKey: string | null;
  cancels: CancelRecord[];
}

/** One attempt to deliver a webhook event (sandbox.webhooks.ts). */
export interface WebhookAttempt {
  readonly at: Date;
  /** 0 for the first attempt, then 1–7. */
  readonly retriedCount: number;
  /** The receiver's HTTP status; null when there was no answer (refused, reset, timed out). */
  readonly httpStatus: number | null;
  /** Why it counts as failed; null when delivered (HTTP 200). */
  readonly error: string | null;
}

/** One PAYMENT_STATUS_CHANGED event and its delivery: sent until a 200, or given up after the 7th retry. */
export interface WebhookDelivery {
  readonly id: string;
  readonly url: string;
  readonly paymentKey: string;
  readonly orderId: string;
  /** The status the event announces. */
  readonly status: TossPaymentStatus;
  readonly body: { eventType: 'PAYMENT_STATUS_CHANGED'; createdAt: string; data: TossPayment };
  state: 'pending' | 'delivered' | 'failed';
  nextAttemptAt: Date;
  attempts: WebhookAttempt[];
}

export class SandboxLedger {
  readonly #payments = new Map<string, PaymentRecord>();
  readonly #deliveries: WebhookDelivery[] = [];
  /** Payment keys of each order id, in checkout order. */
  readonly #byOrder = new Map<string, string[]>();

  add(payment: PaymentRecord): void {
    this.#payments.set(payment.paymentKey, payment);
    const keys = this.#byOrder.get(payment.orderId) ?? [];
    keys.push(payment.paymentKey);
    this.#byOrder.set(payment.orderId, keys);
  }

  get(paymentKey: string): PaymentRecord | undefined {
    return this.#payments.get(paymentKey);
  }

  ofOrder(orderId: string): PaymentRecord[] {
    return (this.#byOrder.get(orderId) ?? []).map((k) => this.#payments.get(k)!);
  }

  all(): PaymentRecord[] {
    return [...this.#payments.values()];
  }

  addDelivery(delivery: WebhookDelivery): void {
    this.#deliveries.push(delivery);
  }

  /** Webhook events in the order they happened; of one order id when given. */
  deliveries(orderId?: string): WebhookDelivery[] {
    return orderId === undefined ? [...this.#deliveries] : this.#deliveries.filter((d) => d.orderId === orderId);
  }
}

export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
}

export type IdempotencyBegin = { kind: 'started' } | { kind: 'in-flight' } | { kind: 'done'; response: StoredResponse };

type Entry = { firstUsedAt: number; response: StoredResponse | null };

/**
 * Idempotency records as Toss keeps them (docs/toss.md B7): matched on (key, API key, URL, method) —
 * the caller builds that scope — never on the body; the first response is replayed for 15 days
 * from first use, whatever it was; a repeat while the first is running is told so.
 */
export class SandboxIdempotency {
  readonly #entries = new Map<string, Entry>();
  #sinceSweep = 0;

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  begin(scope: string): IdempotencyBegin {
    const now = this.clock.now().getTime();
    const found = this.#entries.get(scope);
    if (found && now - found.firstUsedAt < this.ttlMs) {
      return found.response ? { kind: 'done', response: found.response } : { kind: 'in-flight' };
    }
    // Unknown, or older than the TTL: a reused key after that is a new request.
    this.#entries.set(scope, { firstUsedAt: now, response: null });
    if (++this.#sinceSweep >= 1000) this.#sweep(now);
    return { kind: 'started' };
  }

  complete(scope: string, response: StoredResponse): void {
    const entry = this.#entries.get(scope);
    if (entry) entry.response = response;
  }

  /** The request never ran (its key stays free for a retry). */
  abandon(scope: string): void {
    const entry = this.#entries.get(scope);
    if (entry && !entry.response) this.#entries.delete(scope);
  }

  #sweep(now: number): void {
    this.#sinceSweep = 0;
    for (const [scope, entry] of this.#entries) if (entry.response && now - entry.firstUsedAt >= this.ttlMs) this.#entries.delete(scope);
  }
}
