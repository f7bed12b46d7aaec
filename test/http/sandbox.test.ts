import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_DEFAULT_SECRET_KEY, SANDBOX_PREFIX } from '../../src/modules/payments/sandbox/index.js';
import { ManualClock } from '../../src/platform/clock.js';
import { createTestApp, testMode, type TestApp } from '../support/harness.js';

const auth = { authorization: `Basic ${Buffer.from(`${SANDBOX_DEFAULT_SECRET_KEY}:`).toString('base64')}` };

describe('the sandbox PG mounted in MOS', () => {
  let on: TestApp;
  let byDefault: TestApp;
  const clock = new ManualClock('2026-03-01T00:00:00Z');
  beforeAll(async () => {
    on = await createTestApp({ env: { TOSS_SANDBOX: 'true' }, context: { clock } });
    byDefault = await createTestApp();
  });
  afterAll(async () => {
    await on?.cleanup();
    await byDefault?.cleanup();
  });

  it('serves Toss at /sandbox/toss with Basic auth, outside MOS bearer auth', async () => {
    const checkout = await on.app.inject({
      method: 'POST',
      url: `${SANDBOX_PREFIX}/checkout`,
      headers: auth,
      payload: { orderId: 'mos-order-0001', amount: 12000, orderName: 'R석 1매' },
    });
    expect(checkout.statusCode).toBe(200);
    const { paymentKey } = checkout.json() as { paymentKey: string };
    const confirm = await on.app.inject({
      method: 'POST',
      url: `${SANDBOX_PREFIX}/v1/payments/confirm`,
      headers: { ...auth, 'idempotency-key': 'mos-confirm-1' },
      payload: { paymentKey, orderId: 'mos-order-0001', amount: 12000 },
    });
    expect(confirm.statusCode).toBe(200);
    // The context's clock is the sandbox's.
    expect(confirm.json()).toMatchObject({ status: 'DONE', method: '카드', approvedAt: '2026-03-01T09:00:00+09:00' });
    const anonymous = await on.app.inject({ method: 'GET', url: `${SANDBOX_PREFIX}/v1/payments/${paymentKey}` });
    expect([anonymous.statusCode, anonymous.json().code]).toEqual([401, 'UNAUTHORIZED_KEY']);
    // Toss's error body, not MOS's problem+json, under the prefix.
    const missing = await on.app.inject({ method: 'GET', url: `${SANDBOX_PREFIX}/v1/nothing`, headers: auth });
    expect(missing.json()).toEqual({ code: 'NOT_FOUND', message: expect.any(String) });
  });

  it("keeps its routes out of MOS's OpenAPI document", async () => {
    const paths = Object.keys((await on.app.inject({ method: 'GET', url: '/docs/json' })).json().paths as object);
    expect(paths.filter((p) => p.startsWith('/sandbox'))).toEqual([]);
  });

  it(`is mounted by default only in embedded mode (this run: ${testMode()})`, async () => {
    const res = await byDefault.app.inject({ method: 'GET', url: `${SANDBOX_PREFIX}/ledger`, headers: auth });
    if (testMode() === 'embedded') {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ payments: [], orders: [] });
    } else {
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });
});

describe('the mounted sandbox PG with SANDBOX_WEBHOOK_URL', () => {
  let app: TestApp;
  let receiver: Server;
  const received: { eventType: string; data: { orderId: string; status: string } }[] = [];
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(raw));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/payments/webhooks/toss`;
    app = await createTestApp({ env: { TOSS_SANDBOX: 'true', SANDBOX_WEBHOOK_URL: url }, context: { clock: new ManualClock('2026-03-01T00:00:00Z') } });
  });
  afterAll(async () => {
    await app?.cleanup();
    await new Promise((r) => receiver.close(r));
  });

  it('posts PAYMENT_STATUS_CHANGED to the configured URL when a payment is confirmed', async () => {
    const post = (url: string, payload: object) => app.app.inject({ method: 'POST', url: `${SANDBOX_PREFIX}${url}`, headers: auth, payload });
    const { paymentKey } = (await post('/checkout', { orderId: 'mos-order-wh-1', amount: 12000, orderName: 'R석 1매' })).json() as { paymentKey: string };
    expect((await post('/v1/payments/confirm', { paymentKey, orderId: 'mos-order-wh-1', amount: 12000 })).statusCode).toBe(200);
    await app.ctx.sandbox!.webhooks.deliverDue();
    expect(received).toEqual([
      { eventType: 'PAYMENT_STATUS_CHANGED', createdAt: '2026-03-01T09:00:00.000', data: expect.objectContaining({ paymentKey, status: 'DONE' }) },
    ]);
    const seen = (await app.app.inject({ method: 'GET', url: `${SANDBOX_PREFIX}/webhooks`, headers: auth })).json();
    expect(seen.deliveries).toEqual([expect.objectContaining({ orderId: 'mos-order-wh-1', status: 'DONE', state: 'delivered' })]);
  });
});
