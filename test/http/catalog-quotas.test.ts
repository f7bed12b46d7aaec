import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { givenAdmin, givenPerformance, givenSchedule, givenSeller, givenVenue, rowsOf, type GivenUser } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/harness.js';

/** Item 10a of issue 10: a self-registered seller cannot fill the database. */
describe('catalog quotas', () => {
  let t: TestApp;
  let admin: GivenUser;
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        RATE_LIMIT_MAX: '100000',
        SELLER_MAX_VENUES: '2',
        SELLER_MAX_VENUE_SEATS: '50',
        SELLER_MAX_PERFORMANCES: '2',
        PERFORMANCE_MAX_SCHEDULES: '2',
        SELLER_MAX_SCHEDULE_SEATS: '100',
      },
    });
    admin = await givenAdmin(t.app, t.ctx);
  });
  afterAll(() => t.cleanup());

  const createVenue = (user: GivenUser, seats: number) =>
    t.app.inject({ method: 'POST', url: '/v1/venues', headers: user.auth, payload: { name: 'Hall', sections: [{ name: 'A', rows: rowsOf(seats / 10, 10) }] } });
  const createSchedule = (user: GivenUser, performanceId: string, inDays: number) =>
    t.app.inject({
      method: 'POST',
      url: `/v1/performances/${performanceId}/schedules`,
      headers: user.auth,
      payload: { startsAt: new Date(Date.now() + inDays * 86_400_000).toISOString(), saleOpensAt: new Date(Date.now() + 60_000).toISOString() },
    });

  function expectQuota(res: { statusCode: number; headers: Record<string, unknown>; json: () => Record<string, unknown> }, quota: string, limit: number) {
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'QUOTA_EXCEEDED', status: 409, quota, limit });
  }

  it('refuses a venue past the number of venues per seller, for that seller only', async () => {
    const seller = await givenSeller(t.app);
    expect((await createVenue(seller, 10)).statusCode).toBe(201);
    expect((await createVenue(seller, 10)).statusCode).toBe(201);
    expectQuota(await createVenue(seller, 10), 'venues', 2);
    expect((await createVenue(await givenSeller(t.app), 10)).statusCode).toBe(201);
  });

  it('refuses a venue past the seats per seller across venues', async () => {
    const seller = await givenSeller(t.app);
    expect((await createVenue(seller, 40)).statusCode).toBe(201);
    expectQuota(await createVenue(seller, 20), 'venueSeats', 50);
    expect((await createVenue(seller, 10)).statusCode).toBe(201);
  });

  it('counts live performances only: deleting one makes room', async () => {
    const seller = await givenSeller(t.app);
    const venue = await givenVenue(t.app, seller);
    const first = await givenPerformance(t.app, seller, venue.id);
    await givenPerformance(t.app, seller, venue.id);
    const refused = await t.app.inject({
      method: 'POST',
      url: '/v1/performances',
      headers: seller.auth,
      payload: { title: 'One too many', venueId: venue.id, runningMinutes: 90, grades: [{ name: 'R', price: 1000 }], seatGrades: [], defaultGrade: 'R' },
    });
    expectQuota(refused, 'performances', 2);
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/performances/${first.id}`, headers: seller.auth })).statusCode).toBe(204);
    await givenPerformance(t.app, seller, venue.id);
  });

  it('refuses a showtime past the showtimes per performance', async () => {
    const seller = await givenSeller(t.app);
    const venue = await givenVenue(t.app, seller, [{ name: 'A', rows: rowsOf(1, 10) }]);
    const performance = await givenPerformance(t.app, seller, venue.id);
    await givenSchedule(t.app, seller, performance.id);
    await givenSchedule(t.app, seller, performance.id);
    expectQuota(await createSchedule(seller, performance.id, 9), 'schedulesPerPerformance', 2);
  });

  it("refuses a showtime past the seats across a seller's showtimes", async () => {
    const seller = await givenSeller(t.app);
    const venue = await givenVenue(t.app, seller, [{ name: 'A', rows: rowsOf(4, 10) }]);
    const a = await givenPerformance(t.app, seller, venue.id);
    const b = await givenPerformance(t.app, seller, venue.id);
    await givenSchedule(t.app, seller, a.id);
    await givenSchedule(t.app, seller, a.id);
    expectQuota(await createSchedule(seller, b.id, 9), 'scheduleSeats', 100);
  });

  it('exempts admins', async () => {
    for (let i = 0; i < 3; i++) expect((await createVenue(admin, 40)).statusCode).toBe(201);
    const seller = await givenSeller(t.app);
    const venue = await givenVenue(t.app, seller, [{ name: 'A', rows: rowsOf(1, 10) }]);
    const performance = await givenPerformance(t.app, seller, venue.id);
    for (let i = 0; i < 3; i++) expect((await createSchedule(admin, performance.id, 9 + i)).statusCode).toBe(201);
  });

  it('holds under concurrent creates: exactly the quota is created', async () => {
    const seller = await givenSeller(t.app);
    const results = await Promise.all(Array.from({ length: 6 }, () => createVenue(seller, 10)));
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(2);
    expect(results.filter((r) => r.statusCode === 409).every((r) => r.json().code === 'QUOTA_EXCEEDED')).toBe(true);
    expect(results.filter((r) => r.statusCode === 409)).toHaveLength(4);
  });
});
