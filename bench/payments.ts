/**
 * The `payments` scenario, in production mode (PostgreSQL + Redis) through real HTTP, with the
 * sandbox PG mounted in the same API process (TOSS_SANDBOX=true, TOSS_API_URL pointing at the
 * process's own /sandbox/toss: a confirm goes through the Toss client, HTTP over loopback, Basic
 * auth, the sandbox's idempotency and latency, exactly as it would to Toss). Run once per PG
 * latency (SANDBOX_LATENCY_MS 0, then 300), each on a fresh server, database and Redis prefix —
 * a restart, since the sandbox reads its latency at start:
 *
 *   a. orders (POST /v1/orders, as bench/booking.ts): buyers who each hold 2 seats (held
 *      in-process before the run) place their order. This is the comparison the confirm target
 *      is measured against, in the same run, and it leaves every buyer a PENDING order;
 *   b. each order is checked out at the sandbox in-process (`sandbox.service.checkout`: the
 *      payment widget's part, the buyer authenticating) — setup, not measurement;
 *   c. the outbox relay starts — as a worker runs it (a context of its own: its own pool and
 *      Redis connection, a JobRunner with only `events.relay`), but in this process, sharing its
 *      CPU — and drains the orders' `order.created` backlog;
 *   d. confirms (POST /v1/payments/confirm {paymentKey, orderId, amount}, an Idempotency-Key
 *      each) from 200 connections, every buyer paying their own order once, while the relay
 *      publishes the `payment.completed` events: confirms/s, p50/p99, CPU per confirm by part,
 *      the app's event-loop utilisation and the database pool's queue, sampled;
 *   e. relay lag of the confirm run's `payment.completed` events: the relay's own (from when the
 *      event is first seen committed to its publication) and as `mos_outbox_relay_lag_seconds`
 *      measures it (occurred_at → published_at, exactly from the outbox, and its histogram);
 *   f. (PG latency 0 only) the sandbox PG alone: its own confirm route from 200 connections, to
 *      tell what the sandbox mounted in the API process costs that process per confirm.
 *
 * Buyers per run scale with BENCH_DURATION (CONFIRMS_PER_SECOND_OF_RUN a second), so the default
 * run stays short; every confirm has a buyer of its own, never a replayed one (a repeat of a paid
 * confirm is answered from the database, which is cheaper and would flatter the figures).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance as perf } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import type { Histogram } from 'prom-client';
import { createContext, type AppContext } from '../src/context.js';
import { SANDBOX_PREFIX } from '../src/modules/payments/sandbox/index.js';
import { queryRows } from '../src/platform/db/client.js';
import { JobRunner } from '../src/platform/jobs/runner.js';
import { holdSeatsForBuyers, ORDER_CONNECTIONS } from './booking.js';
import { bareRow, buyerId, buyerPlan, fireBuyers, loadJson, loadRow, newRunId, type LoadFigures, type PreparedPayment } from './buyers.js';
import { CPU_HEADER, cpuJson, cpuRow, withCpu, type CpuPerRequest } from './cpu.js';
import { duration, fmtInt, freePort, printTable, round, warmupSeconds, workers, type Figures } from './lib.js';
import {
  ADMIN_URL,
  createShowtimes,
  printTargets,
  REDIS_URL,
  target,
  targetsJson,
  tokenSettings,
  under,
  withProduction,
  type BenchTarget,
} from './production.js';

const CONFIRM_CONNECTIONS = 200;
const PG_LATENCIES_MS = [0, 300] as const;
/** Prepared buyers per second of BENCH_DURATION (a 2-core VM confirms 50–100/s: a default run takes 10–20 s). */
const CONFIRMS_PER_SECOND_OF_RUN = 100;
/** Further buyers per second of BENCH_WARMUP: their orders and confirms are the discarded warm-ups. */
const WARMUP_PER_SECOND = 100;
/** Checkouts the sandbox-alone run confirms. */
const SANDBOX_ALONE_CALLS = 3000;
const SEATS_PER_SECTION = { rows: 50, seatsPerRow: 50 }; // 2,500

const TARGETS = { confirmShareOfOrders: 0.5, p99OverPgMs: 150, relayLagP99Ms: 1000 } as const;

/** What the app's own process looked like during a run. */
export interface Pressure {
  /** Event-loop utilisation of the app's thread, 0–1. */
  elu: number;
  poolSize: number;
  /** Requests waiting for a pooled PostgreSQL connection: mean and max over the samples, and the share of samples with any. */
  poolWaitingMean: number;
  poolWaitingMax: number;
  poolWaitingShare: number;
  /** Connections checked out of the pool per second, and the mean wait for one (Little's law: waiting ÷ rate), ms. */
  poolAcquiresPerSecond: number;
  poolWaitMs: number;
}

export interface RelayFigures {
  /** The orders' `order.created` backlog, drained once the relay starts. */
  drain: { events: number; seconds: number };
  /** Events the relay published while the confirm run lasted. */
  publishedDuringRun: number;
  publishedPerSecond: number;
  /** `payment.completed` of the measured confirms: published_at − occurred_at, ms (what the metric measures). */
  lag: { events: number; p50: number; p99: number; max: number };
  /** The relay's own part: published_at − when the event was first seen committed (10 ms polls), ms. */
  ownLag: { events: number; p50: number; p99: number; max: number };
  /** The smallest `mos_outbox_relay_lag_seconds` bucket bound holding 99% of the run's observations (s); null if none. */
  histogramP99: number | null;
}

export interface PaymentsRun {
  pgLatencyMs: number;
  database: string;
  redisPrefix: string;
  buyers: number;
  prepare: { holdSeconds: number; checkoutSeconds: number };
  orders: LoadFigures & { createdPerSecond: number; cpu: CpuPerRequest };
  confirms: LoadFigures & { paidPerSecond: number; cpu: CpuPerRequest; pressure: Pressure };
  relay: RelayFigures;
  sandboxAlone: (LoadFigures & { cpu: CpuPerRequest }) | null;
  bottlenecks: string[];
  targets: BenchTarget[];
}

export interface PaymentsResult {
  postgres: string;
  redis: string;
  runs: PaymentsRun[];
  targets: BenchTarget[];
}

export async function benchPayments(): Promise<PaymentsResult> {
  const runs: PaymentsRun[] = [];
  let where = { postgres: '', redis: '' };
  for (const latency of PG_LATENCIES_MS) {
    const run = await paymentsRun(latency);
    where = { postgres: run.where.postgres, redis: run.where.redis };
    runs.push(run.result);
  }
  const sandboxAppUs = runs.find((x) => x.sandboxAlone)?.sandboxAlone?.cpu.apiThread ?? null;
  for (const run of runs) run.bottlenecks = bottlenecks(run, sandboxAppUs);
  return { ...where, runs, targets: runs.flatMap((r) => r.targets) };
}

async function paymentsRun(pgLatencyMs: number): Promise<{ result: PaymentsRun; where: { postgres: string; redis: string } }> {
  const port = await freePort();
  const env = {
    // An hour: no hold lapses between its preparation and its order, no order mid-run.
    HOLD_TTL_SECONDS: '3600',
    PAYMENT_WINDOW_SECONDS: '3600',
    PORT: String(port),
    TOSS_SANDBOX: 'true',
    TOSS_API_URL: `http://127.0.0.1:${port}${SANDBOX_PREFIX}`,
    SANDBOX_LATENCY_MS: String(pgLatencyMs),
  };
  return withProduction(
    env,
    async ({ ctx, base, ...where }) => {
      const sandbox = ctx.sandbox;
      if (!sandbox) throw new Error('payments bench: the sandbox PG is not mounted (TOSS_SANDBOX)');
      const jwt = tokenSettings(ctx);
      const measured = CONFIRMS_PER_SECOND_OF_RUN * duration;
      const warm = warmupBuyers();
      const buyers = warm + measured;
      const sections = Math.ceil((2 * buyers) / (SEATS_PER_SECTION.rows * SEATS_PER_SECTION.seatsPerRow));
      const {
        scheduleIds: [scheduleId],
        seatIds,
      } = await createShowtimes(ctx, { sections, ...SEATS_PER_SECTION, count: 1 });

      // (a) orders: buyer i holds seats 2i and 2i+1 and orders them.
      const runId = newRunId();
      const holdSeconds = await holdSeatsForBuyers(ctx, runId, scheduleId!, seatIds, buyers);
      const orderPlan = buyerPlan({ kind: 'order', ...jwt, runId, scheduleId: scheduleId!, seatIds });
      const orderRun = (amount: number) =>
        fireBuyers({ url: `${base}/v1/orders`, method: 'POST', connections: ORDER_CONNECTIONS, plan: orderPlan, ok: [201], amount });
      if (warm > 0) await orderRun(warm);
      const ordered = await withCpu(ADMIN_URL, REDIS_URL, () => orderRun(measured));
      const createdPerSecond = ordered.requests ? ordered.rps * ((ordered.statusCodes['201'] ?? 0) / ordered.requests) : 0;

      // (b) every order checked out at the PG: payments[i] is buyer i's.
      const checkoutStarted = perf.now();
      const payments = await checkouts(ctx, runId, scheduleId!, buyers);
      const checkoutSeconds = (perf.now() - checkoutStarted) / 1000;

      // (c) the relay, from here to the end, draining the orders' events first. It runs as a worker
      // would — a context of its own, so its own pool and Redis connection, with a JobRunner of
      // only `events.relay` — but in this process: it shares the API's CPU and event loop, and
      // its CPU is in the confirms' figures.
      const worker = await createContext({ ...ctx.config, sandbox: { ...ctx.config.sandbox, enabled: false } }, { logger: ctx.logger });
      const relayJob = worker.jobs.find((j) => j.name === 'events.relay');
      if (!relayJob) throw new Error('payments bench: no events.relay job in the context');
      const runner = new JobRunner({ leases: worker.leases, leaseMs: worker.config.jobs.leaseSeconds * 1000, logger: worker.logger });
      const backlog = await unpublished(ctx);
      const drainStarted = perf.now();
      runner.start([relayJob]);
      try {
        await untilPublished(ctx);
        const drain = { events: backlog, seconds: (perf.now() - drainStarted) / 1000 };

        // (d) confirms, each buyer paying their own order.
        const confirmPlan = buyerPlan({ kind: 'confirm', ...jwt, runId, scheduleId: scheduleId!, payments });
        const confirmRun = (amount: number) =>
          fireBuyers({ url: `${base}/v1/payments/confirm`, method: 'POST', connections: CONFIRM_CONNECTIONS, plan: confirmPlan, ok: [200], amount });
        if (warm > 0) await confirmRun(warm);
        await untilPublished(ctx); // the warm-up's events are not the run's
        lagHistogram(worker).reset();
        const runStart = new Date(ctx.clock.now().getTime());
        const stopWatching = await commitWatcher(ctx.config.db.url!);
        const pressure = pressureMeter(ctx);
        const confirmed = await withCpu(ADMIN_URL, REDIS_URL, () => confirmRun(measured));
        const pressed = pressure();
        const runEnd = new Date(ctx.clock.now().getTime());
        const paidPerSecond = confirmed.requests ? confirmed.rps * ((confirmed.statusCodes['200'] ?? 0) / confirmed.requests) : 0;

        // (e) the relay's lag for the run's payment.completed events, once all are out.
        await untilPublished(ctx);
        const committedAt = await stopWatching();
        const relay = { drain, ...(await relayFigures(ctx, lagHistogram(worker), committedAt, runStart, runEnd)) };

        // (f) the sandbox PG by itself, on checkouts of orders MOS never saw.
        const sandboxAlone = pgLatencyMs === 0 ? await benchSandboxAlone(ctx, base, jwt) : null;

        const result: PaymentsRun = {
          pgLatencyMs,
          database: where.database,
          redisPrefix: where.redisPrefix,
          buyers,
          prepare: { holdSeconds, checkoutSeconds },
          orders: { ...ordered, createdPerSecond },
          confirms: { ...confirmed, paidPerSecond, pressure: pressed },
          relay,
          sandboxAlone,
          bottlenecks: [],
          targets: [],
        };
        result.targets = runTargets(result);
        return { result, where: { postgres: where.postgres, redis: where.redis } };
      } finally {
        try {
          await runner.stop([relayJob]);
        } finally {
          await worker.close();
        }
      }
    },
    port,
  );
}

/** autocannon refuses a fixed-amount run with fewer requests than connections. */
const warmupBuyers = () => (warmupSeconds > 0 ? Math.max(CONFIRM_CONNECTIONS, WARMUP_PER_SECOND * warmupSeconds) : 0);

/** Buyer i's order, checked out at the sandbox as the payment widget would: `payments[i]`. */
async function checkouts(ctx: AppContext, runId: string, scheduleId: string, buyers: number): Promise<PreparedPayment[]> {
  const rows = await queryRows<{ id: string; user_id: string; amount: number; order_name: string }>(
    ctx.database.db,
    sql`select id, user_id, amount, order_name from orders where schedule_id = ${scheduleId} and status = 'PENDING_PAYMENT'`,
  );
  const byBuyer = new Map(rows.map((r) => [r.user_id, r]));
  const payments: PreparedPayment[] = [];
  for (let i = 0; i < buyers; i++) {
    const order = byBuyer.get(buyerId(runId, i));
    // A missing order is a failed order request, already counted; the confirm run needs them all.
    if (!order) throw new Error(`payments bench: buyer ${i} has no pending order (${rows.length} of ${buyers} orders placed)`);
    const { paymentKey } = ctx.sandbox!.service.checkout({ orderId: order.id, amount: order.amount, orderName: order.order_name });
    payments.push({ paymentKey, orderId: order.id, amount: order.amount });
  }
  return payments;
}

async function unpublished(ctx: AppContext): Promise<number> {
  const [row] = await queryRows<{ n: number }>(ctx.database.db, sql`select count(*)::int as n from outbox where published_at is null`);
  return row?.n ?? 0;
}

/** Waits until the relay has published every outbox event (30 s at most: then it says so). */
async function untilPublished(ctx: AppContext, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const left = await unpublished(ctx);
    if (left === 0) return;
    if (Date.now() > end) throw new Error(`payments bench: the relay left ${left} outbox events unpublished after ${deadlineMs / 1000} s`);
    await sleep(20);
  }
}

const lagHistogram = (ctx: AppContext) => ctx.metrics.registry.getSingleMetric('mos_outbox_relay_lag_seconds') as Histogram;

async function relayFigures(
  ctx: AppContext,
  histogram: Histogram,
  committedAt: Map<string, number>,
  from: Date,
  to: Date,
): Promise<Omit<RelayFigures, 'drain'>> {
  const events = await queryRows<{ id: string; published_ms: number }>(
    ctx.database.db,
    sql`select id, (extract(epoch from published_at) * 1000)::float8 as published_ms from outbox
        where type = 'payment.completed' and occurred_at >= ${from} and occurred_at <= ${to}`,
  );
  const own = events
    .filter((e) => committedAt.has(e.id))
    .map((e) => Math.max(0, Number(e.published_ms) - committedAt.get(e.id)!))
    .sort((a, b) => a - b);
  const at = (q: number) => own[Math.min(own.length - 1, Math.ceil(q * own.length) - 1)] ?? 0;
  const [lag] = await queryRows<{ n: number; p50: number | null; p99: number | null; max: number | null }>(
    ctx.database.db,
    sql`select count(*)::int as n,
          percentile_cont(0.5) within group (order by extract(epoch from published_at - occurred_at)) * 1000 as p50,
          percentile_cont(0.99) within group (order by extract(epoch from published_at - occurred_at)) * 1000 as p99,
          max(extract(epoch from published_at - occurred_at)) * 1000 as max
        from outbox
        where type = 'payment.completed' and occurred_at >= ${from} and occurred_at <= ${to}`,
  );
  const [published] = await queryRows<{ n: number }>(
    ctx.database.db,
    sql`select count(*)::int as n from outbox where published_at >= ${from} and published_at <= ${to}`,
  );
  const seconds = (to.getTime() - from.getTime()) / 1000;
  const { values } = await histogram.get();
  const buckets = values
    .filter((v) => v.metricName === 'mos_outbox_relay_lag_seconds_bucket')
    .map((v) => ({ le: v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le), n: v.value }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.n ?? 0;
  const histogramP99 = total ? (buckets.find((b) => b.n >= 0.99 * total)?.le ?? null) : null;
  return {
    publishedDuringRun: published?.n ?? 0,
    publishedPerSecond: seconds > 0 ? (published?.n ?? 0) / seconds : 0,
    lag: { events: lag?.n ?? 0, p50: Number(lag?.p50 ?? 0), p99: Number(lag?.p99 ?? 0), max: Number(lag?.max ?? 0) },
    // Events committed and published between two polls were never seen unpublished: left out.
    ownLag: { events: own.length, p50: at(0.5), p99: at(0.99), max: own.at(-1) ?? 0 },
    histogramP99,
  };
}

/**
 * Notes when each `payment.completed` event becomes visible (committed) in the outbox, polling
 * every 10 ms on a connection of its own: the relay's own lag is publication − first sight. The
 * event's `occurred_at` cannot serve: the paying transaction stamps it before it waits for its
 * pooled connection, so occurred → published (what `mos_outbox_relay_lag_seconds` measures)
 * also counts that wait and the transaction itself.
 */
async function commitWatcher(url: string): Promise<() => Promise<Map<string, number>>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const seen = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await client.query<{ id: string }>(`select id from outbox where published_at is null and type = 'payment.completed'`);
      const at = Date.now();
      for (const r of rows) if (!seen.has(r.id)) seen.set(r.id, at);
      await sleep(10);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await client.end();
    return seen;
  };
}

/** Samples the app thread's event-loop utilisation and the database pool's queue until the returned function is called. */
function pressureMeter(ctx: AppContext): () => Pressure {
  const raw = ctx.database.raw;
  const pool = raw.kind === 'postgres' ? raw.pool : null;
  const elu = perf.eventLoopUtilization();
  const started = perf.now();
  const waiting: number[] = [];
  const timer = setInterval(() => waiting.push(pool?.waitingCount ?? 0), 10);
  let acquires = 0;
  const onAcquire = () => acquires++;
  pool?.on('acquire', onAcquire);
  return () => {
    clearInterval(timer);
    pool?.off('acquire', onAcquire);
    const n = waiting.length || 1;
    const rate = acquires / ((perf.now() - started) / 1000);
    const waitingMean = waiting.reduce((a, b) => a + b, 0) / n;
    return {
      poolAcquiresPerSecond: rate,
      poolWaitMs: rate > 0 ? (waitingMean / rate) * 1000 : 0,
      elu: perf.eventLoopUtilization(elu).utilization,
      poolSize: ctx.config.db.poolSize,
      poolWaitingMean: waiting.reduce((a, b) => a + b, 0) / n,
      poolWaitingMax: Math.max(0, ...waiting),
      poolWaitingShare: waiting.filter((w) => w > 0).length / n,
    };
  };
}

/** The sandbox's confirm route alone, as MOS's Toss client calls it: what it costs the process that mounts it. */
async function benchSandboxAlone(ctx: AppContext, base: string, jwt: ReturnType<typeof tokenSettings>): Promise<LoadFigures & { cpu: CpuPerRequest }> {
  const sandbox = ctx.sandbox!;
  const payments: PreparedPayment[] = [];
  for (let i = 0; i < SANDBOX_ALONE_CALLS; i++) {
    const orderId = randomUUID();
    const { paymentKey } = sandbox.service.checkout({ orderId, amount: 110_000, orderName: 'Bench Live' });
    payments.push({ paymentKey, orderId, amount: 110_000 });
  }
  const plan = buyerPlan({
    kind: 'pg-confirm',
    ...jwt,
    runId: newRunId(),
    scheduleId: '',
    payments,
    basicAuth: `Basic ${Buffer.from(`${sandbox.secretKey}:`).toString('base64')}`,
  });
  return withCpu(ADMIN_URL, REDIS_URL, () =>
    fireBuyers({
      url: `${base}${SANDBOX_PREFIX}/v1/payments/confirm`,
      method: 'POST',
      connections: CONFIRM_CONNECTIONS,
      plan,
      ok: [200],
      amount: SANDBOX_ALONE_CALLS,
    }),
  );
}

function runTargets(r: PaymentsRun): BenchTarget[] {
  const L = r.pgLatencyMs;
  const c = r.confirms;
  const out: BenchTarget[] = [];
  if (L > 0) {
    const limit = TARGETS.confirmShareOfOrders * r.orders.createdPerSecond;
    out.push({
      ...target(`confirms/s, PG ${L} ms (${CONFIRM_CONNECTIONS} conn.)`, c.paidPerSecond, 'req/s', limit, true, c.failures + r.orders.failures),
      limitText: `≥ ½ of orders/s in the run = ${fmtInt(limit)}/s`,
      valueText: `${fmtInt(c.paidPerSecond)}/s (${((c.paidPerSecond / (r.orders.createdPerSecond || 1)) * 100).toFixed(0)}% of ${fmtInt(r.orders.createdPerSecond)} orders/s)`,
    });
  }
  out.push({
    ...under(`confirm p99, PG ${L} ms`, c.p99, L + TARGETS.p99OverPgMs, c.failures),
    limitText: `< PG + ${TARGETS.p99OverPgMs} ms = ${L + TARGETS.p99OverPgMs} ms`,
  });
  out.push(under(`relay lag p99, commit → published, PG ${L} ms`, r.relay.ownLag.p99, TARGETS.relayLagP99Ms, 0, 0));
  out.push(under(`relay lag p99, occurred → published (the metric), PG ${L} ms`, r.relay.lag.p99, TARGETS.relayLagP99Ms, 0, 0));
  return out;
}

/** What held the confirms back, in words, from the figures of the run. */
function bottlenecks(r: PaymentsRun, sandboxAppUs: number | null): string[] {
  const c = r.confirms;
  const p = c.pressure;
  const lines: string[] = [];
  if (p.poolWaitingShare >= 0.2) {
    lines.push(
      `the database pool (DATABASE_POOL_SIZE=${p.poolSize}) is a bottleneck: requests waited for a connection in ${pct(p.poolWaitingShare)} of samples ` +
        `(on average ${p.poolWaitingMean.toFixed(1)}, at most ${p.poolWaitingMax} waiting; ~${fmtInt(p.poolWaitMs)} ms per checkout, ` +
        `${(p.poolAcquiresPerSecond / (c.rps || 1)).toFixed(1)} checkouts per confirm)`,
    );
  } else {
    lines.push(
      `not the database pool (DATABASE_POOL_SIZE=${p.poolSize}): a request waited for a connection in ${pct(p.poolWaitingShare)} of samples (at most ${p.poolWaitingMax})`,
    );
  }
  const saturated = p.elu >= 0.9;
  const share = sandboxAppUs !== null && c.cpu.apiThread ? sandboxAppUs / c.cpu.apiThread : null;
  lines.push(
    `app event loop ${pct(p.elu)} busy${saturated ? ' — saturated: the API process is CPU-bound' : ''}` +
      (share !== null
        ? `; the sandbox PG mounted in it costs ~${fmtInt(sandboxAppUs!)} µs of its ${fmtInt(c.cpu.apiThread!)} µs per confirm (${pct(share)})` +
          (saturated && share >= 0.15 ? ', so the in-process sandbox is part of that bottleneck (a `mos sandbox` elsewhere would take it off)' : '')
        : ''),
  );
  if (r.pgLatencyMs > 0) {
    const inFlightCeiling = CONFIRM_CONNECTIONS / (r.pgLatencyMs / 1000);
    const bound = c.paidPerSecond >= 0.75 * inFlightCeiling;
    lines.push(
      `PG latency: ${CONFIRM_CONNECTIONS} buyers in flight ÷ ${r.pgLatencyMs} ms allow at most ${fmtInt(inFlightCeiling)} confirms/s; ` +
        (bound ? 'the run is near that: latency-bound, not capacity-bound' : `the run reached ${pct(c.paidPerSecond / inFlightCeiling)} of it`),
    );
  }
  const cpuShare = c.cpu.ceilingRps ? c.rps / c.cpu.ceilingRps : 0;
  if (cpuShare >= 0.8) lines.push(`the machine's cores: ${pct(cpuShare)} of the CPU ceiling of ${fmtInt(c.cpu.ceilingRps)} confirms/s is used`);
  return lines;
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

export function printPayments(r: PaymentsResult, bare: Figures): void {
  console.log('');
  console.log(
    `Payments — production mode: PostgreSQL ${r.postgres}, Redis ${r.redis}; the sandbox PG mounted in the API process (TOSS_SANDBOX=true, TOSS_API_URL = its own /sandbox/toss); ` +
      `one fresh server, database and Redis prefix per PG latency (SANDBOX_LATENCY_MS); ${workers || 'no'} load worker(s)`,
  );
  const rows: string[][] = [['route', 'run', 'conns', 'requests', 'answered/s', 'done/s', 'p50 ms', 'p99 ms', 'statuses', 'failures', 'answered/s ÷ bare']];
  const cpuRows: string[][] = [CPU_HEADER];
  for (const run of r.runs) {
    const tag = `PG ${run.pgLatencyMs} ms`;
    rows.push(
      loadRow(`POST /v1/orders (2 held seats), ${tag}`, `${fmtInt(run.orders.requests)} buyers, ${run.orders.seconds.toFixed(1)} s`, run.orders, bare, {
        afterRate: [fmtInt(run.orders.createdPerSecond)],
      }),
      loadRow(`POST /v1/payments/confirm, ${tag}`, `${fmtInt(run.confirms.requests)} buyers, ${run.confirms.seconds.toFixed(1)} s`, run.confirms, bare, {
        afterRate: [fmtInt(run.confirms.paidPerSecond)],
      }),
    );
    if (run.sandboxAlone) {
      rows.push(
        loadRow(`POST ${SANDBOX_PREFIX}/v1/payments/confirm alone, ${tag}`, `${fmtInt(run.sandboxAlone.requests)} calls`, run.sandboxAlone, bare, {
          afterRate: [fmtInt(run.sandboxAlone.rps)],
        }),
      );
    }
    cpuRows.push(cpuRow(`POST /v1/orders, ${tag}`, run.orders.cpu), cpuRow(`POST /v1/payments/confirm, ${tag}`, run.confirms.cpu));
    if (run.sandboxAlone) cpuRows.push(cpuRow(`sandbox PG confirm alone, ${tag}`, run.sandboxAlone.cpu));
  }
  rows.push(bareRow(bare, { afterRate: 1 }));
  printTable(rows);
  console.log('');
  printTable(cpuRows);
  console.log(
    '(confirm CPU includes the sandbox PG serving it, and the outbox relay publishing payment.completed: a worker-like context of its own — its own pool — in this process)',
  );
  console.log('');
  printTable([
    [
      'outbox relay (own pool, this process)',
      'backlog drained',
      'events/s during confirms',
      'commit → published p50/p99/max ms',
      'occurred → published p50/p99/max ms',
      'histogram p99',
    ],
    ...r.runs.map((run) => [
      `PG ${run.pgLatencyMs} ms`,
      `${fmtInt(run.relay.drain.events)} in ${run.relay.drain.seconds.toFixed(2)} s (${fmtInt(run.relay.drain.events / (run.relay.drain.seconds || 1))}/s)`,
      `${fmtInt(run.relay.publishedPerSecond)} (${fmtInt(run.relay.publishedDuringRun)})`,
      `${[run.relay.ownLag.p50, run.relay.ownLag.p99, run.relay.ownLag.max].map((v) => v.toFixed(0)).join(' / ')} (${fmtInt(run.relay.ownLag.events)} seen)`,
      [run.relay.lag.p50, run.relay.lag.p99, run.relay.lag.max].map((v) => v.toFixed(0)).join(' / '),
      run.relay.histogramP99 === null ? '–' : `≤ ${run.relay.histogramP99} s`,
    ]),
  ]);
  console.log(
    "commit → published: from the event first seen committed (polled every 10 ms) to its publication, the relay's own lag; occurred → published is what " +
      "mos_outbox_relay_lag_seconds measures, and it also counts the paying transaction's wait for a pooled connection (occurred_at is stamped before it)",
  );
  console.log('');
  console.log('Where the confirms went');
  for (const run of r.runs) {
    const p = run.confirms.pressure;
    console.log(`  PG ${run.pgLatencyMs} ms (event loop ${pct(p.elu)}, pool waiting mean ${p.poolWaitingMean.toFixed(1)} / max ${p.poolWaitingMax}):`);
    for (const line of run.bottlenecks) console.log(`    - ${line}`);
  }
  console.log(
    `setup per run: buyers held 2 seats each in-process (${r.runs.map((x) => `${x.prepare.holdSeconds.toFixed(1)} s`).join(', ')}), ` +
      `their orders checked out at the sandbox in-process (${r.runs.map((x) => `${x.prepare.checkoutSeconds.toFixed(2)} s`).join(', ')}); ` +
      `warm-ups discarded: ${warmupBuyers()} orders and confirms per run`,
  );
  printTargets(r.targets);
}

export function paymentsJson(r: PaymentsResult, bareRps: number) {
  return {
    postgres: r.postgres,
    redis: r.redis,
    runs: r.runs.map((run) => ({
      pgLatencyMs: run.pgLatencyMs,
      database: run.database,
      redisPrefix: run.redisPrefix,
      buyers: run.buyers,
      orders: { ...loadJson(run.orders, bareRps), createdPerSecond: round(run.orders.createdPerSecond, 0), cpuMicrosPerRequest: cpuJson(run.orders.cpu) },
      confirms: {
        ...loadJson(run.confirms, bareRps),
        paidPerSecond: round(run.confirms.paidPerSecond, 0),
        cpuMicrosPerRequest: cpuJson(run.confirms.cpu),
        eventLoopUtilization: round(run.confirms.pressure.elu, 3),
        pool: {
          size: run.confirms.pressure.poolSize,
          waitingMean: round(run.confirms.pressure.poolWaitingMean, 2),
          waitingMax: run.confirms.pressure.poolWaitingMax,
          waitingShare: round(run.confirms.pressure.poolWaitingShare, 3),
          acquiresPerSecond: round(run.confirms.pressure.poolAcquiresPerSecond, 0),
          waitMs: round(run.confirms.pressure.poolWaitMs, 1),
        },
      },
      relay: {
        drain: { events: run.relay.drain.events, seconds: round(run.relay.drain.seconds, 3) },
        publishedPerSecond: round(run.relay.publishedPerSecond, 0),
        lagMs: { events: run.relay.lag.events, p50: round(run.relay.lag.p50, 1), p99: round(run.relay.lag.p99, 1), max: round(run.relay.lag.max, 1) },
        ownLagMs: {
          events: run.relay.ownLag.events,
          p50: round(run.relay.ownLag.p50, 1),
          p99: round(run.relay.ownLag.p99, 1),
          max: round(run.relay.ownLag.max, 1),
        },
        histogramP99Seconds: run.relay.histogramP99,
      },
      sandboxAlone: run.sandboxAlone ? { ...loadJson(run.sandboxAlone, bareRps), cpuMicrosPerRequest: cpuJson(run.sandboxAlone.cpu) } : null,
      bottlenecks: run.bottlenecks,
    })),
    targets: targetsJson(r.targets),
  };
}
