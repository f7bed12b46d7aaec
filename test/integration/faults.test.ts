import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import { campaignBody, mintBuyer } from '../support/builders.js';
import { TEST_JWT_SECRET } from '../support/harness.js';
import { startOwnedPostgres, startOwnedRedis, type OwnedPostgres, type OwnedRedis } from '../support/owned-services.js';
import { exited, freePort, startMos, type MosProcess } from '../support/processes.js';

/**
 * An operator's bad day, on a PostgreSQL and a Redis this file owns: backends terminated in the
 * middle of transactions, PostgreSQL stopped, Redis killed, and the API killed in the middle of
 * an order burst — while buyers hold, order, cancel and claim through a real `mos api` and
 * `mos worker`. The processes must stay up, refuse with 503 (Retry-After) while a dependency is
 * gone and serve again once it is back, without a restart. After each fault the invariants are
 * checked in the stores themselves: no seat on two live orders, no buyer holding or reserving
 * more than the limit, and every coupon a buyer was told ISSUED in that buyer's wallet.
 */
const MAX_SEATS = 4;
const SEATS = 80;
const COUPONS = 30;
const BUYERS = 16;
const PREFIX = 'mos:faults:';

type Buyer = Awaited<ReturnType<typeof mintBuyer>>;
type Answer = { status: number; body: Record<string, any>; headers: Headers };

describe('faults under load', () => {
  let pgServer: OwnedPostgres;
  let redisServer: OwnedRedis;
  let api: MosProcess;
  let worker: MosProcess;
  let base: string;
  let env: Record<string, string>;
  let db: pg.Pool;
  let redis: Redis;
  let scheduleId: string;
  /** A showtime with a waiting room. */
  let roomId: string;
  let campaignId: string;
  let seatIds: string[];
  const buyers: Buyer[] = [];
  const sellerLogin = { email: `seller-${Date.now()}@faults.test`, password: 'faults seller 1' };
  /** Buyers told ISSUED, by the API. */
  const issued = new Set<string>();

  const call = async (method: string, path: string, opts: { auth?: Buyer['auth']; token?: string; body?: unknown; key?: string } = {}): Promise<Answer> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.auth ?? {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.key ? { 'idempotency-key': opts.key } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, any>) : {}, headers: res.headers };
  };

  async function startApi(extra: Record<string, string> = {}): Promise<MosProcess> {
    const proc = startMos(['api'], { ...env, ...extra });
    await until(() => /api listening/.test(proc.output()), `the api did not start:\n${proc.output()}`);
    return proc;
  }

  beforeAll(async () => {
    [pgServer, redisServer] = await Promise.all([startOwnedPostgres(), startOwnedRedis()]);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      DATABASE_URL: pgServer.url,
      REDIS_URL: redisServer.url,
      REDIS_KEY_PREFIX: PREFIX,
      JWT_SECRET: TEST_JWT_SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_LIMIT_MAX: '1000000',
      LOGIN_MAX_PER_IP: '100000',
      MAX_SEATS_PER_BUYER: String(MAX_SEATS),
      DATABASE_POOL_SIZE: '4',
      ORDER_EXPIRY_INTERVAL_SECONDS: '1',
      COUPON_CONSUMER_IDLE_MS: '50',
      COUPON_CONSUMER_STALE_MS: '1000',
      IDEMPOTENCY_LOCK_SECONDS: '1',
    };
    const migrate = startMos(['migrate'], env);
    expect(await exited(migrate.child), migrate.output()).toBe(0);
    api = await startApi();
    worker = startMos(['worker'], env);
    await until(() => /worker running/.test(worker.output()), `the worker did not start:\n${worker.output()}`);
    db = new pg.Pool({ connectionString: pgServer.url, max: 2 });
    db.on('error', () => {});
    redis = new Redis(redisServer.url, { keyPrefix: PREFIX, maxRetriesPerRequest: 1 });
    redis.on('error', () => {});

    expect((await call('POST', '/v1/auth/signup', { body: { ...sellerLogin, name: 'Seller', role: 'SELLER' } })).status).toBe(201);
    const seller = (await call('POST', '/v1/auth/login', { body: sellerLogin })).body.accessToken as string;
    const venue = await call('POST', '/v1/venues', {
      token: seller,
      body: { name: 'Fault Hall', sections: [{ name: 'A', rows: Array.from({ length: SEATS / 10 }, (_, i) => ({ label: String(i + 1), seats: 10 })) }] },
    });
    const performance = await call('POST', '/v1/performances', {
      token: seller,
      body: { title: 'Faults', venueId: venue.body.id, runningMinutes: 90, grades: [{ name: 'R', price: 10_000 }], seatGrades: [], defaultGrade: 'R' },
    });
    const now = Date.now();
    const schedule = await call('POST', `/v1/performances/${performance.body.id}/schedules`, {
      token: seller,
      body: { startsAt: new Date(now + 7 * 86_400_000).toISOString(), saleOpensAt: new Date(now - 60_000).toISOString() },
    });
    expect(schedule.status).toBe(201);
    scheduleId = schedule.body.id;
    const room = await call('POST', `/v1/performances/${performance.body.id}/schedules`, {
      token: seller,
      body: {
        startsAt: new Date(now + 8 * 86_400_000).toISOString(),
        saleOpensAt: new Date(now - 60_000).toISOString(),
        waitingRoom: { enabled: true, maxActive: 10, admitPerTick: 5 },
      },
    });
    expect(room.status).toBe(201);
    roomId = room.body.id;
    seatIds = (await call('GET', `/v1/schedules/${scheduleId}/seats`)).body.seats.map((s: { seatId: string }) => s.seatId);
    const campaign = await call('POST', '/v1/coupons', {
      token: seller,
      body: campaignBody(new Date(now), { name: 'Fault coupon', scope: { performanceId: performance.body.id }, quantity: COUPONS }),
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    campaignId = campaign.body.id;
    for (let i = 0; i < BUYERS; i++) buyers.push(await mintBuyer());
  }, 120_000);

  afterAll(async () => {
    for (const p of [api, worker]) p?.child.kill('SIGKILL');
    await Promise.all([api, worker].filter(Boolean).map((p) => exited(p.child)));
    redis?.disconnect();
    await db?.end();
    await redisServer?.destroy();
    pgServer?.destroy();
  });

  /**
   * Buyers doing what buyers do, until `stop()`: hold 1–2 seats, order them, cancel half the
   * orders, claim the coupon. Every answer is recorded.
   */
  function traffic() {
    const answers: { route: string; status: number; retryAfter: string | null; type: string | null }[] = [];
    let running = true;
    const record = (route: string, a: Answer) =>
      answers.push({ route, status: a.status, retryAfter: a.headers.get('retry-after'), type: a.headers.get('content-type') });
    const loops = buyers.map(async (buyer, i) => {
      let n = 0;
      while (running) {
        n++;
        try {
          if (!issued.has(buyer.id)) {
            const claim = await call('POST', `/v1/coupons/${campaignId}/claims`, { auth: buyer.auth });
            record('claim', claim);
            if (claim.status === 201 && claim.body.status === 'ISSUED') issued.add(buyer.id);
          }
          const wanted = [seatIds[(i * 5 + n) % SEATS]!, ...(n % 2 ? [seatIds[(i * 5 + n + 1) % SEATS]!] : [])];
          const hold = await call('POST', `/v1/schedules/${scheduleId}/holds`, { auth: buyer.auth, body: { seatIds: wanted } });
          record('hold', hold);
          if (hold.status !== 201) continue;
          const order = await call('POST', '/v1/orders', { auth: buyer.auth, key: `${buyer.id}-${n}`, body: { scheduleId, seatIds: wanted } });
          record('order', order);
          if (order.status === 201 && n % 2 === 0) record('cancel', await call('POST', `/v1/orders/${order.body.id}/cancel`, { auth: buyer.auth, body: {} }));
          else if (order.status !== 201) {
            for (const seat of wanted) await call('DELETE', `/v1/schedules/${scheduleId}/holds/${seat}`, { auth: buyer.auth });
          }
        } catch (err) {
          answers.push({ route: 'network', status: 0, retryAfter: null, type: String(err) });
        }
      }
    });
    return {
      answers,
      stop: async () => {
        running = false;
        await Promise.all(loops);
        return answers;
      },
    };
  }

  /** The answers the contract allows under a fault: success, a refusal, or 503 with Retry-After as problem+json. */
  function expectOnlyContractAnswers(answers: ReturnType<typeof traffic>['answers']) {
    const bad = answers.filter((a) => ![200, 201, 204, 409, 503].includes(a.status));
    expect(bad, JSON.stringify(bad.slice(0, 5))).toEqual([]);
    for (const a of answers.filter((x) => x.status === 503)) {
      expect(a.retryAfter).toMatch(/^\d+$/);
      expect(a.type).toMatch(/^application\/problem\+json/);
    }
  }

  function expectUnavailable(res: Answer, label: string) {
    expect(res.status, `${label}: ${JSON.stringify(res.body)}`).toBe(503);
    expect(res.body.code).toBe('SERVICE_UNAVAILABLE');
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  }

  async function expectServing() {
    expect(api.child.exitCode, api.output()).toBeNull();
    expect(worker.child.exitCode, worker.output()).toBeNull();
    await until(async () => (await call('GET', '/health/ready')).status === 200, 'the api did not become ready again');
    // A whole purchase step works again: a fresh buyer holds and orders a free seat.
    const buyer = await mintBuyer();
    let placed = false;
    for (const seat of seatIds) {
      const hold = await call('POST', `/v1/schedules/${scheduleId}/holds`, { auth: buyer.auth, body: { seatIds: [seat] } });
      if (hold.status !== 201) continue;
      const order = await call('POST', '/v1/orders', { auth: buyer.auth, key: `probe-${buyer.id}`, body: { scheduleId, seatIds: [seat] } });
      expect(order.status, JSON.stringify(order.body)).toBe(201);
      expect((await call('POST', `/v1/orders/${order.body.id}/cancel`, { auth: buyer.auth, body: {} })).status).toBe(200);
      placed = true;
      break;
    }
    expect(placed).toBe(true);
  }

  /** Invariants 1 and 2 and the per-buyer limit, read from PostgreSQL and Redis themselves. */
  async function expectInvariants() {
    const twice = await db.query(
      `select oi.seat_id from order_items oi join orders o on o.id = oi.order_id
        where o.status in ('PENDING_PAYMENT', 'PAID') group by o.schedule_id, oi.seat_id having count(*) > 1`,
    );
    expect(twice.rows, 'a seat on two live orders').toEqual([]);
    const stray = await db.query(
      `select ss.seat_id from schedule_seats ss join orders o on o.id = ss.order_id
        where ss.status = 'RESERVED' and ss.reserved_until > now() and o.status <> 'PENDING_PAYMENT'`,
    );
    expect(stray.rows, 'a seat reserved for an order that is no longer pending').toEqual([]);

    const pending = await db.query<{ user_id: string; seat_id: string }>(
      `select o.user_id, oi.seat_id from orders o join order_items oi on oi.order_id = o.id
        where o.status = 'PENDING_PAYMENT' and o.expires_at > now()`,
    );
    const seatsOf = new Map<string, Set<string>>();
    for (const r of pending.rows) seatsOf.set(r.user_id, (seatsOf.get(r.user_id) ?? new Set()).add(r.seat_id));
    const holdKey = `hold:{hold_${scheduleId}}`;
    const held = await redis.hgetall(`${holdKey}:seats`);
    const now = Date.now();
    for (const [seat, value] of Object.entries(held)) {
      const [user, expires] = value.split('|');
      if (Number(expires) > now) seatsOf.set(user!, (seatsOf.get(user!) ?? new Set()).add(seat));
    }
    const over = [...seatsOf].filter(([, seats]) => seats.size > MAX_SEATS);
    expect(over, 'a buyer holding or reserving more than the limit').toEqual([]);

    await until(async () => {
      const wallet = await db.query<{ user_id: string }>('select user_id from coupons where campaign_id = $1', [campaignId]);
      const owners = new Set(wallet.rows.map((r) => r.user_id));
      return [...issued].every((id) => owners.has(id));
    }, 'a buyer told ISSUED has no coupon in the wallet');
    const count = await db.query<{ n: number }>('select count(*)::int as n from coupons where campaign_id = $1', [campaignId]);
    expect(count.rows[0]!.n).toBeLessThanOrEqual(COUPONS);
  }

  it('survives backends terminated in the middle of transactions', async () => {
    const load = traffic();
    const admin = new pg.Client({ connectionString: pgServer.url });
    await admin.connect();
    let terminated = 0;
    for (let i = 0; i < 15; i++) {
      await new Promise((r) => setTimeout(r, 150));
      const res = await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'mos'");
      terminated += res.rowCount ?? 0;
    }
    await admin.end();
    const answers = await load.stop();
    expect(terminated).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 201).length).toBeGreaterThan(0);
    expectOnlyContractAnswers(answers);
    await expectServing();
    await expectInvariants();
  }, 90_000);

  it('answers 503 while PostgreSQL is down, and serves again once it is back', async () => {
    const load = traffic();
    await new Promise((r) => setTimeout(r, 300));
    pgServer.stop('immediate');
    await new Promise((r) => setTimeout(r, 1500));
    const buyer = buyers[0]!;
    for (const [method, path, body] of [
      ['GET', '/v1/performances', undefined],
      ['GET', `/v1/schedules/${scheduleId}`, undefined],
      ['POST', `/v1/schedules/${scheduleId}/holds`, { seatIds: [seatIds[SEATS - 1]] }],
      ['GET', '/v1/me/orders', undefined],
    ] as const) {
      const res = await call(method, path, { auth: buyer.auth, ...(body ? { body } : {}) });
      if (path.endsWith('/holds') && res.status === 409) continue; // answered from Redis alone
      expectUnavailable(res, `${method} ${path}`);
    }
    expect((await call('GET', '/health/ready')).status).toBe(503);
    pgServer.start();
    const answers = await load.stop();
    expectOnlyContractAnswers(answers);
    await expectServing();
    await expectInvariants();
  }, 90_000);

  it('answers 503 on routes that need Redis while it is down, serves the others, and recovers', async () => {
    const load = traffic();
    await new Promise((r) => setTimeout(r, 300));
    await redisServer.kill();
    await new Promise((r) => setTimeout(r, 500));
    const buyer = buyers[1]!;
    // Routes that need no Redis answer as usual; the rate limiter counts in the process meanwhile.
    expect((await call('GET', '/v1/performances')).status).toBe(200);
    expect((await call('POST', '/v1/auth/login', { body: sellerLogin })).status).toBe(200); // its own limits count in the process too
    expect((await call('GET', `/v1/orders/${'01900000-0000-7000-8000-000000000000'}`, { auth: buyer.auth })).status).toBe(404);
    for (const [method, path, body] of [
      ['POST', `/v1/schedules/${scheduleId}/holds`, { seatIds: [seatIds[SEATS - 2]] }],
      ['POST', `/v1/coupons/${campaignId}/claims`, undefined],
      ['POST', `/v1/schedules/${roomId}/queue`, undefined],
    ] as const) {
      expectUnavailable(await call(method, path, { auth: buyer.auth, ...(body ? { body } : {}) }), `${method} ${path}`);
    }
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/mos_rate_limit_local_fallback_total [1-9]/);
    await redisServer.start();
    const answers = await load.stop();
    expectOnlyContractAnswers(answers);
    await expectServing();
    await expectInvariants();
  }, 90_000);

  it('returns each order its key placed when the API is killed in the middle of an order burst', async () => {
    const burst = await Promise.all(Array.from({ length: 12 }, () => mintBuyer()));
    const free: string[] = [];
    for (const seat of seatIds) {
      if (free.length === burst.length) break;
      const probe = await call('POST', `/v1/schedules/${scheduleId}/holds`, { auth: burst[free.length]!.auth, body: { seatIds: [seat] } });
      if (probe.status === 201) free.push(seat);
    }
    expect(free).toHaveLength(burst.length);
    const body = (i: number) => ({ scheduleId, seatIds: [free[i]!] });
    const firstTry = burst.map((b, i) => call('POST', '/v1/orders', { auth: b.auth, key: `burst-${i}`, body: body(i) }).catch(() => undefined));
    // Killed as soon as the first order is committed: some of the burst have their order and
    // never heard so, the others never got one.
    const committed = async () => (await db.query<{ n: number }>("select count(*)::int as n from orders where idempotency_key like 'burst-%'")).rows[0]!.n;
    await until(async () => (await committed()) > 0, 'no order of the burst was committed', 10_000);
    api.child.kill('SIGKILL');
    await exited(api.child);
    await Promise.all(firstTry);
    api = await startApi();
    await new Promise((r) => setTimeout(r, 1200)); // the keys' in-flight locks lapse (IDEMPOTENCY_LOCK_SECONDS=1)

    const retries = await Promise.all(burst.map((b, i) => call('POST', '/v1/orders', { auth: b.auth, key: `burst-${i}`, body: body(i) })));
    expect(
      retries.map((r) => r.status),
      JSON.stringify(retries.map((r) => r.body)),
    ).toEqual(new Array(burst.length).fill(201));
    for (const [i, b] of burst.entries()) {
      const rows = await db.query<{ id: string }>('select id from orders where user_id = $1', [b.id]);
      expect(rows.rows.map((r) => r.id)).toEqual([retries[i]!.body.id]);
    }
    await expectServing();
    await expectInvariants();
  }, 90_000);
});

async function until(check: () => boolean | Promise<boolean>, message: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(message);
}
