/**
 * The sandbox PG's webhooks, as Toss sends them (docs/toss.md B9, B12): every payment
 * status change (DONE, CANCELED, PARTIAL_CANCELED, ABORTED, EXPIRED) is POSTed as
 * `{"eventType":"PAYMENT_STATUS_CHANGED","createdAt":"…","data":{…Payment…}}` to the configured
 * URL. Only an HTTP 200 counts as delivered; after a failure Toss retries up to 7 times, at 1, 4,
 * 16, 64, 256, 1024 and 4096 minutes, then gives up. Each attempt is recorded in the sandbox's
 * ledger, so a test can see what was sent, when, and what the receiver answered.
 *
 * Time is the injected clock's: a delivery is due when the clock says so, and `deliverDue()`
 * (called by a periodic timer, or by a test that just moved a ManualClock) sends what is due.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../../platform/clock.js';
import type { SandboxLedger, WebhookAttempt, WebhookDelivery } from './sandbox.store.js';
import type { TossPayment } from './toss.wire.js';

/** Minutes after a failed attempt at which Toss tries again (B9): 7 retries over 3 days 19 hours. */
export const WEBHOOK_RETRY_MINUTES: readonly number[] = [1, 4, 16, 64, 256, 1024, 4096];

const KST_OFFSET_MS = 9 * 3_600_000;

export interface WebhookBody {
  eventType: 'PAYMENT_STATUS_CHANGED';
  /** Korean time without an offset, as Toss's examples write it: `2022-05-12T00:00:00.000`. */
  createdAt: string;
  data: TossPayment;
}

export interface SandboxWebhooksOptions {
  /** Where events go; unset = the sandbox records nothing and sends nothing. */
  url: string | undefined;
  clock: Clock;
  /** How long one attempt may take before it counts as failed. */
  timeoutMs: number;
  /** How often the timer looks for due deliveries (real time); 0 = no timer (tests call `deliverDue`). */
  pollMs: number;
  /** Run before each look for due deliveries: status changes that only time makes (expiry). */
  sweep?: () => void;
}

export class SandboxWebhooks {
  readonly #inFlight = new Set<Promise<void>>();
  /** Deliveries being sent now: never sent twice at once, whoever calls `deliverDue`. */
  readonly #sending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #kicked = false;

  constructor(
    private readonly ledger: SandboxLedger,
    private readonly options: SandboxWebhooksOptions,
  ) {}

  get enabled(): boolean {
    return this.options.url !== undefined;
  }

  /** A payment's status changed: record the event and send it at once. */
  statusChanged(payment: TossPayment): void {
    const url = this.options.url;
    if (url === undefined) return;
    const now = this.options.clock.now();
    const body: WebhookBody = { eventType: 'PAYMENT_STATUS_CHANGED', createdAt: kstLocal(now), data: payment };
    this.ledger.addDelivery({
      id: randomUUID(),
      url,
      paymentKey: payment.paymentKey,
      orderId: payment.orderId,
      status: payment.status,
      body,
      state: 'pending',
      nextAttemptAt: now,
      attempts: [],
    });
    // Once the change's own work is over (one send for many changes of one sweep).
    if (this.#kicked) return;
    this.#kicked = true;
    queueMicrotask(() => {
      this.#kicked = false;
      void this.#send();
    });
  }

  /** Applies what time changed (expiry), sends every delivery due by the clock, and waits for every attempt under way. */
  async deliverDue(): Promise<void> {
    this.options.sweep?.();
    await this.#send();
  }

  async #send(): Promise<void> {
    const now = this.options.clock.now().getTime();
    for (const d of this.ledger.deliveries()) {
      if (d.state !== 'pending' || d.nextAttemptAt.getTime() > now || this.#sending.has(d.id)) continue;
      this.#sending.add(d.id);
      const attempt = this.#attempt(d).finally(() => {
        this.#sending.delete(d.id);
        this.#inFlight.delete(attempt);
      });
      this.#inFlight.add(attempt);
    }
    while (this.#inFlight.size) await Promise.all([...this.#inFlight]);
  }

  start(): void {
    if (!this.enabled || this.options.pollMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => void this.deliverDue(), this.options.pollMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    while (this.#inFlight.size) await Promise.all([...this.#inFlight]);
  }

  async #attempt(d: WebhookDelivery): Promise<void> {
    const retriedCount = d.attempts.length;
    const at = this.options.clock.now();
    let answer: Pick<WebhookAttempt, 'httpStatus' | 'error'>;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          // Reported by community code, unverified (B9); harmless for a receiver that ignores them.
          'tosspayments-webhook-transmission-id': `${d.id}-${retriedCount}`,
          'tosspayments-webhook-transmission-time': kstLocal(at),
          'tosspayments-webhook-transmission-retried-count': String(retriedCount),
        },
        body: JSON.stringify(d.body),
        // A redirect is not a 200: it counts as a failure, as any other answer does.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      answer = { httpStatus: res.status, error: res.status === 200 ? null : `answered ${res.status}` };
    } catch (err) {
      answer = { httpStatus: null, error: (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message };
    }
    d.attempts.push({ at, retriedCount, ...answer });
    if (answer.httpStatus === 200) {
      d.state = 'delivered';
      return;
    }
    const wait = WEBHOOK_RETRY_MINUTES[retriedCount];
    if (wait === undefined) {
      // The 7th retry failed: Toss gives up (and e-mails the merchant; the sandbox records it).
      d.state = 'failed';
      return;
    }
    d.nextAttemptAt = new Date(this.options.clock.now().getTime() + wait * 60_000);
  }
}

/** `2026-03-01T09:00:00.000`: Korean time, no offset (B9's example). */
export function kstLocal(at: Date): string {
  return new Date(at.getTime() + KST_OFFSET_MS).toISOString().slice(0, 23);
}
