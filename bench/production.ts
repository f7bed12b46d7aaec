/**
 * What the waiting-room and booking scenarios share: a production-mode MOS (PostgreSQL in a
 * throwaway database, Redis under a key prefix of its own, both removed at the end, failed or
 * not, and on Ctrl-C) listening on 127.0.0.1, showtimes made in-process, and their targets.
 * The throwaway database and the URLs come from bench/catalog.ts (BENCH_DATABASE_URL,
 * BENCH_REDIS_URL); see there.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createContext, type AppContext } from '../src/context.js';
import type { Principal } from '../src/platform/http/auth.js';
import { newId } from '../src/platform/ids.js';
import { deleteByPrefix } from '../src/platform/redis/client.js';
import { createTestDatabase } from '../test/support/harness.js';
import { fmtInt, listen, printTable, registerCleanup, round } from './lib.js';

export const ADMIN_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';

/**
 * With BENCH_REDIS_CLUSTER=1 the production scenarios' Redis is a local Redis Cluster started for
 * the run (3 masters, one replica each, from the machine's redis-server; removed at the end):
 * `useBenchCluster` records its nodes, and every server the scenarios start uses it instead of
 * REDIS_URL (a scenario that names its own Redis — the coupons' persistence runs — keeps it).
 */
let clusterNodes: readonly string[] | null = null;
export function useBenchCluster(nodes: readonly string[]): void {
  clusterNodes = nodes;
}
export const benchClusterNodes = (): readonly string[] | null => clusterNodes;

/** The bench's own Redis, as the server and the cleanup reach it. */
const benchRedis = () => (clusterNodes ? { clusterNodes } : { url: REDIS_URL });

/** host:port of a URL, never its credentials: this goes to the console. */
export const where = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol.startsWith('redis') ? '6379' : '5432')}`;
};

/** A throwaway database on the admin URL's server: the tests' helper, with a bench prefix. */
export const createThrowawayDatabase = () => createTestDatabase(ADMIN_URL, 'mos_bench_');

export interface Target {
  name: string;
  value: number;
  unit: 's' | 'ms' | 'req/s' | 'ratio';
  limit: number;
  /** true: the value must reach the limit; false: it must stay under it. */
  atLeast: boolean;
  /** Failed requests in the measurement behind the value (a target with any is not met). */
  failures: number;
  met: boolean;
}

export function target(name: string, value: number, unit: Target['unit'], limit: number, atLeast: boolean, failures = 0): Target {
  const passes = atLeast ? value >= limit : value < limit;
  return { name, value, unit, limit, atLeast, failures, met: passes && failures === 0 };
}

export interface Production {
  ctx: AppContext;
  /** http://127.0.0.1:<port> */
  base: string;
  database: string;
  postgres: string;
  redis: string;
  redisPrefix: string;
  /**
   * The environment the app was configured from (LOG_LEVEL silent): a server started in a process
   * of its own with it serves the same database, Redis prefix and tokens (bench/server-process.ts).
   */
  env: Record<string, string>;
}

/**
 * Runs `fn` against a production-mode app built from `env` (on top of the database, Redis,
 * secret and quiet logging set here). No JobRunner is started: nothing ticks, expires or sweeps
 * behind the bench's back. `port`: listen there (an app whose configuration names its own URL,
 * such as TOSS_API_URL pointing at its mounted sandbox); default an ephemeral port.
 */
export async function withProduction<T>(env: Record<string, string>, fn: (p: Production) => Promise<T>, port = 0): Promise<T> {
  const redisPrefix = `mos:bench:${randomBytes(6).toString('hex')}:`;
  const database = await createThrowawayDatabase();
  const dropDatabase = registerCleanup(database.drop);
  // A scenario that names its own Redis (REDIS_URL in `env`) runs on it, cluster or not.
  const onCluster = clusterNodes !== null && env.REDIS_URL === undefined;
  const target = onCluster ? benchRedis() : { url: env.REDIS_URL ?? REDIS_URL };
  const cleanRedis = registerCleanup(async () => {
    await deleteByPrefix(target, redisPrefix);
  });
  try {
    const configEnv: Record<string, string> = {
      DATABASE_URL: database.url,
      // On a cluster, a coupon claim waits for its replica, as production on one should run.
      ...(onCluster ? { REDIS_CLUSTER_NODES: clusterNodes!.join(','), REDIS_WAIT_REPLICAS: '1' } : { REDIS_URL }),
      REDIS_KEY_PREFIX: redisPrefix,
      JWT_SECRET: randomBytes(33).toString('base64url'), // 44 characters
      LOG_LEVEL: 'silent',
      SEED_DEMO: 'false',
      // The global per-IP limiter (default 1200/min) would answer 429 to a load test from one IP.
      RATE_LIMIT_MAX: '100000000',
      ...env,
    };
    const config = loadConfig(configEnv);
    const ctx = await createContext(config, { migrate: true });
    // Registered too, so that on Ctrl-C the app stops first and the Redis connection is gone
    // before the prefix is cleaned (as in bench/catalog.ts).
    const closeCtx = registerCleanup(() => ctx.close());
    try {
      const app = await buildApp(ctx);
      const closeApp = registerCleanup(() => app.close());
      try {
        const base = await listen(app, port);
        const redis = onCluster ? `a cluster of ${clusterNodes!.length} nodes (${clusterNodes![0]}, …)` : where(env.REDIS_URL ?? REDIS_URL);
        return await fn({ ctx, base, database: database.name, postgres: where(ADMIN_URL), redis, redisPrefix, env: configEnv });
      } finally {
        await closeApp();
      }
    } finally {
      await closeCtx();
    }
  } finally {
    // Both, even if the first throws.
    try {
      await dropDatabase();
    } finally {
      await cleanRedis();
    }
  }
}

/** The JWT settings a buyer token must match (bench/buyer-requests.cjs signs with them). */
export function tokenSettings(ctx: AppContext): { secret: string; issuer: string; audience: string } {
  return { secret: ctx.config.auth.jwtSecret!, issuer: ctx.config.auth.issuer, audience: ctx.config.auth.audience };
}

export interface Showtimes {
  /** One per requested showtime, in order. */
  scheduleIds: string[];
  /** The venue's seats in layout order (the same ids in every showtime of the venue). */
  seatIds: string[];
}

/**
 * A venue of `sections` × `rows` × `seatsPerRow` seats, a one-grade performance and `count`
 * showtimes of it on sale now, made through the catalog service rather than HTTP: setup, not
 * measurement (bench/catalog.ts times creation through HTTP). The seller is a bare principal:
 * no account is needed for that.
 */
export async function createShowtimes(
  ctx: AppContext,
  o: { sections: number; rows: number; seatsPerRow: number; count: number; waitingRoom?: { enabled: boolean; maxActive?: number; admitPerTick?: number } },
): Promise<Showtimes> {
  const seller: Principal = { id: newId(), role: 'SELLER' };
  const catalog = ctx.catalog.service;
  const venue = await catalog.createVenue(seller, {
    name: 'Bench Arena',
    sections: Array.from({ length: o.sections }, (_, s) => ({
      name: String.fromCharCode(65 + s),
      rows: Array.from({ length: o.rows }, (_, r) => ({ label: String(r + 1), seats: o.seatsPerRow })),
    })),
  });
  const performance = await catalog.createPerformance(seller, {
    title: 'Bench Live',
    venueId: venue.id,
    runningMinutes: 120,
    grades: [{ name: 'R', price: 110_000 }],
    seatGrades: [],
    defaultGrade: 'R',
  });
  const now = Date.now();
  const scheduleIds: string[] = [];
  for (let i = 0; i < o.count; i++) {
    const schedule = await catalog.createSchedule(seller, performance.id, {
      // A day apart, each on sale since a minute ago and until it starts.
      startsAt: new Date(now + (30 + i) * 86_400_000).toISOString(),
      saleOpensAt: new Date(now - 60_000).toISOString(),
      ...(o.waitingRoom ? { waitingRoom: o.waitingRoom } : {}),
    });
    scheduleIds.push(schedule.id);
  }
  // Warm each showtime's per-process state one at a time, as the first buyer to look at it would:
  // the seat-map base (seat ids, the hold route's seat check) and the hold store's copy of what
  // PostgreSQL has sold. Left cold, the first few hundred concurrent requests would each build
  // them at once (a cold start worth a measurement of its own, not what these scenarios are for).
  let seats: string[] = [];
  for (const id of scheduleIds) {
    const map = JSON.parse((await catalog.seatMap(id, undefined)).toString()) as { seats: { seatId: string }[] };
    seats = map.seats.map((s) => s.seatId);
    await ctx.booking.holds.load(id);
  }
  if (!seats.length) throw new Error(`showtime ${scheduleIds[0]} has no seats`);
  // What PostgreSQL would have done long before a sale opens: planner statistics for the rows
  // just written, and a checkpoint of their WAL, so that neither lands in the middle of a
  // measured run. Only the tables written here: statistics that say the (still empty) order
  // tables are empty would make every foreign-key check scan them as they fill during the run.
  await ctx.database.db.execute(sql`analyze venues, seats, performances, schedules, schedule_seats`);
  await ctx.database.db.execute(sql`checkpoint`).catch(() => {}); // needs a superuser or pg_checkpoint; skipped if not
  return { scheduleIds, seatIds: seats };
}

// ---- targets ----

/** A catalog-style target plus how its limit reads (e.g. "≥ 40% of bare = 9,000 req/s"). */
export interface BenchTarget extends Target {
  limitText: string;
  valueText: string;
}

/** At least `share` of the bare-Fastify req/s of this run. */
export function shareOfBare(name: string, rps: number, share: number, bareRps: number, failures: number): BenchTarget {
  return {
    ...target(name, rps, 'req/s', share * bareRps, true, failures),
    limitText: `≥ ${Math.round(share * 100)}% of bare = ${fmtInt(share * bareRps)} req/s`,
    valueText: `${fmtInt(rps)} req/s (${((rps / bareRps) * 100).toFixed(1)}%)`,
  };
}

export function under(name: string, ms: number, limitMs: number, failures: number, digits = 1): BenchTarget {
  return { ...target(name, ms, 'ms', limitMs, false, failures), limitText: `< ${limitMs} ms`, valueText: `${ms.toFixed(digits)} ms` };
}

export function atLeast(name: string, rps: number, limit: number, unit: string, failures: number): BenchTarget {
  return { ...target(name, rps, 'req/s', limit, true, failures), limitText: `≥ ${fmtInt(limit)} ${unit}`, valueText: `${fmtInt(rps)} ${unit}` };
}

export function printTargets(targets: readonly BenchTarget[]): void {
  console.log('');
  console.log('Targets');
  printTable([
    ['target', 'limit', 'measured', 'result'],
    ...targets.map((t) => [t.name, t.limitText, t.valueText, (t.met ? 'MET' : 'MISSED') + (t.failures ? ` (${t.failures} failed requests)` : '')]),
  ]);
}

export const targetsJson = (targets: readonly BenchTarget[]) =>
  targets.map((t) => ({
    name: t.name,
    value: round(t.value, 3),
    unit: t.unit,
    limit: round(t.limit, 3),
    atLeast: t.atLeast,
    failures: t.failures,
    met: t.met,
  }));

/** p50 and max of a list of durations. */
export function summarize(ms: readonly number[]): { p50: number; max: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}
