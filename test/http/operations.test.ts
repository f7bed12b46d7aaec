import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/platform/observability/logger.js';
import { givenBuyer, uniqueEmail } from '../support/builders.js';
import { createTestApp, testMode, type TestApp } from '../support/harness.js';

describe('operations', () => {
  let t: TestApp;
  const lines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    t = await createTestApp({ context: { logger: pino(loggerOptions('info'), sink) } });
  });
  afterAll(() => t.cleanup());

  it('/health/live answers 200', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/health/ready checks the database, and Redis in production', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ok',
      checks: testMode() === 'production' ? { database: 'ok', redis: 'ok' } : { database: 'ok' },
    });
  });

  it('/metrics exposes the request histogram by route pattern and status, and process metrics', async () => {
    const buyer = await givenBuyer(t.app);
    await t.app.inject({ method: 'GET', url: '/v1/me', headers: buyer.auth });
    await t.app.inject({ method: 'GET', url: '/v1/me' });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/mos_http_request_duration_seconds_count\{method="GET",route="\/v1\/me",status_code="200"\} 1/);
    expect(res.body).toMatch(/mos_http_request_duration_seconds_count\{method="GET",route="\/v1\/me",status_code="401"\} 1/);
    expect(res.body).toMatch(/route="\/v1\/auth\/login",status_code="200"/);
    expect(res.body).toContain('mos_process_cpu_user_seconds_total');
  });

  it('/metrics labels a request no route matched `unmatched`, never by its URL', async () => {
    await t.app.inject({ method: 'GET', url: '/v1/no-such-thing/4f1c2b' });
    await t.app.inject({ method: 'POST', url: '/v1/no-such-thing/9a8b7c', payload: {} });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/mos_http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1/);
    expect(res.body).toMatch(/mos_http_request_duration_seconds_count\{method="POST",route="unmatched",status_code="404"\} 1/);
    expect(res.body).not.toContain('no-such-thing');
  });

  it('/metrics times a route under its pattern once per request, a HEAD of a GET route included', async () => {
    const before = await t.app.inject({ method: 'GET', url: '/metrics' });
    const count = (body: string, method: string) =>
      Number(new RegExp(`mos_http_request_duration_seconds_count\\{method="${method}",route="/health/live",status_code="200"\\} (\\d+)`).exec(body)?.[1] ?? 0);
    await t.app.inject({ method: 'GET', url: '/health/live' });
    await t.app.inject({ method: 'GET', url: '/health/live/' });
    await t.app.inject({ method: 'HEAD', url: '/health/live' });
    const after = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(count(after.body, 'GET') - count(before.body, 'GET')).toBe(2);
    expect(count(after.body, 'HEAD') - count(before.body, 'HEAD')).toBe(1);
  });

  it('serves Swagger UI at /docs and the OpenAPI document at /docs/json, equal to the committed openapi.json', async () => {
    const ui = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    const doc = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(doc.statusCode).toBe(200);
    const committed = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8')) as unknown;
    // Regenerate with `npm run docs:openapi` when a route changes.
    expect(doc.json()).toEqual(committed);
  });

  it('documents every path of the identity contract', async () => {
    const paths = Object.keys((await t.app.inject({ method: 'GET', url: '/docs/json' })).json().paths);
    expect(paths).toEqual(expect.arrayContaining(['/v1/auth/signup', '/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout', '/v1/me']));
  });

  it('echoes a client request id, and makes one otherwise', async () => {
    const given = await t.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'lb-req-42' } });
    expect(given.headers['x-request-id']).toBe('lb-req-42');
    const made = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    ['a line break', 'lb-1\nlevel=fatal msg=forged'],
    ['a CRLF and a header', 'lb-1\r\nSet-Cookie: a=b'],
    ['10 KB', 'x'.repeat(10_240)],
    ['quotes', '"},{"admin":true'],
    ['markup', '<script>alert(1)</script>'],
    ['65 characters', 'a'.repeat(65)],
    ['an empty string', ''],
  ])('replaces a client request id with %s by one of its own, everywhere', async (_label, hostile) => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { 'x-request-id': hostile } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json().requestId).toBe(res.headers['x-request-id']);
    if (hostile) expect(JSON.stringify(lines)).not.toContain(JSON.stringify(hostile).slice(1, -1));
  });

  it('keeps a client request id of up to 64 plain characters', async () => {
    const id = `lb.Req_42:${'z'.repeat(54)}`;
    expect(id).toHaveLength(64);
    const res = await t.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': id } });
    expect(res.headers['x-request-id']).toBe(id);
  });

  it('sets the security headers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('logs JSON with the request id and user id, and never a password or token', async () => {
    const buyer = await givenBuyer(t.app);
    const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { ...buyer.auth, 'x-request-id': 'trace-me' } });
    expect(res.statusCode).toBe(200);
    const completed = lines.find((l) => l.requestId === 'trace-me' && l.msg === 'request completed');
    expect(completed).toMatchObject({ level: 'info', userId: buyer.id });
    const all = JSON.stringify(lines);
    expect(all).not.toContain(buyer.password);
    expect(all).not.toContain(buyer.accessToken);
    expect(all).not.toContain(buyer.refreshToken);
  });

  it('logs a failed query without its parameter values: no password hash, email or password', async () => {
    // The insert of a user named "boom" fails at the database, after the password is hashed.
    await t.ctx.database.db.execute(sql`alter table users add constraint t_no_boom check (name <> 'boom')`);
    const email = uniqueEmail('boom');
    const password = 'boom password 1';
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      payload: { email, password, name: 'boom' },
      headers: { 'x-request-id': 'boom-signup' },
    });
    expect(res.statusCode).toBe(500);
    const logged = lines.filter((l) => l.requestId === 'boom-signup');
    // The failure is still logged, with the statement and the database's reason.
    const failure = JSON.stringify(logged.find((l) => l.msg === 'unhandled error'));
    expect(failure).toContain('insert into \\"users\\"');
    expect(failure).toContain('t_no_boom');
    const all = JSON.stringify(logged);
    expect(all).not.toContain('$argon2id$');
    expect(all).not.toContain(email);
    expect(all).not.toContain(password);
  });
});

describe('readiness when a dependency is down', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.cleanup());

  it('answers 503 and names the dependency', async () => {
    if (t.ctx.redis) t.ctx.redis.disconnect();
    else await t.ctx.database.close();
    const res = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'unavailable', checks: t.ctx.redis ? { redis: 'down' } : { database: 'down' } });
  });
});

describe('/metrics with METRICS_TOKEN', () => {
  const token = 'scrape-token-0123456789abcdef';
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { METRICS_TOKEN: token } });
  });
  afterAll(() => t.cleanup());

  const scrape = (authorization?: string) => t.app.inject({ method: 'GET', url: '/metrics', headers: authorization === undefined ? {} : { authorization } });

  it.each([
    ['no credentials', undefined],
    ['a wrong token', 'Bearer scrape-token-0123456789abcdeX'],
    ['a prefix of the token', `Bearer ${token.slice(0, -1)}`],
    ['the token with another scheme', `Basic ${token}`],
    ["a user's access token", 'Bearer abc.def.ghi'],
  ])('refuses %s with 401 UNAUTHENTICATED and no metrics', async (_label, authorization) => {
    const res = await scrape(authorization);
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json().code).toBe('UNAUTHENTICATED');
    expect(res.body).not.toContain('mos_http_request_duration_seconds');
  });

  it('serves the metrics to the bearer of the token', async () => {
    const res = await scrape(`Bearer ${token}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('mos_process_cpu_user_seconds_total');
  });

  it('leaves the health checks open to the load balancer', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
  });
});
