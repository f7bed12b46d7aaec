import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, deleteByPrefix } from '../../src/platform/redis/client.js';
import { createTestDatabase, testRedis, testRedisEnv } from '../support/harness.js';
import { exited, freePort, startMos, type MosProcess } from '../support/processes.js';

/**
 * docs/architecture.md §7 on loopback: two API processes and two workers share one PostgreSQL and one
 * Redis (or one Redis Cluster, in the `cluster` project). The admission job must have one leader at a time; killing the leader hands the lead to
 * the other worker within two lease periods; and every buyer is admitted once, in queue order.
 */
const LEASE_SECONDS = 2;
const TICK_MS = 200;
const BUYERS = 24;

describe('waiting room across processes', () => {
  const prefix = `mos:test:${randomBytes(6).toString('hex')}:`;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  const procs: MosProcess[] = [];
  let apis: string[] = [];
  const workers: MosProcess[] = [];
  // No key prefix: the test names the processes' keys in full. A cluster's client on a cluster.
  const redis = createRedis(testRedis(), '');

  beforeAll(async () => {
    db = await createTestDatabase();
    env = {
      DATABASE_URL: db.url,
      ...testRedisEnv(),
      REDIS_KEY_PREFIX: prefix,
      JWT_SECRET: 'multi-process-secret-multi-process-secret',
      JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      WAITING_ROOM_TICK_MS: String(TICK_MS),
      RATE_LIMIT_MAX: '1000000',
      LOGIN_MAX_PER_IP: '100000',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    const migrate = startMos(['migrate'], env);
    expect(await exited(migrate.child)).toBe(0);
    const ports = [await freePort(), await freePort()];
    apis = ports.map((p) => `http://127.0.0.1:${p}`);
    for (const port of ports) procs.push(startMos(['api'], { ...env, PORT: String(port) }));
    for (let i = 0; i < 2; i++) workers.push(startMos(['worker'], env));
    procs.push(...workers);
    const started = Date.now();
    for (const p of procs) {
      while (!/api listening|worker running/.test(p.output())) {
        if (Date.now() - started > 30_000) throw new Error(`a process did not start:\n${p.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => exited(p.child)));
    redis.disconnect();
    await db?.drop();
    await deleteByPrefix(testRedis(), prefix);
  });

  async function call(base: string, method: string, path: string, token?: string, body?: unknown) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
  }

  async function user(base: string, role: 'BUYER' | 'SELLER', n: number) {
    const email = `${role.toLowerCase()}${n}-${randomBytes(3).toString('hex')}@mp.test`;
    const signup = await call(base, 'POST', '/v1/auth/signup', undefined, { email, password: 'multi process 1', name: `${role} ${n}`, role });
    expect(signup.status).toBe(201);
    const login = await call(base, 'POST', '/v1/auth/login', undefined, { email, password: 'multi process 1' });
    return { id: signup.body.id as string, token: login.body.accessToken as string };
  }

  it('admits every buyer exactly once in queue order, with one leader, surviving the leader being killed', async () => {
    const [a, b] = apis as [string, string];
    const seller = await user(a, 'SELLER', 0);
    const venue = await call(a, 'POST', '/v1/venues', seller.token, { name: 'MP Hall', sections: [{ name: 'A', rows: [{ label: '1', seats: 10 }] }] });
    const perf = await call(b, 'POST', '/v1/performances', seller.token, {
      title: 'MP',
      venueId: venue.body.id,
      runningMinutes: 60,
      grades: [{ name: 'R', price: 1000 }],
      seatGrades: [],
      defaultGrade: 'R',
    });
    const now = Date.now();
    const schedule = await call(a, 'POST', `/v1/performances/${perf.body.id}/schedules`, seller.token, {
      startsAt: new Date(now + 86_400_000).toISOString(),
      saleOpensAt: new Date(now - 1000).toISOString(),
      waitingRoom: { enabled: true, maxActive: 3, admitPerTick: 1 },
    });
    expect(schedule.status).toBe(201);
    const queue = `/v1/schedules/${schedule.body.id}/queue`;

    const buyers = [];
    for (let i = 0; i < BUYERS; i++) buyers.push(await user(apis[i % 2]!, 'BUYER', i));
    // The workers admit from the first tick on, so a place in line is checked against who was
    // admitted before: everyone is behind exactly the buyers who entered earlier and still wait.
    for (const [i, buyer] of buyers.entries()) {
      const res = await call(apis[i % 2]!, 'POST', queue, buyer.token);
      expect(res.status).toBe(200);
      if (res.body.status === 'WAITING') expect(res.body.position).toBeLessThanOrEqual(i + 1);
    }

    // Every buyer polls through either API; once admitted, they leave at once, freeing the slot.
    const admittedAt = new Map<string, number>();
    let killedAt = 0;
    let killedPid = 0;
    const leaseKey = `${prefix}lease:{lease_job:waiting-room.admit}:owner`;
    const deadline = Date.now() + 45_000;
    while (admittedAt.size < BUYERS && Date.now() < deadline) {
      await Promise.all(
        buyers.map(async (buyer, i) => {
          if (admittedAt.has(buyer.id)) return;
          const res = await call(apis[(i + admittedAt.size) % 2]!, 'GET', queue, buyer.token);
          if (res.body.status === 'ADMITTED') {
            admittedAt.set(buyer.id, Date.now());
            await call(apis[i % 2]!, 'DELETE', queue, buyer.token);
          }
        }),
      );
      if (!killedAt && admittedAt.size >= 6) {
        const owner = await redis.get(leaseKey);
        killedPid = Number(owner!.split('-')[0]);
        const leader = workers.find((w) => w.child.pid === killedPid);
        expect(leader, `lease owner ${owner} is one of the workers`).toBeDefined();
        leader!.child.kill('SIGKILL');
        killedAt = Date.now();
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    expect(admittedAt.size).toBe(BUYERS);
    // Exactly once each, in the order they entered.
    const log = await redis.lrange(`${prefix}wr:{wr_${schedule.body.id}}:audit`, 0, -1);
    expect(log).toEqual(buyers.map((x) => x.id));

    // The survivor took over within two lease periods (plus the tick and our polling interval).
    const firstAfterKill = Math.min(...[...admittedAt.values()].filter((t) => t > killedAt));
    expect(firstAfterKill - killedAt).toBeLessThan(2 * LEASE_SECONDS * 1000 + TICK_MS + 500);
    const owner = await redis.get(leaseKey);
    expect(Number(owner!.split('-')[0])).not.toBe(killedPid);

    // One leader at a time: fences in the admission log never go back, and the new leader's is higher.
    const batches = (await redis.zrange(`${prefix}wr:{wr_${schedule.body.id}}:log`, 0, -1, 'WITHSCORES'))
      .filter((_, i) => i % 2 === 0)
      .map((m) => Number(m.split(':')[2]));
    expect(batches.length).toBeGreaterThanOrEqual(BUYERS / 3);
    for (let i = 1; i < batches.length; i++) expect(batches[i]!).toBeGreaterThanOrEqual(batches[i - 1]!);
    expect(batches.at(-1)!).toBeGreaterThan(batches[0]!);
  }, 90_000);
});
