/**
 * The `coupons` scenario, in production mode (PostgreSQL + Redis) through real HTTP, on platform
 * campaigns an ADMIN created in-process (`coupons.service.createCampaign`: setup, not measurement):
 *
 *   a. first-come claims (POST /v1/coupons/:id/claims) from 200 connections, every request a new
 *      buyer with a token of its own, on a campaign of 1,000,000 coupons (it does not sell out
 *      during the run); then a short run on a campaign of 1,000, which sells out within its
 *      first fraction of a second, so nearly all of that run is the 409 SOLD_OUT path. A 409 is
 *      an answer, not a failure. The answers are also counted on the server side, by kind
 *      (ISSUED, SOLD_OUT, ALREADY_CLAIMED, CLAIM_NOT_OPEN), from the claim counter
 *      `mos_coupon_claims_total`: autocannon sees status codes only, and misses the requests
 *      still in flight when a timed run stops (the server answers them, and issues their coupons);
 *   b. the wallet consumer (`coupons.consumer.drainOnce()`, called in a loop until it handles
 *      nothing, COUPON_CONSUMER_BATCH = 500) persisting every coupon issued in (a), timed; then
 *      the wallet rows in PostgreSQL are checked against the coupons the server issued.
 *
 *   c. Redis persistence: the claim run of (a) again — a new app and database, a warm-up, then the
 *      measured run — against a throwaway `redis-server` (bench/redis-server.ts) per setting,
 *      `appendonly yes` with `appendfsync always`, then with `appendfsync everysec`, on a
 *      campaign of 1,000,000. Invariant 2 holds across a crash of the Redis host only for what
 *      Redis made durable before it answered: with `always`, every acknowledged claim (its issue
 *      event included); with `everysec`, all but up to about the last second of them. The
 *      figures say what that durability costs next to the runs of (a), whose Redis is the one
 *      of BENCH_REDIS_URL with whatever persistence it has (printed).
 *
 * The claim warm-up runs on a campaign of its own (its coupons are persisted, untimed, before
 * the measured run, which also warms the consumer up); no consumer runs during the claims (the
 * bench never starts the context's consumers), so (b) starts with the whole backlog.
 */
import { sql } from 'drizzle-orm';
import { performance as perf } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppContext } from '../src/context.js';
import { queryRows } from '../src/platform/db/client.js';
import type { Principal } from '../src/platform/http/auth.js';
import { newId } from '../src/platform/ids.js';
import { bestCoupons } from '../src/modules/coupons/index.js';
import { optimizerWorkload } from '../test/support/coupon-specs.js';
import { bareRow, buyerPlan, buyerToken, fireBuyers, loadJson, loadRow, newRunId, type LoadFigures } from './buyers.js';
import { duration, fmtInt, printTable, round, warmupSeconds, workers, type Figures } from './lib.js';
import { CPU_HEADER, cpuJson, cpuRow, withCpu, type CpuPerRequest } from './cpu.js';
import {
  ADMIN_URL,
  printTargets,
  REDIS_URL,
  shareOfBare,
  summarize,
  targetsJson,
  tokenSettings,
  under,
  withProduction,
  type BenchTarget,
} from './production.js';
import { REDIS_SERVER_BIN, startRedis, type ThrowawayRedis } from './redis-server.js';
import { Redis } from 'ioredis';

const CONNECTIONS = 200;
/** The measured campaign: far more than 200 connections claim in one run. */
const LARGE_QUANTITY = 1_000_000;
/** The sold-out run's campaign. */
const SMALL_QUANTITY = 1_000;
const WARMUP_QUANTITY = 1_000_000;
/** The sold-out run is short: after its first 1,000 answers it is all the same path. */
const SOLD_OUT_SECONDS = Math.min(duration, 3);
/** Events per `drainOnce` pass (the default is 200). Each pass reads up to this many stale and this many new events. */
const CONSUMER_BATCH = 500;
/** After a timed run stops, let the server answer what was still in flight before counting. */
const SETTLE_MS = 1000;

const TARGETS = { shareOfBare: 0.4, p99Ms: 50, optimizerMs: 5 } as const;

const ANSWERS = ['ISSUED', 'SOLD_OUT', 'ALREADY_CLAIMED', 'CLAIM_NOT_OPEN'] as const;
type Answers = Record<string, number>;

export interface ClaimRun extends LoadFigures {
  cpu: CpuPerRequest;
  campaignId: string;
  quantity: number;
  /** 201s per second (answered/s × the share of 201s among autocannon's answers). */
  issuedPerSecond: number;
  /** Server-side answers during the run and its settle time, by kind (from mos_coupon_claims_total). */
  answers: Answers;
  /** Coupons left after the run (the hot state in Redis). */
  remaining: number;
}

export interface WalletCheck {
  label: string;
  campaignId: string;
  /** 201s autocannon counted. */
  counted201: number;
  /** ISSUED answers of the server (each a 201 sent, read or not by autocannon). */
  issued: number;
  /** quantity − remaining in Redis. */
  taken: number;
  walletRows: number;
  ok: boolean;
}

/** The claim run against a throwaway redis-server with AOF on and this fsync policy. */
export interface AofRun {
  appendfsync: 'always' | 'everysec';
  /** Where its AOF was written (must be a real disk). */
  dir: string;
  run: ClaimRun | null;
  /** Why there is no run (no redis-server binary, it did not start…). */
  skipped?: string;
}

export interface CouponsResult {
  database: string;
  postgres: string;
  redis: string;
  redisPrefix: string;
  /** appendonly / appendfsync of the Redis of (a), as CONFIG GET reports them. */
  redisPersistence: string;
  aof: AofRun[];
  warmup: ClaimRun | null;
  /** Untimed persistence of the warm-up's coupons. */
  warmupDrain: { events: number; seconds: number } | null;
  large: ClaimRun;
  soldOut: ClaimRun;
  drain: {
    batch: number;
    passes: number;
    /** What drainOnce said it handled, summed. */
    events: number;
    /** Wallet rows added during the drain. */
    persisted: number;
    seconds: number;
    persistedPerSecond: number;
    passMs: { p50: number; max: number };
    /** Consumer failure and dead-letter counters (should stay 0). */
    failed: number;
    deadLettered: number;
  };
  checks: WalletCheck[];
  walletMismatch: boolean;
  /** `bestCoupons` on 10 seats × 100 mixed coupons, in-process, after warm-up runs. */
  optimizer: { runs: number; ms: { p50: number; max: number } };
  bareRps: number;
  targets: BenchTarget[];
}

const OPTIMIZER_RUNS = 200;

/** The best-coupon optimizer on its sizing case (10 seats, 100 coupons), timed run by run. */
function timeOptimizer(): CouponsResult['optimizer'] {
  const { seats, coupons } = optimizerWorkload();
  for (let k = 0; k < 20; k++) bestCoupons(seats, coupons); // warm-up (JIT)
  const times: number[] = [];
  for (let k = 0; k < OPTIMIZER_RUNS; k++) {
    const start = perf.now();
    bestCoupons(seats, coupons);
    times.push(perf.now() - start);
  }
  return { runs: OPTIMIZER_RUNS, ms: summarize(times) };
}

/** Current value of a counter, per value of `label` (or under '' without labels). */
async function counter(ctx: AppContext, name: string, label?: string): Promise<Answers> {
  const metric = ctx.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const out: Answers = {};
  for (const v of values) {
    const k = label ? String(v.labels[label] ?? '') : '';
    out[k] = (out[k] ?? 0) + v.value;
  }
  return out;
}

const claimAnswers = (ctx: AppContext) => counter(ctx, 'mos_coupon_claims_total', 'answer');
const total = async (ctx: AppContext, name: string) => (await counter(ctx, name))[''] ?? 0;

function delta(after: Answers, before: Answers): Answers {
  const out: Answers = {};
  for (const k of new Set([...Object.keys(after), ...Object.keys(before)])) {
    const d = (after[k] ?? 0) - (before[k] ?? 0);
    if (d) out[k] = d;
  }
  return out;
}

const walletRows = async (ctx: AppContext, campaignId?: string): Promise<number> => {
  const [row] = await queryRows<{ n: number }>(
    ctx.database.db,
    campaignId ? sql`select count(*)::int as n from coupons where campaign_id = ${campaignId}` : sql`select count(*)::int as n from coupons`,
  );
  return row?.n ?? 0;
};

/** drainOnce until a pass handles nothing; per-pass wall times. */
async function drain(ctx: AppContext): Promise<{ events: number; passes: number[]; seconds: number }> {
  const passes: number[] = [];
  let events = 0;
  const started = perf.now();
  for (;;) {
    const t = perf.now();
    const n = await ctx.coupons.consumer.drainOnce();
    passes.push(perf.now() - t);
    if (!n) break;
    events += n;
  }
  return { events, passes, seconds: (perf.now() - started) / 1000 };
}

const createBenchCampaign = async (ctx: AppContext, name: string, quantity: number): Promise<string> => {
  // A platform campaign, open since a minute ago, valid for 30 days, one coupon per buyer.
  const admin: Principal = { id: newId(), role: 'ADMIN' };
  const now = Date.now();
  const created = await ctx.coupons.service.createCampaign(admin, {
    name,
    kind: 'FIXED',
    params: { amount: 3000 },
    appliesTo: 'ORDER',
    quantity,
    perUserLimit: 1,
    claimOpensAt: new Date(now - 60_000).toISOString(),
    validUntil: new Date(now + 30 * 86_400_000).toISOString(),
  });
  return created.id;
};

/** One timed claim run by new buyers on a campaign, with the server's answers and CPU per request. */
async function claimRun(ctx: AppContext, base: string, redisUrl: string, campaignId: string, quantity: number, seconds: number): Promise<ClaimRun> {
  const jwt = tokenSettings(ctx);
  const before = await claimAnswers(ctx);
  const f = await withCpu(ADMIN_URL, redisUrl, () =>
    fireBuyers({
      url: `${base}/v1/coupons/${campaignId}/claims`,
      method: 'POST',
      connections: CONNECTIONS,
      plan: buyerPlan({ kind: 'coupon-claim', ...jwt, runId: newRunId(), scheduleId: '' }),
      ok: [201, 409],
      seconds,
    }),
  );
  await sleep(SETTLE_MS);
  const answers = delta(await claimAnswers(ctx), before);
  const counted201 = f.statusCodes['201'] ?? 0;
  return {
    ...f,
    campaignId,
    quantity,
    issuedPerSecond: f.requests ? f.rps * (counted201 / f.requests) : 0,
    answers,
    remaining: (await ctx.coupons.service.getCampaign(campaignId)).remaining,
  };
}

/** appendonly / appendfsync of a Redis, or why they cannot be read (CONFIG may be disabled). */
async function persistenceOf(url: string): Promise<string> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const [, aof] = (await r.config('GET', 'appendonly')) as string[];
    const [, fsync] = (await r.config('GET', 'appendfsync')) as string[];
    return aof === 'yes' ? `appendonly yes, appendfsync ${fsync}` : 'appendonly no (no AOF)';
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  } finally {
    r.disconnect();
  }
}

/** (c): a warm-up then the measured claim run, on a fresh app whose Redis is a throwaway redis-server with AOF and `appendfsync`. */
async function aofRun(appendfsync: AofRun['appendfsync']): Promise<AofRun> {
  let server: ThrowawayRedis;
  try {
    server = await startRedis({ appendonly: 'yes', appendfsync });
  } catch (err) {
    return { appendfsync, dir: '', run: null, skipped: `${REDIS_SERVER_BIN}: ${(err as Error).message}` };
  }
  try {
    const url = server.url;
    const run = await withProduction({ REDIS_URL: url, COUPON_CONSUMER_BATCH: String(CONSUMER_BATCH) }, async ({ ctx, base }) => {
      const id = await createBenchCampaign(ctx, `Bench AOF ${appendfsync}`, LARGE_QUANTITY);
      if (warmupSeconds > 0) await claimRun(ctx, base, url, id, LARGE_QUANTITY, warmupSeconds);
      return claimRun(ctx, base, url, id, LARGE_QUANTITY, duration);
    });
    return { appendfsync, dir: server.dir, run };
  } finally {
    await server.stop();
  }
}

export async function benchCoupons(bare: Figures): Promise<CouponsResult> {
  const env = { COUPON_CONSUMER_BATCH: String(CONSUMER_BATCH) };
  const main = await withProduction(env, async ({ ctx, base, ...where }) => {
    const jwt = tokenSettings(ctx);
    await ctx.identity.verifyAccessToken(buyerToken({ ...jwt, runId: newRunId() }, 0)); // setup check

    const warmupId = warmupSeconds > 0 ? await createBenchCampaign(ctx, 'Bench warm-up', WARMUP_QUANTITY) : undefined;
    const largeId = await createBenchCampaign(ctx, 'Bench 1,000,000', LARGE_QUANTITY);
    const smallId = await createBenchCampaign(ctx, 'Bench 1,000', SMALL_QUANTITY);
    const run = (campaignId: string, quantity: number, seconds: number) => claimRun(ctx, base, REDIS_URL, campaignId, quantity, seconds);

    // Warm-up: claims on a campaign of its own, then its coupons persisted (untimed).
    let warmup: ClaimRun | null = null;
    let warmupDrain: CouponsResult['warmupDrain'] = null;
    if (warmupId) {
      warmup = await run(warmupId, WARMUP_QUANTITY, warmupSeconds);
      const d = await drain(ctx);
      warmupDrain = { events: d.events, seconds: d.seconds };
    }

    // (a) the measured run, then the sold-out run.
    const large = await run(largeId, LARGE_QUANTITY, duration);
    const soldOut = await run(smallId, SMALL_QUANTITY, SOLD_OUT_SECONDS);
    // (b) the consumer, with the whole backlog of (a) waiting.
    const rowsBefore = await walletRows(ctx);
    const [failedBefore, deadBefore] = [await total(ctx, 'mos_coupon_events_failed_total'), await total(ctx, 'mos_coupon_events_dead_lettered_total')];
    const d = await drain(ctx);
    const persisted = (await walletRows(ctx)) - rowsBefore;
    const failed = (await total(ctx, 'mos_coupon_events_failed_total')) - failedBefore;
    const deadLettered = (await total(ctx, 'mos_coupon_events_dead_lettered_total')) - deadBefore;

    // Every coupon the server issued must be in a wallet, exactly once.
    const checks: WalletCheck[] = [];
    for (const [label, run] of [...(warmup ? [['warm-up', warmup] as const] : []), ['measured', large] as const, ['sold-out', soldOut] as const]) {
      const issued = run.answers.ISSUED ?? 0;
      const taken = run.quantity - run.remaining;
      const rows = await walletRows(ctx, run.campaignId);
      checks.push({
        label,
        campaignId: run.campaignId,
        counted201: run.statusCodes['201'] ?? 0,
        issued,
        taken,
        walletRows: rows,
        ok: rows === issued && rows === taken,
      });
    }
    // Last, with no load running: the optimizer alone.
    const optimizer = timeOptimizer();

    return {
      ...where,
      warmup,
      warmupDrain,
      large,
      soldOut,
      drain: {
        batch: ctx.config.coupons.consumerBatch,
        passes: d.passes.length,
        events: d.events,
        persisted,
        seconds: d.seconds,
        persistedPerSecond: d.seconds > 0 ? persisted / d.seconds : 0,
        passMs: summarize(d.passes),
        failed,
        deadLettered,
      },
      checks,
      walletMismatch: checks.some((c) => !c.ok),
      optimizer,
      bareRps: bare.rps,
      targets: [
        shareOfBare(`claims answered/s (${CONNECTIONS} conn.)`, large.rps, TARGETS.shareOfBare, bare.rps, large.failures),
        under(`claims p99 (${CONNECTIONS} conn.)`, large.p99, TARGETS.p99Ms, large.failures),
        under('best-coupon optimizer, 10 seats × 100 coupons, median', optimizer.ms.p50, TARGETS.optimizerMs, 0, 3),
      ],
    };
  });
  // (c) after (a) and (b) are over, one setting after the other: never two loads at once.
  const redisPersistence = await persistenceOf(REDIS_URL);
  const aof: AofRun[] = [];
  for (const fsync of ['always', 'everysec'] as const) aof.push(await aofRun(fsync));
  return { ...main, redisPersistence, aof };
}

// ---- output ----

const answersText = (a: Answers) =>
  [...ANSWERS, ...Object.keys(a).filter((k) => !(ANSWERS as readonly string[]).includes(k))]
    .filter((k) => a[k])
    .map((k) => `${k}×${fmtInt(a[k]!)}`)
    .join(' ') || '-';

export function printCoupons(r: CouponsResult, bare: Figures): void {
  console.log('');
  console.log(`Coupons — production mode: PostgreSQL ${r.postgres} (throwaway database ${r.database}), Redis ${r.redis} (prefix ${r.redisPrefix})`);
  console.log(
    `platform campaigns (FIXED 3,000, 1 per buyer, open); a new buyer (own token) per request; ${workers || 'no'} load worker(s); ` +
      `COUPON_CONSUMER_BATCH=${r.drain.batch}, RATE_LIMIT_MAX=100000000; no consumer runs during the claims`,
  );
  const row = (name: string, f: ClaimRun, run: string): string[] =>
    loadRow(name, run, f, bare, { afterRate: [fmtInt(f.issuedPerSecond)], afterStatuses: [answersText(f.answers), fmtInt(f.remaining)] });
  printTable([
    [
      'POST /v1/coupons/:id/claims',
      'run',
      'conns',
      'requests',
      'answered/s',
      '201/s',
      'p50 ms',
      'p99 ms',
      'statuses (client)',
      'answers (server)',
      'left',
      'failures',
      'answered/s ÷ bare',
    ],
    row(`campaign of ${fmtInt(r.large.quantity)}`, r.large, `${duration} s`),
    row(`campaign of ${fmtInt(r.soldOut.quantity)} (sells out)`, r.soldOut, `${SOLD_OUT_SECONDS} s`),
    bareRow(bare, { afterRate: 1, afterStatuses: 2 }),
  ]);
  console.log('');
  printTable([
    CPU_HEADER,
    cpuRow(`claims, campaign of ${fmtInt(r.large.quantity)}`, r.large.cpu),
    cpuRow(`claims, campaign of ${fmtInt(r.soldOut.quantity)} (sells out)`, r.soldOut.cpu),
  ]);

  console.log('');
  console.log(
    `Redis persistence — the same claims (campaign of ${fmtInt(LARGE_QUANTITY)}, ${CONNECTIONS} connections, a new buyer per request) against a throwaway ` +
      `redis-server per AOF setting (own port and data directory, after a ${warmupSeconds} s warm-up), next to the run above on ${r.redis} (${r.redisPersistence})`,
  );
  const aofRows = r.aof.map((a) =>
    a.run
      ? row(`appendonly yes, appendfsync ${a.appendfsync}`, a.run, `${duration} s`)
      : [`appendonly yes, appendfsync ${a.appendfsync}`, `skipped: ${a.skipped ?? ''}`],
  );
  printTable([
    [
      'POST /v1/coupons/:id/claims',
      'run',
      'conns',
      'requests',
      'answered/s',
      '201/s',
      'p50 ms',
      'p99 ms',
      'statuses (client)',
      'answers (server)',
      'left',
      'failures',
      'answered/s ÷ bare',
    ],
    row(`${r.redis}: ${r.redisPersistence}`, r.large, `${duration} s`),
    ...aofRows,
  ]);
  const aofCpu = r.aof.filter((a) => a.run).map((a) => cpuRow(`claims, appendfsync ${a.appendfsync}`, a.run!.cpu));
  if (aofCpu.length) printTable([CPU_HEADER, cpuRow(`claims, ${r.redisPersistence}`, r.large.cpu), ...aofCpu]);
  console.log(
    'window of loss on a crash of the Redis host (README "Redis persistence"): appendfsync always — none for an acknowledged claim, bar the loss of the disk; ' +
      'everysec — up to about the last second of acknowledged claims, rolled back with their stock and buyer records, so the restarted state looks whole and is not flagged. ' +
      `AOF directories: ${r.aof.map((a) => a.dir || '-').join(', ')} (must be a real disk: on tmpfs an fsync costs nothing)`,
  );
  console.log(
    `a 409 is an answer, not a failure. "answers (server)" come from mos_coupon_claims_total and include the requests still in flight when ` +
      `autocannon stopped (answered by the server, unseen by the client). ` +
      (r.warmup
        ? `warm-up discarded: ${warmupSeconds} s on a campaign of its own (${fmtInt(r.warmup.requests)} claims, ${answersText(r.warmup.answers)}), ` +
          `its ${fmtInt(r.warmupDrain?.events ?? 0)} coupons persisted untimed in ${(r.warmupDrain?.seconds ?? 0).toFixed(2)} s`
        : 'no warm-up'),
  );

  const d = r.drain;
  console.log('');
  console.log(`Wallet consumer — coupons.consumer.drainOnce() in a loop until it handles nothing, batch ${d.batch}, backlog of the two runs above`);
  printTable([
    ['events handled', 'wallet rows added', 'passes', 'seconds', 'coupons persisted/s', 'pass p50 ms', 'pass max ms', 'failed', 'dead-lettered'],
    [
      fmtInt(d.events),
      fmtInt(d.persisted),
      String(d.passes),
      d.seconds.toFixed(2),
      fmtInt(d.persistedPerSecond),
      d.passMs.p50.toFixed(1),
      d.passMs.max.toFixed(1),
      String(d.failed),
      String(d.deadLettered),
    ],
  ]);
  console.log('');
  console.log('Wallet check — rows in PostgreSQL per campaign vs coupons the server issued');
  printTable([
    ['campaign', '201s counted by client', 'ISSUED (server)', 'quantity − left (Redis)', 'wallet rows', 'result'],
    ...r.checks.map((c) => [c.label, fmtInt(c.counted201), fmtInt(c.issued), fmtInt(c.taken), fmtInt(c.walletRows), c.ok ? 'OK' : '*** MISMATCH ***']),
  ]);
  if (r.walletMismatch) {
    const bad = r.checks.filter((c) => !c.ok);
    console.error('');
    console.error('!'.repeat(100));
    for (const c of bad) {
      console.error(
        `!!! WALLET MISMATCH (${c.label} campaign ${c.campaignId}): ${fmtInt(c.walletRows)} wallet rows, ${fmtInt(c.issued)} coupons issued by the server, ` +
          `${fmtInt(c.taken)} taken from stock — a buyer told "issued" must end up with exactly one coupon: this is a bug`,
      );
    }
    console.error('!'.repeat(100));
  }
  console.log('');
  console.log(
    `Best-coupon optimizer — bestCoupons on 10 seats × 100 mixed coupons (test/support/coupon-specs.ts), in-process: ` +
      `${r.optimizer.runs} runs, median ${r.optimizer.ms.p50.toFixed(3)} ms, max ${r.optimizer.ms.max.toFixed(3)} ms`,
  );
  printTargets(r.targets);
}

/** The coupons part of the final JSON line. */
export function couponsJson(r: CouponsResult) {
  const load = (f: ClaimRun) => ({
    quantity: f.quantity,
    ...loadJson(f, r.bareRps),
    issuedPerSecond: round(f.issuedPerSecond, 0),
    answers: f.answers,
    remaining: f.remaining,
    cpuMicrosPerRequest: cpuJson(f.cpu),
  });
  return {
    mode: 'production',
    claims: load(r.large),
    soldOut: load(r.soldOut),
    consumer: {
      batch: r.drain.batch,
      passes: r.drain.passes,
      events: r.drain.events,
      persisted: r.drain.persisted,
      seconds: round(r.drain.seconds, 3),
      persistedPerSecond: round(r.drain.persistedPerSecond, 0),
      passP50Ms: round(r.drain.passMs.p50, 2),
      passMaxMs: round(r.drain.passMs.max, 2),
      failed: r.drain.failed,
      deadLettered: r.drain.deadLettered,
    },
    wallet: r.checks.map((c) => ({ campaign: c.label, counted201: c.counted201, issued: c.issued, taken: c.taken, walletRows: c.walletRows, ok: c.ok })),
    walletMismatch: r.walletMismatch,
    optimizer: { runs: r.optimizer.runs, p50Ms: round(r.optimizer.ms.p50, 3), maxMs: round(r.optimizer.ms.max, 3) },
    redisPersistence: r.redisPersistence,
    aof: r.aof.map((a) => ({ appendfsync: a.appendfsync, ...(a.run ? { claims: load(a.run) } : { skipped: a.skipped }) })),
    targets: targetsJson(r.targets),
  };
}
