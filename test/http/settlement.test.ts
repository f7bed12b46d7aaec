import { createServer, type Server } from 'node:http';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentsRepository } from '../../src/modules/payments/testing.js';
import { settlementRepository } from '../../src/modules/settlement/testing.js';
import { ManualClock } from '../../src/platform/clock.js';
import { queryRows } from '../../src/platform/db/client.js';
import { newId } from '../../src/platform/ids.js';
import { campaignBody, givenAdmin, givenBuyer, givenPerformance, givenSchedule, givenSeller, givenVenue, type GivenUser } from '../support/builders.js';
import type { TestApp } from '../support/harness.js';
import { type Buyer, purchaseSteps, startSandboxApp } from '../support/payments.js';

/**
 * Settlement end to end, in both modes: a purchase through the sandbox PG → confirm →
 * `payment.completed` in the outbox → relay → the settlement consumer → the ledger → an admin's
 * run → the seller's settlement, lines and CSV; and the daily job's calendar days in Korean time.
 */

const kst = (local: string) => new Date(`${local}+09:00`);
const PRICE = 50_000;
const TITLE = 'Rock, "Live"\n서울 콘서트';

describe('settlement: purchase → event → ledger → run → settlement', () => {
  let t: TestApp;
  let alertServer: Server;
  const alertsPosted: string[] = [];
  const clock = new ManualClock(kst('2026-03-01T10:00:00'));
  const { checkout, confirm, runJob } = purchaseSteps(() => t, clock, 'settle');
  let admin: GivenUser;
  let seller: GivenUser;
  let schedule: { id: string };
  let seatIds: string[] = [];
  let nextSeat = 0;

  beforeAll(async () => {
    alertServer = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        alertsPosted.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => alertServer.listen(0, '127.0.0.1', r));
    const address = alertServer.address();
    t = await startSandboxApp({
      clock,
      env: () => ({
        ACCESS_TOKEN_TTL_SECONDS: '86400',
        PLATFORM_FEE_RATE: '0.1',
        PG_FEE_RATE: '0.03',
        PG_FEE_REFUNDABLE: 'false',
        SETTLEMENT_GRACE_MINUTES: '10',
        ALERT_WEBHOOK_URL: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`,
      }),
    });
    admin = await givenAdmin(t.app, t.ctx);
    seller = await givenSeller(t.app);
    const venue = await givenVenue(t.app, seller, [{ name: 'A', rows: [{ label: '1', seats: 20 }] }]);
    const performance = await givenPerformance(t.app, seller, venue.id, { title: TITLE, grades: [{ name: 'R', price: PRICE }] });
    schedule = await givenSchedule(t.app, seller, performance.id, { startsAt: kst('2026-04-01T19:00:00') }, clock.now());
    const map = await t.app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}/seats` });
    seatIds = map.json<{ seats: { seatId: string }[] }>().seats.map((s) => s.seatId);
  });
  afterAll(async () => {
    await t?.cleanup();
    await new Promise((r) => alertServer?.close(r));
  });

  /** The relay publishes the outbox, and the settlement consumer books what it hears. */
  const pump = async () => {
    await runJob('events.relay');
    while ((await t.ctx.settlement.consumer.drainOnce()) > 0);
  };

  /** A buyer (with a coupon of `couponBy`'s campaign, if given) holds two seats, orders them and pays. */
  const buy = async (couponBy?: GivenUser) => {
    const buyer: Buyer = await givenBuyer(t.app);
    if (couponBy) {
      const campaign = await t.app.inject({
        method: 'POST',
        url: '/v1/coupons',
        headers: couponBy.auth,
        payload: campaignBody(clock.now(), { scope: { performanceId: (await performanceOf()).id } }),
      });
      expect(campaign.statusCode).toBe(201);
      expect((await t.app.inject({ method: 'POST', url: `/v1/coupons/${campaign.json().id}/claims`, headers: buyer.auth })).statusCode).toBe(201);
      while ((await t.ctx.coupons.consumer.drainOnce()) > 0);
    }
    const chosen = seatIds.slice(nextSeat, nextSeat + 2);
    nextSeat += 2;
    expect(
      (await t.app.inject({ method: 'POST', url: `/v1/schedules/${schedule.id}/holds`, headers: buyer.auth, payload: { seatIds: chosen } })).statusCode,
    ).toBe(201);
    const placed = await t.app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { ...buyer.auth, 'idempotency-key': newId() },
      payload: { scheduleId: schedule.id, seatIds: chosen },
    });
    expect(placed.statusCode).toBe(201);
    const order = placed.json<{ id: string; amount: number; orderName: string; subtotal: number; discount: number }>();
    const paymentKey = await checkout(order);
    const paid = await confirm(buyer, { paymentKey, orderId: order.id, amount: order.amount });
    expect(paid.statusCode).toBe(200);
    return { buyer, order };
  };
  let performanceId: string | undefined;
  const performanceOf = async () => {
    performanceId ??= (await t.app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}` })).json<{ performanceId: string }>().performanceId;
    return { id: performanceId };
  };

  const signInAgain = async (user: GivenUser) => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: user.email, password: user.password } });
    expect(res.statusCode).toBe(200);
    user.auth = { authorization: `Bearer ${res.json<{ accessToken: string }>().accessToken}` };
  };

  const run = (periodStart: string, periodEnd: string, who: { authorization: string } = admin.auth) =>
    t.app.inject({ method: 'POST', url: '/v1/admin/settlements/run', headers: who, payload: { periodStart, periodEnd } });

  const day1 = { start: kst('2026-03-01T00:00:00').toISOString(), end: kst('2026-03-02T00:00:00').toISOString() };
  let settlementId: string;

  it('books each sale and refund with its seller, performance and discount funding, and settles the day to the won', async () => {
    const sellerCoupon = await buy(seller); // 1,000 KRW funded by the seller
    const platformCoupon = await buy(admin); // 1,000 KRW funded by the platform
    const refunded = await buy();
    clock.advance(3_600_000);
    const cancelled = await t.app.inject({ method: 'POST', url: `/v1/orders/${refunded.order.id}/cancel`, headers: refunded.buyer.auth, payload: {} });
    expect(cancelled.statusCode).toBe(200);

    // The events carry the sale's facts (payload v2).
    const [event] = await queryRows<{ version: number; payload: Record<string, unknown> }>(
      t.ctx.database.db,
      sql`select version, payload from outbox where aggregate_id = ${sellerCoupon.order.id} and type = 'payment.completed'`,
    );
    expect(event).toMatchObject({
      version: 2,
      payload: {
        sellerId: seller.id,
        performanceId: (await performanceOf()).id,
        performanceTitle: TITLE,
        listTotal: 100_000,
        sellerDiscount: 1_000,
        platformDiscount: 0,
      },
    });
    const [refundEvent] = await queryRows<{ version: number; payload: Record<string, unknown> }>(
      t.ctx.database.db,
      sql`select version, payload from outbox where aggregate_id = ${refunded.order.id} and type = 'refund.completed'`,
    );
    expect(refundEvent).toMatchObject({
      version: 2,
      payload: { sellerId: seller.id, listTotal: 100_000, chargedAmount: 100_000, canceledAt: kst('2026-03-01T11:00:00').toISOString() },
    });

    await pump();
    await pump(); // a second pass (redelivery) books nothing more
    const ledger = await queryRows<{ kind: string; n: number }>(
      t.ctx.database.db,
      sql`select kind, count(*)::int as n from settlement_ledger group by kind order by kind`,
    );
    expect(ledger).toEqual([
      { kind: 'REFUND', n: 1 },
      { kind: 'SALE', n: 3 },
    ]);

    // Live sales, before any run.
    const sales = await t.app.inject({
      method: 'GET',
      url: `/v1/seller/sales?from=${encodeURIComponent(day1.start)}&to=${encodeURIComponent(day1.end)}`,
      headers: seller.auth,
    });
    expect(sales.statusCode).toBe(200);
    expect(sales.json().items).toEqual([
      {
        performanceId: (await performanceOf()).id,
        performanceTitle: TITLE,
        scheduleId: schedule.id,
        sold: 6,
        refundedTickets: 2,
        gross: 300_000,
        refunded: 100_000,
        discountsSellerFunded: 1_000,
      },
    ]);

    // A day not closed yet is refused; after midnight (KST) it settles.
    expect((await run(day1.start, day1.end)).json()).toMatchObject({ status: 400, code: 'PERIOD_NOT_CLOSED' });
    clock.set(kst('2026-03-02T00:30:00'));
    const res = await run(day1.start, day1.end);
    expect(res.statusCode).toBe(200);
    const [s] = res.json<{ settlements: Record<string, unknown>[] }>().settlements;
    // order 1: 100,000 − 1,000 (seller's coupon) − fee 9,900 (10 % of 99,000) − PG 2,970 (3 % of 99,000) = 86,130
    // order 2: 100,000 − fee 10,000 (the platform's coupon is not the seller's cost) − PG 2,970 (of 99,000 charged) = 87,030
    // order 3: sold and refunded the same day: 100,000 − 100,000 refunded; fee 10,000 given back; PG 3,000 kept by the PG = −3,000
    expect(s).toMatchObject({
      sellerId: seller.id,
      periodStart: day1.start,
      periodEnd: day1.end,
      lineCount: 3,
      gross: 300_000,
      sellerDiscounts: 1_000,
      platformDiscounts: 1_000,
      refunds: 100_000,
      platformFee: 19_900,
      pgFee: 8_940,
      subtotal: 170_160,
      carriedIn: 0,
      carriedOut: 0,
      net: 170_160,
      status: 'PENDING',
    });
    settlementId = String(s!.id);
    expect(platformCoupon.order.discount).toBe(1_000);

    // The same period again: the same settlements, nothing changed.
    const again = await run(day1.start, day1.end);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(res.json());
    expect((await queryRows<{ n: number }>(t.ctx.database.db, sql`select count(*)::int as n from settlement_runs`))[0]!.n).toBe(1);
    // An overlapping other period: 409.
    const overlap = await run(kst('2026-03-01T12:00:00').toISOString(), kst('2026-03-02T00:00:00').toISOString());
    expect(overlap.statusCode).toBe(409);
    expect(overlap.json()).toMatchObject({ code: 'PERIOD_OVERLAPS', periodStart: day1.start, periodEnd: day1.end });
    // To the second: a fraction is refused.
    expect((await run('2026-02-01T00:00:00.500Z', '2026-02-02T00:00:00Z')).statusCode).toBe(400);
  });

  it('shows the seller their settlement with one line per order, and nobody else', async () => {
    const list = await t.app.inject({ method: 'GET', url: '/v1/seller/settlements', headers: seller.auth });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ items: [{ id: settlementId, net: 170_160, status: 'PENDING' }], nextCursor: null });

    const detail = await t.app.inject({ method: 'GET', url: `/v1/seller/settlements/${settlementId}`, headers: seller.auth });
    expect(detail.statusCode).toBe(200);
    const lines = detail.json<{ lines: { net: number; refunds: number; soldAt: string | null; refundedAt: string | null }[] }>().lines;
    expect(lines.map((l) => l.net).sort((a, b) => a - b)).toEqual([-3_000, 86_130, 87_030]);
    expect(lines.reduce((n, l) => n + l.net, 0)).toBe(170_160);
    const paged = await t.app.inject({ method: 'GET', url: `/v1/seller/settlements/${settlementId}?limit=2`, headers: seller.auth });
    const next = paged.json<{ lines: unknown[]; nextCursor: string }>();
    expect(next.lines).toHaveLength(2);
    const rest = await t.app.inject({ method: 'GET', url: `/v1/seller/settlements/${settlementId}?limit=2&cursor=${next.nextCursor}`, headers: seller.auth });
    expect(rest.json()).toMatchObject({ lines: [expect.any(Object)], nextCursor: null });

    // Another seller: 404 (existence does not leak), an empty list; a buyer: 403.
    const other = await givenSeller(t.app);
    expect((await t.app.inject({ method: 'GET', url: `/v1/seller/settlements/${settlementId}`, headers: other.auth })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/v1/seller/settlements/${settlementId}/csv`, headers: other.auth })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/v1/seller/settlements', headers: other.auth })).json()).toEqual({ items: [], nextCursor: null });
    const buyer = await givenBuyer(t.app);
    expect((await t.app.inject({ method: 'GET', url: '/v1/seller/settlements', headers: buyer.auth })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/v1/seller/settlements' })).statusCode).toBe(401);
  });

  it('streams the CSV as UTF-8 with a BOM, quoting commas, quotes and line breaks (RFC 4180)', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/seller/settlements/${settlementId}/csv`, headers: seller.auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="settlement-${settlementId}.csv"`);
    expect([...res.rawPayload.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = res.rawPayload.toString('utf8').slice(1);
    const records = text.split('\r\n');
    expect(records[0]).toBe(
      'orderId,performanceId,performanceTitle,scheduleId,soldAt,refundedAt,seats,gross,sellerDiscount,platformDiscount,charged,refunds,platformFee,pgFee,net',
    );
    expect(records.at(-1)).toBe('');
    expect(records).toHaveLength(5);
    // The title holds a comma, quotes and a newline: quoted, the quotes doubled, the newline kept inside.
    expect(records[1]).toContain(`,"Rock, ""Live""\n서울 콘서트",`);
    const nets = records.slice(1, 4).map((r) => Number(r.split(',').at(-1)));
    expect(nets.sort((a, b) => a - b)).toEqual([-3_000, 86_130, 87_030]);
  });

  it('lets only an admin run periods and mark a settlement paid; a paid settlement never changes', async () => {
    expect((await run(day1.start, day1.end, seller.auth)).statusCode).toBe(403);
    const mark = (who: { authorization: string }) => t.app.inject({ method: 'POST', url: `/v1/admin/settlements/${settlementId}/paid`, headers: who });
    expect((await mark(seller.auth)).statusCode).toBe(403);
    const paid = await mark(admin.auth);
    expect(paid.statusCode).toBe(200);
    expect(paid.json()).toMatchObject({ id: settlementId, status: 'PAID', paidAt: clock.now().toISOString(), net: 170_160 });
    clock.advance(60_000);
    expect((await mark(admin.auth)).json()).toEqual(paid.json());
    expect((await run(day1.start, day1.end)).json().settlements[0]).toEqual(paid.json());
    expect((await t.app.inject({ method: 'POST', url: `/v1/admin/settlements/${newId()}/paid`, headers: admin.auth })).statusCode).toBe(404);
  });

  it("the daily job settles yesterday in Korean time: a sale at 23:59:59.999 KST that day, one at 00:00:00.000 KST the next; a refund of a settled sale goes to the refund's day, its deficit carried", async () => {
    clock.set(kst('2026-03-02T23:59:59.999'));
    await signInAgain(seller); // a day has passed: a fresh access token
    const late = await buy();
    clock.set(kst('2026-03-03T00:00:00.000'));
    const early = await buy();
    clock.set(kst('2026-03-03T00:05:00'));
    await pump();
    // Within the grace after midnight the job waits for the day's last events.
    await runJob('settlement.daily');
    expect((await t.app.inject({ method: 'GET', url: '/v1/seller/settlements', headers: seller.auth })).json().items).toHaveLength(1);
    clock.set(kst('2026-03-03T00:15:00'));
    await runJob('settlement.daily');
    const day2 = (await t.app.inject({ method: 'GET', url: '/v1/seller/settlements', headers: seller.auth })).json().items[0];
    expect(day2).toMatchObject({
      periodStart: kst('2026-03-02T00:00:00').toISOString(),
      periodEnd: kst('2026-03-03T00:00:00').toISOString(),
      lineCount: 1,
      gross: 100_000,
    });
    const lines = (await t.app.inject({ method: 'GET', url: `/v1/seller/settlements/${day2.id}`, headers: seller.auth })).json().lines;
    expect(lines).toEqual([expect.objectContaining({ orderId: late.order.id })]);
    await runJob('settlement.daily'); // again: nothing new
    expect((await t.app.inject({ method: 'GET', url: '/v1/seller/settlements', headers: seller.auth })).json().items).toHaveLength(2);

    // On the 3rd both are refunded: the early sale nets with its refund on one line; the late one's
    // sale was settled with the 2nd, so its refund belongs to the 3rd alone.
    clock.set(kst('2026-03-03T09:00:00'));
    expect((await t.app.inject({ method: 'POST', url: `/v1/orders/${late.order.id}/cancel`, headers: late.buyer.auth, payload: {} })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: `/v1/orders/${early.order.id}/cancel`, headers: early.buyer.auth, payload: {} })).statusCode).toBe(200);
    await pump();
    clock.set(kst('2026-03-04T01:00:00'));
    await signInAgain(seller);
    await runJob('settlement.daily');
    const day3 = (await t.app.inject({ method: 'GET', url: '/v1/seller/settlements', headers: seller.auth })).json().items[0];
    // early: sold and refunded on the 3rd → −3,000 (PG fee kept); late: refund only → −(100,000 − 10,000 fee back) = −90,000.
    expect(day3).toMatchObject({ periodStart: kst('2026-03-03T00:00:00').toISOString(), lineCount: 2, subtotal: -93_000, net: 0, carriedOut: 93_000 });
  });

  it('checks the ledger against the payments and alerts on a difference', async () => {
    const day = { start: kst('2026-03-02T00:00:00'), end: kst('2026-03-03T00:00:00') };
    expect(await t.ctx.settlement.service.check(day.start, day.end)).toMatchObject({ matches: true, ledger: { sales: { count: 1, amount: 100_000 } } });
    // A charge payments recorded that never reached the ledger (its event lost).
    const orderId = newId();
    await paymentsRepository(t.ctx.payments).insert({
      id: newId(),
      orderId,
      userId: newId(),
      paymentKey: `lost-${orderId}`,
      amount: 5_000,
      attempt: 1,
      status: 'DONE',
      approvedAt: kst('2026-03-02T12:00:00'),
      createdAt: clock.now(),
      updatedAt: clock.now(),
    });
    const result = await t.ctx.settlement.service.check(day.start, day.end);
    expect(result).toMatchObject({ matches: false, ledger: { sales: { count: 1 } }, payments: { sales: { count: 2, amount: 105_000 } } });
    await expect.poll(() => alertsPosted.join('\n')).toContain('settlement-mismatch');
    expect(await settlementRepository(t.ctx.settlement).figures(day.start, day.end)).toEqual(result.ledger);
  });
});
