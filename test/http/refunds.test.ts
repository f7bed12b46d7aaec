import { createServer as createHttpServer, type Server } from 'node:http';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultStep } from '../../src/modules/payments/sandbox/index.js';
import { paymentsRepository } from '../../src/modules/payments/testing.js';
import { ManualClock } from '../../src/platform/clock.js';
import { queryRows } from '../../src/platform/db/client.js';
import { newId } from '../../src/platform/ids.js';
import { givenOpenSchedule, mintBuyer } from '../support/builders.js';
import type { TestApp } from '../support/harness.js';
import { type Buyer, PRICE, purchaseSteps, startSandboxApp } from '../support/payments.js';

/**
 * `POST /v1/orders/:id/cancel` of a PAID order: a refund through the real sandbox PG mounted in
 * the app and reached over real HTTP (as in payments.test.ts), and the payment alerts, posted to
 * a Slack-compatible receiver on loopback (ALERT_WEBHOOK_URL). Every test checks the PG's ledger
 * against MOS's tables.
 */

const PAYMENT_WINDOW_SECONDS = 60;
const RECONCILE_AFTER_SECONDS = 30;
const PARKED_ALERT_MINUTES = 2;
const REFUND_CUTOFF_MINUTES = 30;
const PG_ATTEMPTS = 20;

interface LedgerPayment {
  paymentKey: string;
  status: string;
  totalAmount: number;
  balanceAmount: number;
  cancels: { cancelAmount: number; cancelReason: string }[];
}

describe('refunds: cancelling a paid order through the sandbox PG', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date());
  const { placeOrder, checkout, ledger: pgLedger, buyerWithCoupon, chargeAtPg, recordPayment, outboxTypes, runJob } = purchaseSteps(() => t, clock, 'refund');
  /** What the alert receiver was told. */
  const alerts: string[] = [];
  let receiver: Server;

  beforeAll(async () => {
    receiver = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        alerts.push((JSON.parse(body) as { text: string }).text);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    t = await startSandboxApp({
      clock,
      env: () => ({
        PAYMENT_WINDOW_SECONDS: String(PAYMENT_WINDOW_SECONDS),
        PAYMENT_RECONCILE_AFTER_SECONDS: String(RECONCILE_AFTER_SECONDS),
        PAYMENT_PARKED_ALERT_MINUTES: String(PARKED_ALERT_MINUTES),
        REFUND_CUTOFF_MINUTES: String(REFUND_CUTOFF_MINUTES),
        ALERT_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`,
        PG_ATTEMPTS: String(PG_ATTEMPTS),
        PG_ATTEMPT_TIMEOUT_MS: '2000',
        PG_DEADLINE_MS: '10000',
        PG_BACKOFF_BASE_MS: '20',
        PG_BACKOFF_MAX_MS: '200',
        // Dropped connections are what these tests inject: the breaker must not open on them.
        PG_BREAKER_FAILURES: '1000',
      }),
    });
  });
  afterAll(async () => {
    await t?.cleanup();
    await new Promise((r) => receiver?.close(r));
  });

  const repo = () => paymentsRepository(t.ctx.payments);
  const faults = (...steps: FaultStep[]) => t.ctx.sandbox!.faults.enqueue(steps);
  const alertsOf = (kind: string, about: string) => alerts.filter((a) => a.startsWith(`[MOS ${kind}]`) && a.includes(about));

  /** An order placed and paid (200). */
  const paidOrder = async (opts: Parameters<typeof placeOrder>[0] = {}) => {
    const placed = await placeOrder(opts);
    const paymentKey = await checkout(placed.order);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/payments/confirm',
      headers: placed.buyer.auth,
      payload: { paymentKey, orderId: placed.order.id, amount: placed.order.amount },
    });
    expect(res.statusCode).toBe(200);
    return { ...placed, paymentKey };
  };
  const cancel = (buyer: Buyer, orderId: string, reason?: string) =>
    t.app.inject({ method: 'POST', url: `/v1/orders/${orderId}/cancel`, headers: buyer.auth, payload: reason ? { reason } : {} });
  const ledger = async (orderId: string) => {
    const { payments, ...totals } = await pgLedger<LedgerPayment>(orderId);
    const approved = payments.filter((p) => p.status !== 'IN_PROGRESS' && p.status !== 'ABORTED');
    return { ...totals, cancels: approved.flatMap((p) => p.cancels) };
  };
  const orderOf = async (buyer: Buyer, id: string) => (await t.app.inject({ method: 'GET', url: `/v1/orders/${id}`, headers: buyer.auth })).json();
  const seatStatuses = async (scheduleId: string, seatIds: string[]) => {
    const seats = (await t.app.inject({ method: 'GET', url: `/v1/schedules/${scheduleId}/seats` })).json<{ seats: { seatId: string; status: string }[] }>()
      .seats;
    return seatIds.map((id) => seats.find((s) => s.seatId === id)?.status);
  };
  const ticketsOf = async (buyer: Buyer, orderId: string) =>
    (await t.app.inject({ method: 'GET', url: '/v1/me/tickets', headers: buyer.auth }))
      .json<{ items: { orderId: string; seatId: string; status: string }[] }>()
      .items.filter((x) => x.orderId === orderId);
  const reconcile = () => runJob('payments.reconcile');

  it('refunds a paid order: 200 REFUNDED, tickets CANCELLED, seats for sale again, coupon back, refund.completed, one full cancel at the PG', async () => {
    const given = await givenOpenSchedule(t.app, { seats: 10, price: PRICE, now: clock.now() });
    const buyer = await buyerWithCoupon(given);

    const { order, chosen, schedule, paymentKey } = await paidOrder({ schedule: given, buyer });
    expect(order.amount).toBe(2 * PRICE - 1000);
    const wallet = async () => (await t.app.inject({ method: 'GET', url: '/v1/me/coupons', headers: buyer.auth })).json().items;
    expect(await wallet()).toEqual([expect.objectContaining({ status: 'USED' })]);

    const res = await cancel(buyer, order.id, 'cannot come');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: order.id, status: 'REFUNDED', cancelledAt: clock.now().toISOString() });
    expect((await orderOf(buyer, order.id)).status).toBe('REFUNDED');

    const tickets = await ticketsOf(buyer, order.id);
    expect(tickets).toHaveLength(2);
    expect(tickets.every((x) => x.status === 'CANCELLED')).toBe(true);
    expect(await seatStatuses(schedule.id, chosen)).toEqual(['AVAILABLE', 'AVAILABLE']);
    expect(await wallet()).toEqual([expect.objectContaining({ status: 'AVAILABLE' })]);
    expect(await outboxTypes(order.id)).toEqual(['order.created', 'payment.completed', 'refund.completed']);
    const [event] = await queryRows<{ payload: Record<string, unknown> }>(
      t.ctx.database.db,
      sql`select payload from outbox where aggregate_id = ${order.id} and type = 'refund.completed'`,
    );
    expect(event!.payload).toMatchObject({ orderId: order.id, paymentKey, amount: order.amount, reason: 'cannot come', seatIds: expect.any(Array) });

    // The PG charged once and cancelled once, in full, under the order's first refund key.
    const pg = await ledger(order.id);
    expect(pg).toMatchObject({ charges: 1, chargedAmount: order.amount, canceledAmount: order.amount, balanceAmount: 0 });
    expect(pg.cancels).toEqual([expect.objectContaining({ cancelAmount: order.amount, cancelReason: 'cannot come' })]);
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'CANCELED', refundAttempt: 1, paymentKey });

    // The seats are for sale again: another buyer holds them (the hold store was told) and buys them.
    const rival = await paidOrder({ schedule: given, seats: 2 });
    expect(rival.chosen).toEqual(chosen);
    expect(await seatStatuses(schedule.id, chosen)).toEqual(['SOLD', 'SOLD']);
  });

  it('refunds once for 20 concurrent cancels: one PG cancel, every answer 200 or 409 NOT_CANCELLABLE; a later cancel is 409', async () => {
    const { order, buyer, chosen, schedule } = await paidOrder({ seats: 2 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => cancel(buyer, order.id)));
    for (const a of answers) {
      expect([200, 409]).toContain(a.statusCode);
      if (a.statusCode === 200) expect(a.json().status).toBe('REFUNDED');
      else expect(a.json().code).toBe('NOT_CANCELLABLE');
    }
    expect(answers.filter((a) => a.statusCode === 200).length).toBeGreaterThan(0);

    const again = await cancel(buyer, order.id);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('NOT_CANCELLABLE');

    const pg = await ledger(order.id);
    expect(pg).toMatchObject({ charges: 1, canceledAmount: order.amount, balanceAmount: 0 });
    expect(pg.cancels).toHaveLength(1);
    expect((await orderOf(buyer, order.id)).status).toBe('REFUNDED');
    expect((await outboxTypes(order.id)).filter((x) => x === 'refund.completed')).toHaveLength(1);
    expect(await seatStatuses(schedule.id, chosen)).toEqual(['AVAILABLE', 'AVAILABLE']);
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'CANCELED', refundAttempt: 1 });
  });

  it("answers 404 for another buyer's paid order, and sends nothing to the PG", async () => {
    const { order } = await paidOrder({ seats: 1 });
    const res = await cancel(await mintBuyer(clock.now()), order.id);
    expect(res.statusCode).toBe(404);
    expect((await ledger(order.id)).cancels).toEqual([]);
  });

  it('parks a refund whose every answer was lost (202 PENDING_REFUND); the reconciliation completes it with the same key — one cancel', async () => {
    const { order, buyer, chosen, schedule } = await paidOrder({ seats: 1 });
    faults(...Array.from({ length: PG_ATTEMPTS }, () => ({ on: 'cancel' as const, fault: 'drop' as const })));
    const res = await cancel(buyer, order.id);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'PENDING_REFUND' });
    // The PG cancelled; MOS does not know it yet, and the order is still PAID.
    expect((await ledger(order.id)).cancels).toHaveLength(1);
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'REFUNDING', refundAttempt: 1 });
    expect((await orderOf(buyer, order.id)).status).toBe('PAID');

    await reconcile();
    expect((await orderOf(buyer, order.id)).status).toBe('REFUNDED');
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'CANCELED', refundAttempt: 1 });
    expect((await ticketsOf(buyer, order.id)).map((x) => x.status)).toEqual(['CANCELLED']);
    expect(await seatStatuses(schedule.id, chosen)).toEqual(['AVAILABLE']);
    expect(await outboxTypes(order.id)).toEqual(['order.created', 'payment.completed', 'refund.completed']);
    const pg = await ledger(order.id);
    expect(pg.cancels).toHaveLength(1);
    expect(pg).toMatchObject({ canceledAmount: order.amount, balanceAmount: 0 });
  });

  it('refunds under the next key once the first one can only replay a PG failure, and refunds once', async () => {
    const { order, buyer } = await paidOrder({ seats: 1 });
    // The PG fails the cancel without doing it, and replays that failure for the key from then on (docs/toss.md B7).
    faults({ on: 'cancel', code: 'FAILED_INTERNAL_SYSTEM_PROCESSING' });
    const res = await cancel(buyer, order.id);
    expect(res.statusCode).toBe(202);
    expect((await ledger(order.id)).cancels).toEqual([]);

    // While the attempt may still be in flight, the reconciliation resends the same key: nothing changes.
    await reconcile();
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'REFUNDING', refundAttempt: 1 });
    expect((await orderOf(buyer, order.id)).status).toBe('PAID');

    clock.advance(RECONCILE_AFTER_SECONDS * 1000);
    await reconcile();
    expect((await orderOf(buyer, order.id)).status).toBe('REFUNDED');
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'CANCELED', refundAttempt: 2 });
    const pg = await ledger(order.id);
    expect(pg.cancels).toHaveLength(1);
    expect(pg).toMatchObject({ canceledAmount: order.amount, balanceAmount: 0 });
    expect((await outboxTypes(order.id)).filter((x) => x === 'refund.completed')).toHaveLength(1);
  });

  it('answers a PG refusal with 409 REFUND_REJECTED and its pgCode, keeps the order PAID, alerts once; the next cancel takes a new key', async () => {
    const { order, buyer, chosen, schedule } = await paidOrder({ seats: 1 });
    faults({ on: 'cancel', code: 'REFUND_REJECTED' });
    const res = await cancel(buyer, order.id);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'REFUND_REJECTED', pgCode: 'REFUND_REJECTED' });
    expect((await orderOf(buyer, order.id)).status).toBe('PAID');
    expect((await ticketsOf(buyer, order.id)).map((x) => x.status)).toEqual(['VALID']);
    expect(await seatStatuses(schedule.id, chosen)).toEqual(['SOLD']);
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'DONE', refundAttempt: 1, pgCode: 'REFUND_REJECTED' });
    expect((await ledger(order.id)).cancels).toEqual([]);
    expect(alertsOf('refund-rejected', order.id)).toHaveLength(1);

    const retried = await cancel(buyer, order.id);
    expect(retried.statusCode).toBe(200);
    expect(retried.json().status).toBe('REFUNDED');
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'CANCELED', refundAttempt: 2 });
    expect((await ledger(order.id)).cancels).toHaveLength(1);
  });

  it('alerts once (payment-refunded-seats-lost) when a charge is refunded because its seats went to another order', async () => {
    const placed = await placeOrder({ seats: 1 });
    const paymentKey = await checkout(placed.order);
    // The PG charged under the attempt's key and the process died before it heard.
    const charged = await chargeAtPg({ paymentKey, orderId: placed.order.id, amount: placed.order.amount });
    expect(charged.statusCode).toBe(200);
    await recordPayment({
      orderId: placed.order.id,
      userId: placed.buyer.id,
      paymentKey,
      amount: placed.order.amount,
      status: 'UNKNOWN',
    });
    clock.advance(PAYMENT_WINDOW_SECONDS * 1000 + 1000);
    await placeOrder({ seats: 1, schedule: placed });

    await reconcile();
    await reconcile();
    expect(await repo().findByOrder(placed.order.id)).toMatchObject({ status: 'CANCELED' });
    expect((await ledger(placed.order.id)).cancels).toHaveLength(1);
    expect(alertsOf('payment-refunded-seats-lost', placed.order.id)).toHaveLength(1);
  });

  it('alerts once (payment-parked) for a payment left UNKNOWN past PAYMENT_PARKED_ALERT_MINUTES, across reconciliation runs', async () => {
    const { order, buyer } = await placeOrder({ seats: 1 });
    // The PG approved another amount than the order's: the reconciliation cannot act on it, and the payment stays UNKNOWN.
    const other = { ...order, amount: order.amount + 1000 };
    const paymentKey = await checkout(other);
    const charged = await chargeAtPg({ paymentKey, orderId: order.id, amount: other.amount });
    expect(charged.statusCode).toBe(200);
    const paymentId = newId();
    await recordPayment({
      id: paymentId,
      orderId: order.id,
      userId: buyer.id,
      paymentKey,
      amount: order.amount,
      status: 'UNKNOWN',
    });
    await reconcile();
    expect(alertsOf('payment-parked', paymentId)).toEqual([]);

    clock.advance(PARKED_ALERT_MINUTES * 60_000);
    await reconcile();
    await reconcile();
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'UNKNOWN' });
    expect(alertsOf('payment-parked', paymentId)).toHaveLength(1);
  });

  it('refuses to refund within REFUND_CUTOFF_MINUTES of the showtime and after it started: 409 NOT_CANCELLABLE, nothing sent to the PG', async () => {
    // Within the buyer's token lifetime (an hour), so the same buyer asks each time.
    const startsAt = new Date(clock.now().getTime() + (REFUND_CUTOFF_MINUTES + 10) * 60_000);
    const given = await givenOpenSchedule(t.app, { seats: 10, price: PRICE, now: clock.now(), schedule: { startsAt } });
    const buyer = await mintBuyer(clock.now());
    const { order, chosen } = await paidOrder({ schedule: given, buyer, seats: 1 });

    clock.set(new Date(startsAt.getTime() - REFUND_CUTOFF_MINUTES * 60_000));
    const late = await cancel(buyer, order.id);
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('NOT_CANCELLABLE');

    clock.set(new Date(startsAt.getTime() + 1000));
    const started = await cancel(buyer, order.id);
    expect(started.statusCode).toBe(409);
    expect(started.json().code).toBe('NOT_CANCELLABLE');

    expect((await ledger(order.id)).cancels).toEqual([]);
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'DONE', refundAttempt: 0 });
    expect((await orderOf(buyer, order.id)).status).toBe('PAID');
    expect(await seatStatuses(given.schedule.id, chosen)).toEqual(['SOLD']);
  });
});
