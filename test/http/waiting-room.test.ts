import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { givenBuyer, givenOpenSchedule, givenSeller, type GivenUser } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/harness.js';

const MISSING = '01900000-0000-7000-8000-00000000beef';

describe('waiting room', () => {
  let t: TestApp;
  const clock = new ManualClock('2026-11-28T00:00:00Z');
  let seller: GivenUser;
  const fence = 1;

  beforeAll(async () => {
    t = await createTestApp({
      env: { RATE_LIMIT_MAX: '100000', WAITING_ROOM_STREAM_INTERVAL_MS: '100', ADMISSION_TOKEN_TTL_SECONDS: '60', WAITING_ROOM_MAX_STREAMS_PER_USER: '2' },
      context: { clock },
      extend: (app: FastifyInstance, ctx) => {
        // A stand-in for the booking routes: the reusable guard on a showtime's seats.
        app.post(
          '/test/schedules/:id/holds',
          {
            onRequest: app.requireRole('BUYER'),
            preHandler: async (r) => ctx.waitingRoom.guard(r, await ctx.catalog.inventory.scheduleForSale((r.params as { id: string }).id)),
          },
          async () => ({ ok: true }),
        );
      },
    });
    seller = await givenSeller(t.app);
  });
  afterAll(() => t.cleanup());

  const tick = () => t.ctx.waitingRoom.service.tick(fence);
  const enter = (user: GivenUser, id: string) => t.app.inject({ method: 'POST', url: `/v1/schedules/${id}/queue`, headers: user.auth });
  const poll = (user: GivenUser, id: string) => t.app.inject({ method: 'GET', url: `/v1/schedules/${id}/queue`, headers: user.auth });
  const leave = (user: GivenUser, id: string) => t.app.inject({ method: 'DELETE', url: `/v1/schedules/${id}/queue`, headers: user.auth });

  async function givenRoom(opts: { opensInMs?: number; closesInMs?: number; maxActive?: number; admitPerTick?: number; enabled?: boolean } = {}) {
    const now = clock.now().getTime();
    const { schedule } = await givenOpenSchedule(t.app, {
      seller,
      seats: 10,
      now: clock.now(),
      schedule: {
        startsAt: new Date(now + 30 * 86_400_000),
        saleOpensAt: new Date(now + (opts.opensInMs ?? -1000)),
        ...(opts.closesInMs !== undefined ? { saleClosesAt: new Date(now + opts.closesInMs) } : {}),
        waitingRoom: { enabled: opts.enabled ?? true, maxActive: opts.maxActive ?? 3, admitPerTick: opts.admitPerTick ?? 2 },
      },
    });
    return schedule;
  }

  it('queues buyers FIFO after the opening, keeps a place on re-entry, and admits at the configured rate', async () => {
    const room = await givenRoom();
    const buyers = await Promise.all(Array.from({ length: 5 }, () => givenBuyer(t.app)));
    const positions = [];
    for (const b of buyers) positions.push((await enter(b, room.id)).json());
    expect(positions.map((p) => [p.status, p.position, p.ahead, p.estimatedWaitSeconds])).toEqual([
      ['WAITING', 1, 0, 0],
      ['WAITING', 2, 1, null],
      ['WAITING', 3, 2, null],
      ['WAITING', 4, 3, null],
      ['WAITING', 5, 4, null],
    ]);
    expect((await enter(buyers[3]!, room.id)).json().position).toBe(4);

    await tick(); // admits 2 (admitPerTick)
    const first = (await poll(buyers[0]!, room.id)).json();
    expect(first).toMatchObject({ status: 'ADMITTED', position: null, ahead: 0, admissionToken: expect.any(String) });
    expect(Date.parse(first.admissionExpiresAt)).toBe(clock.now().getTime() + 60_000);
    const third = (await poll(buyers[2]!, room.id)).json();
    expect(third).toMatchObject({ status: 'WAITING', position: 1, ahead: 0 });
    const fifth = (await poll(buyers[4]!, room.id)).json();
    expect(fifth).toMatchObject({ position: 3, ahead: 2 });
    // 2 admitted in one tick (1 s): 2 per second, 2 ahead → 1 s.
    expect(fifth.estimatedWaitSeconds).toBe(1);

    clock.advance(1000);
    await tick(); // maxActive 3: only one more
    expect((await poll(buyers[2]!, room.id)).json().status).toBe('ADMITTED');
    expect((await poll(buyers[3]!, room.id)).json()).toMatchObject({ status: 'WAITING', position: 1 });

    // Leaving frees the active slot for the next buyer.
    expect((await leave(buyers[0]!, room.id)).statusCode).toBe(204);
    clock.advance(1000);
    await tick();
    expect((await poll(buyers[3]!, room.id)).json().status).toBe('ADMITTED');
    const log = await t.ctx.waitingRoom.service.admissionLog((await t.ctx.catalog.inventory.scheduleForSale(room.id))!);
    expect(log).toEqual(buyers.slice(0, 4).map((b) => b.id));
  });

  it('keeps early arrivals unordered until the opening, then ahead of later ones', async () => {
    const room = await givenRoom({ opensInMs: 60_000 });
    const early = await Promise.all(Array.from({ length: 6 }, () => givenBuyer(t.app)));
    for (const b of early) expect((await enter(b, room.id)).json()).toEqual({ status: 'WAITING', position: null, ahead: 0, estimatedWaitSeconds: null });
    clock.advance(60_000);
    const late = await givenBuyer(t.app);
    expect((await enter(late, room.id)).json().position).toBe(7);
    const places = await Promise.all(early.map(async (b) => (await poll(b, room.id)).json().position as number));
    expect([...places].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('paces each waiting buyer with X-Poll-After: soon near the front, later far back, within a third of the abandon timeout', async () => {
    const room = await givenRoom({ opensInMs: 10_000, admitPerTick: 1, maxActive: 1 });
    const buyers = await Promise.all(Array.from({ length: 61 }, () => givenBuyer(t.app)));
    // Before the opening: asked back after the opening (10 s), within the pre-queue's spread.
    const early = await enter(buyers[0]!, room.id);
    expect(Number(early.headers['x-poll-after'])).toBeGreaterThanOrEqual(10);
    expect(Number(early.headers['x-poll-after'])).toBeLessThanOrEqual(15);
    clock.advance(10_000);
    for (const b of buyers.slice(1)) await enter(b, room.id);
    // One admitted per 1 s tick: the 2nd buyer's wait is about 1 s, the 61st's about 60 s.
    const near = await poll(buyers[1]!, room.id);
    const far = await poll(buyers[60]!, room.id);
    expect(near.json()).toMatchObject({ status: 'WAITING', ahead: 1 });
    expect(Number(near.headers['x-poll-after'])).toBe(1);
    expect(far.json()).toMatchObject({ status: 'WAITING', ahead: 60 });
    // Half of 60 s, ±10%, capped at a third of WAITING_ROOM_ABANDON_AFTER_SECONDS (60 s): 20 s.
    expect(Number(far.headers['x-poll-after'])).toBe(20);
    await tick();
    const admitted = await poll(buyers[0]!, room.id);
    expect(admitted.json().status).toBe('ADMITTED');
    expect(admitted.headers['x-poll-after']).toBeUndefined();
  });

  it('drops a waiting buyer who stopped polling', async () => {
    const room = await givenRoom({ admitPerTick: 1, maxActive: 1 });
    const [a, b, c] = await Promise.all([givenBuyer(t.app), givenBuyer(t.app), givenBuyer(t.app)]);
    for (const x of [a, b, c]) await enter(x!, room.id);
    clock.advance(30_000);
    await poll(c!, room.id);
    clock.advance(30_000); // a and b silent for 60 s (the abandon limit)
    await tick();
    expect((await poll(a!, room.id)).json().code).toBe('NOT_IN_QUEUE');
    expect((await poll(c!, room.id)).json()).toMatchObject({ status: 'ADMITTED' });
  });

  describe('refusals', () => {
    it('404 for an unknown showtime, NOT_IN_QUEUE for a buyer who did not enter', async () => {
      const buyer = await givenBuyer(t.app);
      expect((await enter(buyer, MISSING)).statusCode).toBe(404);
      const room = await givenRoom();
      const res = await poll(buyer, room.id);
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('NOT_IN_QUEUE');
    });

    it('204 when leaving twice', async () => {
      const buyer = await givenBuyer(t.app);
      const room = await givenRoom();
      await enter(buyer, room.id);
      expect((await leave(buyer, room.id)).statusCode).toBe(204);
      expect((await leave(buyer, room.id)).statusCode).toBe(204);
    });

    it('409 WAITING_ROOM_DISABLED for a showtime without one', async () => {
      const buyer = await givenBuyer(t.app);
      const room = await givenRoom({ enabled: false });
      const res = await enter(buyer, room.id);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('WAITING_ROOM_DISABLED');
    });

    it('409 SALE_CLOSED after the sale closed', async () => {
      const buyer = await givenBuyer(t.app);
      const room = await givenRoom({ closesInMs: 1000 });
      clock.advance(2000);
      const res = await enter(buyer, room.id);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('SALE_CLOSED');
    });

    it('403 for sellers: queues are for buyers', async () => {
      const room = await givenRoom();
      expect((await enter(seller, room.id)).statusCode).toBe(403);
    });
  });

  describe('admission guard', () => {
    const hold = (user: GivenUser, id: string, token?: string) =>
      t.app.inject({ method: 'POST', url: `/test/schedules/${id}/holds`, headers: { ...user.auth, ...(token ? { 'x-admission-token': token } : {}) } });

    it('lets only the admitted buyer in, with a token for that showtime, while admitted', async () => {
      const room = await givenRoom({ admitPerTick: 5, maxActive: 5 });
      const other = await givenRoom({ admitPerTick: 5, maxActive: 5 });
      const [a, b] = await Promise.all([givenBuyer(t.app), givenBuyer(t.app)]);
      await enter(a, room.id);
      await enter(b, room.id);
      await enter(a, other.id);
      expect((await hold(a, room.id)).json().code).toBe('ADMISSION_REQUIRED');
      await tick();
      const tokenA = (await poll(a, room.id)).json().admissionToken as string;
      const tokenAOther = (await poll(a, other.id)).json().admissionToken as string;

      expect((await hold(a, room.id, tokenA)).statusCode).toBe(200);
      expect((await hold(a, room.id)).statusCode).toBe(403);
      expect((await hold(b, room.id, tokenA)).statusCode).toBe(403); // another buyer's token
      expect((await hold(a, room.id, tokenAOther)).statusCode).toBe(403); // another showtime's token
      expect((await hold(a, room.id, 'garbage')).statusCode).toBe(403);

      await leave(a, room.id);
      expect((await hold(a, room.id, tokenA)).statusCode).toBe(403); // left: no longer active
    });

    it('refuses once the admission expired, even with an unexpired token', async () => {
      const room = await givenRoom({ admitPerTick: 5, maxActive: 5 });
      const a = await givenBuyer(t.app);
      await enter(a, room.id);
      await tick();
      clock.advance(590_000); // admission lasts 600 s
      const token = (await poll(a, room.id)).json().admissionToken as string; // valid 10 s more
      expect((await hold(a, room.id, token)).statusCode).toBe(200);
      clock.advance(10_000);
      expect((await hold(a, room.id, token)).json().code).toBe('ADMISSION_REQUIRED');
    });

    it('lets anyone through on a showtime without a waiting room', async () => {
      const room = await givenRoom({ enabled: false });
      const a = await givenBuyer(t.app);
      expect((await hold(a, room.id)).statusCode).toBe(200);
    });
  });

  describe('stream', () => {
    /** Real time passes `ms` while the manual clock moves 1 s per 100 ms, so paced subscribers come due. */
    const clockRunning = async (ms: number) => {
      for (let waited = 0; waited < ms; waited += 100) {
        clock.advance(1000);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    it('sends the position, then a final ADMITTED event, from one shared loop per showtime', async () => {
      const room = await givenRoom({ admitPerTick: 10, maxActive: 10 });
      const buyers = await Promise.all(Array.from({ length: 8 }, () => givenBuyer(t.app)));
      for (const b of buyers) await enter(b, room.id);
      const statuses = vi.spyOn(t.ctx.waitingRoom.service, 'statuses');
      const streams = buyers.map((b) => t.app.inject({ method: 'GET', url: `/v1/schedules/${room.id}/queue/stream`, headers: b.auth }));
      await vi.waitFor(() => expect(t.ctx.waitingRoom.watcher.size).toBe(8));
      const before = statuses.mock.calls.length;
      // The showtime's clock moves 1 s per 100 ms interval: every buyer (each about a second from
      // admission, so paced at 1 s) is due at every interval.
      await clockRunning(600);
      // ~6 intervals of 100 ms with 8 clients: one store call per interval (a loop per client
      // would make ~48).
      const calls = statuses.mock.calls.length - before;
      expect(calls).toBeGreaterThanOrEqual(2);
      expect(calls).toBeLessThanOrEqual(8);
      expect(statuses.mock.calls.at(-1)![1]).toHaveLength(8);

      await tick();
      await clockRunning(200);
      const responses = await Promise.all(streams);
      statuses.mockRestore();
      for (const [i, res] of responses.entries()) {
        expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
        const events = res.body
          .split('\n\n')
          .filter((e) => e.startsWith('event: position'))
          .map((e) => JSON.parse(e.split('\ndata: ')[1]!));
        expect(events[0]).toMatchObject({ status: 'WAITING', position: i + 1 });
        expect(events.at(-1)).toMatchObject({ status: 'ADMITTED', admissionToken: expect.any(String) });
      }
      expect(t.ctx.waitingRoom.watcher.size).toBe(0);
    });

    it('refuses a buyer more open streams than the cap with 429 RATE_LIMITED, and gives the slots back when streams end', async () => {
      const room = await givenRoom({ admitPerTick: 10, maxActive: 10 });
      const [greedy, other] = await Promise.all([givenBuyer(t.app), givenBuyer(t.app)]);
      await enter(greedy, room.id);
      await enter(other, room.id);
      const stream = (b: GivenUser) => t.app.inject({ method: 'GET', url: `/v1/schedules/${room.id}/queue/stream`, headers: b.auth });
      const max = t.config.waitingRoom.maxStreamsPerUser;
      const open = Array.from({ length: max }, () => stream(greedy));
      await vi.waitFor(() => expect(t.ctx.waitingRoom.watcher.size).toBe(max));

      const refused = await stream(greedy);
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.json().code).toBe('RATE_LIMITED');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // The cap is per buyer: another one streams as usual.
      const others = stream(other);
      await vi.waitFor(() => expect(t.ctx.waitingRoom.watcher.size).toBe(max + 1));

      await tick();
      await clockRunning(200);
      for (const res of await Promise.all([...open, others])) expect(res.statusCode).toBe(200);
      // Every stream ended: the greedy buyer has its slots back.
      const again = await Promise.all(Array.from({ length: max }, () => stream(greedy)));
      for (const res of again) {
        expect(res.statusCode).toBe(200);
        expect(res.body).toContain('"status":"ADMITTED"');
      }
    });

    it('keeps no slot for a stream refused as a problem', async () => {
      const room = await givenRoom();
      const b = await givenBuyer(t.app);
      for (let i = 0; i <= t.config.waitingRoom.maxStreamsPerUser; i++) {
        const res = await t.app.inject({ method: 'GET', url: `/v1/schedules/${room.id}/queue/stream`, headers: b.auth });
        expect(res.json().code).toBe('NOT_IN_QUEUE');
      }
    });

    it('answers 404 NOT_IN_QUEUE as a problem, not a stream', async () => {
      const room = await givenRoom();
      const b = await givenBuyer(t.app);
      const res = await t.app.inject({ method: 'GET', url: `/v1/schedules/${room.id}/queue/stream`, headers: b.auth });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('NOT_IN_QUEUE');
    });
  });

  it('exposes waiting-room metrics', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/mos_waiting_room_admitted_total\{schedule="[0-9a-f-]+"\} \d+/);
    expect(res.body).toContain('mos_waiting_room_tick_seconds_count');
    expect(res.body).toMatch(/mos_waiting_room_waiting\{schedule=/);
  });
});
