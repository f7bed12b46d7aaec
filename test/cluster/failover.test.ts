import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignBody, givenOpenSchedule, mintBuyer } from '../support/builders.js';
import { createTestDatabase, TEST_JWT_SECRET } from '../support/harness.js';
import { exited, freePort, startMos, type MosProcess } from '../support/processes.js';
import { startLocalCluster, type LocalCluster } from '../support/redis-cluster.js';

/**
 * A master of the Redis Cluster dies (SIGKILL) in the middle of a sale. One `mos api` and one
 * `mos worker` run in production mode on a cluster of their own (3 masters, 1 replica each,
 * `cluster-node-timeout` 1 s); buyers claim a coupon, hold seats and order them through real
 * HTTP while the master that serves the campaign is killed. The replica is promoted, the same
 * processes follow it without a restart, requests in between fail fast with 503 problem+json
 * and Retry-After, and afterwards every invariant holds: no seat on two live orders, no buyer
 * over the seat limit, no more coupons than the quantity, and every buyer told ISSUED has the
 * coupon in their wallet (or the campaign is flagged LOST, with its alert).
 *
 * The killed node is started again once its replica has taken over (as an operator or an
 * orchestrator would): it rejoins as the new master's replica. Until then a claim cannot be
 * confirmed on a replica (REDIS_WAIT_REPLICAS=1) and answers 503 instead of a promise a second
 * failure could break; holds and orders on the promoted master succeed at once.
 */
const BUYERS = 80;
const SEATS = 120;
const COUPONS = 60;

type Outcome = { kind: 'claim' | 'hold' | 'order'; at: number; ms: number; status: number; code?: string; retryAfter?: string | null; problem?: boolean };

describe('a Redis Cluster master killed during a sale', () => {
  let cluster: LocalCluster;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const procs: MosProcess[] = [];
  let base = '';
  const prefix = `mos:test:${randomBytes(6).toString('hex')}:`;

  beforeAll(async () => {
    [cluster, db] = await Promise.all([startLocalCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 }), createTestDatabase()]);
    const env = {
      DATABASE_URL: db.url,
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      REDIS_KEY_PREFIX: prefix,
      REDIS_WAIT_REPLICAS: '1',
      JWT_SECRET: TEST_JWT_SECRET,
      RATE_LIMIT_MAX: '1000000',
      // A delivery the consumer left pending (its events not yet on a replica) comes back soon.
      COUPON_CONSUMER_STALE_MS: '1000',
      COUPON_CONSUMER_MAX_DELIVERIES: '100',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    const migrate = startMos(['migrate'], env);
    expect(await exited(migrate.child), migrate.output()).toBe(0);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    procs.push(startMos(['api'], { ...env, PORT: String(port) }), startMos(['worker'], env));
    const started = Date.now();
    for (const p of procs) {
      while (!/api listening|worker running/.test(p.output())) {
        if (Date.now() - started > 30_000) throw new Error(`a process did not start:\n${p.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }, 90_000);

  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => exited(p.child)));
    await db?.drop();
    await cluster?.destroy();
  });

  /** The builders' `app.inject` over real HTTP to the API process. */
  const http = {
    async inject(req: { method: string; url: string; headers?: Record<string, string>; payload?: unknown }) {
      const res = await fetch(`${base}${req.url}`, {
        method: req.method,
        headers: { ...(req.payload ? { 'content-type': 'application/json' } : {}), ...req.headers },
        ...(req.payload ? { body: JSON.stringify(req.payload) } : {}),
        signal: AbortSignal.timeout(10_000),
      });
      const body = await res.text();
      return { statusCode: res.status, headers: Object.fromEntries(res.headers), body, json: <T>() => JSON.parse(body) as T };
    },
  };
  const app = http as unknown as FastifyInstance;

  it('fails fast with 503 while the replica takes over, then serves on; every invariant holds', async () => {
    const { seller, performance, schedule, seatIds } = await givenOpenSchedule(app, { seats: SEATS });
    const created = await http.inject({
      method: 'POST',
      url: '/v1/coupons',
      headers: seller.auth,
      payload: campaignBody(new Date(), { quantity: COUPONS, scope: { performanceId: performance.id } }),
    });
    expect(created.statusCode, created.body).toBe(201);
    const campaignId = created.json<{ id: string }>().id;
    const buyers = await Promise.all(Array.from({ length: BUYERS }, () => mintBuyer()));

    const victim = await cluster.masterOf(`${prefix}cpn:{cpn_${campaignId}}:stock`);
    const holdsShard = await cluster.masterOf(`${prefix}hold:{hold_${schedule.id}}:seats`);
    const outcomes: Outcome[] = [];
    const toldIssued = new Set<string>();
    let stop = false;
    let killedAt = 0;

    const call = async (kind: Outcome['kind'], method: string, url: string, headers: Record<string, string>, payload?: unknown) => {
      const t0 = Date.now();
      const res = await http.inject({ method, url, headers, ...(payload ? { payload } : {}) });
      const problem = res.headers['content-type']?.startsWith('application/problem+json') ?? false;
      outcomes.push({
        kind,
        at: t0,
        ms: Date.now() - t0,
        status: res.statusCode,
        ...(problem ? { code: res.json<{ code: string }>().code, problem } : {}),
        retryAfter: res.headers['retry-after'] ?? null,
      });
      return res;
    };

    // Each buyer claims until answered (a 503 is no answer), and keeps trying for two seats of their own slice of the
    // house (overlapping with the next buyer's) until they have an order.
    const buyerLoop = async (i: number) => {
      // Arrivals spread over 3.2 s, so that claims are still coming when the master dies at 1.5 s.
      await new Promise((r) => setTimeout(r, i * 40));
      const b = buyers[i]!;
      let claimed = false;
      let ordered = false;
      let attempt = 0;
      while (!stop && !(claimed && ordered)) {
        attempt++;
        if (!claimed) {
          const res = await call('claim', 'POST', `/v1/coupons/${campaignId}/claims`, b.auth);
          if (res.statusCode === 201) toldIssued.add(b.id);
          if (res.statusCode !== 503) claimed = true;
        }
        if (!ordered) {
          const first = (i + attempt) % SEATS;
          const want = [seatIds[first]!, seatIds[(first + 1) % SEATS]!];
          const hold = await call('hold', 'POST', `/v1/schedules/${schedule.id}/holds`, b.auth, { seatIds: want });
          if (hold.statusCode === 201) {
            const order = await call(
              'order',
              'POST',
              '/v1/orders',
              { ...b.auth, 'idempotency-key': `o-${b.id}-${attempt}` },
              { scheduleId: schedule.id, seatIds: want },
            );
            if (order.statusCode === 201) ordered = true;
          }
        }
        await new Promise((r) => setTimeout(r, 50 + (i % 7) * 10));
      }
    };

    const load = Promise.all(buyers.map((_, i) => buyerLoop(i)));
    await new Promise((r) => setTimeout(r, 1500));
    killedAt = Date.now();
    await cluster.kill(victim.port);

    // The promotion, as the cluster sees it.
    let promotedAt = 0;
    while (!promotedAt) {
      if (Date.now() - killedAt > 20_000) throw new Error('no replica took over within 20 s');
      const now = await cluster.masterOf(`${prefix}cpn:{cpn_${campaignId}}:stock`).catch(() => victim);
      if (now.port !== victim.port) promotedAt = Date.now();
      else await new Promise((r) => setTimeout(r, 50));
    }
    await cluster.restart(victim.port);
    const rejoinedAt = Date.now();
    // Until every buyer has answers, or the time is up.
    await Promise.race([load, new Promise((r) => setTimeout(r, 20_000))]);
    stop = true;
    await load;

    // Every issue event reaches the wallet (the worker's consumer, after the failover).
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const walletOwners = async () =>
        new Set((await client.query<{ user_id: string }>('select user_id from coupons where campaign_id = $1', [campaignId])).rows.map((r) => r.user_id));
      const deadline = Date.now() + 15_000;
      let wallet = await walletOwners();
      while ([...toldIssued].some((u) => !wallet.has(u)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        wallet = await walletOwners();
      }

      const after = (o: Outcome) => o.at >= killedAt;
      const failed = outcomes.filter((o) => o.status >= 500);
      const firstOkAfter = (kind: Outcome['kind'], from: number) =>
        outcomes.filter((o) => o.kind === kind && o.at >= from && o.status < 300).sort((a, b) => a.at - b.at)[0];
      const firstHold = firstOkAfter('hold', killedAt);
      const firstClaim = firstOkAfter('claim', killedAt);
      const campaign = (
        await client.query<{ quantity: number; hot_status: string }>('select quantity, hot_status from coupon_campaigns where id = $1', [campaignId])
      ).rows[0]!;
      const issued = (await client.query<{ n: string }>('select count(*) n from coupons where campaign_id = $1', [campaignId])).rows[0]!.n;
      const overUser = (await client.query('select user_id from coupons where campaign_id = $1 group by user_id having count(*) > 1', [campaignId])).rows;
      const doubleSeats = (
        await client.query(
          `select i.seat_id from order_items i join orders o on o.id = i.order_id
            where o.schedule_id = $1 and o.status in ('PENDING_PAYMENT', 'PAID') group by i.seat_id having count(*) > 1`,
          [schedule.id],
        )
      ).rows;
      const overLimit = (
        await client.query(
          `select o.user_id from order_items i join orders o on o.id = i.order_id
            where o.schedule_id = $1 and o.status in ('PENDING_PAYMENT', 'PAID') group by o.user_id having count(*) > 4`,
          [schedule.id],
        )
      ).rows;
      const missing = [...toldIssued].filter((u) => !wallet.has(u));
      const liveOrders = (
        await client.query<{ n: string }>(`select count(*) n from orders where schedule_id = $1 and status = 'PENDING_PAYMENT'`, [schedule.id])
      ).rows[0]!.n;

      console.log(
        [
          `failover: killed master :${victim.port} (campaign's shard; the showtime's holds are on :${holdsShard.port}) ${killedAt - outcomes[0]!.at} ms into the sale`,
          `  replica promoted after ${promotedAt - killedAt} ms; killed node restarted and synced as its replica after ${rejoinedAt - killedAt} ms`,
          `  first hold after the kill: +${firstHold ? firstHold.at + firstHold.ms - killedAt : 'none'} ms; first claim ISSUED after the kill: +${firstClaim ? firstClaim.at + firstClaim.ms - killedAt : 'none'} ms`,
          `  requests: ${outcomes.length} (${outcomes.filter(after).length} after the kill); 5xx: ${failed.length}, all 503 problem+json with Retry-After: ${failed.every((o) => o.status === 503 && o.problem && o.code === 'SERVICE_UNAVAILABLE' && o.retryAfter)}; slowest 503: ${Math.max(0, ...failed.map((o) => o.ms))} ms; slowest request: ${Math.max(...outcomes.map((o) => o.ms))} ms`,
          `  invariants: seats on two live orders ${doubleSeats.length}; buyers over 4 seats ${overLimit.length}; live orders ${liveOrders}`,
          `  coupons: told ISSUED ${toldIssued.size}, in wallets ${issued} of quantity ${campaign.quantity}, buyers with two ${overUser.length}, told ISSUED but not in a wallet ${missing.length}, campaign ${campaign.hot_status}`,
        ].join('\n'),
      );

      // Fail fast, and only as 503 problem+json with Retry-After: never a 500, never a hang.
      expect(failed.length).toBeGreaterThan(0);
      for (const o of failed) {
        expect(o).toMatchObject({ status: 503, problem: true, code: 'SERVICE_UNAVAILABLE' });
        expect(o.retryAfter).toBeTruthy();
      }
      expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(5000);
      // The same processes serve on: holds and claims succeed after the failover.
      expect(firstHold).toBeDefined();
      expect(firstClaim).toBeDefined();
      for (const p of procs) expect(p.child.exitCode).toBeNull();
      // Invariants 1 and 2.
      expect(doubleSeats).toEqual([]);
      expect(overLimit).toEqual([]);
      expect(Number(issued)).toBeLessThanOrEqual(campaign.quantity);
      expect(overUser).toEqual([]);
      if (missing.length) expect(campaign.hot_status).toBe('LOST');
      else expect(missing).toEqual([]);
    } finally {
      await client.end();
    }
  }, 120_000);
});
