import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../config.js';
import { PgMisconfiguredError, pgIdempotencyKeys, type TossPayment } from './pg-gateway.js';
import { createTossClient, fullJitter, type TossClientOptions } from './toss.client.js';

/**
 * A fake Toss on a real port: it checks Basic auth as Toss does, records every request, and
 * answers from a script (status and body, a delay, a request left hanging, a dropped socket);
 * once the script is spent it answers like a healthy Toss.
 */
type Step = { status: number; body?: unknown; raw?: string; delayMs?: number } | 'hang' | 'drop';
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
}

const SECRET = 'test_sk_fake_toss';

class FakeToss {
  readonly requests: Seen[] = [];
  readonly #steps: Step[] = [];
  /** Payments the healthy fallback answers GETs with, by paymentKey. */
  readonly payments = new Map<string, TossPayment>();
  #server?: Server;
  url = '';

  script(...steps: Step[]): void {
    this.#steps.push(...steps);
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => {
        raw += chunk;
      });
      req.on('end', () => {
        const seen: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw ? JSON.parse(raw) : undefined };
        this.requests.push(seen);
        const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.headers.authorization !== `Basic ${Buffer.from(`${SECRET}:`).toString('base64')}`) {
          return reply(401, { code: 'UNAUTHORIZED_KEY', message: '인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.' });
        }
        const step = this.#steps.shift() ?? this.#healthy(seen);
        if (step === 'hang') return;
        if (step === 'drop') return req.socket.destroy();
        const send = () => (step.raw !== undefined ? res.writeHead(step.status).end(step.raw) : reply(step.status, step.body));
        if (step.delayMs) setTimeout(send, step.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  #healthy(seen: Seen): Step {
    if (seen.method === 'POST' && seen.url === '/v1/payments/confirm') {
      const b = seen.body as { paymentKey: string; orderId: string; amount: number };
      const p = payment({ paymentKey: b.paymentKey, orderId: b.orderId, totalAmount: b.amount, balanceAmount: b.amount });
      this.payments.set(p.paymentKey, p);
      return { status: 200, body: p };
    }
    const cancel = /^\/v1\/payments\/([^/]+)\/cancel$/.exec(seen.url);
    if (seen.method === 'POST' && cancel) {
      const p = this.payments.get(decodeURIComponent(cancel[1]!)) ?? payment({ paymentKey: decodeURIComponent(cancel[1]!) });
      return { status: 200, body: { ...p, status: 'CANCELED', balanceAmount: 0 } };
    }
    const byOrder = /^\/v1\/payments\/orders\/([^/]+)$/.exec(seen.url);
    const found = byOrder
      ? [...this.payments.values()].find((p) => p.orderId === decodeURIComponent(byOrder[1]!))
      : this.payments.get(decodeURIComponent(seen.url.replace('/v1/payments/', '')));
    return found ? { status: 200, body: found } : { status: 404, body: { code: 'NOT_FOUND_PAYMENT', message: '존재하지 않는 결제 정보 입니다.' } };
  }

  async stop(): Promise<void> {
    if (!this.#server) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
  }
}

function payment(over: Partial<TossPayment> = {}): TossPayment {
  return {
    paymentKey: 'pk_1',
    orderId: 'ord_000001',
    orderName: 'Seats A1, A2',
    status: 'DONE',
    method: '카드',
    totalAmount: 50000,
    balanceAmount: 50000,
    requestedAt: '2026-01-01T09:00:00+09:00',
    approvedAt: '2026-01-01T09:00:05+09:00',
    lastTransactionKey: 'tx_1',
    cancels: null,
    ...over,
  };
}

const tossError = (status: number, code: string, message = code) => ({ status, body: { code, message } });

const fakes: FakeToss[] = [];
async function givenToss(): Promise<FakeToss> {
  const fake = await new FakeToss().start();
  fakes.push(fake);
  return fake;
}
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.stop()));
});

/** Small budgets so a test never waits long; a fresh client (and breaker) per test. */
function client(fake: FakeToss, over: Partial<TossClientOptions> = {}) {
  return createTossClient({
    apiUrl: fake.url,
    secretKey: SECRET,
    attempts: 4,
    attemptTimeoutMs: 2000,
    deadlineMs: 5000,
    backoffBaseMs: 1,
    backoffMaxMs: 5,
    breakerFailures: 100,
    breakerHalfOpenMs: 100,
    ...over,
  });
}

const confirmReq = { paymentKey: 'pk_1', orderId: 'ord_000001', amount: 50000, idempotencyKey: pgIdempotencyKeys.confirm('ord_000001') };

describe('the Toss client', () => {
  it('authenticates with Basic base64("key:"), sends JSON, and puts the Idempotency-Key on POSTs only', async () => {
    const fake = await givenToss();
    const pg = client(fake);

    expect(await pg.confirm(confirmReq)).toEqual({ kind: 'done', payment: expect.objectContaining({ orderId: 'ord_000001', status: 'DONE' }) });
    expect(await pg.getByOrderId('ord_000001')).toMatchObject({ kind: 'found', payment: { paymentKey: 'pk_1' } });
    expect(await pg.getByPaymentKey('pk_1')).toMatchObject({ kind: 'found', payment: { orderId: 'ord_000001' } });

    const [post, byOrder, byKey] = fake.requests;
    expect(post).toMatchObject({ method: 'POST', url: '/v1/payments/confirm', body: { paymentKey: 'pk_1', orderId: 'ord_000001', amount: 50000 } });
    expect(post!.headers.authorization).toBe(`Basic ${Buffer.from('test_sk_fake_toss:').toString('base64')}`);
    expect(post!.headers['content-type']).toBe('application/json');
    expect(post!.headers['accept-language']).toBe('en-US');
    expect(post!.headers['idempotency-key']).toBe('confirm:ord_000001');
    expect(byOrder).toMatchObject({ method: 'GET', url: '/v1/payments/orders/ord_000001' });
    expect(byKey).toMatchObject({ method: 'GET', url: '/v1/payments/pk_1' });
    expect(byOrder!.headers['idempotency-key']).toBeUndefined();
    expect(byKey!.headers.authorization).toBe(post!.headers.authorization);
  });

  it('resends 5xx answers with the same Idempotency-Key and reports the payment when the fourth attempt succeeds', async () => {
    const fake = await givenToss();
    fake.script(tossError(500, 'FAILED_INTERNAL_SYSTEM_PROCESSING'), { status: 503, raw: '<html>busy</html>' }, tossError(500, 'COMMON_ERROR'));

    expect(await client(fake).confirm(confirmReq)).toMatchObject({ kind: 'done', payment: { orderId: 'ord_000001' } });
    expect(fake.requests).toHaveLength(4);
    expect(new Set(fake.requests.map((r) => r.headers['idempotency-key']))).toEqual(new Set(['confirm:ord_000001']));
  });

  it('resends on PROVIDER_ERROR', async () => {
    const fake = await givenToss();
    fake.script(tossError(400, 'PROVIDER_ERROR', '일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.'));

    expect(await client(fake).confirm(confirmReq)).toMatchObject({ kind: 'done' });
    expect(fake.requests).toHaveLength(2);
  });

  it('resends after the connection is dropped mid-request, with the same key', async () => {
    const fake = await givenToss();
    fake.script('drop');

    expect(await client(fake).confirm(confirmReq)).toMatchObject({ kind: 'done' });
    expect(fake.requests.map((r) => r.headers['idempotency-key'])).toEqual(['confirm:ord_000001', 'confirm:ord_000001']);
  });

  it('resends while Toss says the first request with this key is still running (409)', async () => {
    const fake = await givenToss();
    fake.script(tossError(409, 'IDEMPOTENT_REQUEST_PROCESSING'), tossError(409, 'IDEMPOTENT_REQUEST_PROCESSING'));

    expect(await client(fake).confirm(confirmReq)).toMatchObject({ kind: 'done' });
    expect(fake.requests).toHaveLength(3);
  });

  it('reports a card refusal as rejected without resending', async () => {
    const fake = await givenToss();
    fake.script(tossError(403, 'REJECT_CARD_PAYMENT', 'Limit exceeded or insufficient balance'));

    expect(await client(fake).confirm(confirmReq)).toEqual({
      kind: 'rejected',
      code: 'REJECT_CARD_PAYMENT',
      message: 'Limit exceeded or insufficient balance',
    });
    expect(fake.requests).toHaveLength(1);
  });

  it('reports the outcome as unknown, without resending, when Toss says it does not know', async () => {
    const fake = await givenToss();
    fake.script(tossError(500, 'UNKNOWN_PAYMENT_ERROR'));

    expect(await client(fake).confirm(confirmReq)).toMatchObject({ kind: 'unknown', reason: 'pg-unknown' });
    expect(fake.requests).toHaveLength(1);
  });

  it('gives up after the configured attempts with an unknown outcome, never a rejection', async () => {
    const fake = await givenToss();
    fake.script(...Array.from({ length: 3 }, () => tossError(502, 'COMMON_ERROR')));

    expect(await client(fake, { attempts: 3 }).confirm(confirmReq)).toMatchObject({ kind: 'unknown', reason: 'retries-exhausted' });
    expect(fake.requests).toHaveLength(3);
  });

  it('on ALREADY_PROCESSED_PAYMENT looks the payment up and reports it done', async () => {
    const fake = await givenToss();
    fake.payments.set('pk_1', payment());
    fake.script(tossError(400, 'ALREADY_PROCESSED_PAYMENT', '이미 처리된 결제 입니다.'));

    expect(await client(fake).confirm(confirmReq)).toMatchObject({ kind: 'done', payment: { paymentKey: 'pk_1', status: 'DONE' } });
    expect(fake.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /v1/payments/confirm', 'GET /v1/payments/pk_1']);
  });

  it('does not count a paymentKey already confirmed for another order as paying this one', async () => {
    const fake = await givenToss();
    fake.payments.set('pk_1', payment({ orderId: 'ord_other1' }));
    fake.script(tossError(400, 'ALREADY_PROCESSED_PAYMENT'));

    expect(await client(fake).confirm(confirmReq)).toMatchObject({ kind: 'rejected', code: 'ALREADY_PROCESSED_PAYMENT' });
  });

  it('abandons a hanging attempt, resends, and reports an unknown outcome by the deadline', async () => {
    const fake = await givenToss();
    fake.script(...Array.from({ length: 20 }, () => 'hang' as const));
    const deadlineMs = 600;

    const started = performance.now();
    const result = await client(fake, { attempts: 20, attemptTimeoutMs: 150, deadlineMs }).confirm(confirmReq);

    expect(result).toMatchObject({ kind: 'unknown', reason: 'deadline' });
    // Timed-out attempts were resent, each with the same key; the call did not outlive its deadline by much.
    expect(fake.requests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(fake.requests.map((r) => r.headers['idempotency-key']))).toEqual(new Set(['confirm:ord_000001']));
    expect(performance.now() - started).toBeLessThan(deadlineMs + 2000);
  });

  it('throws a loud misconfiguration error on UNAUTHORIZED_KEY, answered as a 503', async () => {
    const fake = await givenToss();
    const pg = client(fake, { secretKey: 'test_sk_wrong' });

    const err = await pg.confirm(confirmReq).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PgMisconfiguredError);
    expect(err).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', pgCode: 'UNAUTHORIZED_KEY', pgStatus: 401 });
    // Nothing internal reaches the buyer's problem body.
    expect((err as PgMisconfiguredError).detail).not.toContain('UNAUTHORIZED_KEY');
    expect(fake.requests).toHaveLength(1);
  });

  it('reads a 404 without a Toss code as a wrong URL, not as a missing payment', async () => {
    const fake = await givenToss();
    fake.script({ status: 404, raw: 'Cannot GET' });

    await expect(client(fake).getByOrderId('ord_000001')).rejects.toBeInstanceOf(PgMisconfiguredError);
  });

  it('answers not-found for a payment Toss does not have', async () => {
    const fake = await givenToss();
    expect(await client(fake).getByOrderId('ord_nobody')).toEqual({ kind: 'not-found' });
    expect(fake.requests).toHaveLength(1);
  });

  it('opens the breaker after consecutive failures, fails fast without calling Toss, and recovers after half-open', async () => {
    const fake = await givenToss();
    fake.payments.set('pk_1', payment());
    fake.script(...Array.from({ length: 3 }, () => tossError(503, 'COMMON_ERROR')));
    const pg = client(fake, { attempts: 1, breakerFailures: 3, breakerHalfOpenMs: 100 });

    for (let i = 0; i < 3; i++) expect(await pg.getByPaymentKey('pk_1')).toMatchObject({ kind: 'unknown' });
    expect(fake.requests).toHaveLength(3);

    expect(await pg.confirm(confirmReq)).toEqual({ kind: 'unavailable', retryAfterSeconds: 1 });
    expect(await pg.getByPaymentKey('pk_1')).toEqual({ kind: 'unavailable', retryAfterSeconds: 1 });
    expect(fake.requests).toHaveLength(3);

    // Half-open lets one call through; Toss is healthy again, so the breaker closes.
    await vi.waitFor(async () => expect(await pg.getByPaymentKey('pk_1')).toMatchObject({ kind: 'found' }), { timeout: 5000, interval: 25 });
    expect(await pg.confirm(confirmReq)).toMatchObject({ kind: 'done' });
  });

  it('does not count a refusal as an outage', async () => {
    const fake = await givenToss();
    fake.script(...Array.from({ length: 5 }, () => tossError(403, 'REJECT_CARD_PAYMENT')));
    const pg = client(fake, { breakerFailures: 2 });

    for (let i = 0; i < 5; i++) expect(await pg.confirm(confirmReq)).toMatchObject({ kind: 'rejected' });
    expect(await pg.confirm(confirmReq)).toMatchObject({ kind: 'done' });
  });

  it('reports unavailable, not unknown, when no attempt could reach Toss', async () => {
    const fake = await givenToss();
    const pg = client(fake, { attempts: 2 });
    await fake.stop();

    expect(await pg.confirm(confirmReq)).toMatchObject({ kind: 'unavailable' });
  });

  it('cancels in full without an amount and in part with one, each with its own key', async () => {
    const fake = await givenToss();
    const pg = client(fake);

    await pg.cancel({ paymentKey: 'pk_1', cancelReason: 'buyer asked', idempotencyKey: pgIdempotencyKeys.cancel('ord_000001', 1) });
    await pg.cancel({ paymentKey: 'pk_1', cancelReason: 'one seat', cancelAmount: 10000, idempotencyKey: pgIdempotencyKeys.cancel('ord_000001', 2) });

    expect(fake.requests.map((r) => [r.url, r.body, r.headers['idempotency-key']])).toEqual([
      ['/v1/payments/pk_1/cancel', { cancelReason: 'buyer asked' }, 'cancel:ord_000001:1'],
      ['/v1/payments/pk_1/cancel', { cancelReason: 'one seat', cancelAmount: 10000 }, 'cancel:ord_000001:2'],
    ]);
  });

  it('on ALREADY_CANCELED_PAYMENT looks the payment up and reports it done', async () => {
    const fake = await givenToss();
    fake.payments.set('pk_1', payment({ status: 'CANCELED', balanceAmount: 0 }));
    fake.script(tossError(400, 'ALREADY_CANCELED_PAYMENT'));

    const result = await client(fake).cancel({ paymentKey: 'pk_1', cancelReason: 'buyer asked', idempotencyKey: 'cancel:ord_000001:1' });
    expect(result).toMatchObject({ kind: 'done', payment: { status: 'CANCELED' } });
    expect(fake.requests.map((r) => r.method)).toEqual(['POST', 'GET']);
  });

  it('refuses an Idempotency-Key Toss would refuse, before sending it', async () => {
    const fake = await givenToss();
    await expect(client(fake).confirm({ ...confirmReq, idempotencyKey: 'k'.repeat(301) })).rejects.toThrow(RangeError);
    expect(fake.requests).toHaveLength(0);
  });

  it('draws each backoff from the injected random source', async () => {
    const fake = await givenToss();
    fake.script(tossError(500, 'COMMON_ERROR'), tossError(500, 'COMMON_ERROR'));
    const random = vi.fn(() => 0.5);

    expect(await client(fake, { random }).confirm(confirmReq)).toMatchObject({ kind: 'done' });
    expect(random).toHaveBeenCalledTimes(2);
  });

  it('takes its options from the configuration as they are', () => {
    expect(() => createTossClient(loadConfig({}).pg)).not.toThrow();
  });
});

describe('full jitter', () => {
  const options = { initialDelay: 100, maxDelay: 2000, exponent: 2, generator: fullJitter(Math.random) };
  const delays = (random: () => number, n: number) => {
    const gen = fullJitter(random);
    const out: number[] = [];
    let state: number | undefined;
    for (let i = 0; i < n; i++) {
      const [delay, next] = gen(state, options);
      out.push(delay);
      state = next;
    }
    return out;
  };

  it('waits between 0 and the exponential cap, and never beyond the maximum', () => {
    const caps = [100, 200, 400, 800, 1600, 2000, 2000];
    expect(delays(() => 0, 7)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(delays(() => 0.999_999, 7)).toEqual(caps.map((c) => c - 1));
    for (let run = 0; run < 200; run++) {
      delays(Math.random, 7).forEach((d, i) => {
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(caps[i]!);
      });
    }
  });
});
