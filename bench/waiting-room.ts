/**
 * The `waiting-room` scenario, in production mode (PostgreSQL + Redis) through real HTTP:
 *
 *   a. 100,000 distinct buyers enter one showtime's waiting room (POST /v1/schedules/:id/queue)
 *      from 100 connections, every request with a buyer token of its own;
 *   b. with all of them waiting, random ones among them poll their place (GET …/queue) from
 *      100 connections;
 *   c. the admission step (`waitingRoom.service.tick`) is called in-process 20 times with all
 *      of them waiting, as the worker's job would call it, and timed.
 *
 * The showtime is on sale with a waiting room of maxActive 100, so after the first two ticks
 * (admitPerTick 50) nearly everyone keeps waiting, the state a big on-sale spends most of its
 * time in. The warm-up (BENCH_WARMUP seconds) is part of the 100,000: its buyers enter too, and
 * the measured enter run covers the rest, so exactly 100,000 are waiting for (b) and (c).
 */
import { performance as perf } from 'node:perf_hooks';
import { key, tag } from '../src/platform/redis/keys.js';
import type { RedisClient } from '../src/platform/redis/client.js';
import { bareRow, buyerPlan, buyersUsed, buyerToken, fireBuyers, loadJson, loadRow, newRunId, type LoadFigures } from './buyers.js';
import { duration, fmtInt, printTable, round, warmupSeconds, workers, type Figures } from './lib.js';
import { CPU_HEADER, cpuJson, cpuRow, withCpu, type CpuPerRequest } from './cpu.js';
import {
  ADMIN_URL,
  createShowtimes,
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

const BUYERS = 100_000;
const CONNECTIONS = 100;
const MAX_ACTIVE = 100;
const ADMIT_PER_TICK = 50;
const TICKS = 20;
/** One leader for the whole run: every tick carries the same fencing token, so none is refused as stale. */
const FENCE = 1;

const TARGETS = { shareOfBare: 0.4, pollP99Ms: 50, tickMs: 20 } as const;

export interface WaitingRoomResult {
  database: string;
  postgres: string;
  redis: string;
  redisPrefix: string;
  /** Buyers who entered during the warm-up (part of BUYERS, not of the enter figures). */
  warmupBuyers: number;
  /** Distinct buyers sent in all (warm-up + measured). */
  buyers: number;
  /** ZCARD of the room's queue after entering: the check that everyone is in. */
  waitingAfterEnter: number;
  enter: LoadFigures & { cpu: CpuPerRequest };
  poll: LoadFigures & { cpu: CpuPerRequest };
  tick: { count: number; p50: number; max: number; ms: number[]; waitingAfter: number; activeAfter: number };
  bareRps: number;
  targets: BenchTarget[];
}

/** The room's sorted sets, read straight from Redis (the client adds the bench's key prefix). */
const roomKey = (scheduleId: string, part: 'q' | 'active') => key('wr', tag('wr', scheduleId), part);
const zcard = (redis: RedisClient, scheduleId: string, part: 'q' | 'active') => redis.zcard(roomKey(scheduleId, part));

export async function benchWaitingRoom(bare: Figures): Promise<WaitingRoomResult> {
  const env = {
    // The bench's buyers enter once and then sit still until the polls: with the default 60 s
    // the first admission tick would drop most of them as abandoned before (c) measures it.
    WAITING_ROOM_ABANDON_AFTER_SECONDS: '86400',
  };
  return withProduction(env, async ({ ctx, base, ...where }) => {
    const redis = ctx.redis!;
    const {
      scheduleIds: [scheduleId],
    } = await createShowtimes(ctx, {
      sections: 1,
      rows: 10,
      seatsPerRow: 10,
      count: 1,
      waitingRoom: { enabled: true, maxActive: MAX_ACTIVE, admitPerTick: ADMIT_PER_TICK },
    });
    const url = `${base}/v1/schedules/${scheduleId!}/queue`;
    const runId = newRunId();
    const jwt = tokenSettings(ctx);
    // Setup check, not a measurement: a token the app would refuse would turn the runs into 401s.
    await ctx.identity.verifyAccessToken(buyerToken({ ...jwt, runId }, 0));

    // (a) enter: each request takes the next buyer number, so no buyer enters twice.
    const enterPlan = buyerPlan({ kind: 'queue-enter', ...jwt, runId, scheduleId: scheduleId! });
    if (warmupSeconds > 0) await fireBuyers({ url, method: 'POST', connections: CONNECTIONS, plan: enterPlan, ok: [200], seconds: warmupSeconds });
    const warmupBuyers = buyersUsed(enterPlan);
    const enter = await withCpu(ADMIN_URL, REDIS_URL, () =>
      fireBuyers({ url, method: 'POST', connections: CONNECTIONS, plan: enterPlan, ok: [200], amount: Math.max(BUYERS - warmupBuyers, CONNECTIONS) }),
    );
    const buyers = buyersUsed(enterPlan);
    const waitingAfterEnter = await zcard(redis, scheduleId!, 'q');

    // (b) polls by random buyers among those who entered.
    const pollPlan = buyerPlan({ kind: 'queue-poll', ...jwt, runId, scheduleId: scheduleId!, first: 0, pool: buyers });
    if (warmupSeconds > 0) await fireBuyers({ url, method: 'GET', connections: CONNECTIONS, plan: pollPlan, ok: [200], seconds: warmupSeconds });
    const poll = await withCpu(ADMIN_URL, REDIS_URL, () =>
      fireBuyers({ url, method: 'GET', connections: CONNECTIONS, plan: pollPlan, ok: [200], seconds: duration }),
    );

    // (c) the admission step, in-process and one at a time like the job runs it (no JobRunner
    // was started, so these are the only ticks). Each includes the store's room list, the
    // catalog's cached showtime read (a database read when its 2 s cache has lapsed) and one
    // Lua step on the 100,000-member queue.
    const ms: number[] = [];
    for (let i = 0; i < TICKS; i++) {
      const started = perf.now();
      await ctx.waitingRoom.service.tick(FENCE);
      ms.push(perf.now() - started);
    }
    const { p50, max } = summarize(ms);
    const [waitingAfter, activeAfter] = await Promise.all([zcard(redis, scheduleId!, 'q'), zcard(redis, scheduleId!, 'active')]);

    return {
      ...where,
      warmupBuyers,
      buyers,
      waitingAfterEnter,
      enter,
      poll,
      tick: { count: TICKS, p50, max, ms, waitingAfter, activeAfter },
      bareRps: bare.rps,
      targets: [
        shareOfBare(`enter req/s (${CONNECTIONS} conn.)`, enter.rps, TARGETS.shareOfBare, bare.rps, enter.failures),
        shareOfBare(`poll req/s (${CONNECTIONS} conn.)`, poll.rps, TARGETS.shareOfBare, bare.rps, poll.failures),
        under(`poll p99 (${CONNECTIONS} conn.)`, poll.p99, TARGETS.pollP99Ms, poll.failures),
        under(`admission tick, slowest of ${TICKS}`, max, TARGETS.tickMs, 0, 2),
      ],
    };
  });
}

export function printWaitingRoom(r: WaitingRoomResult, bare: Figures): void {
  console.log('');
  console.log(`Waiting room — production mode: PostgreSQL ${r.postgres} (throwaway database ${r.database}), Redis ${r.redis} (prefix ${r.redisPrefix})`);
  console.log(
    `one showtime on sale, waiting room maxActive ${MAX_ACTIVE}, admitPerTick ${ADMIT_PER_TICK}; ${fmtInt(r.buyers)} distinct buyers, a token of their own per request; ` +
      `${workers || 'no'} load worker(s)`,
  );
  printTable([
    ['route', 'run', 'conns', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'statuses', 'failures', 'req/s ÷ bare'],
    loadRow('POST /v1/schedules/:id/queue (enter)', `${fmtInt(r.enter.requests)} new buyers, ${r.enter.seconds.toFixed(1)} s`, r.enter, bare),
    loadRow('GET /v1/schedules/:id/queue (poll)', `${duration} s, random buyers`, r.poll, bare),
    bareRow(bare),
  ]);
  console.log(
    `warm-ups: ${warmupSeconds} s each, discarded (the enter warm-up's ${fmtInt(r.warmupBuyers)} buyers are among the ${fmtInt(r.buyers)}); ` +
      `waiting after entering: ${fmtInt(r.waitingAfterEnter)}`,
  );
  console.log('');
  printTable([CPU_HEADER, cpuRow('POST /v1/schedules/:id/queue (enter)', r.enter.cpu), cpuRow('GET /v1/schedules/:id/queue (poll)', r.poll.cpu)]);
  console.log('');
  console.log(`Admission tick — waitingRoom.service.tick(fence) in-process, ${r.tick.count} in a row, ${fmtInt(r.waitingAfterEnter)} waiting`);
  printTable([
    ['ticks', 'p50 ms', 'max ms', 'first ms', 'admitted (active after)', 'waiting after'],
    [
      String(r.tick.count),
      r.tick.p50.toFixed(2),
      r.tick.max.toFixed(2),
      (r.tick.ms[0] ?? 0).toFixed(2),
      fmtInt(r.tick.activeAfter),
      fmtInt(r.tick.waitingAfter),
    ],
  ]);
  printTargets(r.targets);
}

/** The waiting-room part of the final JSON line. */
export function waitingRoomJson(r: WaitingRoomResult) {
  const load = (f: LoadFigures) => loadJson(f, r.bareRps);
  return {
    mode: 'production',
    maxActive: MAX_ACTIVE,
    buyers: r.buyers,
    warmupBuyers: r.warmupBuyers,
    waitingAfterEnter: r.waitingAfterEnter,
    enter: { ...load(r.enter), cpuMicrosPerRequest: cpuJson(r.enter.cpu) },
    poll: { ...load(r.poll), cpuMicrosPerRequest: cpuJson(r.poll.cpu) },
    tick: { count: r.tick.count, p50Ms: round(r.tick.p50, 3), maxMs: round(r.tick.max, 3), activeAfter: r.tick.activeAfter, waitingAfter: r.tick.waitingAfter },
    targets: targetsJson(r.targets),
  };
}
