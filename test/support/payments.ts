/**
 * The buyer's side of a purchase against the sandbox PG mounted in a test app — hold, order,
 * the payment widget's checkout, confirm — shared by the payment, refund and webhook suites.
 */
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { pgIdempotencyKeys } from '../../src/modules/payments/index.js';
import { SANDBOX_DEFAULT_SECRET_KEY, SANDBOX_PREFIX } from '../../src/modules/payments/sandbox/index.js';
import { paymentsRepository } from '../../src/modules/payments/testing.js';
import type { Clock } from '../../src/platform/clock.js';
import { queryRows } from '../../src/platform/db/client.js';
import { newId } from '../../src/platform/ids.js';
import { campaignBody, givenBuyer, givenOpenSchedule, mintBuyer } from './builders.js';
import { createTestApp, type TestApp } from './harness.js';
import { freePort } from './processes.js';

/**
 * A test app with the sandbox PG mounted (TOSS_SANDBOX), listening on a port of its own with
 * TOSS_API_URL left to its default — this process's own sandbox — so a confirm reaches the PG
 * over real HTTP and the sandbox's faults (dropped connections, latency) act on real sockets.
 * `env` adds to (or overrides) the suite's settings; `port` is the app's.
 */
export async function startSandboxApp(opts: { clock: Clock; env?: (port: number) => Record<string, string> }): Promise<TestApp & { port: number }> {
  const port = await freePort();
  const t = await createTestApp({
    env: { PORT: String(port), TOSS_SANDBOX: 'true', RATE_LIMIT_MAX: '100000', ...opts.env?.(port) },
    context: { clock: opts.clock },
  });
  await t.app.listen({ port, host: '127.0.0.1' });
  return Object.assign(t, { port });
}

/** Basic auth with the sandbox's default test key, as a merchant server calls the PG. */
export const sandboxBasic = { authorization: `Basic ${Buffer.from(`${SANDBOX_DEFAULT_SECRET_KEY}:`).toString('base64')}` };

/** Every seat's price in these suites' showtimes. */
export const PRICE = 50_000;

export interface Buyer {
  id: string;
  auth: { authorization: string };
}

export interface PlacedOrder {
  id: string;
  amount: number;
  orderName: string;
  status: string;
}

/** The PG's ledger for one order: what it charged and cancelled, and its payments. */
export interface OrderLedger<P> {
  charges: number;
  chargedAmount: number;
  canceledAmount: number;
  balanceAmount: number;
  payments: P[];
}

/** Steps for one test app; `keyPrefix` keeps each suite's Idempotency-Keys its own. */
export function purchaseSteps(t: () => TestApp, clock: Clock, keyPrefix: string) {
  const app = () => t().app;
  let keyN = 0;
  const placeOrder = async (opts: { seats?: number; buyer?: Buyer; schedule?: Awaited<ReturnType<typeof givenOpenSchedule>> } = {}) => {
    const given = opts.schedule ?? (await givenOpenSchedule(app(), { seats: 10, price: PRICE, now: clock.now() }));
    const buyer = opts.buyer ?? (await mintBuyer(clock.now()));
    const chosen = given.seatIds.slice(0, opts.seats ?? 2);
    const held = await app().inject({ method: 'POST', url: `/v1/schedules/${given.schedule.id}/holds`, headers: buyer.auth, payload: { seatIds: chosen } });
    expect(held.statusCode).toBe(201);
    const res = await app().inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { ...buyer.auth, 'idempotency-key': `${keyPrefix}-${++keyN}` },
      payload: { scheduleId: given.schedule.id, seatIds: chosen },
    });
    expect(res.statusCode).toBe(201);
    return { ...given, buyer, chosen, order: res.json<PlacedOrder>() };
  };
  /** The payment widget's part: the buyer authenticates the payment at the PG. */
  const checkout = async (order: { id: string; amount: number; orderName: string }, testCode?: string) => {
    const res = await app().inject({
      method: 'POST',
      url: `${SANDBOX_PREFIX}/checkout`,
      headers: sandboxBasic,
      payload: { orderId: order.id, amount: order.amount, orderName: order.orderName, ...(testCode ? { testCode } : {}) },
    });
    expect(res.statusCode).toBe(200);
    return res.json<{ paymentKey: string }>().paymentKey;
  };
  const confirm = (buyer: Buyer, body: { paymentKey: string; orderId: string; amount: number }, headers: Record<string, string> = {}) =>
    app().inject({ method: 'POST', url: '/v1/payments/confirm', headers: { ...buyer.auth, ...headers }, payload: body });
  /** What the PG charged and refunded for the order, from the sandbox's own ledger. */
  const ledger = async <P = { status: string; cancels: unknown[] | null }>(orderId: string): Promise<OrderLedger<P>> => {
    const res = await app().inject({ method: 'GET', url: `${SANDBOX_PREFIX}/ledger?orderId=${orderId}`, headers: sandboxBasic });
    const view = res.json<{ orders: Omit<OrderLedger<P>, 'payments'>[]; payments: P[] }>();
    return { ...(view.orders[0] ?? { charges: 0, chargedAmount: 0, canceledAmount: 0, balanceAmount: 0 }), payments: view.payments };
  };
  /** A buyer who owns one FIXED 1,000 KRW coupon for the showtime's performance (claimed and in the wallet). */
  const buyerWithCoupon = async (given: Awaited<ReturnType<typeof givenOpenSchedule>>) => {
    const buyer = await givenBuyer(app());
    const campaign = await app().inject({
      method: 'POST',
      url: '/v1/coupons',
      headers: given.seller.auth,
      payload: campaignBody(clock.now(), { scope: { performanceId: given.performance.id } }),
    });
    expect(campaign.statusCode).toBe(201);
    expect((await app().inject({ method: 'POST', url: `/v1/coupons/${campaign.json().id}/claims`, headers: buyer.auth })).statusCode).toBe(201);
    while ((await t().ctx.coupons.consumer.drainOnce()) > 0);
    return buyer;
  };
  /** The PG charges the payment under the order's first confirm key, without MOS hearing of it (a crash, a lost answer). */
  const chargeAtPg = (body: { paymentKey: string; orderId: string; amount: number }) =>
    app().inject({
      method: 'POST',
      url: `${SANDBOX_PREFIX}/v1/payments/confirm`,
      headers: { ...sandboxBasic, 'idempotency-key': pgIdempotencyKeys.confirm(body.orderId, 1) },
      payload: body,
    });
  /** A payment row at attempt 1 as a process that died mid-confirm leaves it. */
  const recordPayment = (row: { id?: string; orderId: string; userId: string; paymentKey: string; amount: number; status: 'CONFIRMING' | 'UNKNOWN' }) =>
    paymentsRepository(t().ctx.payments).insert({ id: newId(), attempt: 1, createdAt: clock.now(), updatedAt: clock.now(), ...row });
  /** Event types the outbox holds for the order, in outbox order. */
  const outboxTypes = async (orderId: string) =>
    (await queryRows<{ type: string }>(t().ctx.database.db, sql`select type from outbox where aggregate_id = ${orderId} order by seq`)).map((r) => r.type);
  /** One run of a periodic job of the context, as its leader would. */
  const runJob = (name: string) => {
    const found = t().ctx.jobs.find((j) => j.name === name);
    expect(found).toBeDefined();
    return found!.run(1);
  };
  return { placeOrder, checkout, confirm, ledger, buyerWithCoupon, chargeAtPg, recordPayment, outboxTypes, runJob };
}
