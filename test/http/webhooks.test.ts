import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_PREFIX, type FaultStep } from '../../src/modules/payments/sandbox/index.js';
import { paymentsRepository } from '../../src/modules/payments/testing.js';
import { ManualClock } from '../../src/platform/clock.js';
import { queryRows } from '../../src/platform/db/client.js';
import { givenOpenSchedule } from '../support/builders.js';
import type { TestApp } from '../support/harness.js';
import { type Buyer, PRICE, purchaseSteps, sandboxBasic as basic, startSandboxApp } from '../support/payments.js';

/**
 * `POST /v1/payments/webhooks/toss` fed by the real sandbox PG: SANDBOX_WEBHOOK_URL points at the
 * app's own route, over real HTTP (the app listens on a port of its own, and its PG client calls
 * its own sandbox), so every PAYMENT_STATUS_CHANGED the sandbox sends reaches MOS as Toss's would,
 * with Toss's retry schedule on the sandbox's clock. The reconciliation job is never run here:
 * whatever is resolved, the webhook resolved. Every test checks the PG's ledger against MOS's tables.
 */

const PG_ATTEMPTS = 5;
const WEBHOOK_PATH = '/v1/payments/webhooks/toss';

interface Delivery {
  status: string;
  state: 'pending' | 'delivered' | 'failed';
  attempts: { httpStatus: number | null }[];
}

describe('payments: the Toss webhook, fed by the sandbox PG', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date());
  const { placeOrder, checkout, confirm, ledger: pgLedger, buyerWithCoupon, chargeAtPg, recordPayment, outboxTypes } = purchaseSteps(() => t, clock, 'webhook');

  beforeAll(async () => {
    t = await startSandboxApp({
      clock,
      env: (port: number) => ({
        SANDBOX_WEBHOOK_URL: `http://127.0.0.1:${port}${WEBHOOK_PATH}`,
        // Long enough that moving the clock to a webhook retry never expires an order.
        PAYMENT_WINDOW_SECONDS: '3600',
        PG_ATTEMPTS: String(PG_ATTEMPTS),
        PG_ATTEMPT_TIMEOUT_MS: '2000',
        PG_DEADLINE_MS: '10000',
        PG_BACKOFF_BASE_MS: '20',
        PG_BACKOFF_MAX_MS: '100',
        // Dropped connections and PG errors are what these tests inject: the breaker must not open on them.
        PG_BREAKER_FAILURES: '1000',
      }),
    });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const repo = () => paymentsRepository(t.ctx.payments);
  const sandbox = () => t.ctx.sandbox!;
  const faults = (...steps: FaultStep[]) => sandbox().faults.enqueue(steps);
  /** Sends what the sandbox has due and waits for every delivery under way (each one answered by MOS). */
  const deliverWebhooks = () => sandbox().webhooks.deliverDue();

  const webhook = (payload: object) => t.app.inject({ method: 'POST', url: WEBHOOK_PATH, payload });
  const ledger = async (orderId: string) => {
    const view = await pgLedger(orderId);
    return { ...view, payments: view.payments.map((p) => p.status), cancels: view.payments.flatMap((p) => p.cancels ?? []).length };
  };
  const deliveries = async (orderId: string) =>
    (await t.app.inject({ method: 'GET', url: `${SANDBOX_PREFIX}/webhooks?orderId=${orderId}`, headers: basic })).json<{ deliveries: Delivery[] }>().deliveries;
  const orderOf = async (buyer: Buyer, id: string) => (await t.app.inject({ method: 'GET', url: `/v1/orders/${id}`, headers: buyer.auth })).json();
  const seatStatuses = async (scheduleId: string, seatIds: string[]) => {
    const seats = (await t.app.inject({ method: 'GET', url: `/v1/schedules/${scheduleId}/seats` })).json<{ seats: { seatId: string; status: string }[] }>()
      .seats;
    return seatIds.map((id) => seats.find((s) => s.seatId === id)?.status);
  };
  const ticketsOf = async (buyer: Buyer, orderId: string) =>
    (await t.app.inject({ method: 'GET', url: '/v1/me/tickets', headers: buyer.auth }))
      .json<{ items: { orderId: string; status: string }[] }>()
      .items.filter((x) => x.orderId === orderId);
  /** The PG charged under the attempt's key and MOS crashed before it heard: a CONFIRMING row is all MOS has. */
  const crashedAfterCharging = async (placed: Awaited<ReturnType<typeof placeOrder>>) => {
    const { order, buyer } = placed;
    const paymentKey = await checkout(order);
    const charged = await chargeAtPg({ paymentKey, orderId: order.id, amount: order.amount });
    expect(charged.statusCode).toBe(200);
    // Its DONE webhook arrives while MOS has no payment row of the order: acknowledged, nothing done.
    await deliverWebhooks();
    expect(await deliveries(order.id)).toEqual([expect.objectContaining({ status: 'DONE', state: 'delivered' })]);
    expect((await orderOf(buyer, order.id)).status).toBe('PENDING_PAYMENT');
    await recordPayment({
      orderId: order.id,
      userId: buyer.id,
      paymentKey,
      amount: order.amount,
      status: 'CONFIRMING',
    });
    return paymentKey;
  };

  it('pays an order whose confirm answers were all lost (202) once the DONE webhook arrives — one charge, no reconciliation', async () => {
    const { order, buyer, chosen, schedule } = await placeOrder({ seats: 2 });
    const paymentKey = await checkout(order);
    faults(...Array.from({ length: PG_ATTEMPTS }, () => ({ on: 'confirm' as const, fault: 'drop' as const })));
    const res = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    expect(res.statusCode).toBe(202);
    await deliverWebhooks();

    expect((await orderOf(buyer, order.id)).status).toBe('PAID');
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'DONE', attempt: 1, paymentKey, method: '카드' });
    expect(await seatStatuses(schedule.id, chosen)).toEqual(['SOLD', 'SOLD']);
    expect(await ticketsOf(buyer, order.id)).toHaveLength(2);
    expect(await outboxTypes(order.id)).toEqual(['order.created', 'payment.completed']);
    expect(await ledger(order.id)).toMatchObject({ charges: 1, chargedAmount: order.amount, canceledAmount: 0 });
    expect(await deliveries(order.id)).toEqual([expect.objectContaining({ status: 'DONE', state: 'delivered' })]);
    // The buyer's retry gets the paid order, and charges nothing more.
    const retry = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    expect(retry.statusCode).toBe(200);
    expect((await ledger(order.id)).charges).toBe(1);
  });

  it('answers 503 while the PG cannot be asked (the payment stays UNKNOWN); the sandbox delivers again later and the order is paid', async () => {
    const { order, buyer } = await placeOrder({ seats: 1 });
    const paymentKey = await checkout(order);
    // Every answer to the confirm is lost, and every attempt of the webhook's lookup fails.
    faults(
      ...Array.from({ length: PG_ATTEMPTS }, () => ({ on: 'confirm' as const, fault: 'drop' as const })),
      ...Array.from({ length: PG_ATTEMPTS }, () => ({ on: 'lookup' as const, code: 'FAILED_INTERNAL_SYSTEM_PROCESSING' as const })),
    );
    const res = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    expect(res.statusCode).toBe(202);
    await deliverWebhooks();
    expect(sandbox().faults.pending).toBe(0);

    const [first] = await deliveries(order.id);
    expect(first).toMatchObject({ status: 'DONE', state: 'pending', attempts: [{ httpStatus: 503 }] });
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'UNKNOWN', attempt: 1 });
    expect((await orderOf(buyer, order.id)).status).toBe('PENDING_PAYMENT');

    // Toss's first retry, a minute later.
    clock.advance(60_000);
    await deliverWebhooks();
    expect(await deliveries(order.id)).toEqual([
      expect.objectContaining({ status: 'DONE', state: 'delivered', attempts: [{ ...first!.attempts[0] }, expect.objectContaining({ httpStatus: 200 })] }),
    ]);
    expect((await orderOf(buyer, order.id)).status).toBe('PAID');
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'DONE', attempt: 1, paymentKey });
    expect(await outboxTypes(order.id)).toEqual(['order.created', 'payment.completed']);
    expect(await ledger(order.id)).toMatchObject({ charges: 1, canceledAmount: 0 });
  });

  it("refunds a paid order cancelled at the PG's side: REFUNDED, tickets CANCELLED, seats AVAILABLE, coupon back, refund.completed — one cancel at the PG", async () => {
    const given = await givenOpenSchedule(t.app, { seats: 10, price: PRICE, now: clock.now() });
    const buyer = await buyerWithCoupon(given);
    const wallet = async () => (await t.app.inject({ method: 'GET', url: '/v1/me/coupons', headers: buyer.auth })).json().items;

    const { order, chosen, schedule } = await placeOrder({ schedule: given, buyer });
    const paymentKey = await checkout(order);
    expect((await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount })).statusCode).toBe(200);
    await deliverWebhooks(); // the DONE webhook of a paid order: nothing to change
    expect(await wallet()).toEqual([expect.objectContaining({ status: 'USED' })]);

    // The merchant cancels the payment from the PG's console: MOS hears of it only through the webhook.
    const cancelled = await t.app.inject({
      method: 'POST',
      url: `${SANDBOX_PREFIX}/v1/payments/${paymentKey}/cancel`,
      headers: basic,
      payload: { cancelReason: '고객 요청 (콘솔)' },
    });
    expect(cancelled.statusCode).toBe(200);
    await deliverWebhooks();

    expect(await orderOf(buyer, order.id)).toMatchObject({ status: 'REFUNDED', cancelledAt: clock.now().toISOString() });
    const tickets = await ticketsOf(buyer, order.id);
    expect(tickets).toHaveLength(2);
    expect(tickets.every((x) => x.status === 'CANCELLED')).toBe(true);
    expect(await seatStatuses(schedule.id, chosen)).toEqual(['AVAILABLE', 'AVAILABLE']);
    expect(await wallet()).toEqual([expect.objectContaining({ status: 'AVAILABLE' })]);
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'CANCELED', paymentKey, pgMessage: '고객 요청 (콘솔)' });
    expect(await outboxTypes(order.id)).toEqual(['order.created', 'payment.completed', 'refund.completed']);
    // Exactly the console's cancel: MOS did not cancel again.
    expect(await ledger(order.id)).toMatchObject({ charges: 1, canceledAmount: order.amount, balanceAmount: 0, cancels: 1 });
    expect((await deliveries(order.id)).map((d) => [d.status, d.state])).toEqual([
      ['DONE', 'delivered'],
      ['CANCELED', 'delivered'],
    ]);
  });

  it('changes nothing for a forged body claiming DONE for a payment the PG has IN_PROGRESS, nor for a paymentKey the PG does not know (200 each)', async () => {
    const placed = await placeOrder({ seats: 1 });
    const { order, buyer } = placed;
    const paymentKey = await checkout(order);
    // An open payment row, as a confirm in flight leaves it: what a trusting receiver would commit.
    await recordPayment({
      orderId: order.id,
      userId: buyer.id,
      paymentKey,
      amount: order.amount,
      status: 'CONFIRMING',
    });
    const forged = {
      eventType: 'PAYMENT_STATUS_CHANGED',
      createdAt: '2026-03-01T09:00:00.000',
      data: {
        paymentKey,
        orderId: order.id,
        status: 'DONE',
        totalAmount: order.amount,
        balanceAmount: order.amount,
        method: '카드',
        approvedAt: '2026-03-01T09:00:00+09:00',
      },
    };
    const res = await webhook(forged);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true });

    const unknown = await webhook({ ...forged, data: { ...forged.data, paymentKey: 'tgen_forged_0000000000000' } });
    expect(unknown.statusCode).toBe(200);

    expect((await orderOf(buyer, order.id)).status).toBe('PENDING_PAYMENT');
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'CONFIRMING', attempt: 1 });
    expect(await ticketsOf(buyer, order.id)).toEqual([]);
    expect(await seatStatuses(placed.schedule.id, placed.chosen)).toEqual(['HELD']);
    expect(await outboxTypes(order.id)).toEqual(['order.created']);
    expect(await ledger(order.id)).toMatchObject({ charges: 0, payments: ['IN_PROGRESS'] });
  });

  it('has one effect for the same webhook delivered twice, even at once: one payment.completed, one set of tickets', async () => {
    const placed = await placeOrder({ seats: 2 });
    const paymentKey = await crashedAfterCharging(placed);
    const body = { eventType: 'PAYMENT_STATUS_CHANGED', createdAt: '2026-03-01T09:00:00.000', data: { paymentKey, orderId: placed.order.id, status: 'DONE' } };

    const answers = await Promise.all([webhook(body), webhook(body)]);
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200]);
    const again = await webhook(body);
    expect(again.statusCode).toBe(200);

    expect((await orderOf(placed.buyer, placed.order.id)).status).toBe('PAID');
    expect(await repo().findByOrder(placed.order.id)).toMatchObject({ status: 'DONE', paymentKey });
    expect(await ticketsOf(placed.buyer, placed.order.id)).toHaveLength(2);
    expect(await seatStatuses(placed.schedule.id, placed.chosen)).toEqual(['SOLD', 'SOLD']);
    expect(await outboxTypes(placed.order.id)).toEqual(['order.created', 'payment.completed']);
    expect(await ledger(placed.order.id)).toMatchObject({ charges: 1, canceledAmount: 0 });
  });

  it('rejects an open attempt the PG has ABORTED, with payment.failed; the buyer then pays with a new attempt', async () => {
    const { order, buyer } = await placeOrder({ seats: 1 });
    const refused = await checkout(order, 'REJECT_CARD_PAYMENT');
    // MOS claimed the attempt and crashed; the PG refused the card meanwhile (its confirm reached the PG).
    await recordPayment({
      orderId: order.id,
      userId: buyer.id,
      paymentKey: refused,
      amount: order.amount,
      status: 'CONFIRMING',
    });
    const pgConfirm = await chargeAtPg({ paymentKey: refused, orderId: order.id, amount: order.amount });
    expect(pgConfirm.statusCode).toBeGreaterThanOrEqual(400);
    await deliverWebhooks();

    expect(await deliveries(order.id)).toEqual([expect.objectContaining({ status: 'ABORTED', state: 'delivered' })]);
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'REJECTED', attempt: 1, pgCode: 'REJECT_CARD_PAYMENT' });
    expect(await outboxTypes(order.id)).toEqual(['order.created', 'payment.failed']);
    const [event] = await queryRows<{ payload: Record<string, unknown> }>(
      t.ctx.database.db,
      sql`select payload from outbox where aggregate_id = ${order.id} and type = 'payment.failed'`,
    );
    expect(event!.payload).toMatchObject({
      orderId: order.id,
      userId: buyer.id,
      paymentKey: refused,
      amount: order.amount,
      attempt: 1,
      pgCode: 'REJECT_CARD_PAYMENT',
    });

    const paymentKey = await checkout(order);
    const paid = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    expect(paid.statusCode).toBe(200);
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'DONE', attempt: 2, paymentKey });
  });

  it('writes one payment.failed for a confirm the PG refuses (402), though its ABORTED webhook arrives too', async () => {
    const { order, buyer } = await placeOrder({ seats: 1 });
    const refused = await checkout(order, 'REJECT_CARD_PAYMENT');
    const res = await confirm(buyer, { paymentKey: refused, orderId: order.id, amount: order.amount });
    expect(res.statusCode).toBe(402);
    await deliverWebhooks();
    expect(await deliveries(order.id)).toEqual([expect.objectContaining({ status: 'ABORTED', state: 'delivered' })]);
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'REJECTED', attempt: 1, pgCode: 'REJECT_CARD_PAYMENT' });
    expect(await outboxTypes(order.id)).toEqual(['order.created', 'payment.failed']);
    expect((await orderOf(buyer, order.id)).status).toBe('PENDING_PAYMENT');
  });

  it('accepts the fields Toss adds over time, and refuses a body without data.paymentKey (400)', async () => {
    const placed = await placeOrder({ seats: 1 });
    const paymentKey = await checkout(placed.order);
    const extra = await webhook({
      eventType: 'PAYMENT_STATUS_CHANGED',
      createdAt: '2026-03-01T09:00:00.000',
      someFutureField: { nested: true },
      data: { paymentKey, orderId: placed.order.id, status: 'IN_PROGRESS', mId: 'tvivarepublica', version: '2022-11-16', secret: null },
    });
    expect(extra.statusCode).toBe(200);
    const other = await webhook({ eventType: 'DEPOSIT_CALLBACK', data: { paymentKey } });
    expect(other.statusCode).toBe(200);
    const bad = await webhook({ eventType: 'PAYMENT_STATUS_CHANGED', data: { orderId: placed.order.id } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('VALIDATION_FAILED');
    expect((await orderOf(placed.buyer, placed.order.id)).status).toBe('PENDING_PAYMENT');
  });
});
