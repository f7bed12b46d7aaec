import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ordersRepository } from '../../src/modules/booking/testing.js';
import { couponStore } from '../../src/modules/coupons/testing.js';
import { ManualClock } from '../../src/platform/clock.js';
import { newId } from '../../src/platform/ids.js';
import { givenAdmin, givenBuyer, givenPerformance, givenSchedule, givenSeller, givenVenue, mintBuyer, type GivenUser } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/harness.js';

const day = 86_400_000;

describe('coupons', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date());
  let seller: GivenUser;
  let admin: GivenUser;
  let performanceId: string;
  let scheduleId: string;
  let seats: { seatId: string; grade: string; price: number }[];

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_MAX: '100000', COUPON_CONSUMER_STALE_MS: '50', COUPON_CONSUMER_MAX_DELIVERIES: '2' }, context: { clock } });
    seller = await givenSeller(t.app);
    admin = await givenAdmin(t.app, t.ctx);
    const venue = await givenVenue(t.app, seller, [
      { name: 'A', rows: [{ label: '1', seats: 5 }] },
      { name: 'B', rows: [{ label: '1', seats: 5 }] },
    ]);
    const perf = await givenPerformance(t.app, seller, venue.id, {
      grades: [
        { name: 'VIP', price: 100_000 },
        { name: 'R', price: 60_000 },
      ],
      seatGrades: [{ grade: 'VIP', section: 'A' }],
      defaultGrade: 'R',
    });
    performanceId = perf.id;
    scheduleId = (await givenSchedule(t.app, seller, perf.id, {}, clock.now())).id;
    seats = (await t.app.inject({ method: 'GET', url: `/v1/schedules/${scheduleId}/seats` })).json().seats;
  });
  afterAll(() => t.cleanup());

  const campaignBody = (over: Record<string, unknown> = {}) => ({
    name: 'Welcome',
    kind: 'FIXED',
    params: { amount: 10_000 },
    appliesTo: 'ORDER',
    quantity: 10,
    claimOpensAt: new Date(clock.now().getTime() - 1000).toISOString(),
    validUntil: new Date(clock.now().getTime() + 30 * day).toISOString(),
    scope: { performanceId },
    ...over,
  });
  const create = (user: GivenUser, body: object) => t.app.inject({ method: 'POST', url: '/v1/coupons', headers: user.auth, payload: body });
  const claim = (b: { auth: object }, id: string) =>
    t.app.inject({ method: 'POST', url: `/v1/coupons/${id}/claims`, headers: b.auth as Record<string, string> });
  const drain = async () => {
    while ((await t.ctx.coupons.consumer.drainOnce()) > 0);
  };
  async function walletWith(...campaigns: Record<string, unknown>[]) {
    const buyer = await givenBuyer(t.app);
    const ids: string[] = [];
    for (const body of campaigns) {
      const c = (await create(admin, campaignBody(body))).json();
      expect((await claim(buyer, c.id)).statusCode).toBe(201);
    }
    await drain();
    for (const c of (await t.app.inject({ method: 'GET', url: '/v1/me/coupons', headers: buyer.auth })).json().items) ids.push(c.id);
    return { buyer, couponIds: ids };
  }

  describe('campaigns', () => {
    it('lets a seller run a campaign on their performance (seller-funded) and an admin one for everyone (platform-funded)', async () => {
      const mine = await create(seller, campaignBody({ scope: { performanceId, grade: 'VIP' } }));
      expect(mine.statusCode).toBe(201);
      expect(mine.json()).toMatchObject({ fundedBy: 'SELLER', remaining: 10, perUserLimit: 1, scope: { performanceId, grade: 'VIP' } });
      const platform = await create(admin, campaignBody({ scope: undefined }));
      expect(platform.json()).toMatchObject({ fundedBy: 'PLATFORM', scope: { performanceId: null, grade: null } });
      const listed = (await t.app.inject({ method: 'GET', url: `/v1/coupons?performanceId=${performanceId}` })).json().items.map((c: { id: string }) => c.id);
      expect(listed).toEqual(expect.arrayContaining([mine.json().id, platform.json().id]));
      expect((await t.app.inject({ method: 'GET', url: `/v1/coupons/${mine.json().id}` })).json().remaining).toBe(10);
    });

    it("refuses a seller scoping a campaign to another seller's performance (403), or to none (400)", async () => {
      const other = await givenSeller(t.app);
      expect((await create(other, campaignBody())).statusCode).toBe(403);
      const unscoped = await create(other, campaignBody({ scope: undefined }));
      expect(unscoped.statusCode).toBe(400);
      expect((await create(await givenBuyer(t.app), campaignBody())).statusCode).toBe(403);
    });

    it.each([
      ['FIXED without amount', { kind: 'FIXED', params: {} }, '/body/params'],
      ['FIXED with amount 0', { kind: 'FIXED', params: { amount: 0 } }, '/body/params/amount'],
      ['FIXED with a string amount', { kind: 'FIXED', params: { amount: '1000' } }, '/body/params/amount'],
      ['FIXED with an unknown parameter', { kind: 'FIXED', params: { amount: 1, bonus: 1 } }, '/body/params'],
      ['PERCENT 0', { kind: 'PERCENT', params: { percent: 0 } }, '/body/params/percent'],
      ['PERCENT 101', { kind: 'PERCENT', params: { percent: 101 } }, '/body/params/percent'],
      ['PERCENT with maxDiscount 0', { kind: 'PERCENT', params: { percent: 10, maxDiscount: 0 } }, '/body/params/maxDiscount'],
      ['GRADE_FIXED on an ORDER', { kind: 'GRADE_FIXED', params: { grade: 'VIP', amount: 1000 }, appliesTo: 'ORDER' }, '/body/appliesTo'],
      ['GRADE_FIXED without grade', { kind: 'GRADE_FIXED', params: { amount: 1000 }, appliesTo: 'TICKET' }, '/body/params'],
      ['an unknown kind', { kind: 'BOGO', params: {} }, '/body/kind'],
      ['a grade the performance lacks', { scope: { performanceId: '', grade: 'GOLD' } }, '/body/scope/grade'],
      ['a zero quantity', { quantity: 0 }, '/body/quantity'],
      ['validUntil in the past', { validUntil: new Date(Date.now() - day).toISOString() }, '/body/validUntil'],
    ])('refuses %s with 400', async (_label, over, path) => {
      const body: Record<string, unknown> = campaignBody(over);
      if ((body.scope as { performanceId?: string } | undefined)?.performanceId === '') body.scope = { performanceId, grade: 'GOLD' };
      const res = await create(admin, body);
      expect(res.statusCode).toBe(400);
      expect(
        res
          .json()
          .errors.map((e: { path: string }) => e.path)
          .some((p: string) => p.startsWith(path)),
      ).toBe(true);
    });
  });

  describe('claims', () => {
    it('answers ISSUED, ALREADY_CLAIMED, CLAIM_NOT_OPEN, SOLD_OUT and 404', async () => {
      const c = (await create(admin, campaignBody({ quantity: 1 }))).json();
      const [a, b] = [await mintBuyer(clock.now()), await mintBuyer(clock.now())];
      const first = await claim(a, c.id);
      expect(first.statusCode).toBe(201);
      expect(first.json()).toEqual({ status: 'ISSUED' });
      expect((await claim(a, c.id)).json().code).toBe('ALREADY_CLAIMED');
      expect((await claim(b, c.id)).json().code).toBe('SOLD_OUT');
      const later = (await create(admin, campaignBody({ claimOpensAt: new Date(clock.now().getTime() + day).toISOString() }))).json();
      expect((await claim(a, later.id)).json().code).toBe('CLAIM_NOT_OPEN');
      expect((await claim(a, newId())).statusCode).toBe(404);
      expect((await t.app.inject({ method: 'GET', url: `/v1/coupons/${c.id}` })).json().remaining).toBe(0);
    });

    it('puts an issued coupon in the wallet within a second', async () => {
      const c = (await create(admin, campaignBody())).json();
      const buyer = await givenBuyer(t.app);
      t.ctx.coupons.consumer.start();
      try {
        const at = Date.now();
        await claim(buyer, c.id);
        let items: { campaignId: string; status: string; kind: string; params: object; appliesTo: string }[] = [];
        while (!items.length && Date.now() - at < 1000) {
          items = (await t.app.inject({ method: 'GET', url: '/v1/me/coupons', headers: buyer.auth })).json().items;
          if (!items.length) await new Promise((r) => setTimeout(r, 20));
        }
        expect(items).toEqual([
          expect.objectContaining({ campaignId: c.id, status: 'AVAILABLE', kind: 'FIXED', params: { amount: 10_000 }, appliesTo: 'ORDER' }),
        ]);
      } finally {
        await t.ctx.coupons.consumer.stop();
      }
    });

    it('dead-letters an event that keeps failing, and counts it', async () => {
      // An event for a campaign PostgreSQL does not have: every insert fails its foreign key.
      const ghost = newId();
      await couponStore(t.ctx.coupons).load({ campaignId: ghost, quantity: 1, perUserLimit: 1, claimOpensAt: 0, claimClosesAt: null }, new Map());
      const claimed = await couponStore(t.ctx.coupons).claim(ghost, newId(), clock.now().getTime(), {
        eventId: newId(),
        occurredAt: clock.now().toISOString(),
      });
      expect(claimed.answer).toBe('ISSUED');
      for (let i = 0; i < 4; i++) {
        await t.ctx.coupons.consumer.drainOnce();
        clock.advance(100);
        await new Promise((r) => setTimeout(r, 60));
      }
      expect((await couponStore(t.ctx.coupons).deadLetters()).map((d) => d.reason)).toEqual(['failed 2 times']);
      expect((await t.app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/mos_coupon_events_dead_lettered_total 1/);
    });
  });

  describe('checkout', () => {
    const hold = (b: GivenUser, seatIds: string[]) =>
      t.app.inject({ method: 'POST', url: `/v1/schedules/${scheduleId}/holds`, headers: b.auth, payload: { seatIds } });
    const quote = (b: GivenUser, body: object) => t.app.inject({ method: 'POST', url: '/v1/orders/quote', headers: b.auth, payload: { scheduleId, ...body } });

    it('applies the best coupons when none are named, none for [], and refuses named ones that do not apply', async () => {
      const vip = seats.find((s) => s.grade === 'VIP')!;
      const r = seats.find((s) => s.grade === 'R')!;
      const { buyer, couponIds } = await walletWith(
        { name: '10k off', kind: 'FIXED', params: { amount: 10_000 } },
        { name: '20% off, max 15k', kind: 'PERCENT', params: { percent: 20, maxDiscount: 15_000 } },
        { name: 'VIP 30k', kind: 'GRADE_FIXED', params: { grade: 'VIP', amount: 30_000 }, appliesTo: 'TICKET' },
      );
      expect(couponIds).toHaveLength(3);
      const best = (await quote(buyer, { seatIds: [vip.seatId, r.seatId] })).json();
      // 160,000 subtotal: VIP 30k on the VIP seat; the best ORDER coupon is 20% capped at 15k.
      expect(best).toMatchObject({ subtotal: 160_000, discount: 45_000, amount: 115_000 });
      expect(best.coupons.map((c: { name: string }) => c.name).sort()).toEqual(['20% off, max 15k', 'VIP 30k']);
      expect(best.coupons.find((c: { name: string }) => c.name === 'VIP 30k').seatId).toBe(vip.seatId);

      expect((await quote(buyer, { seatIds: [vip.seatId, r.seatId], couponIds: [] })).json()).toMatchObject({ discount: 0, coupons: [] });
      const vipCoupon = best.coupons.find((c: { name: string }) => c.name === 'VIP 30k').id;
      const refused = await quote(buyer, { seatIds: [r.seatId], couponIds: [vipCoupon] });
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({ code: 'COUPON_NOT_APPLICABLE', couponIds: [vipCoupon] });
      expect((await quote(await givenBuyer(t.app), { seatIds: [r.seatId], couponIds: [vipCoupon] })).json().code).toBe('COUPON_NOT_APPLICABLE');

      // Ordered, the same two coupons go on the order — one on a seat, one on the whole order —
      // and read back from the database as they were placed.
      expect((await hold(buyer, [vip.seatId, r.seatId])).statusCode).toBe(201);
      const placed = await t.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...buyer.auth, 'idempotency-key': `k-${newId()}` },
        payload: { scheduleId, seatIds: [vip.seatId, r.seatId] },
      });
      expect(placed.statusCode).toBe(201);
      const order = placed.json();
      expect(order).toMatchObject({ subtotal: 160_000, discount: 45_000, amount: 115_000 });
      const stored = (await t.app.inject({ method: 'GET', url: `/v1/orders/${order.id}`, headers: buyer.auth })).json();
      const lines = (o: { coupons: { id: string; seatId?: string; discount: number }[] }) => [...o.coupons].sort((a, b) => a.discount - b.discount);
      expect(lines(stored)).toEqual(lines(best));
      expect(lines(order)).toEqual(lines(best));
      // The placed answer is the order as read back (only the coupon lines' order may differ).
      expect({ ...order, coupons: lines(order) }).toEqual({ ...stored, coupons: lines(stored) });
      expect(stored.items.reduce((sum: number, i: { discount: number }) => sum + i.discount, 0)).toBe(45_000);
    });

    it('reserves the coupons of a pending order, and frees them when it is cancelled', async () => {
      const free = seats.filter((s) => s.grade === 'R').slice(1, 3);
      const { buyer } = await walletWith({ name: '5k', kind: 'FIXED', params: { amount: 5_000 } });
      await hold(buyer, [free[0]!.seatId, free[1]!.seatId]);
      const placed = await t.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...buyer.auth, 'idempotency-key': `k-${newId()}` },
        payload: { scheduleId, seatIds: [free[0]!.seatId] },
      });
      expect(placed.statusCode).toBe(201);
      const order = placed.json();
      expect(order).toMatchObject({ subtotal: 60_000, discount: 5_000, amount: 55_000, coupons: [expect.objectContaining({ name: '5k', discount: 5_000 })] });
      expect(order.items[0].discount).toBe(5_000);
      const wallet = (await t.app.inject({ method: 'GET', url: '/v1/me/coupons', headers: buyer.auth })).json().items;
      expect(wallet[0].reservedOrderId).toBe(order.id);
      // Reserved: a second order cannot use it.
      expect((await quote(buyer, { seatIds: [free[1]!.seatId] })).json()).toMatchObject({ discount: 0 });

      await t.app.inject({ method: 'POST', url: `/v1/orders/${order.id}/cancel`, headers: buyer.auth, payload: {} });
      const after = (await t.app.inject({ method: 'GET', url: '/v1/me/coupons', headers: buyer.auth })).json().items;
      expect(after[0]).toMatchObject({ status: 'AVAILABLE', reservedOrderId: null });
      expect((await quote(buyer, { seatIds: [free[1]!.seatId] })).json()).toMatchObject({ discount: 5_000 });
    });

    /** The placing statements an order ran, by whether each went ahead only for a buyer without coupons. */
    async function placingStatements(place: () => Promise<{ statusCode: number }>) {
      const spy = vi.spyOn(ordersRepository(t.ctx.booking), 'placeOrder');
      try {
        expect((await place()).statusCode).toBe(201);
        return spy.mock.calls.map((call) => call[3].onlyIfNoCoupons);
      } finally {
        spy.mockRestore();
      }
    }
    const order = (b: GivenUser, seatIds: string[]) =>
      t.app.inject({ method: 'POST', url: '/v1/orders', headers: { ...b.auth, 'idempotency-key': `k-${newId()}` }, payload: { scheduleId, seatIds } });

    it("places a coupon-less buyer's order in one statement, without reading the wallet first", async () => {
      const buyer = await givenBuyer(t.app);
      const r = seats.filter((s) => s.grade === 'VIP')[1]!;
      expect((await hold(buyer, [r.seatId])).statusCode).toBe(201);
      const plan = vi.spyOn(t.ctx.coupons.service, 'plan');
      try {
        expect(await placingStatements(() => order(buyer, [r.seatId]))).toEqual([true]);
        // Priced with no coupons named: the plan answers without a query.
        expect(plan.mock.calls.map((call) => call[2])).toEqual([[]]);
      } finally {
        plan.mockRestore();
      }
    });

    it('orders at full price for a buyer whose only coupon is for another performance, and leaves that coupon alone', async () => {
      // The first attempt holds back because the wallet is not empty; the second reads it,
      // finds nothing usable here, and places the order without a coupon.
      const venue = await givenVenue(t.app, seller);
      const other = await givenPerformance(t.app, seller, venue.id);
      const { buyer, couponIds } = await walletWith({ name: 'elsewhere', kind: 'FIXED', params: { amount: 7_000 }, scope: { performanceId: other.id } });
      const r = seats.filter((s) => s.grade === 'R')[4]!;
      expect((await hold(buyer, [r.seatId])).statusCode).toBe(201);
      let placed!: Awaited<ReturnType<typeof order>>;
      expect(await placingStatements(async () => (placed = await order(buyer, [r.seatId])))).toEqual([true, false]);
      expect(placed.json()).toMatchObject({ subtotal: 60_000, discount: 0, amount: 60_000, coupons: [] });
      const wallet = (await t.app.inject({ method: 'GET', url: '/v1/me/coupons', headers: buyer.auth })).json().items;
      expect(wallet).toEqual([expect.objectContaining({ id: couponIds[0], status: 'AVAILABLE', reservedOrderId: null })]);
    });

    it('shows a coupon past its validity as EXPIRED and no longer applies it', async () => {
      const r = seats.filter((s) => s.grade === 'R')[3]!;
      const { buyer } = await walletWith({
        name: 'short',
        kind: 'FIXED',
        params: { amount: 1_000 },
        validUntil: new Date(clock.now().getTime() + 60_000).toISOString(),
      });
      expect((await quote(buyer, { seatIds: [r.seatId] })).json().discount).toBe(1_000);
      clock.advance(61_000);
      const fresh = await refresh(buyer);
      const wallet = (await t.app.inject({ method: 'GET', url: '/v1/me/coupons', headers: fresh.auth })).json().items;
      expect(wallet[0].status).toBe('EXPIRED');
      expect((await quote(fresh, { seatIds: [r.seatId] })).json().discount).toBe(0);
    });
  });

  async function refresh(user: GivenUser): Promise<GivenUser> {
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: user.refreshToken } });
    const tokens = res.json();
    return { ...user, ...tokens, auth: { authorization: `Bearer ${tokens.accessToken}` } };
  }
});
