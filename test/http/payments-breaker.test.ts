import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultStep } from '../../src/modules/payments/sandbox/index.js';
import { paymentsRepository } from '../../src/modules/payments/testing.js';
import { ManualClock } from '../../src/platform/clock.js';
import type { TestApp } from '../support/harness.js';
import { purchaseSteps, startSandboxApp } from '../support/payments.js';

/**
 * A PG outage opens the Toss client's circuit breaker: confirms then fail at once with 503 and
 * `Retry-After`, without a call reaching the PG, and the sale recovers by itself once the PG
 * answers again. The sandbox is reached over real HTTP (the app listens on its own port); the
 * outage is the sandbox answering `FAILED_INTERNAL_SYSTEM_PROCESSING` (HTTP 500, nothing charged)
 * to every confirm it is sent while the fault queue lasts.
 */

const BREAKER_FAILURES = 2;
const HALF_OPEN_MS = 300;
const RECONCILE_AFTER_SECONDS = 30;

describe('payments: the PG circuit breaker over HTTP', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date());
  const { placeOrder, checkout, confirm, ledger, runJob } = purchaseSteps(() => t, clock, 'brk');

  beforeAll(async () => {
    t = await startSandboxApp({
      clock,
      env: () => ({
        PAYMENT_RECONCILE_AFTER_SECONDS: String(RECONCILE_AFTER_SECONDS),
        // One confirm of two attempts is the outage that opens the breaker.
        PG_ATTEMPTS: String(BREAKER_FAILURES),
        PG_BREAKER_FAILURES: String(BREAKER_FAILURES),
        PG_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
        PG_ATTEMPT_TIMEOUT_MS: '2000',
        PG_DEADLINE_MS: '10000',
        PG_BACKOFF_BASE_MS: '1',
        PG_BACKOFF_MAX_MS: '5',
      }),
    });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const faults = () => t.ctx.sandbox!.faults;
  const orderStatus = async (auth: Record<string, string>, id: string) =>
    (await t.app.inject({ method: 'GET', url: `/v1/orders/${id}`, headers: auth })).json<{ status: string }>().status;

  it('fails confirms fast with 503 + Retry-After while the PG is down, reaches the PG with none of them, and pays them all once it is back', async () => {
    const first = await placeOrder({ seats: 1 });
    const firstKey = await checkout(first.order);
    const waiting = [];
    for (let i = 0; i < 8; i++) {
      const placed = await placeOrder({ seats: 1 });
      waiting.push({ ...placed, paymentKey: await checkout(placed.order) });
    }

    // The outage: the PG fails every confirm sent to it while these steps last — far more than
    // the breaker lets through, so any call that reached the PG would use one up.
    const OUTAGE_STEPS = 100;
    const outage: FaultStep[] = Array.from({ length: OUTAGE_STEPS }, () => ({ on: 'confirm', code: 'FAILED_INTERNAL_SYSTEM_PROCESSING' }));
    faults().enqueue(outage);

    // The first confirm reaches the PG and hears only 500s: its outcome is unknown to MOS (a 5xx
    // proves nothing was charged no more than a timeout does), so it is parked, and the breaker opens.
    const parked = await confirm(first.buyer, { paymentKey: firstKey, orderId: first.order.id, amount: first.order.amount });
    expect(parked.statusCode).toBe(202);
    expect(parked.json()).toEqual({ status: 'PENDING_CONFIRMATION' });
    expect(faults().pending).toBe(OUTAGE_STEPS - BREAKER_FAILURES);

    // Every other buyer is told at once to come back: 503 problem+json with Retry-After, and not
    // one call reached the PG (no fault step was used, nothing was charged).
    const refused = await Promise.all(waiting.map((w) => confirm(w.buyer, { paymentKey: w.paymentKey, orderId: w.order.id, amount: w.order.amount })));
    for (const res of refused) {
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
      expect(Number(res.headers['retry-after'])).toBe(Math.ceil(HALF_OPEN_MS / 1000));
    }
    expect(faults().pending).toBe(OUTAGE_STEPS - BREAKER_FAILURES);
    for (const w of waiting) {
      expect(await ledger(w.order.id)).toMatchObject({ charges: 0 });
      expect(await orderStatus(w.buyer.auth, w.order.id)).toBe('PENDING_PAYMENT');
    }
    const unavailable = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(unavailable.body).toMatch(/mos_payment_confirms_total\{outcome="unavailable"\} 8/);

    // The PG is back. After Retry-After the breaker lets one call through; it succeeds and closes
    // the breaker. Each buyer retries the same confirm (same order, same attempt: same key).
    faults().clear();
    const [head, ...rest] = waiting;
    let res = await confirm(head!.buyer, { paymentKey: head!.paymentKey, orderId: head!.order.id, amount: head!.order.amount });
    const deadline = Date.now() + 10_000;
    while (res.statusCode === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      res = await confirm(head!.buyer, { paymentKey: head!.paymentKey, orderId: head!.order.id, amount: head!.order.amount });
    }
    expect(res.statusCode).toBe(200);
    const paid = await Promise.all(rest.map((w) => confirm(w.buyer, { paymentKey: w.paymentKey, orderId: w.order.id, amount: w.order.amount })));
    expect(paid.map((r) => r.statusCode)).toEqual(rest.map(() => 200));
    for (const w of waiting) {
      expect(await orderStatus(w.buyer.auth, w.order.id)).toBe('PAID');
      expect(await ledger(w.order.id)).toMatchObject({ charges: 1, chargedAmount: w.order.amount, canceledAmount: 0 });
      expect(await paymentsRepository(t.ctx.payments).findByOrder(w.order.id)).toMatchObject({ status: 'DONE', attempt: 1 });
    }

    // The parked confirm: the PG never charged it. Once it is old enough, the reconciliation asks
    // the PG, finds no payment and rejects the attempt; the buyer then pays with a new one.
    expect(await ledger(first.order.id)).toMatchObject({ charges: 0 });
    clock.advance(RECONCILE_AFTER_SECONDS * 1000 + 1000);
    await runJob('payments.reconcile');
    expect(await paymentsRepository(t.ctx.payments).findByOrder(first.order.id)).toMatchObject({ status: 'REJECTED', attempt: 1 });
    expect(await orderStatus(first.buyer.auth, first.order.id)).toBe('PENDING_PAYMENT');
    const again = await confirm(first.buyer, { paymentKey: await checkout(first.order), orderId: first.order.id, amount: first.order.amount });
    expect(again.statusCode).toBe(200);
    expect(await ledger(first.order.id)).toMatchObject({ charges: 1, chargedAmount: first.order.amount });
  });
});
