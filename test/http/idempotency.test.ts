import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defineError } from '../../src/platform/http/errors.js';
import { givenBuyer, type GivenUser } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/harness.js';

const SEAT_TAKEN = defineError('SEAT_UNAVAILABLE', 409, 'Seat unavailable');

/**
 * The Idempotency-Key plugin, through a route built for the test: it counts how often its
 * handler really runs and can be held open, so "in flight" is a state the test controls.
 */
describe('Idempotency-Key', () => {
  let t: TestApp;
  let buyer: GivenUser;
  let other: GivenUser;
  let executions = 0;
  let gate: Promise<void> = Promise.resolve();
  let failNext = false;

  beforeAll(async () => {
    t = await createTestApp({
      env: { RATE_LIMIT_MAX: '100000' },
      extend: (app: FastifyInstance) => {
        app.post(
          '/test/orders',
          {
            onRequest: app.requireRole('BUYER'),
            config: { idempotency: 'required' },
            schema: { body: Type.Object({ seats: Type.Array(Type.String()) }, { additionalProperties: false }) },
          },
          async (request, reply) => {
            executions += 1;
            const n = executions;
            await gate;
            if ((request.body as { seats: string[] }).seats.includes('TAKEN')) throw SEAT_TAKEN();
            if (failNext) {
              failNext = false;
              throw new Error('transient failure');
            }
            return reply.code(201).send({ order: n, seats: (request.body as { seats: string[] }).seats });
          },
        );
        app.post('/test/optional', { onRequest: app.authenticate, config: { idempotency: 'optional' } }, async () => {
          executions += 1;
          return { n: executions };
        });
      },
    });
    buyer = await givenBuyer(t.app);
    other = await givenBuyer(t.app);
  });
  afterAll(() => t.cleanup());
  beforeEach(() => {
    executions = 0;
    gate = Promise.resolve();
  });

  const send = (key: string | undefined, body: unknown, user = buyer) =>
    t.app.inject({
      method: 'POST',
      url: '/test/orders',
      payload: body as object,
      headers: { ...user.auth, ...(key === undefined ? {} : { 'idempotency-key': key }) },
    });

  it('requires the header where the route says so', async () => {
    const res = await send(undefined, { seats: ['A'] });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe('/headers/idempotency-key');
    expect(executions).toBe(0);
  });

  it('refuses a key longer than 255 characters', async () => {
    expect((await send('k'.repeat(256), { seats: ['A'] })).statusCode).toBe(400);
  });

  it('replays the first response for the same key and body, without running again', async () => {
    const first = await send('key-replay', { seats: ['A', 'B'] });
    const second = await send('key-replay', { seats: ['A', 'B'] });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(executions).toBe(1);
  });

  it('replays a response stored under the key and fingerprint as the first implementation made them', async () => {
    // What a process of the previous release stored: its key (user, sha256 of method, route
    // pattern and header) and its fingerprint (sha256 of the canonical request — the exact bytes
    // that release printed for this request, pinned here; src/platform/http/idempotency.test.ts
    // holds the new canonical JSON to the old one on arbitrary values), digested with createHash.
    const digest = (s: string) => createHash('sha256').update(s).digest('base64url');
    const body = { seats: ['B', '10', 'A'] };
    const key = `${buyer.id}:${digest('POST /test/orders key-from-before')}`;
    const fingerprint = digest('{"body":{"seats":["B","10","A"]},"params":{},"query":{}}');
    const stored = { status: 201, contentType: 'application/json; charset=utf-8', body: '{"order":41,"seats":["B","10","A"]}' };
    expect((await t.ctx.idempotency.begin(key, fingerprint, 'previous-release', 60_000)).kind).toBe('started');
    await t.ctx.idempotency.complete(key, 'previous-release', fingerprint, stored, 60_000);

    const res = await send('key-from-before', body);
    expect(res.statusCode).toBe(201);
    expect(res.headers['idempotent-replayed']).toBe('true');
    expect(res.body).toBe(stored.body);
    expect(executions).toBe(0);
  });

  it('treats a body with its keys in another order as the same body', async () => {
    await t.app.inject({ method: 'POST', url: '/test/optional', payload: { a: 1, b: 2 }, headers: { ...buyer.auth, 'idempotency-key': 'k-order' } });
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/optional',
      payload: '{"b":2,"a":1}',
      headers: { ...buyer.auth, 'idempotency-key': 'k-order', 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    expect(executions).toBe(1);
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED for the same key with another body', async () => {
    await send('key-reuse', { seats: ['A'] });
    const res = await send('key-reuse', { seats: ['B'] });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(executions).toBe(1);
  });

  it('scopes keys to the user: another buyer with the same key runs its own request', async () => {
    await send('key-shared', { seats: ['A'] });
    const res = await send('key-shared', { seats: ['A'] }, other);
    expect(res.statusCode).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(executions).toBe(2);
  });

  it('under concurrent identical requests runs once; the rest get 409 REQUEST_IN_PROGRESS', async () => {
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    const inFlight = Array.from({ length: 20 }, () => send('key-race', { seats: ['C'] }));
    // Let every request reach the store while the first is held open.
    await new Promise((r) => setTimeout(r, 200));
    open();
    const results = await Promise.all(inFlight);
    const created = results.filter((r) => r.statusCode === 201);
    const busy = results.filter((r) => r.statusCode === 409);
    expect(executions).toBe(1);
    expect(created).toHaveLength(1);
    expect(busy).toHaveLength(19);
    for (const r of busy) {
      expect(r.json().code).toBe('REQUEST_IN_PROGRESS');
      expect(r.headers['retry-after']).toBe('1');
    }
    // Once finished, the same request replays the one result.
    const after = await send('key-race', { seats: ['C'] });
    expect(after.body).toBe(created[0]!.body);
    expect(executions).toBe(1);
  });

  it('frees the key after a 5xx so the client can retry', async () => {
    failNext = true;
    const failed = await send('key-5xx', { seats: ['D'] });
    expect(failed.statusCode).toBe(500);
    const retried = await send('key-5xx', { seats: ['D'] });
    expect(retried.statusCode).toBe(201);
    expect(executions).toBe(2);
  });

  it('keeps a 4xx answer of the handler: the refusal replays too', async () => {
    const first = await send('k-409', { seats: ['TAKEN'] });
    expect(first.statusCode).toBe(409);
    const again = await send('k-409', { seats: ['TAKEN'] });
    expect(again.statusCode).toBe(409);
    expect(again.body).toBe(first.body);
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(executions).toBe(1);
  });

  it('takes no key for a request that fails validation', async () => {
    const first = await t.app.inject({
      method: 'POST',
      url: '/test/orders',
      payload: { seats: 'not-an-array' },
      headers: { ...buyer.auth, 'idempotency-key': 'k-400' },
    });
    expect(first.statusCode).toBe(400);
    const fixed = await send('k-400', { seats: ['E'] });
    expect(fixed.statusCode).toBe(201);
  });

  it('runs as usual without the header on an optional route', async () => {
    await t.app.inject({ method: 'POST', url: '/test/optional', payload: {}, headers: buyer.auth });
    await t.app.inject({ method: 'POST', url: '/test/optional', payload: {}, headers: buyer.auth });
    expect(executions).toBe(2);
  });

  it('documents the header in the OpenAPI document', async () => {
    const op = (t.app.swagger().paths as Record<string, Record<string, { parameters?: { name: string; in: string; required?: boolean }[] }>>)['/test/orders']!
      .post!;
    expect(op.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'idempotency-key', in: 'header', required: true })]));
  });
});
