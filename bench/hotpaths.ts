/**
 * The `hotpaths` scenario: each hot route of an on-sale measured against its floor (bench/floors.ts)
 * in the same run, on the same PostgreSQL database and Redis prefix, one after the other. MOS
 * (`mos api`, as deployed) and the floors (bench/floor-server.ts) each run in a fresh process of
 * their own per route group (bench/server-process.ts), so neither pays the bench's heap (its
 * setup data) nor another route's seat maps in garbage collection:
 *
 *   queue enter  POST /v1/schedules/:id/queue, a new buyer per request, 100 connections
 *   queue poll   GET  /v1/schedules/:id/queue, random buyers among those who entered, 100 connections
 *   hold         POST /v1/schedules/:id/holds, a new buyer per request, 2 seats no other buyer asks
 *                for, 200 connections, on 200,000-seat showtimes (every answer a hold made)
 *   claim        POST /v1/coupons/:id/claims, a new buyer per request, 200 connections
 *   order        POST /v1/orders, buyers who each hold 2 seats (Idempotency-Key each), 100 connections,
 *                on 200,000-seat showtimes with more buyers than a run can serve (every answer a
 *                placed order, on MOS and on the floor)
 *
 * MOS and its floor each get a showtime (or campaign) of their own, so neither works on state the
 * other left. Per route it prints the app event loop's CPU µs per request (the main thread: the
 * load runs in wrk's process, or in autocannon's worker threads), req/s and p99 of MOS and of the
 * floor, and their ratios; the share of each side's answers that did the route's work (a route
 * where either side answered mostly something cheaper, or replayed requests, is INVALID: its
 * ratio compares different work); and the load generator's own CPU per request and its share of
 * all the CPU the run took (bench/loadgen.ts). Requests are minted before the CPU meter starts.
 *
 * Targets: app event-loop CPU within 2× of the floor's for enter, poll, hold and claim, within
 * 1.5× for orders (whose floor is mostly PostgreSQL's); holds p99 under 100 ms at 200
 * connections; poll p99 under 50 ms at 100 connections.
 */
import type { AppContext } from '../src/context.js';
import type { Principal } from '../src/platform/http/auth.js';
import { newId } from '../src/platform/ids.js';
import { holdSeatsForBuyers } from './booking.js';
import { buyerPlan, buyerToken, newRunId, statusesText, type BuyerKind, type BuyerPlan } from './buyers.js';
import { CPU_HEADER, cpuJson, cpuRow, withCpu, type CpuPerRequest } from './cpu.js';
import type { FloorRoom } from './floors.js';
import { duration, fmtInt, printTable, round, warmupSeconds } from './lib.js';
import { loadGeneratorName, prepareHot, wrkPath, type HotLoad } from './loadgen.js';
import { ADMIN_URL, createShowtimes, printTargets, REDIS_URL, targetsJson, tokenSettings, under, withProduction, type BenchTarget } from './production.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

type RouteName = 'queue enter' | 'queue poll' | 'hold' | 'claim' | 'order';

/** Requests minted per run for wrk: above what any of these routes answers in a run. */
const mintFor = (seconds: number, perSecond: number) => Math.ceil(seconds * perSecond);

export interface HotRun extends HotLoad {
  cpu: CpuPerRequest;
  /** Answers that did the route's work (`work` statuses), as a share of all answers. */
  workShare: number;
}

export interface HotRoute {
  name: RouteName;
  path: string;
  connections: number;
  mos: HotRun;
  floor: HotRun;
  /** Allowed ratio of MOS's app event-loop CPU per request to the floor's. */
  cpuRatioLimit: number;
  /** The statuses that mean the route did its work (a hold made, an order placed): what the ratio compares. */
  work: readonly number[];
  /** Why the comparison does not hold (a side answering mostly something cheaper, or replaying), or null. */
  invalid: string | null;
}

export interface HotPathsResult {
  database: string;
  postgres: string;
  redis: string;
  redisPrefix: string;
  loadGenerator: string;
  routes: HotRoute[];
  targets: BenchTarget[];
}

/** BENCH_HOT_ROUTES: a comma-separated subset of queue (enter and poll), hold, claim, order (default all), e.g. to profile one. */
const only = process.env.BENCH_HOT_ROUTES?.split(',')
  .map((r) => r.trim())
  .filter(Boolean);
const want = (group: 'queue' | 'hold' | 'claim' | 'order') => !only?.length || only.includes(group);

const CPU_LIMIT = { 'queue enter': 2, 'queue poll': 2, hold: 2, claim: 2, order: 1.5 } as const;
const TARGETS = { holdP99Ms: 100, pollP99Ms: 50 } as const;
/**
 * Orders: every request must place a real order, on MOS and on the floor, for the whole run —
 * a buyer whose seats are gone gets a cheap 409 (the floor), a replayed key a cheap stored 201
 * (MOS), and either makes the ratio meaningless (one run with 25,000 floor buyers: 42,062 of
 * the floor's 45,000 answers were such 409s). So each side gets a 300,000-seat showtime and more
 * buyers than it can serve in a run: MOS's 45,000 hold their 2 seats before the run (above
 * 3,000 orders/s for warm-up and run), the floor's 100,000 need no hold (its statement is all it
 * runs). VENUE_MAX_SEATS (and the seat-map cache) are raised for these showtimes.
 */
const BIG_SEATS = { sections: 60, rows: 100, seatsPerRow: 50 }; // 300,000 a showtime
/**
 * Holds likewise: with 2 random seats a request on a 50,000-seat showtime, most answers became
 * 409s as it filled (one run: 42.5% of MOS's answers 201, 32% of the floor's), so the sides
 * compared different mixes of holds and refusals. Each measured buyer asks for seats of its own
 * (kind `hold-pair`) on a 300,000-seat showtime: 150,000 buyers a side across warm-up and run,
 * the warm-up taking its seconds at HOLD_WARMUP_RATE.
 */
const HOLD_BUYERS = 150_000;
const HOLD_WARMUP_RATE = 8_000;
const ORDER_BUYERS = { mos: 45_000, floor: 100_000 } as const;
/** Requests minted for an order warm-up, per second of it: the rest of the buyers go to the measured run. */
const ORDER_WARMUP_RATE = { mos: 3_000, floor: 6_000 } as const;
/** Below this share of work answers (or with any replayed request) a side's figures do not measure the route's work. */
const MIN_WORK_SHARE = 0.9;

async function createCampaign(ctx: AppContext, name: string): Promise<string> {
  const admin: Principal = { id: newId(), role: 'ADMIN' };
  const now = Date.now();
  const created = await ctx.coupons.service.createCampaign(admin, {
    name,
    kind: 'FIXED',
    params: { amount: 3000 },
    appliesTo: 'ORDER',
    quantity: 10_000_000,
    perUserLimit: 1,
    claimOpensAt: new Date(now - 60_000).toISOString(),
    validUntil: new Date(now + 30 * 86_400_000).toISOString(),
  });
  return created.id;
}

export async function benchHotPaths(): Promise<HotPathsResult> {
  const env = {
    HOLD_TTL_SECONDS: '3600',
    PAYMENT_WINDOW_SECONDS: '3600',
    WAITING_ROOM_ABANDON_AFTER_SECONDS: '86400',
    VENUE_MAX_SEATS: String(BIG_SEATS.sections * BIG_SEATS.rows * BIG_SEATS.seatsPerRow),
    SEAT_MAP_CACHE_SEATS: '2000000',
  };
  return withProduction(env, async ({ ctx, base: _inProcess, env: serverEnv, ...where }) => {
    const jwt = tokenSettings(ctx);
    const rooms = await createShowtimes(ctx, {
      sections: 1,
      rows: 10,
      seatsPerRow: 10,
      count: 2,
      waitingRoom: { enabled: true, maxActive: 100, admitPerTick: 50 },
    });
    const [mosRoom, floorRoom] = rooms.scheduleIds as [string, string];
    const big = (want('hold') ? 2 : 0) + (want('order') ? 2 : 0);
    const bigShows = big ? await createShowtimes(ctx, { ...BIG_SEATS, count: big }) : { scheduleIds: [], seatIds: [] };
    const [mosHold, floorHold] = want('hold') ? (bigShows.scheduleIds.slice(0, 2) as [string, string]) : ['', ''];
    const [mosOrder, floorOrder] = want('order') ? (bigShows.scheduleIds.slice(-2) as [string, string]) : ['', ''];
    const { seatIds } = bigShows;
    const [mosCampaign, floorCampaign] = [await createCampaign(ctx, 'Hot MOS'), await createCampaign(ctx, 'Hot floor')];
    const saleOpensAt = async (id: string) => Date.parse((await ctx.catalog.inventory.scheduleForSale(id))!.saleOpensAt);

    const floorRooms: FloorRoom[] = [
      { scheduleId: floorRoom, saleOpensAt: await saleOpensAt(floorRoom) },
      { scheduleId: mosRoom, saleOpensAt: await saleOpensAt(mosRoom) },
    ];
    /**
     * Fresh server processes for one route, each as deployed (bench/server-process.ts): MOS's
     * production API (`mos api`) and the floors, on the bench's database, Redis prefix and token
     * key, MOS having loaded the seat maps of `showtimes` as the first buyer to look at them
     * would. Stopped after the route, so no route runs on a heap another route's showtimes filled.
     */
    const withServers = async <T>(showtimes: readonly string[], fn: (s: { mos: ServerProcess; floor: ServerProcess }) => Promise<T>): Promise<T> => {
      const env = { ...serverEnv, LOG_LEVEL: 'warn' };
      const mos = await startServerProcess({ name: 'MOS api', script: 'src/main.ts', args: ['api'], env, readyPath: '/health/ready' });
      try {
        const floor = await startServerProcess({
          name: 'floor server',
          script: 'bench/floor-server.ts',
          env: { ...env, FLOOR_ROOMS: JSON.stringify(floorRooms) },
          readyPath: '/floor/live',
        });
        try {
          for (const id of showtimes) {
            const res = await fetch(`${mos.base}/v1/schedules/${id}/seats`);
            if (!res.ok) throw new Error(`warming the seat map of ${id}: ${res.status} ${await res.text()}`);
            await res.arrayBuffer();
          }
          return await fn({ mos, floor });
        } finally {
          await floor.stop();
        }
      } finally {
        await mos.stop();
      }
    };
    await ctx.identity.verifyAccessToken(buyerToken({ ...jwt, runId: newRunId() }, 0)); // setup check
    const orderRunId = newRunId();
    if (want('order')) await holdSeatsForBuyers(ctx, orderRunId, mosOrder, seatIds, ORDER_BUYERS.mos);

    const plan = (kind: BuyerKind, scheduleId: string, extra: Partial<BuyerPlan> = {}) =>
      buyerPlan({ kind, ...jwt, runId: newRunId(), scheduleId, seatIds, ...extra });
    /**
     * Warm-up (discarded), then the measured run with the CPU it cost. Each run's requests are
     * minted before it (prepareHot), so the meter counts the app's work, not the minting.
     * `mint`: requests for the warm-up and for the measured run (default: their seconds at
     * `perSecond`).
     */
    const run = async (
      o: {
        server: ServerProcess;
        path: string;
        method: 'GET' | 'POST';
        connections: number;
        ok: number[];
        work: number[];
        perSecond: number;
        mint?: { warm: number; measured: number };
      },
      warmPlan: BuyerPlan,
      measuredPlan: BuyerPlan,
      measuredFrom?: (firstBuyer: number) => void,
    ): Promise<HotRun> => {
      const common = { url: `${o.server.base}${o.path}`, method: o.method, connections: o.connections, ok: o.ok };
      const mint = o.mint ?? { warm: mintFor(warmupSeconds, o.perSecond), measured: mintFor(duration, o.perSecond) };
      if (warmupSeconds > 0) {
        const warm = prepareHot({ ...common, plan: warmPlan, seconds: warmupSeconds, mint: mint.warm });
        try {
          await warm.fire();
        } finally {
          warm.dispose();
        }
      }
      measuredFrom?.(measuredPlan.counter[0]!);
      const measured = prepareHot({ ...common, plan: measuredPlan, seconds: duration, mint: mint.measured });
      try {
        const figures = await withCpu(ADMIN_URL, REDIS_URL, () => measured.fire(), { pid: o.server.pid });
        return { ...figures, workShare: shareOf(figures, o.work) };
      } finally {
        measured.dispose();
      }
    };

    const routes: HotRoute[] = [];
    if (want('queue')) {
      await withServers([], async ({ mos, floor }) => {
        // Queue enter, then polls by random buyers among those the measured enter run let in.
        const enterPlans = { mos: plan('queue-enter', mosRoom), floor: plan('queue-enter', floorRoom) };
        const firstMeasured = { mos: 0, floor: 0 };
        const enter = {
          mos: await run(
            { server: mos, path: `/v1/schedules/${mosRoom}/queue`, method: 'POST', connections: 100, ok: [200], work: [200], perSecond: 15_000 },
            enterPlans.mos,
            enterPlans.mos,
            (n) => {
              firstMeasured.mos = n;
            },
          ),
          floor: await run(
            { server: floor, path: `/floor/queue/${floorRoom}`, method: 'POST', connections: 100, ok: [200], work: [200], perSecond: 25_000 },
            enterPlans.floor,
            enterPlans.floor,
            (n) => {
              firstMeasured.floor = n;
            },
          ),
        };
        routes.push(
          checked({
            name: 'queue enter',
            path: 'POST /v1/schedules/:id/queue',
            connections: 100,
            ...enter,
            cpuRatioLimit: CPU_LIMIT['queue enter'],
            work: [200],
          }),
        );
        // Requests go out in buyer order, so the first answered ones entered (a margin for those
        // still in flight, or resent on a new connection, when the run stopped).
        const pollPlan = (room: string, runId: string, first: number, r: HotRun) =>
          buyerPlan({ kind: 'queue-poll', ...jwt, runId, scheduleId: room, first, pool: Math.max(1, Math.floor(r.requests * 0.9) - r.connections) });
        const mosPoll = pollPlan(mosRoom, enterPlans.mos.runId, firstMeasured.mos, enter.mos);
        const floorPoll = pollPlan(floorRoom, enterPlans.floor.runId, firstMeasured.floor, enter.floor);
        routes.push(
          checked({
            name: 'queue poll',
            path: 'GET /v1/schedules/:id/queue',
            connections: 100,
            // 404 NOT_IN_QUEUE is a contract answer (a buyer the margin above missed); shown in the statuses.
            mos: await run(
              { server: mos, path: `/v1/schedules/${mosRoom}/queue`, method: 'GET', connections: 100, ok: [200, 404], work: [200], perSecond: 15_000 },
              mosPoll,
              mosPoll,
            ),
            floor: await run(
              { server: floor, path: `/floor/queue/${floorRoom}`, method: 'GET', connections: 100, ok: [200, 404], work: [200], perSecond: 25_000 },
              floorPoll,
              floorPoll,
            ),
            cpuRatioLimit: CPU_LIMIT['queue poll'],
            work: [200],
          }),
        );
      });
    }

    if (want('hold')) {
      await withServers([mosHold], async ({ mos, floor }) => {
        // One plan a side across warm-up and measured run, as for orders: no seat asked twice.
        const warm = warmupSeconds > 0 ? Math.min(warmupSeconds * HOLD_WARMUP_RATE, Math.floor(HOLD_BUYERS / 5)) : 0;
        const holdMint = { warm, measured: HOLD_BUYERS - warm };
        const holdPlans = {
          mos: plan('hold-pair', mosHold),
          floor: plan('hold-pair', floorHold),
        };
        routes.push(
          checked({
            name: 'hold',
            path: 'POST /v1/schedules/:id/holds',
            connections: 200,
            mos: await run(
              { server: mos, path: `/v1/schedules/${mosHold}/holds`, method: 'POST', connections: 200, ok: [201], work: [201], perSecond: 0, mint: holdMint },
              holdPlans.mos,
              holdPlans.mos,
            ),
            floor: await run(
              { server: floor, path: `/floor/holds/${floorHold}`, method: 'POST', connections: 200, ok: [201], work: [201], perSecond: 0, mint: holdMint },
              holdPlans.floor,
              holdPlans.floor,
            ),
            cpuRatioLimit: CPU_LIMIT.hold,
            work: [201],
          }),
        );
      });
    }

    if (want('claim')) {
      await withServers([], async ({ mos, floor }) => {
        routes.push(
          checked({
            name: 'claim',
            path: 'POST /v1/coupons/:id/claims',
            connections: 200,
            mos: await run(
              { server: mos, path: `/v1/coupons/${mosCampaign}/claims`, method: 'POST', connections: 200, ok: [201], work: [201], perSecond: 15_000 },
              plan('coupon-claim', ''),
              plan('coupon-claim', ''),
            ),
            floor: await run(
              { server: floor, path: `/floor/coupons/${floorCampaign}/claims`, method: 'POST', connections: 200, ok: [201], work: [201], perSecond: 25_000 },
              plan('coupon-claim', ''),
              plan('coupon-claim', ''),
            ),
            cpuRatioLimit: CPU_LIMIT.claim,
            work: [201],
          }),
        );
      });
    }

    if (want('order')) {
      await withServers([mosOrder], async ({ mos, floor }) => {
        // Orders: MOS's buyers hold their 2 seats (prepared above); the floor's need no hold (its
        // statement is all it runs) and order on a showtime of their own. One plan each across
        // warm-up and measured run, so no buyer orders twice: the warm-up takes its seconds at
        // ORDER_WARMUP_RATE, the measured run every buyer left. A run that outlasts its buyers
        // wraps and replays (shown as wraps, and the comparison marked invalid).
        const orderPlans = {
          mos: buyerPlan({ kind: 'order', ...jwt, runId: orderRunId, scheduleId: mosOrder, seatIds: seatIds }),
          floor: plan('order', floorOrder),
        };
        const orderMint = (side: 'mos' | 'floor') => {
          const warm = warmupSeconds > 0 ? Math.min(warmupSeconds * ORDER_WARMUP_RATE[side], Math.floor(ORDER_BUYERS[side] / 4)) : 0;
          return { warm, measured: ORDER_BUYERS[side] - warm };
        };
        routes.push(
          checked({
            name: 'order',
            path: 'POST /v1/orders',
            connections: 100,
            mos: await run(
              { server: mos, path: `/v1/orders`, method: 'POST', connections: 100, ok: [201], work: [201], perSecond: 0, mint: orderMint('mos') },
              orderPlans.mos,
              orderPlans.mos,
            ),
            floor: await run(
              { server: floor, path: `/floor/orders`, method: 'POST', connections: 100, ok: [201], work: [201], perSecond: 0, mint: orderMint('floor') },
              orderPlans.floor,
              orderPlans.floor,
            ),
            cpuRatioLimit: CPU_LIMIT.order,
            work: [201],
          }),
        );
      });
    }

    const targets: BenchTarget[] = routes.map((r) => cpuTarget(r));
    const hold = routes.find((r) => r.name === 'hold');
    const poll = routes.find((r) => r.name === 'queue poll');
    if (hold) targets.push(under(`holds p99 (${hold.connections} conn.)`, hold.mos.p99, TARGETS.holdP99Ms, hold.mos.failures));
    if (poll) targets.push(under(`poll p99 (${poll.connections} conn.)`, poll.mos.p99, TARGETS.pollP99Ms, poll.mos.failures));
    return { ...where, loadGenerator: loadGeneratorName, routes, targets };
  });
}

const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);

/** Answers with one of `statuses`, as a share of all answers (0 when none). */
function shareOf(load: HotLoad, statuses: readonly number[]): number {
  const answered = Object.values(load.statusCodes).reduce((a, b) => a + b, 0);
  const work = statuses.reduce((a, c) => a + (load.statusCodes[String(c)] ?? 0), 0);
  return answered === 0 ? 0 : work / answered;
}

/**
 * A route's figures with the check that both sides did the route's work: a side that answered
 * mostly with something cheaper (a 409 once the seats ran out) or replayed requests (a replayed
 * Idempotency-Key is a stored answer, not an order) measured something else, and the ratio
 * means nothing. Such a route is printed INVALID and its target MISSED.
 */
function checked(r: Omit<HotRoute, 'invalid'>): HotRoute {
  const problems: string[] = [];
  for (const side of ['mos', 'floor'] as const) {
    const run = r[side];
    const work = r.work.join('/');
    if (run.workShare < MIN_WORK_SHARE) problems.push(`${side}: only ${(run.workShare * 100).toFixed(1)}% of answers were ${work}`);
    if (run.wraps > 0) problems.push(`${side}: ran out of minted requests and replayed them (wraps×${run.wraps})`);
  }
  return { ...r, invalid: problems.length ? problems.join('; ') : null };
}

function cpuTarget(r: HotRoute): BenchTarget {
  const value = ratio(r.mos.cpu.apiThread, r.floor.cpu.apiThread) ?? Number.POSITIVE_INFINITY;
  const failures = r.mos.failures + r.floor.failures;
  return {
    name: `${r.name}: app event-loop CPU ÷ floor's`,
    value,
    unit: 'ratio',
    limit: r.cpuRatioLimit,
    atLeast: false,
    failures,
    met: value <= r.cpuRatioLimit && failures === 0 && r.invalid === null,
    limitText: `≤ ${r.cpuRatioLimit}×`,
    valueText: `${value.toFixed(2)}× (${us(r.mos.cpu.apiThread)} vs ${us(r.floor.cpu.apiThread)} µs)${r.invalid ? ` INVALID: ${r.invalid}` : ''}`,
  };
}

const us = (v: number | null) => (v === null ? '?' : Math.round(v).toLocaleString('en-US'));
const x = (v: number | null) => (v === null ? '?' : `${v.toFixed(2)}×`);
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
/** The load generator's CPU as a share of everything the run cost (its own + app + PostgreSQL + Redis). */
const loadShare = (r: HotRun) => (r.loadGenUs === null ? null : r.loadGenUs / (r.loadGenUs + r.cpu.total));

export function printHotPaths(r: HotPathsResult): void {
  console.log('');
  console.log(
    `Hot paths vs their floors — production mode: PostgreSQL ${r.postgres} (throwaway database ${r.database}), Redis ${r.redis} (prefix ${r.redisPrefix})`,
  );
  console.log(
    `floor = bare Fastify + the same JWT verification + the same one Redis script (orders: the same one prepared statement); ` +
      `load: ${r.loadGenerator}${wrkPath ? ` (${wrkPath}, 1 thread)` : ''}; ${duration} s per run after ${warmupSeconds} s warm-up`,
  );
  printTable([
    [
      'route',
      'conns',
      'app µs/req',
      'floor µs',
      'ratio',
      'req/s',
      'floor req/s',
      'ratio',
      'p99 ms',
      'floor p99',
      'ratio',
      'statuses (MOS | floor)',
      'work answers (MOS | floor)',
    ],
    ...r.routes.map((h) => [
      h.name,
      String(h.connections),
      us(h.mos.cpu.apiThread),
      us(h.floor.cpu.apiThread),
      x(ratio(h.mos.cpu.apiThread, h.floor.cpu.apiThread)),
      fmtInt(h.mos.rps),
      fmtInt(h.floor.rps),
      x(ratio(h.mos.rps, h.floor.rps)),
      h.mos.p99.toFixed(1),
      h.floor.p99.toFixed(1),
      x(ratio(h.mos.p99, h.floor.p99)),
      `${statusesText(h.mos)}${h.mos.wraps ? ` wraps×${h.mos.wraps}` : ''} | ${statusesText(h.floor)}${h.floor.wraps ? ` wraps×${h.floor.wraps}` : ''}`,
      `${h.work.join('/')}: ${pct(h.mos.workShare)} | ${pct(h.floor.workShare)}${h.invalid ? ' INVALID' : ''}`,
    ]),
  ]);
  for (const h of r.routes.filter((x) => x.invalid)) {
    console.log(
      `INVALID ${h.name}: ${h.invalid} — its ratio compares different work (needs ≥ ${pct(MIN_WORK_SHARE)} ${h.work.join('/')} and no wraps on both sides)`,
    );
  }
  console.log('');
  printTable([
    [...CPU_HEADER, 'load generator µs', 'its share'],
    ...r.routes.flatMap((h) =>
      (['mos', 'floor'] as const).map((side) => {
        const run = h[side];
        const share = loadShare(run);
        return [...cpuRow(`${h.name} (${side})`, run.cpu), us(run.loadGenUs), share === null ? '?' : `${(share * 100).toFixed(0)}%`];
      }),
    ),
  ]);
  printTargets(r.targets);
}

export function hotPathsJson(r: HotPathsResult) {
  const side = (h: HotRun) => ({
    rps: round(h.rps, 0),
    p50Ms: round(h.p50, 2),
    p99Ms: round(h.p99, 2),
    ...(h.tailMs ? { p90Ms: round(h.tailMs.p90, 2), p999Ms: round(h.tailMs.p999, 2), maxMs: round(h.tailMs.max, 2) } : {}),
    ...(h.answersPerSecond ? { answersPerSecond: h.answersPerSecond } : {}),
    requests: h.requests,
    statusCodes: h.statusCodes,
    failures: h.failures,
    wraps: h.wraps,
    workShare: round(h.workShare, 4),
    loadGenMicrosPerRequest: h.loadGenUs === null ? null : Math.round(h.loadGenUs),
    cpuMicrosPerRequest: cpuJson(h.cpu),
  });
  return {
    loadGenerator: r.loadGenerator,
    routes: r.routes.map((h) => ({
      name: h.name,
      path: h.path,
      connections: h.connections,
      mos: side(h.mos),
      floor: side(h.floor),
      cpuRatio: round(ratio(h.mos.cpu.apiThread, h.floor.cpu.apiThread) ?? -1, 2),
      cpuRatioLimit: h.cpuRatioLimit,
      invalid: h.invalid,
    })),
    targets: targetsJson(r.targets),
  };
}
