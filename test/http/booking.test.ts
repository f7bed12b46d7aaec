import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { ordersRepository, seatHoldStore } from '../../src/modules/booking/testing.js';
import { deleteByPrefix } from '../../src/platform/redis/client.js';
import { givenBuyer, givenOpenSchedule, mintBuyer, type ScheduleSpec } from '../support/builders.js';
import { createTestApp, TEST_REDIS_URL, testMode, type TestApp } from '../support/harness.js';

type Buyer = { id: string; auth: { authorization: string } };

describe('booking: holds and orders', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date());
  let keyN = 0;

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_MAX: '100000' }, context: { clock } });
  });
  afterAll(() => t.cleanup());

  // The clock moves forward across tests, past access-token lifetimes: each showtime gets a fresh seller.
  const open = (seats = 10, price = 50_000) => givenOpenSchedule(t.app, { seats, price, now: clock.now() });
  const openWith = (schedule: ScheduleSpec) => givenOpenSchedule(t.app, { seats: 10, now: clock.now(), schedule });
  const hold = (b: Buyer, scheduleId: string, seatIds: string[], headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: `/v1/schedules/${scheduleId}/holds`, headers: { ...b.auth, ...headers }, payload: { seatIds } });
  const order = (b: Buyer, body: object, key = `key-${++keyN}`) =>
    t.app.inject({ method: 'POST', url: '/v1/orders', headers: { ...b.auth, 'idempotency-key': key }, payload: body });
  const showtime = (id: string) => t.ctx.catalog.inventory.scheduleForSale(id);
  const seatMap = async (scheduleId: string, b?: Buyer) =>
    (await t.app.inject({ method: 'GET', url: `/v1/schedules/${scheduleId}/seats`, headers: b?.auth ?? {} })).json().seats as {
      seatId: string;
      status: string;
      heldByMe?: boolean;
    }[];

  describe('holds', () => {
    it('renders the anonymous seat map once per change: a hold, a release and an order each show at the next read', async () => {
      const { schedule, seatIds } = await open();
      const a = await mintBuyer(clock.now());
      const statuses = async () => (await seatMap(schedule.id)).slice(0, 2).map((s) => s.status);
      expect(await statuses()).toEqual(['AVAILABLE', 'AVAILABLE']);
      expect(await statuses()).toEqual(['AVAILABLE', 'AVAILABLE']);
      expect((await hold(a, schedule.id, [seatIds[0]!, seatIds[1]!])).statusCode).toBe(201);
      expect(await statuses()).toEqual(['HELD', 'HELD']);
      const release = await t.app.inject({ method: 'DELETE', url: `/v1/schedules/${schedule.id}/holds/${seatIds[1]}`, headers: a.auth });
      expect(release.statusCode).toBe(204);
      expect(await statuses()).toEqual(['HELD', 'AVAILABLE']);
      const placed = await order(a, { scheduleId: schedule.id, seatIds: [seatIds[0]!] });
      expect(placed.statusCode).toBe(201);
      // The hot state forgets the hold; the database's reservation still shows HELD.
      await seatHoldStore(t.ctx.booking).release(schedule.id, a.id, [], clock.now().getTime());
      expect(await statuses()).toEqual(['HELD', 'AVAILABLE']);
      // Cancelled, the order gives the seat back — and leaves no pending order for the expiry tests' clock.
      const cancel = await t.app.inject({ method: 'POST', url: `/v1/orders/${placed.json().id}/cancel`, headers: a.auth, payload: {} });
      expect(cancel.statusCode).toBe(200);
      expect(await statuses()).toEqual(['AVAILABLE', 'AVAILABLE']);
    });

    it('holds seats all or nothing, shows them HELD, and names the taken seats to others', async () => {
      const { schedule, seatIds } = await open();
      const [a, b] = [await mintBuyer(clock.now()), await mintBuyer(clock.now())];
      const res = await hold(a, schedule.id, [seatIds[0]!, seatIds[1]!]);
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({
        scheduleId: schedule.id,
        seatIds: [seatIds[0], seatIds[1]],
        expiresAt: new Date(clock.now().getTime() + 600_000).toISOString(),
      });

      const refused = await hold(b, schedule.id, [seatIds[1]!, seatIds[2]!]);
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({ code: 'SEAT_UNAVAILABLE', unavailableSeatIds: [seatIds[1]] });
      // All or nothing: seat 2 was not held by the refused request.
      const map = await seatMap(schedule.id, a);
      expect(map.slice(0, 3).map((s) => [s.status, s.heldByMe ?? false])).toEqual([
        ['HELD', true],
        ['HELD', true],
        ['AVAILABLE', false],
      ]);
      expect((await seatMap(schedule.id, b))[0]).not.toHaveProperty('heldByMe');
      expect((await t.app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}` })).json().counts).toEqual({ available: 8, held: 2, sold: 0 });

      const mine = await t.app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}/holds`, headers: a.auth });
      expect(mine.json().seatIds).toEqual([seatIds[0], seatIds[1]].sort());
    });

    it('limits each buyer to MAX_SEATS_PER_BUYER seats per showtime', async () => {
      const { schedule, seatIds } = await open();
      const a = await mintBuyer(clock.now());
      expect((await hold(a, schedule.id, seatIds.slice(0, 3))).statusCode).toBe(201);
      const res = await hold(a, schedule.id, seatIds.slice(3, 5));
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'HOLD_LIMIT_EXCEEDED', maxSeatsPerBuyer: 4, holding: 3 });
      expect((await hold(a, schedule.id, seatIds.slice(0, 5))).statusCode).toBe(400); // more than 4 in one request
    });

    it('releases a hold, and lets a lapsed hold be taken', async () => {
      const { schedule, seatIds } = await open();
      const [a, b] = [await mintBuyer(clock.now()), await mintBuyer(clock.now())];
      await hold(a, schedule.id, [seatIds[0]!, seatIds[1]!]);
      expect((await t.app.inject({ method: 'DELETE', url: `/v1/schedules/${schedule.id}/holds/${seatIds[0]}`, headers: a.auth })).statusCode).toBe(204);
      expect((await hold(b, schedule.id, [seatIds[0]!])).statusCode).toBe(201);
      clock.advance(600_000);
      expect((await hold(b, schedule.id, [seatIds[1]!])).statusCode).toBe(201);
    });

    it('refuses holds outside the sale window and unknown seats or showtimes', async () => {
      const now = clock.now().getTime();
      const startsAt = new Date(now + 5 * 86_400_000);
      const later = await openWith({ startsAt, saleOpensAt: new Date(now + 86_400_000) });
      const a = await mintBuyer(clock.now());
      const seat = later.seatIds[0]!;
      expect((await hold(a, later.schedule.id, [seat])).json().code).toBe('SALE_NOT_OPEN');
      const closing = await openWith({ startsAt, saleOpensAt: new Date(now - 1000), saleClosesAt: new Date(now + 1000) });
      clock.advance(1000);
      expect((await hold(a, closing.schedule.id, [closing.seatIds[0]!])).json().code).toBe('SALE_CLOSED');

      const { schedule } = await open(2);
      const unknown = await hold(a, schedule.id, [seat]); // a seat of another showtime
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().errors[0].path).toBe('/body/seatIds/0');
      expect((await hold(a, '01900000-0000-7000-8000-00000000beef', [seat])).statusCode).toBe(404);
    });

    it('requires admission on a showtime with a waiting room', async () => {
      const { schedule: room, seatIds } = await openWith({ waitingRoom: { enabled: true, maxActive: 10, admitPerTick: 10 } });
      const a = await givenBuyer(t.app);
      const seat = seatIds[0]!;
      expect((await hold(a, room.id, [seat])).json().code).toBe('ADMISSION_REQUIRED');
      await t.app.inject({ method: 'POST', url: `/v1/schedules/${room.id}/queue`, headers: a.auth });
      await t.ctx.waitingRoom.service.tick(1);
      const token = (await t.app.inject({ method: 'GET', url: `/v1/schedules/${room.id}/queue`, headers: a.auth })).json().admissionToken;
      expect((await hold(a, room.id, [seat], { 'x-admission-token': token })).statusCode).toBe(201);
      const placed = await t.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...a.auth, 'idempotency-key': 'wr-order' },
        payload: { scheduleId: room.id, seatIds: [seat] },
      });
      expect(placed.json().code).toBe('ADMISSION_REQUIRED');
      const withToken = await t.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...a.auth, 'idempotency-key': 'wr-order', 'x-admission-token': token },
        payload: { scheduleId: room.id, seatIds: [seat] },
      });
      expect(withToken.statusCode).toBe(201);
    });
  });

  describe('orders', () => {
    it('quotes and places an order for held seats, priced by the server', async () => {
      const { schedule, seatIds } = await open(10, 70_000);
      const a = await mintBuyer(clock.now());
      const body = { scheduleId: schedule.id, seatIds: [seatIds[1]!, seatIds[0]!] };
      const quote = await t.app.inject({ method: 'POST', url: '/v1/orders/quote', headers: a.auth, payload: body });
      expect(quote.json()).toEqual({ subtotal: 140_000, discount: 0, amount: 140_000, coupons: [] });

      await hold(a, schedule.id, body.seatIds);
      const res = await order(a, body);
      expect(res.statusCode).toBe(201);
      const placed = res.json();
      expect(placed).toMatchObject({
        status: 'PENDING_PAYMENT',
        scheduleId: schedule.id,
        subtotal: 140_000,
        discount: 0,
        amount: 140_000,
        coupons: [],
        orderName: 'Test Concert (A-1-1 +1)',
        expiresAt: new Date(clock.now().getTime() + 600_000).toISOString(),
      });
      expect(placed.items).toEqual([
        { seatId: seatIds[0], label: 'A-1-1', grade: 'R', price: 70_000, discount: 0 },
        { seatId: seatIds[1], label: 'A-1-2', grade: 'R', price: 70_000, discount: 0 },
      ]);
      expect((await t.app.inject({ method: 'GET', url: `/v1/orders/${placed.id}`, headers: a.auth })).json()).toEqual(placed);
      const other = await mintBuyer(clock.now());
      expect((await t.app.inject({ method: 'GET', url: `/v1/orders/${placed.id}`, headers: other.auth })).statusCode).toBe(404);
      const list = (await t.app.inject({ method: 'GET', url: '/v1/me/orders', headers: a.auth })).json();
      expect(list.items.map((o: { id: string }) => o.id)).toEqual([placed.id]);
      // The hold now lasts the payment window.
      expect((await t.app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}/holds`, headers: a.auth })).json().expiresAt).toBe(placed.expiresAt);
    });

    it('refuses seats not held by the buyer, coupons that do not apply, and a missing key', async () => {
      const { schedule, seatIds } = await open();
      const [a, b] = [await mintBuyer(clock.now()), await mintBuyer(clock.now())];
      await hold(b, schedule.id, [seatIds[0]!]);
      const notHeld = await order(a, { scheduleId: schedule.id, seatIds: [seatIds[0]!] });
      expect(notHeld.json()).toMatchObject({ code: 'SEATS_NOT_HELD', seatIds: [seatIds[0]] });
      await hold(a, schedule.id, [seatIds[1]!]);
      const coupon = await order(a, { scheduleId: schedule.id, seatIds: [seatIds[1]!], couponIds: ['01900000-0000-7000-8000-00000000c0c0'] });
      expect(coupon.json().code).toBe('COUPON_NOT_APPLICABLE');
      const noKey = await t.app.inject({ method: 'POST', url: '/v1/orders', headers: a.auth, payload: { scheduleId: schedule.id, seatIds: [seatIds[1]!] } });
      expect(noKey.statusCode).toBe(400);
    });

    it('is idempotent on Idempotency-Key: same key → same order; other body → 422; concurrent duplicates → one order', async () => {
      const { schedule, seatIds } = await open();
      const a = await mintBuyer(clock.now());
      await hold(a, schedule.id, seatIds.slice(0, 2));
      const body = { scheduleId: schedule.id, seatIds: [seatIds[0]!] };
      const first = await order(a, body, 'same-key');
      const again = await order(a, body, 'same-key');
      expect(again.json().id).toBe(first.json().id);
      expect((await order(a, { ...body, seatIds: [seatIds[1]!] }, 'same-key')).statusCode).toBe(422);

      const concurrent = await Promise.all(Array.from({ length: 10 }, () => order(a, { scheduleId: schedule.id, seatIds: [seatIds[1]!] }, 'race-key')));
      const created = concurrent.filter((r) => r.statusCode === 201);
      expect(new Set(created.map((r) => r.json().id)).size).toBe(1);
      expect(concurrent.every((r) => r.statusCode === 201 || r.statusCode === 409)).toBe(true);
      const list = (await t.app.inject({ method: 'GET', url: '/v1/me/orders', headers: a.auth })).json();
      expect(list.items).toHaveLength(2);
    });

    it('lets only one of two orders reserve a seat, even by the same buyer', async () => {
      const { schedule, seatIds } = await open();
      const a = await mintBuyer(clock.now());
      await hold(a, schedule.id, [seatIds[0]!]);
      const results = await Promise.all([
        order(a, { scheduleId: schedule.id, seatIds: [seatIds[0]!] }),
        order(a, { scheduleId: schedule.id, seatIds: [seatIds[0]!] }),
      ]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409]);
      expect(results.find((r) => r.statusCode === 409)!.json().code).toBe('SEAT_UNAVAILABLE');
    });

    it('cancels a pending order: seats return to sale; a second cancel is refused', async () => {
      const { schedule, seatIds } = await open();
      const a = await mintBuyer(clock.now());
      await hold(a, schedule.id, [seatIds[0]!]);
      const placed = (await order(a, { scheduleId: schedule.id, seatIds: [seatIds[0]!] })).json();
      const other = await mintBuyer(clock.now());
      expect((await t.app.inject({ method: 'POST', url: `/v1/orders/${placed.id}/cancel`, headers: other.auth, payload: {} })).statusCode).toBe(404);
      const res = await t.app.inject({ method: 'POST', url: `/v1/orders/${placed.id}/cancel`, headers: a.auth, payload: { reason: 'changed my mind' } });
      expect(res.json()).toMatchObject({ status: 'CANCELLED', cancelledAt: clock.now().toISOString() });
      expect((await seatMap(schedule.id))[0]!.status).toBe('AVAILABLE');
      expect((await hold(other, schedule.id, [seatIds[0]!])).statusCode).toBe(201);
      const again = await t.app.inject({ method: 'POST', url: `/v1/orders/${placed.id}/cancel`, headers: a.auth, payload: {} });
      expect(again.json().code).toBe('NOT_CANCELLABLE');
    });

    it('refuses to release the hold of a seat in a pending order', async () => {
      const { schedule, seatIds } = await open();
      const a = await mintBuyer(clock.now());
      await hold(a, schedule.id, [seatIds[0]!]);
      await order(a, { scheduleId: schedule.id, seatIds: [seatIds[0]!] });
      const res = await t.app.inject({ method: 'DELETE', url: `/v1/schedules/${schedule.id}/holds/${seatIds[0]}`, headers: a.auth });
      expect(res.json().code).toBe('HOLD_IN_ORDER');
    });

    it('keeps the seats of a pending order held when a second order for them is refused: the limit cannot be walked past', async () => {
      const { schedule, seatIds } = await open(12);
      const [a, b] = [await mintBuyer(clock.now()), await mintBuyer(clock.now())];
      const four = seatIds.slice(0, 4);
      expect((await hold(a, schedule.id, four)).statusCode).toBe(201);
      expect((await order(a, { scheduleId: schedule.id, seatIds: four })).statusCode).toBe(201);

      const again = await order(a, { scheduleId: schedule.id, seatIds: four });
      expect(again.json()).toMatchObject({ code: 'SEAT_UNAVAILABLE', unavailableSeatIds: four });
      // The refused order released nothing: the buyer still holds the four, so four more are refused…
      const more = await hold(a, schedule.id, seatIds.slice(4, 8));
      expect(more.json()).toMatchObject({ code: 'HOLD_LIMIT_EXCEEDED', holding: 4 });
      expect((await t.app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}/holds`, headers: a.auth })).json().seatIds).toEqual([...four].sort());
      // …and nobody else can hold a seat the order has reserved.
      expect((await hold(b, schedule.id, [seatIds[0]!])).json()).toMatchObject({ code: 'SEAT_UNAVAILABLE' });
    });

    it('counts pending orders in the per-buyer limit even when the hold store lost the holds', async () => {
      const { schedule, seatIds } = await open(12);
      const [a, b, c] = [await mintBuyer(clock.now()), await mintBuyer(clock.now()), await mintBuyer(clock.now())];
      const four = seatIds.slice(0, 4);
      await hold(a, schedule.id, four);
      expect((await order(a, { scheduleId: schedule.id, seatIds: four })).statusCode).toBe(201);
      // The hot state forgets the buyer's holds while PostgreSQL keeps the order (a release that
      // raced the order, say): gate 1 now lets the buyer hold four more, and others hold the seats.
      await seatHoldStore(t.ctx.booking).release(schedule.id, a.id, [], clock.now().getTime());
      const next = seatIds.slice(4, 8);
      expect((await hold(a, schedule.id, next)).statusCode).toBe(201);
      const over = await order(a, { scheduleId: schedule.id, seatIds: next });
      expect(over.json()).toMatchObject({ code: 'HOLD_LIMIT_EXCEEDED', maxSeatsPerBuyer: 4 });

      expect((await hold(b, schedule.id, [seatIds[0]!])).statusCode).toBe(201);
      expect((await order(b, { scheduleId: schedule.id, seatIds: [seatIds[0]!] })).json()).toMatchObject({ code: 'SEAT_UNAVAILABLE' });
      // The refusal told the hold store who has the seat: a third buyer can no longer hold it.
      expect((await hold(c, schedule.id, [seatIds[0]!])).json()).toMatchObject({ code: 'SEAT_UNAVAILABLE', unavailableSeatIds: [seatIds[0]] });
      const reserved = await t.ctx.database.db.execute(
        sql`select count(*)::int as n from order_items oi join orders o on o.id = oi.order_id where o.user_id = ${a.id} and o.status = 'PENDING_PAYMENT'`,
      );
      expect((reserved as unknown as { rows: { n: number }[] }).rows[0]!.n).toBe(4);
    });

    it('answers a retried Idempotency-Key with the order it placed when the stored response was lost', async () => {
      const { schedule, seatIds } = await open();
      const a = await mintBuyer(clock.now());
      const body = { scheduleId: schedule.id, seatIds: [seatIds[0]!, seatIds[1]!] };
      await hold(a, schedule.id, body.seatIds);
      // The first request committed its order, then its process died before the response was
      // stored: the order exists, the idempotency store knows nothing of the key.
      const placed = await t.ctx.booking.orders.placeOrder(a.id, await showtime(schedule.id), body, 'lost-response');
      const retry = await order(a, body, 'lost-response');
      expect(retry.statusCode).toBe(201);
      expect(retry.json()).toEqual(placed);
      // The retry released nothing either.
      expect((await t.app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}/holds`, headers: a.auth })).json().seatIds).toEqual(
        [...body.seatIds].sort(),
      );
      expect((await order(a, { ...body, seatIds: [seatIds[2]!] }, 'lost-response')).statusCode).toBe(422);

      // Still the same order after it was cancelled and the seats held again (the key's unique index refuses a second order).
      await t.app.inject({ method: 'POST', url: `/v1/orders/${placed.id}/cancel`, headers: a.auth, payload: {} });
      await hold(a, schedule.id, [seatIds[3]!]);
      expect(
        (await t.ctx.booking.orders.placeOrder(a.id, await showtime(schedule.id), { scheduleId: schedule.id, seatIds: [seatIds[3]!] }, 'lost-again')).id,
      ).toBeDefined();
      const retried = await t.ctx.booking.orders.placeOrder(
        a.id,
        await showtime(schedule.id),
        { scheduleId: schedule.id, seatIds: [seatIds[3]!] },
        'lost-again',
      );
      expect(retried.status).toBe('PENDING_PAYMENT');
      const list = (await t.app.inject({ method: 'GET', url: '/v1/me/orders', headers: a.auth })).json();
      expect(list.items).toHaveLength(2);
    });

    it('expires unpaid orders after the payment window and releases their seats', async () => {
      const { schedule, seatIds } = await open();
      const a = await mintBuyer(clock.now());
      await hold(a, schedule.id, [seatIds[0]!, seatIds[1]!]);
      const placed = (await order(a, { scheduleId: schedule.id, seatIds: [seatIds[0]!, seatIds[1]!] })).json();
      clock.advance(599_000);
      expect(await t.ctx.booking.orders.expireDue()).toBe(0);
      expect((await seatMap(schedule.id)).slice(0, 2).map((s) => s.status)).toEqual(['HELD', 'HELD']);
      clock.advance(1_000);
      expect(await t.ctx.booking.orders.expireDue()).toBeGreaterThanOrEqual(1);
      expect((await t.app.inject({ method: 'GET', url: `/v1/orders/${placed.id}`, headers: a.auth })).json().status).toBe('EXPIRED');
      expect((await seatMap(schedule.id)).slice(0, 2).map((s) => s.status)).toEqual(['AVAILABLE', 'AVAILABLE']);
      const b = await mintBuyer(clock.now());
      expect((await hold(b, schedule.id, [seatIds[0]!])).statusCode).toBe(201);
      const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/mos_orders_ended_total\{how="expired"\} [1-9]/);
      expect(metrics).toMatch(/mos_seat_holds_total\{outcome="placed"\} [1-9]/);
    });
  });

  describe('one checkout path', () => {
    it('reads the showtime once and the seat map once per hold and per order', async () => {
      const { schedule, seatIds } = await open();
      const a = await mintBuyer(clock.now());
      const inventory = t.ctx.catalog.inventory as typeof t.ctx.catalog.inventory & { seatMapBase: (id: string) => Promise<unknown> };
      const showtimeReads = vi.spyOn(inventory, 'scheduleForSale');
      const seatMapReads = vi.spyOn(inventory, 'seatMapBase');
      try {
        expect((await hold(a, schedule.id, [seatIds[0]!, seatIds[1]!])).statusCode).toBe(201);
        expect([showtimeReads.mock.calls.length, seatMapReads.mock.calls.length]).toEqual([1, 1]);
        showtimeReads.mockClear();
        seatMapReads.mockClear();
        expect((await order(a, { scheduleId: schedule.id, seatIds: [seatIds[0]!, seatIds[1]!] })).statusCode).toBe(201);
        expect([showtimeReads.mock.calls.length, seatMapReads.mock.calls.length]).toEqual([1, 1]);
      } finally {
        showtimeReads.mockRestore();
        seatMapReads.mockRestore();
      }
    });
  });

  describe('the database is the authority', () => {
    it('writes a ticket per seat once: a second ticket for a seat is SEAT_UNAVAILABLE, not a 500', async () => {
      const { schedule, seatIds } = await open();
      const a = await mintBuyer(clock.now());
      await hold(a, schedule.id, [seatIds[0]!]);
      const placed = (await order(a, { scheduleId: schedule.id, seatIds: [seatIds[0]!] })).json();
      const repo = ordersRepository(t.ctx.booking);
      const row = (await repo.findOrder(placed.id))!;
      await t.ctx.database.db.transaction((tx) => repo.issueTickets(row, clock.now(), tx));
      await expect(t.ctx.database.db.transaction((tx) => repo.issueTickets(row, clock.now(), tx))).rejects.toMatchObject({ code: 'SEAT_UNAVAILABLE' });
      const tickets = (await t.app.inject({ method: 'GET', url: '/v1/me/tickets', headers: a.auth })).json();
      expect(tickets.items).toEqual([
        expect.objectContaining({
          orderId: placed.id,
          scheduleId: schedule.id,
          seatId: seatIds[0],
          seatLabel: 'A-1-1',
          status: 'VALID',
          code: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), // 16 random bytes: 128 bits
        }),
      ]);
    });

    it.runIf(testMode() === 'production')('refuses a hold on a seat PostgreSQL has sold, after the hot state was lost', async () => {
      const { schedule, seatIds } = await open();
      const [a, b] = [await mintBuyer(clock.now()), await mintBuyer(clock.now())];
      await hold(a, schedule.id, [seatIds[2]!]); // the store now knows this showtime
      await hold(a, schedule.id, [seatIds[1]!]);
      await order(a, { scheduleId: schedule.id, seatIds: [seatIds[1]!] }); // pending: reserved in PostgreSQL
      const sold = await t.ctx.database.db.transaction((tx) =>
        t.ctx.catalog.inventory.sellSeats({ scheduleId: schedule.id, seatIds: [seatIds[0]!], orderId: '01900000-0000-7000-8000-0000000000f1' }, tx),
      );
      expect(sold).toBe(true);

      await deleteByPrefix(TEST_REDIS_URL, t.redisPrefix); // every hold, marker and queue of this test: gone

      const soldSeat = await hold(b, schedule.id, [seatIds[0]!]);
      expect(soldSeat.statusCode).toBe(409);
      expect(soldSeat.json()).toMatchObject({ code: 'SEAT_UNAVAILABLE', unavailableSeatIds: [seatIds[0]] });
      const reservedSeat = await hold(b, schedule.id, [seatIds[1]!]);
      expect(reservedSeat.json()).toMatchObject({ code: 'SEAT_UNAVAILABLE', unavailableSeatIds: [seatIds[1]] });
      // The lost plain hold is free again: only PostgreSQL's facts survive a flush.
      expect((await hold(b, schedule.id, [seatIds[2]!])).statusCode).toBe(201);
    });

    it.runIf(testMode() === 'production')('rebuilds a lost showtime once for many concurrent holds', async () => {
      const { schedule, seatIds } = await open(10);
      const loads = async () => (await t.ctx.metrics.registry.getSingleMetric('mos_seat_hold_store_loads_total')!.get()).values[0]?.value ?? 0;
      await hold(await mintBuyer(clock.now()), schedule.id, [seatIds[0]!]);
      await deleteByPrefix(TEST_REDIS_URL, t.redisPrefix);
      const before = await loads();
      const buyers = await Promise.all(seatIds.slice(1).map(() => mintBuyer(clock.now())));
      const results = await Promise.all(buyers.map((b, i) => hold(b, schedule.id, [seatIds[i + 1]!])));
      expect(results.map((r) => r.statusCode)).toEqual(new Array(9).fill(201));
      expect((await loads()) - before).toBe(1);
    });
  });
});
