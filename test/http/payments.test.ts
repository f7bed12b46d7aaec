import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultStep } from '../../src/modules/payments/sandbox/index.js';
import { paymentsRepository } from '../../src/modules/payments/testing.js';
import { ManualClock } from '../../src/platform/clock.js';
import { givenOpenSchedule, mintBuyer } from '../support/builders.js';
import type { TestApp } from '../support/harness.js';
import { type Buyer, PRICE, purchaseSteps, startSandboxApp } from '../support/payments.js';

/**
 * `POST /v1/payments/confirm` against the real sandbox PG mounted in the app, reached over real
 * HTTP (the app listens on a port of its own, and TOSS_API_URL is left to its default: this
 * process's own sandbox), so the sandbox's faults — dropped connections, latency — act on real
 * sockets. Every test checks the PG's ledger against MOS's tables.
 */

const PAYMENT_WINDOW_SECONDS = 60;
const RECONCILE_AFTER_SECONDS = 30;
const PG_ATTEMPTS = 20;

/** Polls until `check` holds: the test waits for a behaviour, never for a guessed duration. */
async function until(check: () => boolean | Promise<boolean>, what: string, deadlineMs = 15_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('payments: confirm against the sandbox PG', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date());
  const {
    placeOrder,
    checkout,
    confirm,
    ledger: pgLedger,
    buyerWithCoupon,
    chargeAtPg,
    recordPayment,
    outboxTypes,
    runJob,
  } = purchaseSteps(() => t, clock, 'pay');

  beforeAll(async () => {
    const app = await startSandboxApp({
      clock,
      env: () => ({
        PAYMENT_WINDOW_SECONDS: String(PAYMENT_WINDOW_SECONDS),
        PAYMENT_RECONCILE_AFTER_SECONDS: String(RECONCILE_AFTER_SECONDS),
        // Small PG timeouts: a latency fault beyond one attempt's timeout is retried with the same key.
        PG_ATTEMPTS: String(PG_ATTEMPTS),
        PG_ATTEMPT_TIMEOUT_MS: '2000',
        PG_DEADLINE_MS: '10000',
        PG_BACKOFF_BASE_MS: '20',
        PG_BACKOFF_MAX_MS: '200',
        // Dropped connections are what these tests inject: the breaker must not open on them.
        PG_BREAKER_FAILURES: '1000',
      }),
    });
    t = app;
    expect(t.config.pg.apiUrl).toBe(`http://127.0.0.1:${app.port}/sandbox/toss`);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const repo = () => paymentsRepository(t.ctx.payments);
  const sandbox = () => t.ctx.sandbox!;
  const faults = (...steps: FaultStep[]) => sandbox().faults.enqueue(steps);

  /** What the PG charged and refunded for the order. */
  const ledger = (orderId: string) => pgLedger<{ status: string }>(orderId);
  const orderOf = async (buyer: Buyer, id: string) => (await t.app.inject({ method: 'GET', url: `/v1/orders/${id}`, headers: buyer.auth })).json();
  const seatStatuses = async (scheduleId: string, seatIds: string[]) => {
    const seats = (await t.app.inject({ method: 'GET', url: `/v1/schedules/${scheduleId}/seats` })).json<{ seats: { seatId: string; status: string }[] }>()
      .seats;
    return seatIds.map((id) => seats.find((s) => s.seatId === id)?.status);
  };
  const ticketsOf = async (buyer: Buyer) =>
    (await t.app.inject({ method: 'GET', url: '/v1/me/tickets', headers: buyer.auth })).json<{
      items: { orderId: string; seatId: string; code: string; status: string }[];
    }>().items;
  const reconcile = () => runJob('payments.reconcile');
  const expireOrders = () => runJob('booking.expire-orders');

  it('pays an order: 200 with tickets, order PAID, seats SOLD, coupon USED, payment.completed, and exactly one charge at the PG', async () => {
    const given = await givenOpenSchedule(t.app, { seats: 10, price: PRICE, now: clock.now() });
    const buyer = await buyerWithCoupon(given);

    const { order, chosen, schedule } = await placeOrder({ schedule: given, buyer });
    expect(order.amount).toBe(2 * PRICE - 1000);
    const paymentKey = await checkout(order);
    const res = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.order).toMatchObject({ id: order.id, status: 'PAID', amount: order.amount, paidAt: clock.now().toISOString() });
    // The PG's approval time, to its second (Toss writes seconds).
    const approvedAt = new Date(Math.floor(clock.now().getTime() / 1000) * 1000).toISOString();
    expect(body.payment).toEqual({ paymentKey, status: 'DONE', method: '카드', approvedAt, totalAmount: order.amount });
    expect(body.tickets).toHaveLength(2);
    expect(body.tickets.map((x: { seatId: string }) => x.seatId).sort()).toEqual([...chosen].sort());
    for (const ticket of body.tickets) expect(ticket.code).toMatch(/^[A-Za-z0-9_-]{22}$/); // 128 random bits

    expect((await orderOf(buyer, order.id)).status).toBe('PAID');
    expect(await seatStatuses(schedule.id, chosen)).toEqual(['SOLD', 'SOLD']);
    const wallet = (await t.app.inject({ method: 'GET', url: '/v1/me/coupons', headers: buyer.auth })).json().items;
    expect(wallet).toEqual([expect.objectContaining({ status: 'USED' })]);
    const tickets = await ticketsOf(buyer);
    expect(tickets.map((x) => x.orderId)).toEqual([order.id, order.id]);
    expect(tickets.every((x) => x.status === 'VALID')).toBe(true);
    expect(await outboxTypes(order.id)).toEqual(['order.created', 'payment.completed']);

    // The PG's ledger and MOS's tables tell the same story.
    expect(await ledger(order.id)).toMatchObject({ charges: 1, chargedAmount: order.amount, canceledAmount: 0 });
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'DONE', attempt: 1, paymentKey, amount: order.amount, method: '카드' });

    // The same confirm again is answered as the first was, and charges nothing more.
    const again = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(body);
    expect((await ledger(order.id)).charges).toBe(1);
  });

  it("answers 404 for another buyer's order and sends nothing to the PG", async () => {
    const { order } = await placeOrder({ seats: 1 });
    const paymentKey = await checkout(order);
    const stranger = await mintBuyer(clock.now());
    const res = await confirm(stranger, { paymentKey, orderId: order.id, amount: order.amount });
    expect(res.statusCode).toBe(404);
    expect((await ledger(order.id)).payments.map((p) => p.status)).toEqual(['IN_PROGRESS']);
  });

  it('refuses a tampered amount with 400 AMOUNT_MISMATCH before anything reaches the PG', async () => {
    const { order, buyer } = await placeOrder({ seats: 1 });
    const paymentKey = await checkout(order);
    const res = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount - 40_000 });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'AMOUNT_MISMATCH', amount: order.amount });
    expect(await ledger(order.id)).toMatchObject({ charges: 0, payments: [{ status: 'IN_PROGRESS' }] });
    expect(await repo().findByOrder(order.id)).toBeUndefined();
    expect((await orderOf(buyer, order.id)).status).toBe('PENDING_PAYMENT');
  });

  it('answers a refused card with 402 PAYMENT_REJECTED and its pgCode; the order stays payable and a new payment (attempt 2) pays it', async () => {
    const { order, buyer, chosen, schedule } = await placeOrder({ seats: 1 });
    const refused = await checkout(order, 'REJECT_CARD_PAYMENT');
    const res = await confirm(buyer, { paymentKey: refused, orderId: order.id, amount: order.amount });
    expect(res.statusCode).toBe(402);
    expect(res.json()).toMatchObject({ code: 'PAYMENT_REJECTED', pgCode: 'REJECT_CARD_PAYMENT' });
    expect((await orderOf(buyer, order.id)).status).toBe('PENDING_PAYMENT');
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'REJECTED', attempt: 1, pgCode: 'REJECT_CARD_PAYMENT' });
    expect(await ledger(order.id)).toMatchObject({ charges: 0 });

    const paymentKey = await checkout(order);
    const paid = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    expect(paid.statusCode).toBe(200);
    expect(paid.json().order.status).toBe('PAID');
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'DONE', attempt: 2, paymentKey });
    expect(await ledger(order.id)).toMatchObject({ charges: 1, chargedAmount: order.amount, payments: [{ status: 'ABORTED' }, { status: 'DONE' }] });
    expect(await seatStatuses(schedule.id, chosen)).toEqual(['SOLD']);
  });

  it('charges once for 50 concurrent confirms of one order: one PAID order, every answer 200 (or 202 / 409 in progress)', async () => {
    const { order, buyer, chosen } = await placeOrder({ seats: 2 });
    const paymentKey = await checkout(order);
    const answers = await Promise.all(Array.from({ length: 50 }, () => confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount })));
    for (const a of answers) {
      expect([200, 202, 409]).toContain(a.statusCode);
      if (a.statusCode === 409) expect(a.json().code).toBe('REQUEST_IN_PROGRESS');
    }
    expect(answers.filter((a) => a.statusCode === 200).length).toBeGreaterThan(0);
    const ticketIds = new Set(answers.filter((a) => a.statusCode === 200).flatMap((a) => a.json().tickets.map((x: { id: string }) => x.id)));
    expect(ticketIds.size).toBe(chosen.length); // every 200 names the same tickets
    expect((await orderOf(buyer, order.id)).status).toBe('PAID');
    expect((await ticketsOf(buyer)).filter((x) => x.orderId === order.id)).toHaveLength(chosen.length);
    expect(await ledger(order.id)).toMatchObject({ charges: 1, chargedAmount: order.amount, canceledAmount: 0 });
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'DONE', attempt: 1 });
    expect((await outboxTypes(order.id)).filter((x) => x === 'payment.completed')).toHaveLength(1);
  });

  it('answers 409 ORDER_EXPIRED for an order that expired before the confirm, and charges nothing', async () => {
    const { order, buyer } = await placeOrder({ seats: 1 });
    const paymentKey = await checkout(order);
    clock.advance(PAYMENT_WINDOW_SECONDS * 1000 + 1000);
    await expireOrders();
    expect((await orderOf(buyer, order.id)).status).toBe('EXPIRED');
    const res = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('ORDER_EXPIRED');
    expect(await ledger(order.id)).toMatchObject({ charges: 0, payments: [{ status: 'IN_PROGRESS' }] });
    expect(await repo().findByOrder(order.id)).toBeUndefined();
  });

  it('cancels the charge at the PG when the order expires between the PG approving it and the commit: 409, nothing sold', async () => {
    const { order, buyer, chosen, schedule } = await placeOrder({ seats: 2 });
    const paymentKey = await checkout(order);
    // The PG takes its time with this confirm; the order expires meanwhile (no lock is held while the PG works).
    faults({ on: 'confirm', latencyMs: 800 });
    const pending = confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    await until(() => sandbox().faults.pending === 0, 'the PG received the confirm');
    clock.advance(PAYMENT_WINDOW_SECONDS * 1000 + 1000);
    await expireOrders();
    const res = await pending;
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('ORDER_EXPIRED');

    expect(await ledger(order.id)).toMatchObject({
      charges: 1,
      chargedAmount: order.amount,
      canceledAmount: order.amount,
      balanceAmount: 0,
      payments: [{ status: 'CANCELED' }],
    });
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'CANCELED', paymentKey });
    expect((await orderOf(buyer, order.id)).status).toBe('EXPIRED');
    expect(await seatStatuses(schedule.id, chosen)).toEqual(['AVAILABLE', 'AVAILABLE']);
    expect(await ticketsOf(buyer)).toEqual([]);
    expect(await outboxTypes(order.id)).toEqual(['order.created', 'order.expired']);
  });

  it("answers from the PG's replay when the PG charged and the answer was lost (one dropped connection)", async () => {
    const { order, buyer } = await placeOrder({ seats: 1 });
    const paymentKey = await checkout(order);
    faults({ on: 'confirm', fault: 'drop' });
    const res = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    expect(res.statusCode).toBe(200);
    expect(res.json().order.status).toBe('PAID');
    expect(await ledger(order.id)).toMatchObject({ charges: 1, chargedAmount: order.amount });
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'DONE', attempt: 1 });
  });

  it('parks a charge whose every answer was lost (202 PENDING_CONFIRMATION), and the reconciliation pays the order — one charge', async () => {
    const { order, buyer, chosen, schedule } = await placeOrder({ seats: 1 });
    const paymentKey = await checkout(order);
    faults(...Array.from({ length: PG_ATTEMPTS }, () => ({ on: 'confirm' as const, fault: 'drop' as const })));
    const res = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'PENDING_CONFIRMATION' });
    // The PG charged; MOS does not know it yet.
    expect(await ledger(order.id)).toMatchObject({ charges: 1 });
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'UNKNOWN', attempt: 1 });
    expect((await orderOf(buyer, order.id)).status).toBe('PENDING_PAYMENT');

    await reconcile();
    expect((await orderOf(buyer, order.id)).status).toBe('PAID');
    expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'DONE', attempt: 1, paymentKey });
    expect(await seatStatuses(schedule.id, chosen)).toEqual(['SOLD']);
    expect(await ledger(order.id)).toMatchObject({ charges: 1, chargedAmount: order.amount, canceledAmount: 0 });
    // The buyer's retry now gets the paid order.
    const retry = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    expect(retry.statusCode).toBe(200);
    expect(retry.json().tickets).toHaveLength(1);
    expect((await ledger(order.id)).charges).toBe(1);
  });

  it("retries a PG timeout with the same Idempotency-Key and pays once the PG's answer comes", async () => {
    const { order, buyer } = await placeOrder({ seats: 1 });
    const paymentKey = await checkout(order);
    faults({ on: 'confirm', latencyMs: 2500 }); // beyond PG_ATTEMPT_TIMEOUT_MS
    const res = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    expect(res.statusCode).toBe(200);
    expect(res.json().order.status).toBe('PAID');
    expect(await ledger(order.id)).toMatchObject({ charges: 1, chargedAmount: order.amount });
  });

  describe('reconciliation after a crash mid-confirm', () => {
    /** The PG charged under the attempt's key, and the process died before it heard: a CONFIRMING row is all MOS has. */
    const crashedAfterCharging = async (placed: Awaited<ReturnType<typeof placeOrder>>) => {
      const { order, buyer } = placed;
      const paymentKey = await checkout(order);
      const charged = await chargeAtPg({ paymentKey, orderId: order.id, amount: order.amount });
      expect(charged.statusCode).toBe(200);
      await recordPayment({
        orderId: order.id,
        userId: buyer.id,
        paymentKey,
        amount: order.amount,
        status: 'CONFIRMING',
      });
      return paymentKey;
    };

    it('leaves a CONFIRMING payment alone while it may be in flight, then pays the order from the PG lookup', async () => {
      const placed = await placeOrder({ seats: 2 });
      const paymentKey = await crashedAfterCharging(placed);
      await reconcile();
      expect(await repo().findByOrder(placed.order.id)).toMatchObject({ status: 'CONFIRMING' });

      clock.advance(RECONCILE_AFTER_SECONDS * 1000);
      await reconcile();
      expect((await orderOf(placed.buyer, placed.order.id)).status).toBe('PAID');
      expect(await repo().findByOrder(placed.order.id)).toMatchObject({ status: 'DONE', paymentKey, method: '카드' });
      expect(await seatStatuses(placed.schedule.id, placed.chosen)).toEqual(['SOLD', 'SOLD']);
      expect((await ticketsOf(placed.buyer)).filter((x) => x.orderId === placed.order.id)).toHaveLength(2);
      expect(await ledger(placed.order.id)).toMatchObject({ charges: 1, chargedAmount: placed.order.amount, canceledAmount: 0 });
      expect(await outboxTypes(placed.order.id)).toEqual(['order.created', 'payment.completed']);
    });

    it('refunds at the PG, and sells nothing, when the seats went to another order meanwhile', async () => {
      const placed = await placeOrder({ seats: 1 });
      const paymentKey = await crashedAfterCharging(placed);
      // The order's window lapses before anyone reconciles; another buyer takes its seat.
      clock.advance(PAYMENT_WINDOW_SECONDS * 1000 + 1000);
      const rival = await placeOrder({ seats: 1, schedule: placed });
      expect(rival.chosen).toEqual(placed.chosen);

      await reconcile();
      expect(await repo().findByOrder(placed.order.id)).toMatchObject({ status: 'CANCELED', paymentKey });
      expect((await orderOf(placed.buyer, placed.order.id)).status).not.toBe('PAID');
      expect(await ledger(placed.order.id)).toMatchObject({ charges: 1, canceledAmount: placed.order.amount, balanceAmount: 0 });
      expect(await ticketsOf(placed.buyer)).toEqual([]);
      // The rival's order keeps the seat.
      expect((await orderOf(rival.buyer, rival.order.id)).status).toBe('PENDING_PAYMENT');
      expect(await seatStatuses(placed.schedule.id, placed.chosen)).toEqual(['HELD']);
      expect(await outboxTypes(placed.order.id)).toEqual(['order.created']);
    });

    it('rejects an orphaned attempt the PG never approved, so the buyer can pay with a new one', async () => {
      const { order, buyer } = await placeOrder({ seats: 1 });
      const lost = await checkout(order);
      await recordPayment({
        orderId: order.id,
        userId: buyer.id,
        paymentKey: lost,
        amount: order.amount,
        status: 'CONFIRMING',
      });
      // While the orphan is open, another payment of the order is not confirmed beside it.
      const other = await checkout(order);
      const early = await confirm(buyer, { paymentKey: other, orderId: order.id, amount: order.amount });
      expect(early.statusCode).toBe(202);

      clock.advance(RECONCILE_AFTER_SECONDS * 1000);
      await reconcile();
      expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'REJECTED', attempt: 1, pgCode: 'NOT_CONFIRMED' });
      const paid = await confirm(buyer, { paymentKey: other, orderId: order.id, amount: order.amount });
      expect(paid.statusCode).toBe(200);
      expect(await repo().findByOrder(order.id)).toMatchObject({ status: 'DONE', attempt: 2, paymentKey: other });
      expect(await ledger(order.id)).toMatchObject({ charges: 1, chargedAmount: order.amount });
    });
  });
});
