import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../src/platform/db/client.js';
import { newId } from '../../src/platform/ids.js';
import { ordersRepository } from '../../src/modules/booking/testing.js';
import { givenOpenSchedule, mintBuyer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/harness.js';

/**
 * Invariant 1 under load, in both modes (embedded: memory store + PGlite; production: Redis +
 * PostgreSQL): real concurrent requests, and the assertion is exact.
 */
describe('booking races', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_MAX: '1000000' } });
  });
  afterAll(() => t.cleanup());

  /** Deterministic pseudo-random picks, so a failure can be replayed. */
  function picker(seed: number) {
    let state = seed;
    return (n: number) => {
      state = (state * 48271) % 2147483647;
      return state % n;
    };
  }

  it('500 buyers holding overlapping 1–4 seat sets on a 50-seat showtime: no seat held twice, refusals exact, all or nothing', async () => {
    const { schedule, seatIds } = await givenOpenSchedule(t.app, { seats: 50 });
    const pick = picker(20261128);
    const buyers = await Promise.all(Array.from({ length: 500 }, () => mintBuyer()));
    const requests = buyers.map((b) => {
      const want = new Set<string>();
      const n = 1 + pick(4);
      while (want.size < n) want.add(seatIds[pick(seatIds.length)]!);
      return { buyer: b, seats: [...want] };
    });

    const responses = await Promise.all(
      requests.map((r) => t.app.inject({ method: 'POST', url: `/v1/schedules/${schedule.id}/holds`, headers: r.buyer.auth, payload: { seatIds: r.seats } })),
    );

    const holderOf = new Map<string, string>();
    const refusals: { request: (typeof requests)[number]; unavailable: string[] }[] = [];
    responses.forEach((res, i) => {
      const request = requests[i]!;
      if (res.statusCode === 201) {
        for (const seat of request.seats) {
          expect(holderOf.has(seat), `seat ${seat} granted twice`).toBe(false);
          holderOf.set(seat, request.buyer.id);
        }
      } else {
        expect(res.statusCode).toBe(409);
        const body = res.json();
        expect(body.code).toBe('SEAT_UNAVAILABLE');
        refusals.push({ request, unavailable: body.unavailableSeatIds });
      }
    });
    expect(holderOf.size).toBeGreaterThan(0);

    // The hold store agrees with the answers given: exactly the granted seats, by their winners.
    const held = await t.ctx.booking.holds.heldSeats(schedule.id);
    expect(new Map([...held].sort())).toEqual(new Map([...holderOf].sort()));

    for (const { request, unavailable } of refusals) {
      // Every refusal names only seats it asked for that someone else holds…
      expect(unavailable.length).toBeGreaterThan(0);
      for (const seat of unavailable) {
        expect(request.seats).toContain(seat);
        expect(holderOf.get(seat)).toBeDefined();
        expect(holderOf.get(seat)).not.toBe(request.buyer.id);
      }
      // …and left none of its seats held by its buyer (all or nothing).
      for (const seat of request.seats) expect(holderOf.get(seat)).not.toBe(request.buyer.id);
    }

    const map = (await t.app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}/seats` })).json();
    expect(map.seats.filter((s: { status: string }) => s.status === 'HELD')).toHaveLength(holderOf.size);
  });

  it('60 buyers releasing a hold while ordering it: every pending order keeps its seats held, nobody over the limit', async () => {
    const { schedule, seatIds } = await givenOpenSchedule(t.app, { seats: 300 });
    const buyers = await Promise.all(Array.from({ length: 60 }, () => mintBuyer()));
    const seatsOf = (i: number) => seatIds.slice(i * 4, i * 4 + 4);
    for (const [i, b] of buyers.entries()) {
      const res = await t.app.inject({ method: 'POST', url: `/v1/schedules/${schedule.id}/holds`, headers: b.auth, payload: { seatIds: seatsOf(i) } });
      expect(res.statusCode).toBe(201);
    }
    const raced = await Promise.all(
      buyers.map((b, i) =>
        Promise.all([
          t.app.inject({
            method: 'POST',
            url: '/v1/orders',
            headers: { ...b.auth, 'idempotency-key': `race-${i}` },
            payload: { scheduleId: schedule.id, seatIds: seatsOf(i) },
          }),
          // Spread over the order's own steps, so every interleaving of check, release and placement occurs.
          new Promise((r) => setTimeout(r, i % 12)).then(() =>
            t.app.inject({ method: 'DELETE', url: `/v1/schedules/${schedule.id}/holds/${seatsOf(i)[0]}`, headers: b.auth }),
          ),
        ]),
      ),
    );
    let ordered = 0;
    for (const [i, [order, release]] of raced.entries()) {
      expect([201, 409]).toContain(order.statusCode);
      expect([204, 409]).toContain(release.statusCode);
      const held = (await t.app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}/holds`, headers: buyers[i]!.auth })).json().seatIds as string[];
      if (order.statusCode === 201) {
        ordered++;
        // The order won: its four seats are still the buyer's in the hot state, so no fifth can be held.
        expect(held.sort()).toEqual([...seatsOf(i)].sort());
        const more = await t.app.inject({
          method: 'POST',
          url: `/v1/schedules/${schedule.id}/holds`,
          headers: buyers[i]!.auth,
          payload: { seatIds: [seatIds[240 + i]!] },
        });
        expect(more.json().code).toBe('HOLD_LIMIT_EXCEEDED');
      }
    }
    expect(ordered).toBeGreaterThan(0);
  });

  it('200 concurrent sales of overlapping seat pairs: each seat sold once, each sale all or nothing', async () => {
    const { schedule, seatIds } = await givenOpenSchedule(t.app, { seats: 50 });
    const pick = picker(42);
    const sales = Array.from({ length: 200 }, () => {
      const a = pick(50);
      let b = pick(50);
      if (b === a) b = (a + 1) % 50;
      return { orderId: newId(), seats: [seatIds[a]!, seatIds[b]!] };
    });
    const results = await Promise.allSettled(
      sales.map((sale) =>
        t.ctx.database.db.transaction(async (tx) => {
          const ok = await t.ctx.catalog.inventory.sellSeats({ scheduleId: schedule.id, seatIds: sale.seats, orderId: sale.orderId }, tx);
          if (!ok) throw new Error('taken');
          return sale;
        }),
      ),
    );
    const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const soldTo = new Map<string, string>();
    for (const sale of won) {
      for (const seat of sale.seats) {
        expect(soldTo.has(seat), `seat ${seat} sold twice`).toBe(false);
        soldTo.set(seat, sale.orderId);
      }
    }
    const map = (await t.app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}/seats` })).json();
    const soldSeats = map.seats.filter((s: { status: string }) => s.status === 'SOLD').map((s: { seatId: string }) => s.seatId);
    expect(soldSeats.sort()).toEqual([...soldTo.keys()].sort());
    expect(won.length).toBeGreaterThan(0);
  });

  it('200 concurrent order placements straight at the database over overlapping seat pairs, 20 of them naming one coupon: each seat and the coupon on one order at most, each placement all or nothing', async () => {
    // Gate 2 alone: the hold store is bypassed, so the one statement that places an order is
    // what keeps two orders off one seat (and one coupon off two orders).
    const { schedule, seatIds } = await givenOpenSchedule(t.app, { seats: 50 });
    const db = t.ctx.database.db;
    const couponOwner = newId();
    const campaignId = newId();
    const couponId = newId();
    const now = new Date();
    await db.execute(sql`
      insert into coupon_campaigns (id, name, kind, params, applies_to, quantity, per_user_limit, claim_opens_at, valid_until, funded_by, created_by, created_at)
      values (${campaignId}, 'race', 'FIXED', '{"amount": 1000}'::jsonb, 'ORDER', 1, 1, ${now.toISOString()}::timestamptz,
              ${new Date(now.getTime() + 86_400_000).toISOString()}::timestamptz, 'PLATFORM', ${couponOwner}, ${now.toISOString()}::timestamptz)`);
    await db.execute(sql`
      insert into coupons (id, campaign_id, user_id, seq, status, issued_at, event_id)
      values (${couponId}, ${campaignId}, ${couponOwner}, 1, 'AVAILABLE', ${now.toISOString()}::timestamptz, ${newId()})`);

    const pick = picker(7);
    const showtime = await t.ctx.catalog.inventory.scheduleForSale(schedule.id);
    const placements = await Promise.all(
      Array.from({ length: 200 }, async (_, n) => {
        const a = pick(50);
        let b = pick(50);
        if (b === a) b = (a + 1) % 50;
        const { seats } = await t.ctx.catalog.inventory.check(showtime, [seatIds[a]!, seatIds[b]!], { open: false });
        const withCoupon = n % 10 === 0;
        const subtotal = seats.reduce((sum, seat) => sum + seat.price, 0);
        const discount = withCoupon ? Math.min(1000, subtotal) : 0;
        return {
          order: {
            id: newId(),
            userId: withCoupon ? couponOwner : newId(),
            scheduleId: schedule.id,
            subtotal,
            discount,
            amount: subtotal - discount,
            orderName: 'race',
            expiresAt: new Date(now.getTime() + 600_000),
            createdAt: now,
            idempotencyKey: null,
          },
          items: seats.map((seat) => ({ seatId: seat.seatId, label: seat.label, grade: seat.grade, price: seat.price, discount: 0 })),
          coupons: withCoupon ? [{ couponId, name: 'race', seatId: null, discount }] : [],
        };
      }),
    );
    const results = await Promise.all(
      placements.map((p) => ordersRepository(t.ctx.booking).placeOrder(p.order, p.items, p.coupons, { onlyIfNoCoupons: false, maxSeatsPerBuyer: 4 })),
    );

    const placed = placements.filter((_, i) => results[i]!.placed);
    expect(placed.length).toBeGreaterThan(0);
    expect(placed.length).toBeLessThan(200);
    const orderOfSeat = new Map<string, string>();
    for (const p of placed) {
      for (const item of p.items) {
        expect(orderOfSeat.has(item.seatId), `seat ${item.seatId} on two orders`).toBe(false);
        orderOfSeat.set(item.seatId, p.order.id);
      }
    }
    expect(placed.filter((p) => p.coupons.length).length).toBeLessThanOrEqual(1);

    // The database holds exactly the placed orders, each with all its seats reserved for it.
    const orders = await queryRows<{ id: string }>(db, sql`select id from orders where schedule_id = ${schedule.id}`);
    expect(orders.map((o) => o.id).sort()).toEqual(placed.map((p) => p.order.id).sort());
    const reserved = await queryRows<{ seat_id: string; order_id: string }>(
      db,
      sql`select seat_id, order_id from schedule_seats where schedule_id = ${schedule.id} and status = 'RESERVED'`,
    );
    expect(new Map(reserved.map((r) => [r.seat_id, r.order_id]))).toEqual(orderOfSeat);
    const items = await queryRows<{ order_id: string; seat_id: string }>(
      db,
      sql`select i.order_id, i.seat_id from order_items i join orders o on o.id = i.order_id where o.schedule_id = ${schedule.id}`,
    );
    expect(new Map(items.map((r) => [r.seat_id, r.order_id]))).toEqual(orderOfSeat);
    const [coupon] = await queryRows<{ reserved_order_id: string | null }>(db, sql`select reserved_order_id from coupons where id = ${couponId}`);
    expect(coupon!.reserved_order_id).toBe(placed.find((p) => p.coupons.length)?.order.id ?? null);

    // Every refusal is explained: a seat it asked for is on a placed order, or the coupon is.
    placements.forEach((p, i) => {
      const result = results[i]!;
      if (result.placed) return;
      const taken = p.items.filter((item) => !result.freeSeatIds.includes(item.seatId));
      for (const item of taken) expect(orderOfSeat.get(item.seatId)).toBeDefined();
      if (!taken.length) {
        expect(p.coupons.length).toBe(1);
        expect(result.freeCouponIds).toEqual([]);
        expect(coupon!.reserved_order_id).not.toBeNull();
      }
    });
  });
});
