/**
 * The on-sale day, end to end: the cluster (cluster.ts), the accounts and the sale (setup.ts),
 * the crowd (crowd.ts) watched by a monitor that samples the queue, the seats and the CPU of
 * every part, the faults of `--chaos`, then the wait for every payment's outcome, the admin
 * settlement of the sale's period, and the checks (checks.ts). Returns everything the report
 * (report.ts) shows; the cluster is gone when it returns, whatever happened.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { availabilityCodec } from '../../src/modules/catalog/index.js';

const { AvailabilityState } = availabilityCodec;
type AvailabilityMessage = availabilityCodec.AvailabilityMessage;
type AvailabilityState = availabilityCodec.AvailabilityState;
import { type Check, runChecks } from './checks.js';
import { processCpuNs } from '../cpu.js';
import { startCluster, type Cluster } from './cluster.js';
import { arrivals, type BuyerRecord, type CrowdPlan, defaultPlan, layoutFrom, outcomesOf, runBuyer, type Scene } from './crowd.js';
import type { LoopReading, Probe } from './health-probe.js';
import { Http, type Answer } from './http.js';
import { createAccounts, createSale } from './setup.js';
import { measureSteps, type StepCost } from './steps.js';

export interface OnsaleOptions {
  buyers: number;
  seats: number;
  coupons: number;
  apis: number;
  workers: number;
  chaos: boolean;
  /** Scales every step's share of buyers who walk away (1 = the plan's shares). */
  abandonScale?: number;
  /** Longest the crowd may take after the opening before it is stopped. */
  maxSaleSeconds: number;
  /**
   * Buyers taken through each step of a purchase alone, on a second showtime once the checks are
   * done, for the CPU µs per step by part (steps.ts); 0 or absent skips it.
   */
  steps?: number;
  /** Node flags for the API processes (e.g. `--max-semi-space-size=64`); none by default. */
  apiNodeFlags?: string[];
  /** Niceness of the API processes (cluster.ts), e.g. -10: ahead of the crowd, workers, PostgreSQL and Redis. */
  apiNice?: number;
  /**
   * Keep-alive connections of the waiting crowd to each API (the load balancer's upstream
   * connections, bench/onsale/http.ts); default 64–256 by the crowd's size.
   */
  connections?: number;
  /** Say what happens as it happens. */
  log: (line: string) => void;
}

/** CPU ns by part, cumulative. */
export interface CpuParts {
  api: number;
  worker: number;
  sandbox: number;
  postgres: number;
  redis: number;
  generator: number;
}

export interface Sample {
  /** s since the opening. */
  t: number;
  waiting: number;
  active: number;
  sold: number;
  held: number;
  admitted: number;
  entered: number;
  paid: number;
  cpu: CpuParts;
}

export interface FaultEvent {
  t: number;
  what: string;
}

export interface OnsaleRun {
  options: Omit<OnsaleOptions, 'log'>;
  plan: CrowdPlan;
  cores: number;
  loadAverageAtStart: number;
  database: string;
  redisPrefix: string;
  records: BuyerRecord[];
  samples: Sample[];
  faults: FaultEvent[];
  /** s since the opening; null if never sold out. */
  soldOutAt: number | null;
  /** s the crowd ran after the opening (until every buyer was done). */
  crowdSeconds: number;
  /** scene-ms of the opening, and the first arrival. */
  openAtMs: number;
  firstArrivalMs: number;
  burstEndMs: number;
  http: { series: Map<string, { ms: number[]; at: number[]; statuses: Map<number, number> }>; networkErrors: number };
  confirmAnswers: Record<string, number>;
  /** Every probe of /health/live: latency, scene ms of the answer, status (0: none). */
  health: { ms: number[]; at: number[]; status: number[]; failures: number };
  /** Each API's event-loop delay and GC totals, read from its /metrics every 2 s (scene ms). */
  loops: LoopReading[];
  checks: Check[];
  settlement: { periodStart: string; periodEnd: string; settlements: unknown[] };
  quiesceSeconds: number;
  /** CPU µs per step by part; null when not measured. */
  steps: StepCost[] | null;
}

/** Most buyers following the queue by event stream at once (see the crowd's records). */
const MAX_STREAMS = 8000;

const SCENE_ENV: Record<string, string> = {
  // A sale lasts a minute here, not an hour: every TTL is at its shortest so that walked-away
  // buyers give their seats and slots back within the scene.
  HOLD_TTL_SECONDS: '20',
  PAYMENT_WINDOW_SECONDS: '30',
  ORDER_EXPIRY_INTERVAL_SECONDS: '1',
  WAITING_ROOM_TICK_MS: '250',
  WAITING_ROOM_ADMISSION_TTL_SECONDS: '60',
  // MOS's default (and longer for a larger crowd, below): a 20 s window dropped 15,000 of 20,000
  // buyers whose polls took longer on a loaded machine.
  WAITING_ROOM_ABANDON_AFTER_SECONDS: '60',
  WAITING_ROOM_STREAM_INTERVAL_MS: '500',
  ADMISSION_TOKEN_TTL_SECONDS: '60',
  // A killed leader's lease lapses in 2 s, so the survivor takes over within the scene.
  JOB_LEASE_SECONDS: '2',
  PAYMENT_RECONCILE_INTERVAL_SECONDS: '1',
  PAYMENT_RECONCILE_AFTER_SECONDS: '5',
  PG_ATTEMPT_TIMEOUT_MS: '1000',
  PG_DEADLINE_MS: '3000',
  PG_BREAKER_HALF_OPEN_MS: '1000',
  // The settlement runs are the admin's here, not the daily job's.
  SETTLEMENT_RUN_INTERVAL_SECONDS: '86400',
  SETTLEMENT_CHECK_INTERVAL_SECONDS: '86400',
  COUPON_CONSUMER_IDLE_MS: '50',
  OUTBOX_RELAY_INTERVAL_MS: '100',
  EVENT_CONSUMER_IDLE_MS: '50',
  DATABASE_POOL_SIZE: '10',
  // An order or confirm in flight in a SIGKILLed API keeps its Idempotency-Key locked this long.
  IDEMPOTENCY_LOCK_SECONDS: '5',
};

/** The sandbox PG's faults under --chaos: 500s without the work, answers dropped or held after it. */
export const CHAOS_SANDBOX_ENV = { SANDBOX_FAULT_RATE: '0.04', SANDBOX_DROP_RATE: '0.04', SANDBOX_TIMEOUT_RATE: '0.03', SANDBOX_SEED: '16' };

export async function runOnsale(o: OnsaleOptions): Promise<OnsaleRun> {
  const cores = availableParallelism();
  const loadAverageAtStart = loadavg()[0]!;
  const started = performance.now();
  const log = (line: string) => o.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  log(`cluster: ${o.apis} API, ${o.workers} worker and 1 sandbox PG processes (production mode)…`);
  // A waiting buyer is paced at most a third of the abandon timeout apart (X-Poll-After): the
  // queue then costs about buyers ÷ (timeout ÷ 3) polls per second. With 100,000 buyers and
  // 60 s that is 5,000/s, more than this machine serves beside the crowd, and polls queued
  // behind polls made every admission lapse unused; a larger crowd gets a longer timeout.
  const abandonAfter = Math.max(60, Math.ceil(o.buyers / 500));
  const env = { ...SCENE_ENV, WAITING_ROOM_ABANDON_AFTER_SECONDS: String(abandonAfter) };
  const cluster = await startCluster({
    apis: o.apis,
    workers: o.workers,
    env,
    sandboxEnv: o.chaos ? CHAOS_SANDBOX_ENV : {},
    apiNodeFlags: o.apiNodeFlags,
    apiNice: o.apiNice,
  });
  const db = new pg.Client({ connectionString: cluster.databaseUrl });
  // Dropping the database (`with (force)`, on Ctrl-C) ends this connection: not a crash.
  db.on('error', () => {});
  const redis = new Redis(cluster.redisUrl, { keyPrefix: cluster.redisPrefix, maxRetriesPerRequest: 3 });
  const raw = new Redis(cluster.redisUrl, { maxRetriesPerRequest: 3 });
  const http = new Http(cluster.apiBases, o.connections ?? Math.max(64, Math.min(256, Math.ceil(o.buyers / 50))), performance.now());
  // The monitor's own connections: through the crowd's pools its reads waited behind the crowd's calls.
  const monitorHttp = new Http(cluster.apiBases, 1, http.origin);
  let prober: ChildProcess | undefined;
  try {
    await db.connect();
    log(`cluster up on database ${cluster.database}, Redis prefix ${cluster.redisPrefix}; APIs ${cluster.apiBases.join(' ')}`);

    // ---- setup ----
    const accounts = await createAccounts(cluster.databaseUrl, cluster.jwtSecret, o.buyers);
    log(`${o.buyers.toLocaleString('en-US')} buyer accounts inserted, tokens minted`);
    const preOpenMs = Math.max(3000, Math.min(10_000, o.buyers / 2));
    const burstMs = Math.max(4000, Math.min(20_000, o.buyers / 1.5));
    const setupSlackMs = 3000;
    const opensAt = Date.now() + setupSlackMs + preOpenMs;
    // As many buyers choosing at once as there are seats (at most 2,000), let in within two
    // seconds: the room then protects the system from the crowd, not the seats from buyers. A
    // smaller active set is held by walked-away buyers for their whole admission (60 s here):
    // with 400 the first 20,000-buyer run admitted 35 buyers/s while the cores were 31% busy.
    const maxActive = Math.max(50, Math.min(2000, o.seats));
    const admitPerTick = Math.max(10, Math.ceil(maxActive / 8));
    const sale = await createSale(http, accounts.sellerToken, { seats: o.seats, coupons: o.coupons, opensAt, maxActive, admitPerTick });
    const layoutRes = await http.once(0, 'setup', 'GET', `/v1/schedules/${sale.scheduleId}/layout`);
    const layout = layoutFrom(layoutRes.body, String(layoutRes.headers.etag));
    log(
      `sale: showtime ${sale.scheduleId}, ${o.seats} seats in ${layout.byGrade.size} grades, ${o.coupons} coupons; waiting room ${maxActive} active, ${admitPerTick} per 250 ms tick`,
    );

    // ---- the crowd ----
    const plan = defaultPlan(o.buyers, opensAt, preOpenMs, burstMs);
    for (const step of Object.keys(plan.abandon) as (keyof typeof plan.abandon)[]) plan.abandon[step] *= o.abandonScale ?? 1;
    const epochOrigin = Date.now() - (performance.now() - http.origin);
    const openAtMs = opensAt - epochOrigin;
    const arriveAt = arrivals(plan, openAtMs);
    const firstArrivalMs = Math.min(...arriveAt);
    const basic = `Basic ${Buffer.from(`test_sk_mos_sandbox:`).toString('base64')}`;
    const sandboxUrl = new URL(cluster.sandboxBase);
    const sandboxPool = new (await import('undici')).Pool(sandboxUrl.origin, { connections: 32 });
    const sandboxApi = {
      async request(path: string, body: unknown): Promise<Answer> {
        const startedAt = performance.now();
        const res = await sandboxPool.request({
          method: 'POST',
          path: `${sandboxUrl.pathname}${path}`,
          headers: { authorization: basic, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const text = await res.body.text();
        http.seriesOf('checkout').add(performance.now() - startedAt, http.now(), res.statusCode);
        return { status: res.statusCode, body: text ? JSON.parse(text) : null, headers: res.headers };
      },
    };
    const scene: Scene = {
      http,
      scheduleId: sale.scheduleId,
      campaignId: sale.campaignId,
      sandboxBasicAuth: basic,
      sandboxPath: cluster.sandboxBase,
      sandboxApi,
      tokens: accounts.tokens,
      ids: accounts.buyerIds,
      layout,
      soldOut: false,
      stop: false,
      now: () => http.now(),
      epochOrigin,
      probes: { noToken: { sent: 0, refused: 0, unexpected: [] }, otherToken: { sent: 0, refused: 0, unexpected: [] } },
      admittedTokens: [],
      confirmAnswers: new Map(),
      issued: new Set(),
    };
    // An event stream holds a socket at both ends for the whole wait: this process and each API may
    // open 20,000 files here (ulimit -n), so about MAX_STREAMS buyers at most follow by stream —
    // the rest poll, as the buyers behind a proxy that buffers event streams do.
    const sseShare = Math.min(plan.sseShare, MAX_STREAMS / o.buyers);
    const records: BuyerRecord[] = accounts.buyerIds.map((id, i) => ({
      i,
      id,
      sse: Math.random() < sseShare,
      arriveAt: arriveAt[i]!,
      enterSent: null,
      enterRecv: null,
      pre: null,
      admittedAt: null,
      heldAt: null,
      orderedAt: null,
      paidAt: null,
      seats: 0,
      orderId: null,
      amount: null,
      couponIssued: false,
      outcome: null,
      gaveUp: null,
      error: null,
      sentWithoutAdmission: 0,
    }));

    const cpu = cpuMeter(cluster, db, cluster.database);
    const samples: Sample[] = [];
    const faults: FaultEvent[] = [];
    const health = { ms: [] as number[], at: [] as number[], status: [] as number[], failures: 0 };
    const loops: LoopReading[] = [];
    let soldOutAt: number | null = null;
    let monitoring = true;
    const sinceOpen = () => (http.now() - openAtMs) / 1000;

    const chaos = o.chaos ? chaosPlan(cluster, raw, sale.scheduleId, faults, sinceOpen, log) : null;
    const wr = (part: string) => `wr:{wr_${sale.scheduleId}}:${part}`;
    const monitor = (async () => {
      let state: AvailabilityState | null = null;
      const mon = { api: 0 };
      while (monitoring) {
        try {
          const a = await monitorHttp.call(mon, 'monitor', 'GET', `/v1/schedules/${sale.scheduleId}/availability`, {}, 5000);
          if (a.status === 200) {
            const msg = a.body as AvailabilityMessage;
            if (!state) state = new AvailabilityState(layout.seats.length, msg);
            else state.apply(msg);
          }
          const [q, pre, active] = await Promise.all([redis.zcard(wr('q')), redis.zcard(wr('pre')), redis.zcard(wr('active'))]);
          let sold = 0;
          let held = 0;
          for (const code of state?.codes ?? []) {
            if (code === 2) sold++;
            else if (code === 1) held++;
          }
          const t = sinceOpen();
          samples.push({
            t,
            waiting: q + pre,
            active,
            sold,
            held,
            admitted: records.reduce((n, r) => n + (r.admittedAt !== null ? 1 : 0), 0),
            entered: records.reduce((n, r) => n + (r.enterRecv !== null ? 1 : 0), 0),
            paid: records.reduce((n, r) => n + (r.paidAt !== null ? 1 : 0), 0),
            cpu: await cpu.read(),
          });
          if (soldOutAt === null && sold === o.seats) {
            soldOutAt = t;
            scene.soldOut = true;
            log(`sold out: all ${o.seats} seats sold ${t.toFixed(1)} s after the opening`);
          }
          await chaos?.(sold / o.seats);
        } catch (err) {
          log(`monitor: ${(err as Error).message}`);
        }
        await sleep(500);
      }
    })();
    // /health/live of each API, 10 times a second, during the whole scene, from a process of its
    // own (health-probe.ts): what the burst does to the APIs, as their load balancer sees it.
    prober = fork(fileURLToPath(new URL('./health-probe.ts', import.meta.url)), [cluster.apiBases.join(',')], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const proberDone = new Promise<void>((resolve) => {
      prober!.on('message', (m: { probes: Probe[]; loops: LoopReading[] }) => {
        for (const l of m.loops) loops.push({ ...l, at: l.at - epochOrigin });
        for (const p of m.probes) {
          health.ms.push(p.ms);
          health.at.push(p.at - epochOrigin);
          health.status.push(p.status);
          if (p.status !== 200) health.failures++;
        }
        resolve();
      });
      prober!.on('exit', () => resolve());
    });
    const stopProber = async () => {
      if (prober!.connected) prober!.send('stop');
      await Promise.race([proberDone, sleep(10_000)]);
      prober!.kill('SIGKILL');
    };

    log(
      `crowd: ${o.buyers.toLocaleString('en-US')} buyers, ${Math.round(plan.preQueueShare * 100)}% in the ${(preOpenMs / 1000).toFixed(0)} s before the opening, the rest in a ${(burstMs / 1000).toFixed(0)} s burst${o.chaos ? '; chaos on' : ''}`,
    );
    const everyone = Promise.all(records.map((r) => runBuyer(scene, plan, r)));
    const deadline = sleep(openAtMs - http.now() + o.maxSaleSeconds * 1000).then(() => 'timeout' as const);
    let lastReport = 0;
    const progress = setInterval(() => {
      const s = samples.at(-1);
      if (!s || s.t - lastReport < 5) return;
      lastReport = s.t;
      log(
        `t=${s.t.toFixed(0)} s: entered ${s.entered}, waiting ${s.waiting}, active ${s.active}, admitted ${s.admitted}, held ${s.held}, sold ${s.sold}/${o.seats}`,
      );
    }, 1000);
    const finished = await Promise.race([everyone.then(() => 'done' as const), deadline]);
    if (finished === 'timeout') {
      log(`the sale did not end within ${o.maxSaleSeconds} s of the opening: stopping the crowd`);
      scene.stop = true;
      await everyone;
    }
    clearInterval(progress);
    const crowdSeconds = sinceOpen();
    monitoring = false;
    await Promise.all([monitor, stopProber()]);
    cpu.close();
    log(`crowd done ${crowdSeconds.toFixed(1)} s after the opening`);
    log(
      `buyers by outcome: ${Object.entries(outcomesOf(records))
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    if (chaos) await chaosDone(cluster);

    // ---- every payment's outcome known, every event published and booked ----
    const quiesceStarted = performance.now();
    await until(
      async () => {
        const [r] = (
          await db.query(
            `select (select count(*) from payments where status in ('CONFIRMING', 'UNKNOWN', 'REFUNDING'))::int as open,
                    (select count(*) from outbox where published_at is null)::int as unpublished,
                    (select count(*) from orders where status in ('PAID', 'REFUNDED'))::int as sales,
                    (select count(*) from orders where status = 'REFUNDED')::int as refunds,
                    (select count(*) from settlement_ledger where kind = 'SALE')::int as booked_sales,
                    (select count(*) from settlement_ledger where kind = 'REFUND')::int as booked_refunds`,
          )
        ).rows;
        return r.open === 0 && r.unpublished === 0 && r.sales === r.booked_sales && r.refunds === r.booked_refunds;
      },
      120_000,
      'payments of unknown outcome resolved, the outbox published and the settlement ledger caught up',
    );
    const quiesceSeconds = (performance.now() - quiesceStarted) / 1000;
    log(`every payment settled and booked (${quiesceSeconds.toFixed(1)} s after the crowd)`);

    // ---- the admin settles the sale's period ----
    const periodStart = new Date(Math.floor(sale.createdAt / 1000) * 1000 - 1000);
    const periodEnd = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
    await sleep(Math.max(0, periodEnd.getTime() - Date.now() + 50));
    const run = await http.call({ api: 0 }, 'setup', 'POST', '/v1/admin/settlements/run', {
      token: accounts.adminToken,
      body: { periodStart: periodStart.toISOString(), periodEnd: periodEnd.toISOString() },
    });
    if (run.status !== 200) throw new Error(`settlement run answered ${run.status}: ${JSON.stringify(run.body)}`);

    // ---- checks ----
    const audit = await redis.lrange(wr('audit'), 0, -1);
    const ledgerRes = await fetch(`${cluster.sandboxBase}/ledger`, { headers: { authorization: basic } });
    const ledger = (await ledgerRes.json()) as Parameters<typeof runChecks>[0]['ledger'];
    const checks = await runChecks({
      db,
      scheduleId: sale.scheduleId,
      campaignId: sale.campaignId,
      coupons: o.coupons,
      records,
      scene,
      audit,
      ledger,
      settlements: run.body.settlements,
    });
    if (chaos) {
      const missed = ['SIGKILL api', 'flush hot state', 'SIGKILL leading worker'].filter((w) => !faults.some((f) => f.what.startsWith(w)));
      checks.push({
        name: 'every fault of --chaos happened',
        ok: missed.length === 0,
        detail: missed.length ? `not injected: ${missed.join(', ')}` : faults.map((f) => `${f.what} at ${f.t.toFixed(1)} s`).join('; '),
      });
    }

    // ---- CPU µs per step by part, each step alone, on the same cluster ----
    let steps: StepCost[] | null = null;
    if (o.steps) {
      log(`CPU per step: ${o.steps.toLocaleString('en-US')} buyers through each step of a purchase alone, on a second showtime…`);
      const meter = cpuMeter(cluster, db, cluster.database);
      try {
        steps = await measureSteps({ http, sellerToken: accounts.sellerToken, tokens: accounts.tokens, readCpu: meter.read, sandbox: sandboxApi, n: o.steps });
      } finally {
        meter.close();
      }
      log(`CPU per step: ${steps.map((s) => `${s.step} ${Math.round(s.perRequestUs.total).toLocaleString('en-US')} µs`).join(', ')}`);
    }
    await sandboxPool.close();

    return {
      options: {
        buyers: o.buyers,
        seats: o.seats,
        coupons: o.coupons,
        apis: o.apis,
        workers: o.workers,
        chaos: o.chaos,
        maxSaleSeconds: o.maxSaleSeconds,
        steps: o.steps ?? 0,
        apiNodeFlags: o.apiNodeFlags ?? [],
        apiNice: o.apiNice ?? 0,
        connections: o.connections,
      },
      plan,
      cores,
      loadAverageAtStart,
      database: cluster.database,
      redisPrefix: cluster.redisPrefix,
      records,
      samples,
      faults,
      soldOutAt,
      crowdSeconds,
      openAtMs,
      firstArrivalMs,
      burstEndMs: openAtMs + burstMs,
      http: { series: http.series, networkErrors: http.networkErrors },
      confirmAnswers: Object.fromEntries([...scene.confirmAnswers].map(([k, v]) => [String(k), v])),
      health,
      loops,
      checks,
      settlement: { periodStart: periodStart.toISOString(), periodEnd: periodEnd.toISOString(), settlements: run.body.settlements },
      quiesceSeconds,
      steps,
    };
  } finally {
    prober?.kill('SIGKILL');
    await http.close().catch(() => {});
    await monitorHttp.close().catch(() => {});
    redis.disconnect();
    raw.disconnect();
    await db.end().catch(() => {});
    await cluster.stop();
    log('cluster stopped, database dropped, Redis keys deleted');
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for: ${what}`);
    await sleep(250);
  }
}

/**
 * CPU by part, cumulative ns: the cluster's processes (cluster.ts), the PostgreSQL backends
 * serving this run's database (pg_stat_activity; the server's shared background processes are
 * not counted), Redis (INFO cpu: the whole server, which other users share) and this process.
 */
function cpuMeter(cluster: Cluster, db: pg.Client, database: string): { read: () => Promise<CpuParts>; close: () => void } {
  const backends = new Map<number, number>();
  const redis = new Redis(cluster.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true });
  let redisBase: number | null = null;
  let pgBase: number | null = null;
  const generatorBase = process.cpuUsage();
  const read = async (): Promise<CpuParts> => {
    if (redis.status === 'wait') await redis.connect();
    const { rows } = await db.query(`select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [database]);
    for (const { pid } of rows as { pid: number }[]) {
      const ns = processCpuNs(pid);
      if (ns !== null) backends.set(pid, Math.max(backends.get(pid) ?? 0, ns));
    }
    if (pgBase === null) pgBase = [...backends.values()].reduce((a, b) => a + b, 0);
    const info = await redis.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    const redisNs = (field('used_cpu_sys') + field('used_cpu_user')) * 1e9;
    redisBase ??= redisNs;
    const usage = process.cpuUsage(generatorBase);
    const parts = cluster.cpuNs();
    return {
      api: parts.api,
      worker: parts.worker,
      sandbox: parts.sandbox,
      postgres: [...backends.values()].reduce((a, b) => a + b, 0) - pgBase,
      redis: redisNs - redisBase,
      generator: (usage.user + usage.system) * 1000,
    };
  };
  return { read, close: () => redis.disconnect() };
}

/**
 * The faults of --chaos, each once, at a share of the seats sold: SIGKILL of one API process
 * (restarted on its port a second later), the flush of the showtime's seat hot state from Redis
 * (this run's keys only), SIGKILL of the worker leading the admission job (restarted a second later).
 */
function chaosPlan(cluster: Cluster, raw: Redis, scheduleId: string, faults: FaultEvent[], now: () => number, log: (l: string) => void) {
  const done = new Set<string>();
  const pending: Promise<void>[] = [];
  const at = async (name: string, when: boolean, act: () => Promise<string>) => {
    if (!when || done.has(name)) return;
    done.add(name);
    const what = await act();
    faults.push({ t: now(), what });
    log(`chaos: ${what}`);
  };
  const state = { pending };
  const fn = async (soldShare: number) => {
    await at('api', soldShare >= 0.15, async () => {
      const victim = cluster.apis[0]!;
      await cluster.kill(victim);
      pending.push(
        sleep(1000)
          .then(() => cluster.restart(victim))
          .then(() => void faults.push({ t: now(), what: `${victim.name} restarted` })),
      );
      return `SIGKILL api ${victim.name} (pid ${victim.child.pid})`;
    });
    await at('flush', soldShare >= 0.35, async () => {
      const tag = `{hold_${scheduleId}}`;
      const keys = ['seats', 'exp', 'sold', 'loaded', 'users', 'ver', 'log'].map((p) => `${cluster.redisPrefix}hold:${tag}:${p}`);
      const n = await raw.del(...keys);
      return `flush hot state: ${n} seat-hold keys of the showtime deleted`;
    });
    await at('worker', soldShare >= 0.55, async () => {
      const owner = await raw.get(`${cluster.redisPrefix}lease:{lease_job:waiting-room.admit}:owner`);
      const pid = Number(owner?.split('-')[0]);
      const leader = cluster.workers.find((w) => w.child.pid === pid) ?? cluster.workers[0]!;
      await cluster.kill(leader);
      pending.push(
        sleep(1000)
          .then(() => cluster.restart(leader))
          .then(() => void faults.push({ t: now(), what: `${leader.name} restarted` })),
      );
      return `SIGKILL leading worker ${leader.name} (pid ${pid}, the admission job's lease owner)`;
    });
  };
  chaosState.set(cluster, state);
  return fn;
}

const chaosState = new WeakMap<Cluster, { pending: Promise<void>[] }>();

async function chaosDone(cluster: Cluster): Promise<void> {
  await Promise.all(chaosState.get(cluster)?.pending ?? []);
}
