/**
 * Stadium-scale seat maps: the layout (prebuilt, precompressed, cacheable), the live
 * availability (2 bits a seat, deltas since a version) and its stream — checked against the
 * plain seat map (`/seats`) and through the real hold, order, payment, expiry and refund paths.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availabilityCodec } from '../../src/modules/catalog/index.js';
import { ManualClock } from '../../src/platform/clock.js';
import { givenOpenSchedule, givenPerformance, givenSchedule, givenSeller, givenVenue, mintBuyer, rowsOf } from '../support/builders.js';
import type { TestApp } from '../support/harness.js';
import { type Buyer, PRICE, purchaseSteps, startSandboxApp } from '../support/payments.js';

// The decoder the web app imports (re-exported by the catalog's index).
const { AvailabilityState, packStatuses, toBase64 } = availabilityCodec;
type AvailabilityState = InstanceType<typeof AvailabilityState>;
type AvailabilityMessage = availabilityCodec.AvailabilityMessage;

const MISSING = '01900000-0000-7000-8000-00000000beef';
const REFRESH_MS = 1000;
const PAYMENT_WINDOW_SECONDS = 300;
const HOLD_TTL_SECONDS = 600;

interface LayoutSeat {
  index: number;
  seatId: string;
  label: string;
  section: string;
  row: string;
  number: number;
  grade: string;
  price: number;
  x: number;
  y: number;
}

describe('seat maps at stadium scale', () => {
  let t: TestApp;
  let base: string;
  const clock = new ManualClock(new Date());
  const { checkout, confirm } = purchaseSteps(() => t, clock, 'seat-views');
  let keyN = 0;

  beforeAll(async () => {
    const app = await startSandboxApp({
      clock,
      env: () => ({
        RATE_LIMIT_MAX: '1000000',
        SEAT_AVAILABILITY_REFRESH_MS: String(REFRESH_MS),
        PAYMENT_WINDOW_SECONDS: String(PAYMENT_WINDOW_SECONDS),
        HOLD_TTL_SECONDS: String(HOLD_TTL_SECONDS),
      }),
    });
    t = app;
    base = `http://127.0.0.1:${app.port}`;
  });
  afterAll(() => t?.cleanup());

  // The snapshot is as old as the manual clock says: moving it one interval on makes the next read fresh.
  const nextInterval = () => clock.advance(REFRESH_MS);
  const open = (seats = 20) => givenOpenSchedule(t.app, { seats, price: PRICE, now: clock.now() });
  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });
  const layoutOf = async (scheduleId: string) => (await get(`/v1/schedules/${scheduleId}/layout`)).json<{ seats: LayoutSeat[]; grades: unknown[] }>();
  const availability = async (scheduleId: string, since?: number) => {
    const res = await get(`/v1/schedules/${scheduleId}/availability${since === undefined ? '' : `?since=${since}`}`);
    expect(res.statusCode).toBe(200);
    return res.json<AvailabilityMessage>();
  };
  const hold = async (b: Buyer, scheduleId: string, seatIds: string[]) => {
    const res = await t.app.inject({ method: 'POST', url: `/v1/schedules/${scheduleId}/holds`, headers: b.auth, payload: { seatIds } });
    expect(res.statusCode).toBe(201);
  };
  const order = async (b: Buyer, scheduleId: string, seatIds: string[]) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { ...b.auth, 'idempotency-key': `sv-${++keyN}` },
      payload: { scheduleId, seatIds },
    });
    expect(res.statusCode).toBe(201);
    return res.json<{ id: string; amount: number; orderName: string }>();
  };
  const pay = async (b: Buyer, placed: { id: string; amount: number; orderName: string }) => {
    const paymentKey = await checkout(placed);
    expect((await confirm(b, { paymentKey, orderId: placed.id, amount: placed.amount })).statusCode).toBe(200);
  };
  const cancel = async (b: Buyer, orderId: string) =>
    expect((await t.app.inject({ method: 'POST', url: `/v1/orders/${orderId}/cancel`, headers: b.auth, payload: {} })).statusCode).toBe(200);
  /** Statuses by seat id, as the plain seat map has them. */
  const seatMap = async (scheduleId: string) =>
    new Map((await get(`/v1/schedules/${scheduleId}/seats`)).json<{ seats: { seatId: string; status: string }[] }>().seats.map((s) => [s.seatId, s.status]));

  describe('layout', () => {
    it('lists every seat in layout order with its index, grade, price and drawing position, and the grade legend', async () => {
      const seller = await givenSeller(t.app);
      const venue = await t.app.inject({
        method: 'POST',
        url: '/v1/venues',
        headers: seller.auth,
        payload: {
          name: 'Two Stands',
          sections: [
            {
              name: 'A',
              rows: [
                { label: '1', seats: 4 },
                { label: '2', seats: 2 },
              ],
            },
            { name: 'B', rows: rowsOf(1, 3) },
            { name: 'C', rows: rowsOf(1, 1), origin: { x: 40, y: -5 } },
          ],
        },
      });
      expect(venue.statusCode).toBe(201);
      const performance = await givenPerformance(t.app, seller, venue.json().id, {
        grades: [
          { name: 'VIP', price: 150_000 },
          { name: 'R', price: 90_000 },
        ],
        seatGrades: [{ grade: 'VIP', section: 'A', rows: ['1'] }],
        defaultGrade: 'R',
      });
      const schedule = await givenSchedule(t.app, seller, performance.id, {}, clock.now());

      const res = await get(`/v1/schedules/${schedule.id}/layout`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const layout = res.json<{ scheduleId: string; seats: LayoutSeat[]; grades: unknown[] }>();
      expect(layout.scheduleId).toBe(schedule.id);
      expect(layout.grades).toEqual([
        { name: 'VIP', price: 150_000 },
        { name: 'R', price: 90_000 },
      ]);
      expect(layout.seats.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(layout.seats[0]).toMatchObject({ label: 'A-1-1', section: 'A', row: '1', number: 1, grade: 'VIP', price: 150_000, x: 0, y: 0 });
      // Rows are centred on their section's widest row; sections stack one empty row apart; an origin moves a section.
      expect(layout.seats.map((s) => [s.label, s.x, s.y])).toEqual([
        ['A-1-1', 0, 0],
        ['A-1-2', 1, 0],
        ['A-1-3', 2, 0],
        ['A-1-4', 3, 0],
        ['A-2-1', 1, 1],
        ['A-2-2', 2, 1],
        ['B-1-1', 0, 3],
        ['B-1-2', 1, 3],
        ['B-1-3', 2, 3],
        ['C-1-1', 40, -5],
      ]);
      expect(layout.seats[4]).toMatchObject({ grade: 'R', price: 90_000 });
      // The same seats, in the same order, as the plain seat map.
      expect(layout.seats.map((s) => s.seatId)).toEqual([...(await seatMap(schedule.id)).keys()]);
    });

    it('serves prebuilt gzip or br by Accept-Encoding, with a strong ETag per encoding, 304 on If-None-Match and immutable caching', async () => {
      const { schedule } = await open(30);
      const url = `/v1/schedules/${schedule.id}/layout`;
      const plain = await get(url);
      const gz = await get(url, { 'accept-encoding': 'gzip, deflate' });
      const br = await get(url, { 'accept-encoding': 'gzip;q=0.5, br' });
      const refusedBr = await get(url, { 'accept-encoding': 'br;q=0, *' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(br.headers['content-encoding']).toBe('br');
      expect(refusedBr.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(gz.rawPayload).equals(plain.rawPayload)).toBe(true);
      expect(brotliDecompressSync(br.rawPayload).equals(plain.rawPayload)).toBe(true);
      expect(br.rawPayload.length).toBeLessThan(plain.rawPayload.length / 3);
      for (const res of [plain, gz, br]) {
        expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
        expect(res.headers.vary).toMatch(/accept-encoding/i);
        expect(res.headers.etag).toMatch(/^"[^"]+"$/);
      }
      expect(new Set([plain.headers.etag, gz.headers.etag, br.headers.etag]).size).toBe(3);

      // A cache revalidating any encoding's tag gets 304 and the tag of the encoding it asked for.
      const revalidated = await get(url, { 'accept-encoding': 'br', 'if-none-match': String(plain.headers.etag) });
      expect(revalidated.statusCode).toBe(304);
      expect(revalidated.rawPayload.length).toBe(0);
      expect(revalidated.headers['content-length']).toBeUndefined();
      expect(revalidated.headers.etag).toBe(br.headers.etag);
      expect((await get(url, { 'if-none-match': `"other", W/${String(gz.headers.etag)}` })).statusCode).toBe(304);
      expect((await get(url, { 'if-none-match': '"something-else"' })).statusCode).toBe(200);
      // Built once: the same bytes again.
      expect((await get(url)).rawPayload.equals(plain.rawPayload)).toBe(true);
    });

    it('answers 404 for an unknown or deleted showtime', async () => {
      expect((await get(`/v1/schedules/${MISSING}/layout`)).statusCode).toBe(404);
      expect((await get(`/v1/schedules/${MISSING}/availability`)).statusCode).toBe(404);
      expect((await get(`/v1/schedules/${MISSING}/availability/stream`)).statusCode).toBe(404);
      const { schedule, seller } = await open(2);
      expect((await get(`/v1/schedules/${schedule.id}/layout`)).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'DELETE', url: `/v1/schedules/${schedule.id}`, headers: seller.auth })).statusCode).toBe(204);
      expect((await get(`/v1/schedules/${schedule.id}/layout`)).statusCode).toBe(404);
      expect((await get(`/v1/schedules/${schedule.id}/availability`)).statusCode).toBe(404);
    });
  });

  describe('availability', () => {
    it('agrees with the layout and the seat map on a showtime with sold, held and reserved seats', async () => {
      const { schedule, seatIds } = await open(20);
      const [holder, orderer, payer] = [await mintBuyer(clock.now()), await mintBuyer(clock.now()), await mintBuyer(clock.now())];
      await hold(holder, schedule.id, [seatIds[2]!, seatIds[3]!]);
      await hold(orderer, schedule.id, [seatIds[7]!]);
      await order(orderer, schedule.id, [seatIds[7]!]); // reserved: a pending order
      await hold(payer, schedule.id, [seatIds[11]!, seatIds[19]!]);
      await pay(payer, await order(payer, schedule.id, [seatIds[11]!, seatIds[19]!])); // sold
      nextInterval();

      const layout = await layoutOf(schedule.id);
      const message = await availability(schedule.id);
      expect(message).toMatchObject({ scheduleId: schedule.id, encoding: '2bit-v1', full: true });
      const state = new AvailabilityState(layout.seats.length, message);
      const map = await seatMap(schedule.id);
      expect(layout.seats.map((s) => state.status(s.index))).toEqual(layout.seats.map((s) => map.get(s.seatId)));
      expect(layout.seats.filter((s) => state.status(s.index) !== 'AVAILABLE').map((s) => [s.index, state.status(s.index)])).toEqual([
        [2, 'HELD'],
        [3, 'HELD'],
        [7, 'HELD'],
        [11, 'SOLD'],
        [19, 'SOLD'],
      ]);
    });

    it('answers only the changes since a version, and the whole state for a version it no longer has', async () => {
      const { schedule, seatIds } = await open(40);
      const a = await mintBuyer(clock.now());
      nextInterval();
      const first = await availability(schedule.id);
      const client = new AvailabilityState(40, first);

      await hold(a, schedule.id, [seatIds[5]!, seatIds[6]!]);
      nextInterval();
      const delta = await availability(schedule.id, first.version);
      expect(delta).toMatchObject({ full: false, since: first.version });
      expect(delta.version).toBeGreaterThan(first.version);
      expect(Buffer.from(delta.data, 'base64')).toHaveLength(6); // two seats, 3 bytes each
      expect(client.apply(delta)).toBe(true);
      expect([client.status(5), client.status(6), client.status(7)]).toEqual(['HELD', 'HELD', 'AVAILABLE']);

      // Nothing new: an empty delta at the same version.
      expect(await availability(schedule.id, delta.version)).toMatchObject({ full: false, version: delta.version, data: '' });
      // A version from before anything this process keeps: the whole state.
      const stale = await availability(schedule.id, 1);
      expect(stale).toMatchObject({ full: true, version: delta.version });
      expect([...new AvailabilityState(40, stale).codes]).toEqual([...client.codes]);
    });

    it('reads the hot state once per interval per process, however many buyers read', async () => {
      const { schedule, seatIds } = await open(10);
      await hold(await mintBuyer(clock.now()), schedule.id, [seatIds[0]!]);
      nextInterval();
      const before = t.ctx.catalog.availabilityReads();
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => availability(schedule.id, i % 2 ? undefined : 0)));
      expect(t.ctx.catalog.availabilityReads() - before).toBe(1);
      expect(new Set(answers.map((a) => a.version)).size).toBe(1);
      // Within the interval, no more reads; the next interval, one more.
      await availability(schedule.id);
      expect(t.ctx.catalog.availabilityReads() - before).toBe(1);
      nextInterval();
      await Promise.all(Array.from({ length: 20 }, () => availability(schedule.id)));
      expect(t.ctx.catalog.availabilityReads() - before).toBe(2);
    });

    it('compresses the full state by Accept-Encoding', async () => {
      const { schedule } = await open(400);
      nextInterval();
      const url = `/v1/schedules/${schedule.id}/availability`;
      const plain = await get(url);
      const gz = await get(url, { 'accept-encoding': 'gzip' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(gz.rawPayload).equals(plain.rawPayload)).toBe(true);
      expect(plain.headers['cache-control']).toBe('no-cache');
    });
  });

  describe('the plain seat map', () => {
    it('is gzip-compressed when the client accepts it', async () => {
      const { schedule, seatIds } = await open(200);
      const url = `/v1/schedules/${schedule.id}/seats`;
      const plain = await get(url);
      const gz = await get(url, { 'accept-encoding': 'gzip, br' });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(gz.rawPayload).equals(plain.rawPayload)).toBe(true);
      expect(gz.rawPayload.length).toBeLessThan(plain.rawPayload.length / 5);
      expect(gz.headers.vary).toMatch(/accept-encoding/i);
      expect((await get(url, { 'accept-encoding': 'br' })).headers['content-encoding']).toBeUndefined();
      // A change is never hidden by a reused compression.
      await hold(await mintBuyer(clock.now()), schedule.id, [seatIds[0]!]);
      const after = JSON.parse(gunzipSync((await get(url, { 'accept-encoding': 'gzip' })).rawPayload).toString());
      expect(after.seats[0].status).toBe('HELD');
    });
  });

  describe('stream', () => {
    /** An SSE client over real HTTP: its state follows every event it reads. */
    async function follow(scheduleId: string, seats: number, lastEventId?: number) {
      const controller = new AbortController();
      const res = await fetch(`${base}/v1/schedules/${scheduleId}/availability/stream`, {
        headers: lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) },
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffered = '';
      const next = async (): Promise<{ id: number; message: AvailabilityMessage }> => {
        for (;;) {
          const end = buffered.indexOf('\n\n');
          if (end >= 0) {
            const block = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            if (block.startsWith(':')) continue; // keep-alive
            const field = (name: string) =>
              block
                .split('\n')
                .find((l) => l.startsWith(`${name}: `))
                ?.slice(name.length + 2);
            expect(field('event')).toBe('availability');
            return { id: Number(field('id')), message: JSON.parse(field('data')!) as AvailabilityMessage };
          }
          const { value, done } = await reader.read();
          if (done) throw new Error('the stream ended');
          buffered += decoder.decode(value, { stream: true });
        }
      };
      const first = await next();
      expect(first.id).toBe(first.message.version);
      const state: AvailabilityState | undefined = first.message.full ? new AvailabilityState(seats, first.message) : undefined;
      const events = [first.message];
      return {
        first: first.message,
        events,
        /** Reads events until the state passes `check`; moves the clock so the next loop tick reads the hot state. */
        until: async (check: (s: AvailabilityState) => boolean) => {
          nextInterval();
          while (!state || !check(state)) {
            const { id, message } = await next();
            expect(id).toBe(message.version);
            events.push(message);
            if (!state) throw new Error('a stream resumed without a full state cannot be checked');
            expect(state.apply(message)).toBe(true);
            nextInterval();
          }
          return state;
        },
        close: () => controller.abort(),
      };
    }

    it('pushes a hold, a sale, an expiry and a cancel as they happen, and resumes from Last-Event-ID', async () => {
      const SEATS = 100; // large enough that a few changes travel as a delta, not as the whole state
      const { schedule, seatIds } = await open(SEATS);
      const stream = await follow(schedule.id, SEATS);
      try {
        expect(stream.first.full).toBe(true);
        const [a, b, c] = [await mintBuyer(clock.now()), await mintBuyer(clock.now()), await mintBuyer(clock.now())];

        // A hold.
        await hold(a, schedule.id, [seatIds[0]!]);
        await stream.until((s) => s.status(0) === 'HELD');

        // An order, paid: its seats are sold.
        await hold(b, schedule.id, [seatIds[1]!, seatIds[2]!]);
        const paid = await order(b, schedule.id, [seatIds[1]!, seatIds[2]!]);
        await pay(b, paid);
        const sold = await stream.until((s) => s.status(1) === 'SOLD' && s.status(2) === 'SOLD');
        // What a client that drops here has: its last event's id and its state.
        const afterSale = sold.version;
        const kept: AvailabilityMessage = { ...stream.first, version: afterSale, data: toBase64(packStatuses(sold.codes)) };

        // Expiry: an unpaid order's window ends (the job ends it), and a plain hold lapses.
        await hold(c, schedule.id, [seatIds[3]!]);
        await order(c, schedule.id, [seatIds[3]!]);
        await stream.until((s) => s.status(3) === 'HELD');
        clock.advance(HOLD_TTL_SECONDS * 1000);
        await t.ctx.booking.orders.expireDue();
        await stream.until((s) => s.status(3) === 'AVAILABLE' && s.status(0) === 'AVAILABLE');

        // A cancel: the paid order is refunded and its seats are for sale again.
        await cancel(b, paid.id);
        const final = await stream.until((s) => s.status(1) === 'AVAILABLE' && s.status(2) === 'AVAILABLE');
        expect([...final.codes]).toEqual(Array(SEATS).fill(0));
        const versions = stream.events.map((e) => e.version);
        expect([...versions].sort((x, y) => x - y)).toEqual(versions);

        // A client that reconnects with the id of an event it had gets only what it missed.
        const resumed = await follow(schedule.id, SEATS, afterSale);
        try {
          expect(resumed.first).toMatchObject({ full: false, since: afterSale, version: final.version });
          const replayed = new AvailabilityState(SEATS, kept);
          expect(replayed.apply(resumed.first)).toBe(true);
          expect([...replayed.codes]).toEqual([...final.codes]);
        } finally {
          resumed.close();
        }
      } finally {
        stream.close();
      }
    });

    it('shares one loop per showtime among its streams', async () => {
      const { schedule, seatIds } = await open(8);
      const streams = await Promise.all(Array.from({ length: 5 }, () => follow(schedule.id, 8)));
      try {
        const before = t.ctx.catalog.availabilityReads();
        await hold(await mintBuyer(clock.now()), schedule.id, [seatIds[4]!]);
        for (const s of streams) await s.until((state) => state.status(4) === 'HELD');
        // Five clients, one read per interval: at most one per interval the test moved the clock through.
        expect(t.ctx.catalog.availabilityReads() - before).toBeLessThanOrEqual(streams.length + 1);
        expect(t.ctx.catalog.watcher.size).toBeGreaterThanOrEqual(5);
      } finally {
        for (const s of streams) s.close();
      }
    });
  });

  describe('a 50,000-seat showtime', () => {
    it('has a layout built once, a full availability under 16 KB compressed, and deltas of a few bytes', { timeout: 180_000 }, async () => {
      const seller = await givenSeller(t.app);
      const sections = Array.from({ length: 20 }, (_, s) => ({ name: String.fromCharCode(65 + s), rows: rowsOf(50, 50) }));
      const venue = await givenVenue(t.app, seller, sections);
      expect(venue.seatCount).toBe(50_000);
      const performance = await givenPerformance(t.app, seller, venue.id);
      const schedule = await givenSchedule(t.app, seller, performance.id, {}, clock.now());

      const layout = await get(`/v1/schedules/${schedule.id}/layout`, { 'accept-encoding': 'br' });
      expect(layout.statusCode).toBe(200);
      const seats = JSON.parse(brotliDecompressSync(layout.rawPayload).toString()).seats as LayoutSeat[];
      expect(seats).toHaveLength(50_000);
      expect(seats[49_999]).toMatchObject({ index: 49_999, label: 'T-50-50' });

      const buyers = await Promise.all(Array.from({ length: 10 }, () => mintBuyer(clock.now())));
      await Promise.all(buyers.map((b, i) => hold(b, schedule.id, [seats[i * 4999]!.seatId])));
      nextInterval();
      const full = await get(`/v1/schedules/${schedule.id}/availability`, { 'accept-encoding': 'gzip' });
      expect(full.rawPayload.length).toBeLessThan(16 * 1024);
      const message = JSON.parse(gunzipSync(full.rawPayload).toString()) as AvailabilityMessage;
      const state = new AvailabilityState(50_000, message);
      expect(state.codes.filter((c) => c !== 0)).toHaveLength(10);

      const more = await Promise.all(Array.from({ length: 10 }, () => mintBuyer(clock.now())));
      await Promise.all(more.map((b, i) => hold(b, schedule.id, [seats[i * 4999 + 1]!.seatId])));
      nextInterval();
      const delta = await get(`/v1/schedules/${schedule.id}/availability?since=${message.version}`);
      expect(delta.rawPayload.length).toBeLessThan(200);
      expect(state.apply(delta.json())).toBe(true);
      expect(state.codes.filter((c) => c !== 0)).toHaveLength(20);
    });
  });
});
