import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { givenAdmin, givenBuyer, givenSeller, type GivenUser } from '../support/builders.js';
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
        app.post(
          '/test/echo',
          { schema: { body: Type.Object({ n: Type.Integer() }, { additionalProperties: false }) } },
          async (request) => request.body,
        );
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
        const res = await t.app.inject({ method: route.method as 'POST', url: route.url, payload: '{', headers: { 'content-type': 'application/json', ...user?.auth } });
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
      const res = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: 'email=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
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
