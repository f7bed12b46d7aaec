import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../platform/clock.js';
import { buildSandboxServer, createSandbox, IDEMPOTENCY_TTL_MS, SANDBOX_PREFIX, type SandboxOptions } from './index.js';

const KEY = 'test_sk_sandbox_unit';
const basic = (raw: string) => ({ authorization: `Basic ${Buffer.from(raw).toString('base64')}` });
const auth = basic(`${KEY}:`);
const MIN = 60_000;

interface Harness {
  app: FastifyInstance;
  clock: ManualClock;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  checkout(orderId: string, amount: number, extra?: Record<string, unknown>): Promise<string>;
  confirm(body: Record<string, unknown>, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  ledger(orderId?: string): Promise<any>;
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function sandbox(options: Partial<SandboxOptions> = {}): Promise<Harness> {
  const clock = new ManualClock('2026-03-01T00:00:00Z');
  const app = await buildSandboxServer(createSandbox({ clock, secretKey: KEY, seed: 1, ...options }), {
    logger: pino({ level: 'silent' }),
    prefix: SANDBOX_PREFIX,
  });
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
  const h: Harness = {
    app,
    clock,
    post: (path, body, headers) => send('POST', path, body, headers),
    get: (path, headers) => send('GET', path, undefined, headers),
    checkout: async (orderId, amount, extra = {}) => {
      const res = await send('POST', '/checkout', { orderId, amount, orderName: '콘서트 R석 2매', ...extra });
      expect(res.status).toBe(200);
      return res.body.paymentKey as string;
    },
    confirm: (body, headers) => send('POST', '/v1/payments/confirm', body, headers),
    ledger: async (orderId) => (await send('GET', `/ledger${orderId ? `?orderId=${orderId}` : ''}`)).body,
  };
  return h;
}

describe('sandbox PG: Basic auth (B2)', () => {
  it('answers 401 UNAUTHORIZED_KEY to no key or another key, and 403 INCORRECT_BASIC_AUTH_FORMAT without the colon', async () => {
    const s = await sandbox();
    const call = (headers: Record<string, string>) =>
      s.app.inject({ method: 'GET', url: `${SANDBOX_PREFIX}/v1/payments/nope`, headers }).then((r) => [r.statusCode, r.json().code]);
    expect(await call({})).toEqual([401, 'UNAUTHORIZED_KEY']);
    expect(await call({ authorization: `Bearer ${KEY}` })).toEqual([401, 'UNAUTHORIZED_KEY']);
    expect(await call(basic('test_sk_someone_else:'))).toEqual([401, 'UNAUTHORIZED_KEY']);
    expect(await call(basic(`${KEY}:password`))).toEqual([401, 'UNAUTHORIZED_KEY']);
    expect(await call(basic(`\uFEFF${KEY}:`))).toEqual([401, 'UNAUTHORIZED_KEY']);
    expect(await call(basic(KEY))).toEqual([403, 'INCORRECT_BASIC_AUTH_FORMAT']);
    expect(await call(auth)).toEqual([404, 'NOT_FOUND_PAYMENT']);
  });

  it('guards its own endpoints (checkout, ledger, faults) with the same key', async () => {
    const s = await sandbox();
    for (const [method, url] of [
      ['POST', '/checkout'],
      ['GET', '/ledger'],
      ['POST', '/faults'],
    ] as const) {
      const res = await s.app.inject({ method, url: `${SANDBOX_PREFIX}${url}`, payload: method === 'POST' ? {} : undefined });
      expect(res.statusCode).toBe(401);
    }
  });
});

describe('sandbox PG: confirm (B1, B3, B4, B8)', () => {
  it('approves an authenticated payment into a Toss Payment object', async () => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order_2026.0001', 37400);
    expect((await s.get(`/v1/payments/${paymentKey}`)).body).toMatchObject({ status: 'IN_PROGRESS', approvedAt: null, card: null });
    s.clock.advance(5 * MIN);
    const res = await s.confirm({ paymentKey, orderId: 'order_2026.0001', amount: 37400 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      version: '2022-11-16',
      paymentKey,
      type: 'NORMAL',
      orderId: 'order_2026.0001',
      orderName: '콘서트 R석 2매',
      currency: 'KRW',
      method: '카드',
      status: 'DONE',
      totalAmount: 37400,
      balanceAmount: 37400,
      suppliedAmount: 34000,
      vat: 3400,
      taxFreeAmount: 0,
      useEscrow: false,
      cultureExpense: false,
      isPartialCancelable: true,
      country: 'KR',
      requestedAt: '2026-03-01T09:00:00+09:00',
      approvedAt: '2026-03-01T09:05:00+09:00',
      cancels: null,
      failure: null,
      card: { amount: 37400, installmentPlanMonths: 0, cardType: '신용', ownerType: '개인', acquireStatus: 'READY' },
    });
    expect(res.body.lastTransactionKey).toMatch(/^[0-9A-F]{32}$/);
    expect(res.body.card.number).toMatch(/^\d{8}\*{4}\d{3}\*$/);
    expect(res.body.mId).toBeTruthy();
    expect((await s.get(`/v1/payments/${paymentKey}`)).body).toEqual(res.body);
    expect((await s.get('/v1/payments/orders/order_2026.0001')).body).toEqual(res.body);
  });

  it.each([
    ['a paymentKey over 200 characters', { paymentKey: 'k'.repeat(201) }],
    ['an orderId under 6 characters', { orderId: 'ab-12' }],
    ['an orderId over 64 characters', { orderId: 'o'.repeat(65) }],
    ['an orderId with a character Toss does not allow', { orderId: 'order/0001' }],
    ['an amount below 1', { amount: 0 }],
    ['an amount sent as a string', { amount: '37400' }],
    ['no amount', { amount: undefined }],
  ])('refuses %s with 400 INVALID_REQUEST', async (_name, override) => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order-0001', 37400);
    const res = await s.confirm({ paymentKey, orderId: 'order-0001', amount: 37400, ...override });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('INVALID_REQUEST');
    expect((await s.get(`/v1/payments/${paymentKey}`)).body.status).toBe('IN_PROGRESS');
  });

  it('accepts the longest paymentKey and orderId Toss allows', async () => {
    const s = await sandbox();
    const orderId = `${'o'.repeat(63)}.`;
    const paymentKey = await s.checkout(orderId, 1000);
    expect((await s.confirm({ paymentKey, orderId, amount: 1000 })).status).toBe(200);
    expect((await s.confirm({ paymentKey: 'k'.repeat(200), orderId, amount: 1000 })).body.code).toBe('NOT_FOUND_PAYMENT');
  });

  it('confirms only the amount and orderId of the checkout session', async () => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order-0001', 37400);
    await s.checkout('order-0002', 37400);
    const wrongAmount = await s.confirm({ paymentKey, orderId: 'order-0001', amount: 100 });
    expect([wrongAmount.status, wrongAmount.body.code]).toEqual([400, 'INVALID_REQUEST']);
    const wrongOrder = await s.confirm({ paymentKey, orderId: 'order-0002', amount: 37400 });
    expect([wrongOrder.status, wrongOrder.body.code]).toEqual([403, 'FORBIDDEN_REQUEST']);
    const unknown = await s.confirm({ paymentKey: 'no-such-key', orderId: 'order-0001', amount: 37400 });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'NOT_FOUND_PAYMENT']);
    expect((await s.ledger()).orders.every((o: { charges: number }) => o.charges === 0)).toBe(true);
    expect((await s.confirm({ paymentKey, orderId: 'order-0001', amount: 37400 })).status).toBe(200);
  });

  it('answers 404 NOT_FOUND_PAYMENT_SESSION after the 10-minute session window', async () => {
    const s = await sandbox();
    const onTime = await s.checkout('order-0001', 5000);
    const late = await s.checkout('order-0002', 5000);
    s.clock.advance(10 * MIN);
    expect((await s.confirm({ paymentKey: onTime, orderId: 'order-0001', amount: 5000 })).status).toBe(200);
    s.clock.advance(1000);
    const res = await s.confirm({ paymentKey: late, orderId: 'order-0002', amount: 5000 });
    expect([res.status, res.body]).toEqual([404, { code: 'NOT_FOUND_PAYMENT_SESSION', message: expect.any(String) }]);
    // The session is gone, but the payment is not expired yet.
    expect((await s.get(`/v1/payments/${late}`)).body.status).toBe('IN_PROGRESS');
  });

  it('turns a payment left IN_PROGRESS into EXPIRED after 30 minutes', async () => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order-0001', 5000);
    s.clock.advance(30 * MIN - 1);
    expect((await s.get(`/v1/payments/${paymentKey}`)).body.status).toBe('IN_PROGRESS');
    s.clock.advance(1);
    const expired = (await s.get(`/v1/payments/${paymentKey}`)).body;
    expect(expired).toMatchObject({ status: 'EXPIRED', approvedAt: null, failure: { code: 'EXPIRED_PAYMENT' } });
    expect((await s.confirm({ paymentKey, orderId: 'order-0001', amount: 5000 })).body.code).toBe('NOT_FOUND_PAYMENT_SESSION');
    // A new checkout of the same order is a new payment, and the order lookup shows it.
    const again = await s.checkout('order-0001', 5000);
    expect((await s.get('/v1/payments/orders/order-0001')).body).toMatchObject({ paymentKey: again, status: 'IN_PROGRESS' });
  });

  it('answers ALREADY_PROCESSED_PAYMENT to a second confirm without a key, and charges once', async () => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order-0001', 5000);
    const body = { paymentKey, orderId: 'order-0001', amount: 5000 };
    expect((await s.confirm(body)).status).toBe(200);
    const second = await s.confirm(body);
    expect([second.status, second.body.code]).toEqual([400, 'ALREADY_PROCESSED_PAYMENT']);
    // So does a new key: it is a new request.
    expect((await s.confirm(body, { 'idempotency-key': 'fresh' })).body.code).toBe('ALREADY_PROCESSED_PAYMENT');
    // And a second checkout of a charged order id is refused.
    const dup = await s.post('/checkout', { orderId: 'order-0001', amount: 5000, orderName: 'x' });
    expect([dup.status, dup.body.code]).toEqual([400, 'DUPLICATED_ORDER_ID']);
    expect((await s.ledger('order-0001')).orders).toEqual([{ orderId: 'order-0001', charges: 1, chargedAmount: 5000, canceledAmount: 0, balanceAmount: 5000 }]);
  });
});

describe('sandbox PG: Idempotency-Key (B7)', () => {
  it('replays the first response for the same key, whatever the body, and does the work once', async () => {
    const s = await sandbox();
    const first = await s.checkout('order-0001', 5000);
    const other = await s.checkout('order-0002', 7000);
    const key = { 'idempotency-key': 'confirm-order-0001' };
    const a = await s.confirm({ paymentKey: first, orderId: 'order-0001', amount: 5000 }, key);
    const b = await s.confirm({ paymentKey: first, orderId: 'order-0001', amount: 5000 }, key);
    expect(a.status).toBe(200);
    expect(b).toEqual(a);
    // Another payment's body under the same key: the first payment's answer (the community report).
    const c = await s.confirm({ paymentKey: other, orderId: 'order-0002', amount: 7000 }, key);
    expect(c).toEqual(a);
    expect((await s.get(`/v1/payments/${other}`)).body.status).toBe('IN_PROGRESS');
    const ledger = await s.ledger();
    expect(ledger.orders.map((o: { charges: number }) => o.charges)).toEqual([1, 0]);
  });

  it('replays a first error too, and scopes a key to its URL and method', async () => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order-0001', 5000);
    const key = { 'idempotency-key': 'k-1' };
    const refused = await s.confirm({ paymentKey, orderId: 'order-0001', amount: 1 }, key);
    expect(refused.body.code).toBe('INVALID_REQUEST');
    expect(await s.confirm({ paymentKey, orderId: 'order-0001', amount: 5000 }, key)).toEqual(refused);
    // The same key on another URL is another request.
    expect((await s.confirm({ paymentKey, orderId: 'order-0001', amount: 5000 }, { 'idempotency-key': 'k-2' })).status).toBe(200);
    const cancel = await s.post(`/v1/payments/${paymentKey}/cancel`, { cancelReason: 'buyer asked', cancelAmount: 1000 }, key);
    expect(cancel.body.status).toBe('PARTIAL_CANCELED');
    expect(await s.post(`/v1/payments/${paymentKey}/cancel`, { cancelReason: 'buyer asked', cancelAmount: 1000 }, key)).toEqual(cancel);
    expect((await s.get(`/v1/payments/${paymentKey}`)).body.balanceAmount).toBe(4000);
  });

  it('keeps a key 15 days from first use', async () => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order-0001', 5000);
    const body = { paymentKey, orderId: 'order-0001', amount: 5000 };
    const key = { 'idempotency-key': 'k-15d' };
    const first = await s.confirm(body, key);
    s.clock.advance(IDEMPOTENCY_TTL_MS - 1);
    expect(await s.confirm(body, key)).toEqual(first);
    s.clock.advance(1);
    expect((await s.confirm(body, key)).body.code).toBe('ALREADY_PROCESSED_PAYMENT');
  });

  it('refuses a key over 300 characters with 400 INVALID_IDEMPOTENCY_KEY, and takes one of 300', async () => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order-0001', 5000);
    const body = { paymentKey, orderId: 'order-0001', amount: 5000 };
    const long = await s.confirm(body, { 'idempotency-key': 'k'.repeat(301) });
    expect([long.status, long.body.code]).toEqual([400, 'INVALID_IDEMPOTENCY_KEY']);
    expect((await s.get(`/v1/payments/${paymentKey}`)).body.status).toBe('IN_PROGRESS');
    expect((await s.confirm(body, { 'idempotency-key': 'k'.repeat(300) })).status).toBe(200);
  });

  it('ignores the header on GET', async () => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order-0001', 5000);
    expect((await s.get(`/v1/payments/${paymentKey}`, { 'idempotency-key': 'x'.repeat(400) })).status).toBe(200);
  });

  it('answers 409 IDEMPOTENT_REQUEST_PROCESSING while the first request runs, then the first response', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const s = await sandbox({ sleep: () => held });
    const paymentKey = await s.checkout('order-0001', 5000);
    const body = { paymentKey, orderId: 'order-0001', amount: 5000 };
    const key = { 'idempotency-key': 'k-slow' };
    const first = s.confirm(body, { ...key, 'x-sandbox-latency-ms': '1' });
    const second = await s.confirm(body, key);
    expect([second.status, second.body.code]).toEqual([409, 'IDEMPOTENT_REQUEST_PROCESSING']);
    release();
    const done = await first;
    expect(done.status).toBe(200);
    expect(await s.confirm(body, key)).toEqual(done);
  });
});

describe('sandbox PG: test codes (B10)', () => {
  it('answers the documented error a TossPayments-Test-Code names, without doing the work', async () => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order-0001', 5000);
    const body = { paymentKey, orderId: 'order-0001', amount: 5000 };
    const rejected = await s.confirm(body, { 'tosspayments-test-code': 'REJECT_CARD_PAYMENT' });
    expect([rejected.status, rejected.body.code]).toEqual([403, 'REJECT_CARD_PAYMENT']);
    const internal = await s.confirm(body, { 'tosspayments-test-code': 'FAILED_INTERNAL_SYSTEM_PROCESSING' });
    expect([internal.status, internal.body.code]).toEqual([500, 'FAILED_INTERNAL_SYSTEM_PROCESSING']);
    const lookup = await s.get(`/v1/payments/${paymentKey}`, { 'tosspayments-test-code': 'FORBIDDEN_CONSECUTIVE_REQUEST' });
    expect([lookup.status, lookup.body.code]).toEqual([403, 'FORBIDDEN_CONSECUTIVE_REQUEST']);
    expect((await s.confirm(body, { 'tosspayments-test-code': 'NO_SUCH_CODE' })).body.code).toBe('INVALID_REQUEST');
    expect((await s.confirm(body)).body.status).toBe('DONE');
  });

  it("fixes a checkout's outcome with its testCode: the confirm is refused and the payment ABORTED", async () => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order-0001', 5000, { testCode: 'INVALID_CARD_EXPIRATION' });
    const res = await s.confirm({ paymentKey, orderId: 'order-0001', amount: 5000 });
    expect([res.status, res.body.code]).toEqual([400, 'INVALID_CARD_EXPIRATION']);
    expect((await s.get(`/v1/payments/${paymentKey}`)).body).toMatchObject({
      status: 'ABORTED',
      failure: { code: 'INVALID_CARD_EXPIRATION' },
      approvedAt: null,
    });
    // Never "already processed" (which clients read as paid): the session is over.
    expect((await s.confirm({ paymentKey, orderId: 'order-0001', amount: 5000 })).body.code).toBe('NOT_FOUND_PAYMENT_SESSION');
    expect((await s.ledger('order-0001')).orders[0].charges).toBe(0);
    const bad = await s.post('/checkout', { orderId: 'order-0002', amount: 5000, orderName: 'x', testCode: 'NOT_A_TOSS_CODE' });
    expect([bad.status, bad.body.code]).toEqual([400, 'INVALID_REQUEST']);
  });
});

describe('sandbox PG: cancel (B6)', () => {
  it('cancels in parts and then in full, lowering balanceAmount and appending to cancels[]', async () => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order-0001', 37400);
    await s.confirm({ paymentKey, orderId: 'order-0001', amount: 37400 });
    s.clock.advance(MIN);
    const part = await s.post(`/v1/payments/${paymentKey}/cancel`, { cancelReason: '좌석 1매 취소', cancelAmount: 11000 });
    expect(part.status).toBe(200);
    expect(part.body).toMatchObject({ status: 'PARTIAL_CANCELED', totalAmount: 37400, balanceAmount: 26400, suppliedAmount: 24000, vat: 2400 });
    expect(part.body.cancels).toEqual([
      expect.objectContaining({ cancelAmount: 11000, cancelReason: '좌석 1매 취소', refundableAmount: 26400, canceledAt: '2026-03-01T09:01:00+09:00' }),
    ]);
    expect(part.body.lastTransactionKey).toBe(part.body.cancels[0].transactionKey);

    const over = await s.post(`/v1/payments/${paymentKey}/cancel`, { cancelReason: 'too much', cancelAmount: 26401 });
    expect([over.status, over.body.code]).toEqual([403, 'NOT_CANCELABLE_AMOUNT']);
    const stale = await s.post(`/v1/payments/${paymentKey}/cancel`, { cancelReason: 'stale', refundableAmount: 37400 });
    expect([stale.status, stale.body.code]).toEqual([400, 'NOT_MATCHES_REFUNDABLE_AMOUNT']);

    const full = await s.post(`/v1/payments/${paymentKey}/cancel`, { cancelReason: '나머지 취소' });
    expect(full.body).toMatchObject({ status: 'CANCELED', balanceAmount: 0, suppliedAmount: 0, vat: 0, card: { acquireStatus: 'CANCELED' } });
    expect(full.body.cancels.map((c: { cancelAmount: number }) => c.cancelAmount)).toEqual([11000, 26400]);
    const again = await s.post(`/v1/payments/${paymentKey}/cancel`, { cancelReason: 'again' });
    expect([again.status, again.body.code]).toEqual([403, 'NOT_CANCELABLE_PAYMENT']);

    const ledger = await s.ledger('order-0001');
    expect(ledger.orders).toEqual([{ orderId: 'order-0001', charges: 1, chargedAmount: 37400, canceledAmount: 37400, balanceAmount: 0 }]);
    expect(ledger.payments[0].cancels.map((c: { cancelAmount: number }) => c.cancelAmount)).toEqual([11000, 26400]);
  });

  it('refuses to cancel what was never approved, and an unknown payment', async () => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order-0001', 5000);
    expect((await s.post(`/v1/payments/${paymentKey}/cancel`, { cancelReason: 'x' })).body.code).toBe('NOT_CANCELABLE_PAYMENT');
    expect((await s.post('/v1/payments/nope/cancel', { cancelReason: 'x' })).body.code).toBe('NOT_FOUND_PAYMENT');
    expect((await s.post(`/v1/payments/${paymentKey}/cancel`, {})).body.code).toBe('INVALID_REQUEST');
  });
});

describe('sandbox PG: faults', () => {
  it('adds the configured latency to each Toss call, or the latency a request asks for', async () => {
    const slept: number[] = [];
    const s = await sandbox({ latencyMs: 250, sleep: async (ms) => void slept.push(ms) });
    const paymentKey = await s.checkout('order-0001', 5000);
    await s.get(`/v1/payments/${paymentKey}`);
    await s.get(`/v1/payments/${paymentKey}`, { 'x-sandbox-latency-ms': '40' });
    expect(slept).toEqual([250, 40]);
    expect((await s.get(`/v1/payments/${paymentKey}`, { 'x-sandbox-latency-ms': 'soon' })).body.code).toBe('INVALID_REQUEST');
  });

  it('answers the configured error at the configured rate without doing the work, the same way for the same seed', async () => {
    const always = await sandbox({ faultRate: 1, faultCode: 'PROVIDER_ERROR' });
    const paymentKey = await always.checkout('order-0001', 5000);
    const res = await always.confirm({ paymentKey, orderId: 'order-0001', amount: 5000 });
    expect([res.status, res.body.code]).toEqual([400, 'PROVIDER_ERROR']);
    expect((await always.ledger()).orders[0].charges).toBe(0);

    const outcomes = async (seed: number) => {
      const s = await sandbox({ faultRate: 0.5, seed });
      const key = await s.checkout('order-0001', 5000);
      const statuses: number[] = [];
      for (let i = 0; i < 24; i++) statuses.push((await s.get(`/v1/payments/${key}`)).status);
      return statuses;
    };
    const first = await outcomes(42);
    expect(first).toEqual(await outcomes(42));
    expect(new Set(first)).toEqual(new Set([200, 500]));
  });

  it('plays a scripted sequence on the calls it names', async () => {
    const s = await sandbox();
    const paymentKey = await s.checkout('order-0001', 5000);
    const body = { paymentKey, orderId: 'order-0001', amount: 5000 };
    const queued = await s.post('/faults', {
      next: [
        { on: 'confirm', code: 'PROVIDER_ERROR' },
        { on: 'confirm', fault: '5xx' },
      ],
    });
    expect(queued.body).toEqual({ pending: 2 });
    expect((await s.get(`/v1/payments/${paymentKey}`)).status).toBe(200);
    expect((await s.confirm(body)).body.code).toBe('PROVIDER_ERROR');
    expect((await s.get(`/v1/payments/${paymentKey}`)).body.status).toBe('IN_PROGRESS');
    // `5xx`: the PG charged, the caller saw a 500; a retry with the key gets the real answer.
    const lost = await s.confirm(body, { 'idempotency-key': 'k-5xx' });
    expect([lost.status, lost.body.code]).toEqual([500, 'FAILED_INTERNAL_SYSTEM_PROCESSING']);
    expect((await s.ledger('order-0001')).orders[0].charges).toBe(1);
    const retried = await s.confirm(body, { 'idempotency-key': 'k-5xx' });
    expect(retried.body).toMatchObject({ status: 'DONE', paymentKey });
    expect((await s.post('/faults', { next: [{ code: 'NOT_A_CODE' }] })).body.code).toBe('INVALID_REQUEST');
    await s.post('/faults', { next: [{ code: 'PROVIDER_ERROR' }] });
    expect((await s.app.inject({ method: 'DELETE', url: `${SANDBOX_PREFIX}/faults`, headers: auth })).json()).toEqual({ pending: 0 });
    expect((await s.get(`/v1/payments/${paymentKey}`)).status).toBe(200);
  });

  describe('over real sockets', () => {
    const listen = async (s: Harness) => {
      await s.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = s.app.server.address() as AddressInfo;
      return (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}) =>
        fetch(`http://127.0.0.1:${port}${SANDBOX_PREFIX}${path}`, {
          method: init.method ?? 'GET',
          headers: { ...auth, 'content-type': 'application/json', ...init.headers },
          ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
          ...(init.signal ? { signal: init.signal } : {}),
        });
    };

    it('`drop`: the confirm is recorded in the ledger, the caller sees its connection reset, and a retry with the key gets the answer', async () => {
      const s = await sandbox();
      const call = await listen(s);
      const paymentKey = await s.checkout('order-0001', 5000);
      const body = { paymentKey, orderId: 'order-0001', amount: 5000 };
      const headers = { 'idempotency-key': 'k-drop' };
      await expect(call('/v1/payments/confirm', { method: 'POST', body, headers: { ...headers, 'x-sandbox-fault': 'drop' } })).rejects.toThrow();
      expect((await s.ledger('order-0001')).orders[0]).toMatchObject({ charges: 1, chargedAmount: 5000 });
      const retry = await call('/v1/payments/confirm', { method: 'POST', body, headers });
      expect(retry.status).toBe(200);
      expect(((await retry.json()) as { status: string }).status).toBe('DONE');
    });

    it('SANDBOX_DROP_RATE drops answers after doing the work', async () => {
      const s = await sandbox({ dropRate: 1 });
      const call = await listen(s);
      const paymentKey = await s.checkout('order-0001', 5000);
      await expect(call('/v1/payments/confirm', { method: 'POST', body: { paymentKey, orderId: 'order-0001', amount: 5000 } })).rejects.toThrow();
      expect((await s.ledger('order-0001')).payments[0].status).toBe('DONE');
    });

    it('SANDBOX_TIMEOUT_RATE holds the answer after doing the work', async () => {
      const s = await sandbox({ timeoutRate: 1, timeoutHoldMs: 50 });
      const call = await listen(s);
      const paymentKey = await s.checkout('order-0001', 5000);
      await expect(call('/v1/payments/confirm', { method: 'POST', body: { paymentKey, orderId: 'order-0001', amount: 5000 } })).rejects.toThrow();
      expect((await s.ledger('order-0001')).payments[0].status).toBe('DONE');
    });

    it('`timeout`: the confirm is recorded and the caller never hears back', async () => {
      const s = await sandbox();
      const call = await listen(s);
      const paymentKey = await s.checkout('order-0001', 5000);
      const abort = new AbortController();
      const pending = call('/v1/payments/confirm', {
        method: 'POST',
        body: { paymentKey, orderId: 'order-0001', amount: 5000 },
        headers: { 'x-sandbox-fault': 'timeout' },
        signal: abort.signal,
      });
      let settled = false;
      pending.then(
        () => (settled = true),
        () => (settled = true),
      );
      await expect.poll(async () => (await s.ledger('order-0001')).orders[0].charges).toBe(1);
      expect(settled).toBe(false);
      abort.abort();
      await expect(pending).rejects.toThrow();
    });
  });
});
