import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/platform/ids.js';
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
          const ok = await t.ctx.catalog.service.sellSeats({ scheduleId: schedule.id, seatIds: sale.seats, orderId: sale.orderId }, tx);
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
});
