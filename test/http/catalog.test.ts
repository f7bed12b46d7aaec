import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  givenAdmin,
  givenBuyer,
  givenOpenSchedule,
  givenPerformance,
  givenSchedule,
  givenSeller,
  givenVenue,
  rowsOf,
  type GivenUser,
} from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/harness.js';

const MISSING = '01900000-0000-7000-8000-00000000beef';
const day = 86_400_000;

describe('catalog', () => {
  let t: TestApp;
  let seller: GivenUser;
  let otherSeller: GivenUser;
  let buyer: GivenUser;
  let admin: GivenUser;

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_MAX: '100000' } });
    [seller, otherSeller, buyer] = await Promise.all([givenSeller(t.app), givenSeller(t.app), givenBuyer(t.app)]);
    admin = await givenAdmin(t.app, t.ctx);
  });
  afterAll(() => t.cleanup());

  const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, user?: GivenUser, payload?: object) =>
    t.app.inject({ method, url, headers: user?.auth ?? {}, ...(payload ? { payload } : {}) });

  const sell = (scheduleId: string, seatIds: string[], orderId: string) =>
    t.ctx.database.db.transaction((tx) => t.ctx.catalog.inventory.sellSeats({ scheduleId, seatIds, orderId }, tx));

  describe('venues', () => {
    it('creates a venue with its seats laid out and labelled <section>-<row>-<number>', async () => {
      const res = await inject('POST', '/v1/venues', seller, {
        name: 'Olympic Hall',
        address: 'Seoul',
        sections: [
          {
            name: 'A',
            rows: [
              { label: '1', seats: 3 },
              { label: '2', seats: 2 },
            ],
          },
          { name: 'B', rows: [{ label: 'AA', seats: 1 }] },
        ],
      });
      expect(res.statusCode).toBe(201);
      const venue = res.json();
      expect(venue).toMatchObject({ name: 'Olympic Hall', address: 'Seoul', seatCount: 6 });

      const got = (await inject('GET', `/v1/venues/${venue.id}`)).json();
      expect(got.seatCount).toBe(6);
      expect(got.sections.map((s: { name: string }) => s.name)).toEqual(['A', 'B']);
      const a = got.sections[0];
      expect(a.rows.map((r: { label: string }) => r.label)).toEqual(['1', '2']);
      expect(a.rows[0].seats.map((s: { number: number; label: string }) => [s.number, s.label])).toEqual([
        [1, 'A-1-1'],
        [2, 'A-1-2'],
        [3, 'A-1-3'],
      ]);
      expect(got.sections[1].rows[0].seats[0].label).toBe('B-AA-1');
      const ids = got.sections.flatMap((s: any) => s.rows.flatMap((r: any) => r.seats.map((x: any) => x.id)));
      expect(new Set(ids).size).toBe(6);
    });

    it('lets an admin create a venue, but not a buyer', async () => {
      const payload = { name: 'X', sections: [{ name: 'A', rows: rowsOf(1, 1) }] };
      expect((await inject('POST', '/v1/venues', admin, payload)).statusCode).toBe(201);
      expect((await inject('POST', '/v1/venues', buyer, payload)).json().code).toBe('FORBIDDEN');
      expect((await inject('POST', '/v1/venues', undefined, payload)).statusCode).toBe(401);
    });

    it.each([
      ['zero seats in a row', [{ name: 'A', rows: [{ label: '1', seats: 0 }] }], '/body/sections/0/rows/0/seats'],
      ['501 seats in a row', [{ name: 'A', rows: [{ label: '1', seats: 501 }] }], '/body/sections/0/rows/0/seats'],
      ['no sections', [], '/body/sections'],
      ['a section without rows', [{ name: 'A', rows: [] }], '/body/sections/0/rows'],
      ['a dash in a section name', [{ name: 'A-B', rows: rowsOf(1, 1) }], '/body/sections/0/name'],
      [
        'duplicate section names',
        [
          { name: 'A', rows: rowsOf(1, 1) },
          { name: 'A', rows: rowsOf(1, 1) },
        ],
        '/body/sections/1/name',
      ],
      [
        'duplicate row labels',
        [
          {
            name: 'A',
            rows: [
              { label: '1', seats: 1 },
              { label: '1', seats: 2 },
            ],
          },
        ],
        '/body/sections/0/rows/1/label',
      ],
    ])('refuses %s with 400', async (_label, sections, path) => {
      const res = await inject('POST', '/v1/venues', seller, { name: 'Bad', sections });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    });

    it('refuses a venue over VENUE_MAX_SEATS', async () => {
      const sections = Array.from({ length: 5 }, (_, i) => ({ name: `S${i}`, rows: rowsOf(500, 500) }));
      const res = await inject('POST', '/v1/venues', seller, { name: 'Too big', sections });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors[0].message).toMatch(/at most 100000 seats/);
    });

    it('answers 404 for an unknown venue', async () => {
      expect((await inject('GET', `/v1/venues/${MISSING}`)).json().code).toBe('NOT_FOUND');
    });
  });

  describe('performances and grade rules', () => {
    it('grades seats by the first matching rule, and the rest by the default grade', async () => {
      const venue = await givenVenue(t.app, seller, [
        { name: 'A', rows: rowsOf(3, 2) },
        { name: 'B', rows: rowsOf(2, 2) },
        { name: 'C', rows: rowsOf(1, 2) },
      ]);
      const performance = await givenPerformance(t.app, seller, venue.id, {
        grades: [
          { name: 'VIP', price: 150_000 },
          { name: 'R', price: 120_000 },
          { name: 'S', price: 90_000 },
        ],
        seatGrades: [
          { grade: 'VIP', section: 'A', rows: ['1'] },
          { grade: 'R', section: 'A' }, // A-1 already matched VIP: first match wins
          { grade: 'VIP', section: 'A', rows: ['2'] }, // never reached for A-2
          { grade: 'R', section: 'B', rows: ['2'] },
        ],
        defaultGrade: 'S',
      });
      const schedule = await givenSchedule(t.app, seller, performance.id);
      expect(schedule.seatCount).toBe(12);
      const map = (await inject('GET', `/v1/schedules/${schedule.id}/seats`)).json();
      const byRow = Object.fromEntries(map.seats.map((s: any) => [`${s.section}-${s.row}`, `${s.grade}:${s.price}`]));
      expect(byRow).toEqual({
        'A-1': 'VIP:150000',
        'A-2': 'R:120000',
        'A-3': 'R:120000',
        'B-1': 'S:90000',
        'B-2': 'R:120000',
        'C-1': 'S:90000',
      });
    });

    it('shows a performance with its grades and showtimes, and lets its seller edit it', async () => {
      const { performance, schedule } = await givenOpenSchedule(t.app, { seller });
      const got = (await inject('GET', `/v1/performances/${performance.id}`)).json();
      expect(got).toMatchObject({ id: performance.id, sellerId: seller.id, grades: [{ name: 'R', price: 100_000 }], defaultGrade: 'R' });
      expect(got.schedules.map((s: { id: string }) => s.id)).toEqual([schedule.id]);

      const patched = await inject('PATCH', `/v1/performances/${performance.id}`, seller, { title: 'Renamed', description: 'Now with strings' });
      expect(patched.statusCode).toBe(200);
      expect(patched.json()).toMatchObject({ title: 'Renamed', description: 'Now with strings' });
    });

    it.each([
      ['a negative price', { grades: [{ name: 'R', price: -1 }] }, '/body/grades/0/price'],
      [
        'duplicate grade names',
        {
          grades: [
            { name: 'R', price: 1 },
            { name: 'R', price: 2 },
          ],
        },
        '/body/grades/1/name',
      ],
      ['a rule naming an unknown grade', { seatGrades: [{ grade: 'GOLD', section: 'A' }] }, '/body/seatGrades/0/grade'],
      ['a rule naming an unknown section', { seatGrades: [{ grade: 'R', section: 'Z' }] }, '/body/seatGrades/0/section'],
      ['a rule naming an unknown row', { seatGrades: [{ grade: 'R', section: 'A', rows: ['99'] }] }, '/body/seatGrades/0/rows/0'],
      ['an unknown default grade', { defaultGrade: 'GOLD' }, '/body/defaultGrade'],
      ['no grades', { grades: [] }, '/body/grades'],
    ])('refuses %s with 400', async (_label, patch, path) => {
      const venue = await givenVenue(t.app, seller);
      const payload = {
        title: 'Bad',
        venueId: venue.id,
        runningMinutes: 90,
        grades: [{ name: 'R', price: 1000 }],
        seatGrades: [],
        defaultGrade: 'R',
        ...patch,
      };
      const res = await inject('POST', '/v1/performances', seller, payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    });

    it('answers 404 for an unknown venue', async () => {
      const payload = { title: 'T', venueId: MISSING, runningMinutes: 90, grades: [{ name: 'R', price: 1000 }], seatGrades: [], defaultGrade: 'R' };
      const res = await inject('POST', '/v1/performances', seller, payload);
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('NOT_FOUND');
    });

    it('lets only sellers create performances', async () => {
      const venue = await givenVenue(t.app, seller);
      const payload = { title: 'T', venueId: venue.id, runningMinutes: 90, grades: [{ name: 'R', price: 1000 }], seatGrades: [], defaultGrade: 'R' };
      expect((await inject('POST', '/v1/performances', buyer, payload)).statusCode).toBe(403);
    });
  });

  describe('listing', () => {
    it('pages through every performance once, newest first, and searches titles case-insensitively', async () => {
      const marker = `Pager${Date.now()}`;
      const venue = await givenVenue(t.app, seller);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await givenPerformance(t.app, seller, venue.id, { title: `${marker} night ${i}` })).id);
      await givenPerformance(t.app, seller, venue.id, { title: `100% ${marker}` });

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/v1/performances?q=${marker.toLowerCase()}%20night&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page = (await inject('GET', url)).json();
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((p: { id: string }) => p.id));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual([...ids].reverse());

      const percent = (await inject('GET', `/v1/performances?q=${encodeURIComponent('100%')}`)).json();
      expect(percent.items.map((p: { title: string }) => p.title)).toContain(`100% ${marker}`);
      expect(percent.items.every((p: { title: string }) => p.title.includes('100%'))).toBe(true);
    });

    it('shows the next showtime of each performance', async () => {
      const { performance } = await givenOpenSchedule(t.app, { seller });
      const soon = new Date(Date.now() + 2 * day);
      await givenSchedule(t.app, seller, performance.id, { startsAt: soon });
      const got = (await inject('GET', `/v1/performances?limit=100`)).json();
      const item = got.items.find((p: { id: string }) => p.id === performance.id);
      expect(item.nextScheduleAt).toBe(soon.toISOString());
    });

    it.each([['limit=0'], ['limit=101'], ['limit=abc'], ['cursor=%7Bbad'], ['unknown=1']])('refuses ?%s with 400', async (qs) => {
      expect((await inject('GET', `/v1/performances?${qs}`)).statusCode).toBe(400);
    });
  });

  describe('showtimes', () => {
    it('creates a showtime with its whole inventory and reports counts', async () => {
      const venue = await givenVenue(t.app, seller, [{ name: 'A', rows: rowsOf(3, 10) }]);
      const performance = await givenPerformance(t.app, seller, venue.id);
      const startsAt = new Date(Date.now() + 10 * day);
      const res = await inject('POST', `/v1/performances/${performance.id}/schedules`, seller, {
        startsAt: startsAt.toISOString(),
        saleOpensAt: new Date(Date.now() + day).toISOString(),
        waitingRoom: { enabled: true, maxActive: 100 },
      });
      expect(res.statusCode).toBe(201);
      const schedule = res.json();
      expect(schedule).toMatchObject({
        performanceId: performance.id,
        startsAt: startsAt.toISOString(),
        saleClosesAt: startsAt.toISOString(),
        waitingRoom: { enabled: true, maxActive: 100, admitPerTick: 50 },
        seatCount: 30,
      });
      const got = (await inject('GET', `/v1/schedules/${schedule.id}`)).json();
      expect(got.counts).toEqual({ available: 30, held: 0, sold: 0 });
    });

    it.each<[string, { startsAt: number; saleOpensAt: number; saleClosesAt?: number }, string]>([
      ['saleOpensAt after startsAt', { startsAt: 5, saleOpensAt: 6 }, '/body/saleOpensAt'],
      ['startsAt in the past', { startsAt: -1, saleOpensAt: -2 }, '/body/startsAt'],
      ['saleClosesAt after startsAt', { startsAt: 5, saleOpensAt: 1, saleClosesAt: 6 }, '/body/saleClosesAt'],
      ['saleClosesAt before saleOpensAt', { startsAt: 5, saleOpensAt: 3, saleClosesAt: 2 }, '/body/saleClosesAt'],
    ])('refuses %s with 400', async (_label, days, path) => {
      const { performance } = await givenOpenSchedule(t.app, { seller, seats: 1 });
      const at = (d: number | undefined) => (d === undefined ? undefined : new Date(Date.now() + d * day).toISOString());
      const res = await inject('POST', `/v1/performances/${performance.id}/schedules`, seller, {
        startsAt: at(days.startsAt),
        saleOpensAt: at(days.saleOpensAt),
        ...(days.saleClosesAt !== undefined ? { saleClosesAt: at(days.saleClosesAt) } : {}),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    });

    it('refuses a time without an offset', async () => {
      const { performance } = await givenOpenSchedule(t.app, { seller, seats: 1 });
      const res = await inject('POST', `/v1/performances/${performance.id}/schedules`, seller, {
        startsAt: '2030-01-01 20:00',
        saleOpensAt: '2029-12-01T10:00:00Z',
      });
      expect(res.statusCode).toBe(400);
    });
  });

  describe('seat map', () => {
    it('lists every seat with label, grade, price and AVAILABLE, and SOLD once sold', async () => {
      const { schedule, seatIds } = await givenOpenSchedule(t.app, { seller, seats: 25 });
      const map = (await inject('GET', `/v1/schedules/${schedule.id}/seats`)).json();
      expect(map.scheduleId).toBe(schedule.id);
      expect(map.seats).toHaveLength(25);
      expect(map.seats[0]).toEqual({ seatId: seatIds[0], label: 'A-1-1', section: 'A', row: '1', number: 1, grade: 'R', price: 100_000, status: 'AVAILABLE' });
      expect(map.seats[24].label).toBe('A-3-5');

      expect(await sell(schedule.id, [seatIds[3]!, seatIds[4]!], '01900000-0000-7000-8000-0000000000a1')).toBe(true);
      const after = (await inject('GET', `/v1/schedules/${schedule.id}/seats`)).json();
      expect(after.seats.filter((s: { status: string }) => s.status === 'SOLD').map((s: { seatId: string }) => s.seatId)).toEqual([seatIds[3], seatIds[4]]);
      expect((await inject('GET', `/v1/schedules/${schedule.id}`)).json().counts).toEqual({ available: 23, held: 0, sold: 2 });
    });

    it('answers 404 for an unknown showtime', async () => {
      expect((await inject('GET', `/v1/schedules/${MISSING}/seats`)).statusCode).toBe(404);
      expect((await inject('GET', `/v1/schedules/${MISSING}`)).statusCode).toBe(404);
    });

    it('refuses a bad bearer token instead of silently serving anonymously', async () => {
      const { schedule } = await givenOpenSchedule(t.app, { seller, seats: 1 });
      const res = await t.app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}/seats`, headers: { authorization: 'Bearer nope' } });
      expect(res.statusCode).toBe(401);
    });
  });

  describe('selling seats (invariant 1, gate 2)', () => {
    it('sells a seat to one order only; the same order may repeat; a sale needs every seat', async () => {
      const { schedule, seatIds } = await givenOpenSchedule(t.app, { seller, seats: 4 });
      const [a, b] = ['01900000-0000-7000-8000-0000000000b1', '01900000-0000-7000-8000-0000000000b2'];
      expect(await sell(schedule.id, [seatIds[0]!], a)).toBe(true);
      expect(await sell(schedule.id, [seatIds[0]!], a)).toBe(true);
      expect(await sell(schedule.id, [seatIds[0]!], b)).toBe(false);
      // All or nothing: a refused sale leaves the free seat free (the caller rolls back).
      await expect(
        t.ctx.database.db.transaction(async (tx) => {
          if (!(await t.ctx.catalog.inventory.sellSeats({ scheduleId: schedule.id, seatIds: [seatIds[1]!, seatIds[0]!], orderId: b }, tx)))
            throw new Error('rollback');
        }),
      ).rejects.toThrow('rollback');
      const map = (await inject('GET', `/v1/schedules/${schedule.id}/seats`)).json();
      expect(map.seats[1].status).toBe('AVAILABLE');
    });

    it('lets exactly one of 20 concurrent orders buy the same seat', async () => {
      const { schedule, seatIds } = await givenOpenSchedule(t.app, { seller, seats: 2 });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          t.ctx.database.db.transaction(async (tx) => {
            const ok = await t.ctx.catalog.inventory.sellSeats(
              { scheduleId: schedule.id, seatIds: [seatIds[0]!, seatIds[1]!], orderId: `01900000-0000-7000-8000-${String(i).padStart(12, '0')}` },
              tx,
            );
            if (!ok) throw new Error('seat taken');
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((await inject('GET', `/v1/schedules/${schedule.id}`)).json().counts.sold).toBe(2);
    });
  });

  describe('ownership and deletion', () => {
    it('refuses other sellers (403) and buyers (403), allows the owner and an admin', async () => {
      const { performance, schedule } = await givenOpenSchedule(t.app, { seller });
      for (const user of [otherSeller, buyer]) {
        expect((await inject('PATCH', `/v1/performances/${performance.id}`, user, { title: 'Mine now' })).statusCode).toBe(403);
        expect((await inject('DELETE', `/v1/performances/${performance.id}`, user)).statusCode).toBe(403);
        expect((await inject('DELETE', `/v1/schedules/${schedule.id}`, user)).statusCode).toBe(403);
        const future = new Date(Date.now() + 3 * day).toISOString();
        expect(
          (await inject('POST', `/v1/performances/${performance.id}/schedules`, user, { startsAt: future, saleOpensAt: new Date().toISOString() })).statusCode,
        ).toBe(403);
      }
      expect((await inject('PATCH', `/v1/performances/${performance.id}`, admin, { title: 'Fixed by ops' })).statusCode).toBe(200);
      expect((await inject('DELETE', `/v1/schedules/${schedule.id}`, seller)).statusCode).toBe(204);
    });

    it('deletes a showtime without sales: it disappears everywhere', async () => {
      const { performance, schedule } = await givenOpenSchedule(t.app, { seller, seats: 3 });
      expect((await inject('DELETE', `/v1/schedules/${schedule.id}`, seller)).statusCode).toBe(204);
      expect((await inject('GET', `/v1/schedules/${schedule.id}`)).statusCode).toBe(404);
      expect((await inject('GET', `/v1/schedules/${schedule.id}/seats`)).statusCode).toBe(404);
      expect((await inject('GET', `/v1/performances/${performance.id}`)).json().schedules).toEqual([]);
      expect((await inject('DELETE', `/v1/schedules/${schedule.id}`, seller)).statusCode).toBe(404);
    });

    it('deletes a performance without sales, with its showtimes', async () => {
      const { performance, schedule } = await givenOpenSchedule(t.app, { seller, seats: 3 });
      expect((await inject('DELETE', `/v1/performances/${performance.id}`, seller)).statusCode).toBe(204);
      expect((await inject('GET', `/v1/performances/${performance.id}`)).statusCode).toBe(404);
      expect((await inject('GET', `/v1/schedules/${schedule.id}`)).statusCode).toBe(404);
      const list = (await inject('GET', '/v1/performances?limit=100')).json();
      expect(list.items.map((p: { id: string }) => p.id)).not.toContain(performance.id);
    });

    it('answers 409 HAS_SALES for a showtime or performance with a sold seat', async () => {
      const { performance, schedule, seatIds } = await givenOpenSchedule(t.app, { seller, seats: 3 });
      expect(await sell(schedule.id, [seatIds[0]!], '01900000-0000-7000-8000-0000000000c1')).toBe(true);
      for (const url of [`/v1/schedules/${schedule.id}`, `/v1/performances/${performance.id}`]) {
        const res = await inject('DELETE', url, seller);
        expect(res.statusCode).toBe(409);
        expect(res.json().code).toBe('HAS_SALES');
      }
      expect((await inject('GET', `/v1/schedules/${schedule.id}`)).statusCode).toBe(200);
    });

    it('sells nothing of a deleted showtime', async () => {
      const { schedule, seatIds } = await givenOpenSchedule(t.app, { seller, seats: 2 });
      await inject('DELETE', `/v1/schedules/${schedule.id}`, seller);
      expect(await sell(schedule.id, [seatIds[0]!], '01900000-0000-7000-8000-0000000000d1')).toBe(false);
    });
  });
});
