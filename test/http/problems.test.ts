import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { givenAdmin, givenBuyer, givenOpenSchedule, givenSeller, uniqueEmail, type GivenUser } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/harness.js';

const PROBLEM_KEYS = ['type', 'title', 'status', 'code', 'detail', 'requestId'];

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json: () => any }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  for (const k of PROBLEM_KEYS) expect(body).toHaveProperty(k);
  expect(body).toMatchObject({ status, code });
  expect(body.requestId).toBe(res.headers['x-request-id']);
  return body;
}

describe('problem+json on every failure', () => {
  let t: TestApp;
  let users: Record<'BUYER' | 'SELLER' | 'ADMIN', GivenUser>;

  beforeAll(async () => {
    t = await createTestApp({
      env: { RATE_LIMIT_MAX: '100000', BODY_LIMIT_BYTES: '4096' },
      extend: (app: FastifyInstance) => {
        app.get('/test/boom', async () => {
          throw new Error('secret internal detail: password=hunter2 at db.internal:5432');
        });
        app.get('/test/admin-only', { onRequest: app.requireRole('ADMIN') }, async () => ({ ok: true }));
        app.get('/test/limited', { config: { rateLimit: { max: 2, timeWindow: 60_000 } } }, async () => ({ ok: true }));
        app.post('/test/echo', { schema: { body: Type.Object({ n: Type.Integer() }, { additionalProperties: false }) } }, async (request) => request.body);
      },
    });
    users = { BUYER: await givenBuyer(t.app), SELLER: await givenSeller(t.app), ADMIN: await givenAdmin(t.app, t.ctx) };
  });
  afterAll(() => t.cleanup());

  it('400 VALIDATION_FAILED with field errors', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/signup', payload: { email: 'x', password: 1 } });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    const paths = body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/body/email', '/body/password', '/body/name']));
  });

  it('401 UNAUTHENTICATED', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/me' }), 401, 'UNAUTHENTICATED');
  });

  it('403 FORBIDDEN for the wrong role', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/test/admin-only', headers: users.BUYER.auth }), 403, 'FORBIDDEN');
    expect((await t.app.inject({ method: 'GET', url: '/test/admin-only', headers: users.ADMIN.auth })).statusCode).toBe(200);
  });

  it('404 NOT_FOUND for an unknown route', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/nothing-here' }), 404, 'NOT_FOUND');
  });

  it('409 with the module code', async () => {
    const payload = { email: users.BUYER.email, password: 'long enough 1', name: 'Dup' };
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/auth/signup', payload }), 409, 'EMAIL_TAKEN');
  });

  it('429 RATE_LIMITED with Retry-After', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await t.app.inject({ method: 'GET', url: '/test/limited' }));
    expect(statuses.slice(0, 2).map((r) => r.statusCode)).toEqual([200, 200]);
    expectProblem(statuses[2]!, 429, 'RATE_LIMITED');
    expect(Number(statuses[2]!.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('500 INTERNAL_ERROR without internals', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/test/boom' });
    const body = expectProblem(res, 500, 'INTERNAL_ERROR');
    expect(res.body).not.toMatch(/secret|hunter2|db\.internal|stack|at /);
    expect(body.detail).toBe('Internal server error');
  });

  it('answers a number sent as a string with 400, not a coerced value', async () => {
    expectProblem(await t.app.inject({ method: 'POST', url: '/test/echo', payload: { n: '5' } }), 400, 'VALIDATION_FAILED');
  });

  describe('text the database would refuse answers 400 naming the field, never 500', () => {
    const NUL = 'a\u0000b';
    const LONE = 'a\ud800b';
    const LEAP = '2030-06-30T23:59:60Z';
    const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
    let fx: { venueId: string; performanceId: string; orderId: string; seller: GivenUser; buyer: GivenUser };

    beforeAll(async () => {
      const { seller, venue, performance, schedule, seatIds } = await givenOpenSchedule(t.app, { seats: 10 });
      const buyer = await givenBuyer(t.app);
      const held = await t.app.inject({
        method: 'POST',
        url: `/v1/schedules/${schedule.id}/holds`,
        headers: buyer.auth,
        payload: { seatIds: seatIds.slice(0, 1) },
      });
      expect(held.statusCode).toBe(201);
      const placed = await t.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...buyer.auth, 'idempotency-key': 'problems-order' },
        payload: { scheduleId: schedule.id, seatIds: seatIds.slice(0, 1), couponIds: [] },
      });
      expect(placed.statusCode).toBe(201);
      fx = { venueId: venue.id, performanceId: performance.id, orderId: placed.json().id, seller, buyer };
    });

    const signup = (over: object) => ({ email: uniqueEmail('text'), password: 'long enough 1', name: 'Ann', ...over });
    const venue = (over: object = {}, section: object = {}, row: object = {}) => ({
      name: 'Hall',
      sections: [{ name: 'A', rows: [{ label: '1', seats: 2, ...row }], ...section }],
      ...over,
    });
    const performance = (over: object = {}, grade: object = {}) => ({
      title: 'Show',
      venueId: fx.venueId,
      runningMinutes: 90,
      grades: [{ name: 'R', price: 1000, ...grade }],
      seatGrades: [],
      defaultGrade: 'R',
      ...over,
    });
    const schedule = (over: object) => ({ startsAt: '2030-07-01T10:00:00Z', saleOpensAt: '2030-06-01T10:00:00Z', ...over });
    const campaign = (over: object) => ({
      name: 'Promo',
      kind: 'FIXED',
      params: { amount: 1000 },
      appliesTo: 'ORDER',
      quantity: 10,
      claimOpensAt: '2030-01-01T00:00:00Z',
      validUntil: '2030-12-31T00:00:00Z',
      ...over,
    });

    type Case = [
      label: string,
      request: () => { method: 'GET' | 'POST' | 'PATCH'; url: string; payload?: object; auth?: Record<string, string> },
      path: string,
    ];
    const cases: Case[] = [
      ['NUL in the signup name', () => ({ method: 'POST', url: '/v1/auth/signup', payload: signup({ name: NUL }) }), '/body/name'],
      ['NUL in a venue name', () => ({ method: 'POST', url: '/v1/venues', payload: venue({ name: NUL }), auth: fx.seller.auth }), '/body/name'],
      ['NUL in a venue address', () => ({ method: 'POST', url: '/v1/venues', payload: venue({ address: NUL }), auth: fx.seller.auth }), '/body/address'],
      [
        'NUL in a section name',
        () => ({ method: 'POST', url: '/v1/venues', payload: venue({}, { name: NUL }), auth: fx.seller.auth }),
        '/body/sections/0/name',
      ],
      [
        'NUL in a row label',
        () => ({ method: 'POST', url: '/v1/venues', payload: venue({}, {}, { label: NUL }), auth: fx.seller.auth }),
        '/body/sections/0/rows/0/label',
      ],
      [
        'a lone surrogate in a section name (stored as JSON)',
        () => ({ method: 'POST', url: '/v1/venues', payload: venue({}, { name: LONE }), auth: fx.seller.auth }),
        '/body/sections/0/name',
      ],
      [
        'NUL in a performance title',
        () => ({ method: 'POST', url: '/v1/performances', payload: performance({ title: NUL }), auth: fx.seller.auth }),
        '/body/title',
      ],
      [
        'NUL in a performance description',
        () => ({ method: 'POST', url: '/v1/performances', payload: performance({ description: NUL }), auth: fx.seller.auth }),
        '/body/description',
      ],
      [
        'NUL in a grade name',
        () => ({ method: 'POST', url: '/v1/performances', payload: performance({}, { name: NUL }), auth: fx.seller.auth }),
        '/body/grades/0/name',
      ],
      [
        'a lone surrogate in a grade name (stored as JSON)',
        () => ({ method: 'POST', url: '/v1/performances', payload: performance({}, { name: LONE }), auth: fx.seller.auth }),
        '/body/grades/0/name',
      ],
      [
        'NUL in an updated title',
        () => ({ method: 'PATCH', url: `/v1/performances/${fx.performanceId}`, payload: { title: NUL }, auth: fx.seller.auth }),
        '/body/title',
      ],
      [
        'NUL in an updated description',
        () => ({ method: 'PATCH', url: `/v1/performances/${fx.performanceId}`, payload: { description: NUL }, auth: fx.seller.auth }),
        '/body/description',
      ],
      [
        'a leap second in startsAt',
        () => ({ method: 'POST', url: `/v1/performances/${fx.performanceId}/schedules`, payload: schedule({ startsAt: LEAP }), auth: fx.seller.auth }),
        '/body/startsAt',
      ],
      [
        'a leap second in saleOpensAt',
        () => ({ method: 'POST', url: `/v1/performances/${fx.performanceId}/schedules`, payload: schedule({ saleOpensAt: LEAP }), auth: fx.seller.auth }),
        '/body/saleOpensAt',
      ],
      [
        'a startsAt past the year 9999 once in UTC',
        () => ({
          method: 'POST',
          url: `/v1/performances/${fx.performanceId}/schedules`,
          payload: schedule({ startsAt: '9999-12-31T23:00:00-05:00' }),
          auth: fx.seller.auth,
        }),
        '/body/startsAt',
      ],
      [
        'an hour-only offset in startsAt',
        () => ({
          method: 'POST',
          url: `/v1/performances/${fx.performanceId}/schedules`,
          payload: schedule({ startsAt: '2030-07-01T10:00:00+09' }),
          auth: fx.seller.auth,
        }),
        '/body/startsAt',
      ],
      ['NUL in a coupon name', () => ({ method: 'POST', url: '/v1/coupons', payload: campaign({ name: NUL }), auth: users.ADMIN.auth }), '/body/name'],
      [
        'NUL in a coupon scope grade',
        () => ({ method: 'POST', url: '/v1/coupons', payload: campaign({ scope: { grade: NUL } }), auth: users.ADMIN.auth }),
        '/body/scope/grade',
      ],
      [
        'NUL in a coupon kind parameter (stored as JSON)',
        () => ({
          method: 'POST',
          url: '/v1/coupons',
          payload: campaign({ kind: 'GRADE_FIXED', appliesTo: 'TICKET', params: { grade: NUL, amount: 100 } }),
          auth: users.ADMIN.auth,
        }),
        '/body/params/grade',
      ],
      [
        'a lone surrogate in a coupon kind parameter (stored as JSON)',
        () => ({
          method: 'POST',
          url: '/v1/coupons',
          payload: campaign({ kind: 'GRADE_FIXED', appliesTo: 'TICKET', params: { grade: LONE, amount: 100 } }),
          auth: users.ADMIN.auth,
        }),
        '/body/params/grade',
      ],
      [
        'a leap second in claimOpensAt',
        () => ({ method: 'POST', url: '/v1/coupons', payload: campaign({ claimOpensAt: LEAP }), auth: users.ADMIN.auth }),
        '/body/claimOpensAt',
      ],
      [
        'a leap second in validUntil',
        () => ({ method: 'POST', url: '/v1/coupons', payload: campaign({ validUntil: LEAP }), auth: users.ADMIN.auth }),
        '/body/validUntil',
      ],
      [
        'NUL in a cancel reason',
        () => ({ method: 'POST', url: `/v1/orders/${fx.orderId}/cancel`, payload: { reason: NUL }, auth: fx.buyer.auth }),
        '/body/reason',
      ],
      ['NUL in the search text', () => ({ method: 'GET', url: '/v1/performances?q=a%00b' }), '/querystring/q'],
      ['a performances cursor that is not an id', () => ({ method: 'GET', url: `/v1/performances?cursor=${cursorOf(['nope'])}` }), '/querystring/cursor'],
      [
        'an orders cursor that is not an id',
        () => ({ method: 'GET', url: `/v1/me/orders?cursor=${cursorOf(['nope'])}`, auth: fx.buyer.auth }),
        '/querystring/cursor',
      ],
      [
        'a tickets cursor that is not an id',
        () => ({ method: 'GET', url: `/v1/me/tickets?cursor=${cursorOf([12])}`, auth: fx.buyer.auth }),
        '/querystring/cursor',
      ],
      [
        'a coupons cursor that is not an id',
        () => ({ method: 'GET', url: `/v1/me/coupons?cursor=${cursorOf(['a\u0000'])}`, auth: fx.buyer.auth }),
        '/querystring/cursor',
      ],
      ['an id in URN form', () => ({ method: 'GET', url: '/v1/performances/urn:uuid:01900000-0000-7000-8000-000000000000' }), '/params/id'],
    ];

    it.each(cases)('%s', async (_label, make, path) => {
      const { method, url, payload, auth } = make();
      const res = await t.app.inject({ method, url, ...(payload ? { payload } : {}), headers: auth ?? {} });
      const body = expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(body.errors.map((e: { path: string }) => e.path)).toContain(path);
    });

    it.each([
      ['signup name', () => ({ url: '/v1/auth/signup', payload: signup({ name: '   ' }) }), '/body/name'],
      ['venue name', () => ({ url: '/v1/venues', payload: venue({ name: ' \t ' }), auth: fx.seller.auth }), '/body/name'],
      ['row label', () => ({ url: '/v1/venues', payload: venue({}, {}, { label: '  ' }), auth: fx.seller.auth }), '/body/sections/0/rows/0/label'],
      ['performance title', () => ({ url: '/v1/performances', payload: performance({ title: '  ' }), auth: fx.seller.auth }), '/body/title'],
      ['grade name', () => ({ url: '/v1/performances', payload: performance({}, { name: ' ' }), auth: fx.seller.auth }), '/body/grades/0/name'],
      ['coupon name', () => ({ url: '/v1/coupons', payload: campaign({ name: '   ' }), auth: users.ADMIN.auth }), '/body/name'],
    ] as const)('refuses a %s of only spaces', async (_label, make, path) => {
      const { url, payload, auth } = make() as { url: string; payload: object; auth?: Record<string, string> };
      const body = expectProblem(await t.app.inject({ method: 'POST', url, payload, headers: auth ?? {} }), 400, 'VALIDATION_FAILED');
      expect(body.errors.map((e: { path: string }) => e.path)).toContain(path);
    });

    it('stores names trimmed', async () => {
      const user = await t.app.inject({ method: 'POST', url: '/v1/auth/signup', payload: signup({ name: '  Ann Lee \n' }) });
      expect(user.statusCode).toBe(201);
      expect(user.json().name).toBe('Ann Lee');
      const hall = await t.app.inject({ method: 'POST', url: '/v1/venues', payload: venue({ name: ' Hall ' }, { name: 'B ' }), headers: fx.seller.auth });
      expect(hall.statusCode).toBe(201);
      expect(hall.json()).toMatchObject({ name: 'Hall', sections: [{ name: 'B' }] });
      const patched = await t.app.inject({
        method: 'PATCH',
        url: `/v1/performances/${fx.performanceId}`,
        payload: { title: ' Encore ' },
        headers: fx.seller.auth,
      });
      expect(patched.json().title).toBe('Encore');
    });
  });

  describe('answers from below the routes are problem+json too', () => {
    it('414 URI_TOO_LONG for a path parameter over the router limit', async () => {
      expectProblem(await t.app.inject({ method: 'GET', url: `/v1/performances/${'a'.repeat(200)}` }), 414, 'URI_TOO_LONG');
    });

    it('400 VALIDATION_FAILED for a path that is not valid percent-encoding', async () => {
      expectProblem(await t.app.inject({ method: 'GET', url: '/v1/performances/%E0%A4%A' }), 400, 'VALIDATION_FAILED');
    });

    describe('over a real socket', () => {
      let port: number;
      beforeAll(async () => {
        await t.app.listen({ port: 0, host: '127.0.0.1' });
        port = (t.app.server.address() as AddressInfo).port;
      });

      it('431 HEADERS_TOO_LARGE for headers over the server limit', async () => {
        const res = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
          const req = httpRequest({ port, host: '127.0.0.1', path: '/health/live', headers: { 'x-big': 'a'.repeat(20_000) } }, (r) => {
            let body = '';
            r.setEncoding('utf8');
            r.on('data', (c: string) => (body += c));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
          });
          req.on('error', reject);
          req.end();
        });
        expectProblem({ statusCode: res.status, headers: res.headers, json: () => JSON.parse(res.body) }, 431, 'HEADERS_TOO_LARGE');
      });

      it('400 VALIDATION_FAILED for a request that is not HTTP', async () => {
        const raw = await new Promise<string>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
          let data = '';
          socket.setEncoding('utf8');
          socket.on('data', (c: string) => (data += c));
          socket.on('close', () => resolve(data));
          socket.on('error', reject);
        });
        const [head = '', body = ''] = raw.split('\r\n\r\n');
        expect(head).toMatch(/^HTTP\/1\.1 400 /);
        expect(head).toMatch(/content-type: application\/problem\+json/i);
        expect(JSON.parse(body)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      });
    });
  });

  describe('bad input on every route with a body answers 400, never 500', () => {
    /** Every documented operation that takes a JSON body — the OpenAPI document lists them all. */
    const bodyRoutes = (): BodyRoute[] =>
      Object.entries(t.app.swagger().paths ?? {}).flatMap(([path, ops]) =>
        Object.entries(ops as Record<string, { requestBody?: { content: Record<string, { schema: BodyRoute['schema'] }> } }>)
          .filter(([, op]) => op.requestBody?.content['application/json'])
          .map(([method, op]) => ({
            method: method.toUpperCase(),
            url: path.replace(/\{[A-Za-z]+\}/g, '01900000-0000-7000-8000-000000000000'),
            schema: op.requestBody!.content['application/json']!.schema,
          })),
      );

    /** The role whose token passes the route's auth hook: onRequest runs before the body is read. */
    async function authFor(route: BodyRoute): Promise<Record<string, string>> {
      for (const user of [undefined, users.BUYER, users.SELLER, users.ADMIN]) {
        const res = await t.app.inject({
          method: route.method as 'POST',
          url: route.url,
          payload: '{',
          headers: { 'content-type': 'application/json', ...user?.auth },
        });
        if (res.statusCode !== 401 && res.statusCode !== 403) return user?.auth ?? {};
      }
      throw new Error(`no role reaches ${route.method} ${route.url}`);
    }

    it('finds the routes to check', () => {
      expect(bodyRoutes().length).toBeGreaterThanOrEqual(4);
    });

    it.each([
      ['malformed JSON', () => ({ payload: '{"email": "a@b.co", ', headers: { 'content-type': 'application/json' } })],
      ['an empty JSON body', () => ({ payload: '', headers: { 'content-type': 'application/json' } })],
      ['a JSON array', () => ({ payload: '[]', headers: { 'content-type': 'application/json' } })],
      ['an oversized body', () => ({ payload: JSON.stringify({ pad: 'x'.repeat(5000) }), headers: { 'content-type': 'application/json' } })],
      ['an unknown field', () => ({ payload: JSON.stringify({ surprise: true }), headers: { 'content-type': 'application/json' } })],
    ])('%s', async (_label, make) => {
      for (const route of bodyRoutes()) {
        const auth = await authFor(route);
        const { payload, headers } = make();
        const res = await t.app.inject({ method: route.method as 'POST', url: route.url, payload, headers: { ...headers, ...auth } });
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(400);
        expectProblem(res, 400, 'VALIDATION_FAILED');
      }
    });

    it('wrong types in every declared field', async () => {
      for (const route of bodyRoutes()) {
        const auth = await authFor(route);
        const props = route.schema.properties ?? {};
        const payload = Object.fromEntries(Object.entries(props).map(([k, s]) => [k, wrongValueFor(s.type)]));
        const res = await t.app.inject({ method: route.method as 'POST', url: route.url, payload, headers: auth });
        const body = expectProblem(res, 400, 'VALIDATION_FAILED');
        expect(body.errors.length, `${route.method} ${route.url}`).toBeGreaterThan(0);
      }
    });

    it('an unknown content type answers 415 problem+json', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: 'email=a',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });
});

function wrongValueFor(type: string | undefined): unknown {
  switch (type) {
    case 'string':
      return 12345;
    case 'integer':
    case 'number':
      return 'not a number';
    case 'boolean':
      return 'not a boolean';
    case 'array':
      return { not: 'an array' };
    default:
      return 42;
  }
}

/** A documented operation with a JSON body; path params are filled with a well-formed id. */
interface BodyRoute {
  method: string;
  url: string;
  schema: { properties?: Record<string, { type?: string }> };
}
