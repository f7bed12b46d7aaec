import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../platform/clock.js';
import { buildSandboxServer, createSandbox, SANDBOX_PREFIX, WEBHOOK_RETRY_MINUTES, type Sandbox, type SandboxOptions } from './index.js';

const KEY = 'test_sk_sandbox_webhooks';
const auth = { authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}` };
const MIN = 60_000;

/** A merchant's webhook endpoint on loopback: records what it is sent, answers what the test scripts. */
interface Received {
  headers: IncomingHttpHeaders;
  body: any;
}
let server: Server;
let receiverUrl: string;
const received: Received[] = [];
/** Statuses to answer, in order; when empty, 200. */
const answers: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(raw) });
      res.writeHead(answers.shift() ?? 200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/payments/webhooks/toss`;
});
afterAll(() => new Promise((r) => server.close(r)));

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  received.length = 0;
  answers.length = 0;
});

async function sandbox(options: Partial<SandboxOptions> = {}) {
  const clock = new ManualClock('2026-03-01T00:00:00Z');
  // No timer: the test moves the clock and calls deliverDue, so nothing happens behind its back.
  const parts: Sandbox = createSandbox({ clock, secretKey: KEY, seed: 1, webhookUrl: receiverUrl, webhookPollMs: 0, ...options });
  const app = await buildSandboxServer(parts, { logger: pino({ level: 'silent' }), prefix: SANDBOX_PREFIX });
  apps.push(app);
  const send = async (method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.inject({
      method,
      url: `${SANDBOX_PREFIX}${path}`,
      headers: { ...auth, ...headers },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: res.statusCode, body: res.json() };
  };
  return {
    clock,
    webhooks: parts.webhooks,
    send,
    /** A checked-out and confirmed payment of `orderId`. */
    paid: async (orderId: string, amount = 5000) => {
      const { paymentKey } = (await send('POST', '/checkout', { orderId, amount, orderName: '콘서트 R석 1매' })).body as { paymentKey: string };
      expect((await send('POST', '/v1/payments/confirm', { paymentKey, orderId, amount })).status).toBe(200);
      return paymentKey;
    },
    deliveries: async (orderId?: string) => (await send('GET', `/webhooks${orderId ? `?orderId=${orderId}` : ''}`)).body.deliveries as any[],
  };
}

describe('sandbox PG: webhooks (B9)', () => {
  it('POSTs PAYMENT_STATUS_CHANGED with the Payment on confirm and on each cancel, and records each delivered at its first attempt', async () => {
    const s = await sandbox();
    const paymentKey = await s.paid('order-wh-0001', 37400);
    await s.webhooks.deliverDue();
    expect(received).toHaveLength(1);
    expect(received[0]!.body).toEqual({
      eventType: 'PAYMENT_STATUS_CHANGED',
      createdAt: '2026-03-01T09:00:00.000',
      data: expect.objectContaining({ paymentKey, orderId: 'order-wh-0001', status: 'DONE', totalAmount: 37400, method: '카드' }),
    });
    // The Payment object as a lookup shows it at that moment.
    expect(received[0]!.body.data).toEqual((await s.send('GET', `/v1/payments/${paymentKey}`)).body);
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(received[0]!.headers['tosspayments-webhook-transmission-retried-count']).toBe('0');

    s.clock.advance(MIN);
    await s.send('POST', `/v1/payments/${paymentKey}/cancel`, { cancelReason: '1매 취소', cancelAmount: 11000 });
    await s.send('POST', `/v1/payments/${paymentKey}/cancel`, { cancelReason: '나머지 취소' });
    await s.webhooks.deliverDue();
    expect(received.map((r) => [r.body.data.status, r.body.data.balanceAmount])).toEqual([
      ['DONE', 37400],
      ['PARTIAL_CANCELED', 26400],
      ['CANCELED', 0],
    ]);
    expect(received[1]!.body.createdAt).toBe('2026-03-01T09:01:00.000');

    const deliveries = await s.deliveries('order-wh-0001');
    expect(deliveries.map((d) => [d.status, d.state, d.attempts.length, d.nextAttemptAt])).toEqual([
      ['DONE', 'delivered', 1, null],
      ['PARTIAL_CANCELED', 'delivered', 1, null],
      ['CANCELED', 'delivered', 1, null],
    ]);
    expect(deliveries[0].attempts[0]).toEqual({ at: '2026-03-01T09:00:00.000', retriedCount: 0, httpStatus: 200, error: null });
  });

  it('sends nothing for work a fault prevented, nor again for an idempotent replay', async () => {
    const s = await sandbox();
    const { paymentKey } = (await s.send('POST', '/checkout', { orderId: 'order-wh-0002', amount: 5000, orderName: 'x' })).body;
    await s.send('POST', '/faults', { next: [{ on: 'confirm', code: 'PROVIDER_ERROR' }] });
    const body = { paymentKey, orderId: 'order-wh-0002', amount: 5000 };
    expect((await s.send('POST', '/v1/payments/confirm', body)).body.code).toBe('PROVIDER_ERROR');
    await s.webhooks.deliverDue();
    expect(received).toEqual([]);
    const first = await s.send('POST', '/v1/payments/confirm', body, { 'idempotency-key': 'k-1' });
    expect(await s.send('POST', '/v1/payments/confirm', body, { 'idempotency-key': 'k-1' })).toEqual(first);
    await s.webhooks.deliverDue();
    expect(received.map((r) => r.body.data.status)).toEqual(['DONE']);
  });

  it('announces ABORTED (a refused card) and EXPIRED (30 minutes without a confirm, even if nobody looks)', async () => {
    const s = await sandbox();
    const refused = (await s.send('POST', '/checkout', { orderId: 'order-wh-0003', amount: 5000, orderName: 'x', testCode: 'REJECT_CARD_PAYMENT' })).body;
    await s.send('POST', '/v1/payments/confirm', { paymentKey: refused.paymentKey, orderId: 'order-wh-0003', amount: 5000 });
    await s.send('POST', '/checkout', { orderId: 'order-wh-0004', amount: 5000, orderName: 'x' });
    await s.webhooks.deliverDue();
    expect(received.map((r) => [r.body.data.orderId, r.body.data.status])).toEqual([['order-wh-0003', 'ABORTED']]);
    expect(received[0]!.body.data.failure).toMatchObject({ code: 'REJECT_CARD_PAYMENT' });

    s.clock.advance(30 * MIN - 1);
    await s.webhooks.deliverDue();
    expect(received).toHaveLength(1);
    s.clock.advance(1);
    await s.webhooks.deliverDue();
    expect(received.map((r) => [r.body.data.orderId, r.body.data.status])).toEqual([
      ['order-wh-0003', 'ABORTED'],
      ['order-wh-0004', 'EXPIRED'],
    ]);
    expect(received[1]!.body.data.failure).toMatchObject({ code: 'EXPIRED_PAYMENT' });
    // Announced once: a later lookup changes nothing.
    await s.send('GET', '/v1/payments/orders/order-wh-0004');
    await s.webhooks.deliverDue();
    expect(received).toHaveLength(2);
  });

  it('counts anything but a 200 as failed and retries 1 minute later: a 500 then a 200 is delivered at the second attempt', async () => {
    const s = await sandbox();
    answers.push(500);
    await s.paid('order-wh-0005');
    await s.webhooks.deliverDue();
    expect(received).toHaveLength(1);
    let [d] = await s.deliveries('order-wh-0005');
    expect(d).toMatchObject({ state: 'pending', nextAttemptAt: '2026-03-01T09:01:00.000' });
    expect(d.attempts).toEqual([{ at: '2026-03-01T09:00:00.000', retriedCount: 0, httpStatus: 500, error: 'answered 500' }]);

    s.clock.advance(MIN - 1);
    await s.webhooks.deliverDue();
    expect(received).toHaveLength(1);
    s.clock.advance(1);
    await s.webhooks.deliverDue();
    expect(received).toHaveLength(2);
    // The same event again, told it is a retry.
    expect(received[1]!.body).toEqual(received[0]!.body);
    expect(received[1]!.headers['tosspayments-webhook-transmission-retried-count']).toBe('1');
    [d] = await s.deliveries('order-wh-0005');
    expect(d).toMatchObject({ state: 'delivered', nextAttemptAt: null });
    expect(d.attempts.map((a: { httpStatus: number; retriedCount: number }) => [a.retriedCount, a.httpStatus])).toEqual([
      [0, 500],
      [1, 200],
    ]);
    s.clock.advance(24 * 60 * MIN);
    await s.webhooks.deliverDue();
    expect(received).toHaveLength(2);
  });

  it('retries at 1, 4, 16, 64, 256, 1024 and 4096 minutes after each failure, then gives up after the 7th retry and records it', async () => {
    const s = await sandbox();
    answers.push(...Array.from({ length: 20 }, () => 503));
    await s.paid('order-wh-0006');
    await s.webhooks.deliverDue();
    for (const minutes of WEBHOOK_RETRY_MINUTES) {
      const before = received.length;
      s.clock.advance(minutes * MIN - 1);
      await s.webhooks.deliverDue();
      expect(received).toHaveLength(before);
      s.clock.advance(1);
      await s.webhooks.deliverDue();
      expect(received).toHaveLength(before + 1);
    }
    expect(received).toHaveLength(8);
    const [d] = await s.deliveries('order-wh-0006');
    expect(d).toMatchObject({ state: 'failed', nextAttemptAt: null });
    expect(d.attempts.map((a: { retriedCount: number }) => a.retriedCount)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(d.attempts.every((a: { httpStatus: number }) => a.httpStatus === 503)).toBe(true);
    // 1+4+16+64+256+1024+4096 = 5461 minutes: the last retry 3 days 19 hours 1 minute after the first attempt (B9).
    expect(d.attempts.at(-1).at).toBe('2026-03-05T04:01:00.000');
    s.clock.advance(30 * 24 * 60 * MIN);
    await s.webhooks.deliverDue();
    expect(received).toHaveLength(8);
  });

  it('counts a receiver that does not answer as failed (no HTTP status), and keeps retrying', async () => {
    const s = await sandbox({ webhookUrl: 'http://127.0.0.1:9/nobody-listens' });
    await s.paid('order-wh-0007');
    await s.webhooks.deliverDue();
    const [d] = await s.deliveries();
    expect(d).toMatchObject({ state: 'pending', nextAttemptAt: '2026-03-01T09:01:00.000' });
    expect(d.attempts[0]).toMatchObject({ retriedCount: 0, httpStatus: null, error: expect.any(String) });
  });

  it('records and sends nothing without a webhook URL', async () => {
    const s = await sandbox({ webhookUrl: undefined });
    await s.paid('order-wh-0008');
    await s.webhooks.deliverDue();
    expect(received).toEqual([]);
    expect(await s.deliveries()).toEqual([]);
  });
});
