/**
 * `npm run bench`: load figures for MOS, printed as tables and one final JSON line.
 *
 * Scenarios (BENCH_SCENARIOS, comma-separated, default all):
 *   health   `GET /health/live` through the full app vs a bare Fastify route (bench/health.ts)
 *   catalog  production mode over real HTTP: creating a 50,000-seat venue and showtime, then
 *            the seat maps of a 50,000-seat and a 2,000-seat showtime (bench/catalog.ts)
 *   seat-views  production mode over real HTTP, a 50,000-seat showtime with 20% taken: the
 *            layout (full and 304), the availability (full and a 10-change delta), the old
 *            /seats with gzip, and SSE fan-out to 2,000 clients (bench/seat-views.ts)
 *   waiting-room  production mode: 100,000 distinct buyers entering a waiting room, their
 *            position polls, and the admission tick with all of them waiting (bench/waiting-room.ts)
 * The load scenarios (waiting-room, booking, coupons, payments) also print the CPU time a request costs
 * the app, PostgreSQL and Redis, and the ceiling it implies (bench/cpu.ts).
 *   booking  production mode: seat holds by distinct buyers on a 50,000-seat showtime, then
 *            orders by 20,000 buyers holding their seats (bench/booking.ts)
 *   coupons  production mode: first-come coupon claims by distinct buyers on a 1,000,000-coupon
 *            campaign and on a 1,000-coupon one that sells out, then the wallet consumer
 *            persisting them, checked against the wallet rows; the same claims against a throwaway
 *            redis-server with AOF `appendfsync always` and then `everysec` (bench/redis-server.ts;
 *            BENCH_REDIS_SERVER, BENCH_REDIS_DIR); and the best-coupon optimizer's time on
 *            10 seats × 100 coupons (bench/coupons.ts)
 *   hotpaths production mode: queue enter, queue poll, hold, coupon claim and order, each against
 *            its floor server in the same run (bare Fastify + the same JWT check + the same one
 *            Redis script, or for orders the same one prepared statement): app event-loop CPU µs
 *            per request, req/s and p99 of both and their ratios, the load generator's own CPU,
 *            and the targets (bench/hotpaths.ts, bench/floors.ts). Load from `wrk` when it is
 *            installed, autocannon otherwise (BENCH_LOADGEN=auto|wrk|autocannon; bench/loadgen.ts)
 *   payments production mode with the sandbox PG mounted in the API process, at PG latency 0 and
 *            300 ms (a fresh server each): orders by buyers holding seats, then every buyer
 *            confirming their order's sandbox checkout (POST /v1/payments/confirm, 200
 *            connections) while the outbox relay publishes payment.completed; the relay's lag,
 *            the pool and event loop, and the sandbox's own cost (bench/payments.ts)
 *   web      embedded mode in this process: the box office's seat map of a 50,000-seat showtime
 *            (a fifth held) in Debian's Chromium — first paint cold and warm, and the time per
 *            frame while zooming and panning (bench/web.ts; CHROMIUM_PATH)
 *   settlement production mode: 1,000,000 ledger entries of 1,000 sellers settled in one run (target
 *            under 30 s), then a 1,000,000-line settlement's CSV streamed over HTTP with the
 *            process's peak RSS (bench/settlement.ts)
 * The bare Fastify route is measured in every run: it is the machine's reference, printed next
 * to the other figures so runs on different machines can be compared.
 *
 * Env: BENCH_DURATION (s per measured run, default 10), BENCH_WARMUP (s of discarded warm-up
 * before each, default 2), BENCH_CONNECTIONS (health runs, default 50), BENCH_WORKERS (load
 * generator threads, default 1; 0 = in the server's thread), BENCH_MODE=production (health
 * scenario: uses DATABASE_URL and REDIS_URL; default embedded), BENCH_DATABASE_URL and
 * BENCH_REDIS_URL (catalog, waiting-room, booking, coupons and payments scenarios; see bench/catalog.ts),
 * BENCH_REDIS_CLUSTER=1 (those scenarios on a local Redis Cluster of 3 masters with a replica each,
 * started for the run and removed after it; the CPU tables then read Redis's CPU from every node
 * and print each master's commands per second — compare with a run without it for one Redis).
 */
import { benchCatalog, catalogJson, printCatalog, type CatalogResult } from './catalog.js';
import { benchBare, benchHealth, HEALTH_PATH } from './health.js';
import { benchBooking, bookingJson, printBooking, type BookingResult } from './booking.js';
import { benchCoupons, couponsJson, printCoupons, type CouponsResult } from './coupons.js';
import { benchHotPaths, hotPathsJson, printHotPaths, type HotPathsResult } from './hotpaths.js';
import { benchPayments, paymentsJson, printPayments, type PaymentsResult } from './payments.js';
import { benchSeatViews, printSeatViews, seatViewsJson, type SeatViewsResult } from './seat-views.js';
import { benchSettlement, printSettlement, settlementJson, type SettlementResult } from './settlement.js';
import { benchWaitingRoom, printWaitingRoom, waitingRoomJson, type WaitingRoomResult } from './waiting-room.js';
import { startLocalCluster } from '../test/support/redis-cluster.js';
import { benchWeb, printWeb, webJson, type WebResult } from './web.js';
import { connections, duration, printTable, registerCleanup, round, warmupSeconds, workers, type Figures } from './lib.js';
import { useBenchCluster } from './production.js';

const ALL = ['health', 'catalog', 'seat-views', 'waiting-room', 'booking', 'coupons', 'hotpaths', 'payments', 'settlement', 'web'] as const;
type Scenario = (typeof ALL)[number];

function scenarios(): Set<Scenario> {
  const raw = process.env.BENCH_SCENARIOS?.trim();
  if (!raw || raw === 'all') return new Set(ALL);
  const picked = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = picked.filter((s) => !(ALL as readonly string[]).includes(s));
  if (unknown.length || !picked.length) throw new Error(`BENCH_SCENARIOS: expected a comma-separated subset of ${ALL.join(', ')} (or all), got "${raw}"`);
  return new Set(picked as Scenario[]);
}

const selected = scenarios();
const production = process.env.BENCH_MODE === 'production';

console.log(
  `node ${process.version}, scenarios: ${[...selected].join(', ')}; ${duration} s per measured run after ${warmupSeconds} s warm-up, ${workers || 'no'} load worker(s)`,
);

let stopCluster: (() => Promise<void>) | undefined;
if (process.env.BENCH_REDIS_CLUSTER === '1') {
  const cluster = await startLocalCluster({ masters: 3, replicasPerMaster: 1 });
  stopCluster = registerCleanup(() => cluster.destroy());
  useBenchCluster(cluster.nodes);
  console.log(`Redis: a local cluster of 3 masters with a replica each (${cluster.nodes.join(', ')}); a showtime's or a campaign's keys share one slot`);
}

// One after the other, never concurrently: they would share the CPU and skew each other.
const bare = await benchBare();

let health: { mode: string; figures: Figures } | undefined;
if (selected.has('health')) {
  health = await benchHealth(production);
  const full = health.figures;
  console.log('');
  console.log(`GET ${HEALTH_PATH} — ${connections} connections`);
  printTable([
    ['server', 'req/s', 'p50 ms', 'p99 ms', 'failures'],
    ['bare fastify', bare.rps.toFixed(0), bare.p50.toFixed(2), bare.p99.toFixed(2), String(bare.failures)],
    [`mos (${health.mode})`, full.rps.toFixed(0), full.p50.toFixed(2), full.p99.toFixed(2), String(full.failures)],
    ['full/bare', (full.rps / bare.rps).toFixed(3), '', (full.p99 / bare.p99).toFixed(3), ''],
  ]);
} else {
  console.log('');
  console.log(
    `bare fastify GET ${HEALTH_PATH} (reference), ${connections} connections: ${bare.rps.toFixed(0)} req/s, p50 ${bare.p50} ms, p99 ${bare.p99} ms, ${bare.failures} failures`,
  );
}

let catalog: CatalogResult | undefined;
if (selected.has('catalog')) {
  catalog = await benchCatalog();
  printCatalog(catalog, bare);
}

let seatViews: SeatViewsResult | undefined;
if (selected.has('seat-views')) {
  seatViews = await benchSeatViews();
  printSeatViews(seatViews, bare);
}

let waitingRoom: WaitingRoomResult | undefined;
if (selected.has('waiting-room')) {
  waitingRoom = await benchWaitingRoom(bare);
  printWaitingRoom(waitingRoom, bare);
}

let booking: BookingResult | undefined;
if (selected.has('booking')) {
  booking = await benchBooking(bare);
  printBooking(booking, bare);
}

let coupons: CouponsResult | undefined;
if (selected.has('coupons')) {
  coupons = await benchCoupons(bare);
  printCoupons(coupons, bare);
}

let hotPaths: HotPathsResult | undefined;
if (selected.has('hotpaths')) {
  hotPaths = await benchHotPaths();
  printHotPaths(hotPaths);
}

let payments: PaymentsResult | undefined;
if (selected.has('payments')) {
  payments = await benchPayments();
  printPayments(payments, bare);
}

let settlement: SettlementResult | undefined;
if (selected.has('settlement')) {
  settlement = await benchSettlement();
  printSettlement(settlement);
}

let web: WebResult | undefined;
if (selected.has('web')) {
  web = await benchWeb();
  printWeb(web);
}

const figuresJson = (f: Figures) => ({ rps: round(f.rps, 0), p50Ms: f.p50, p99Ms: f.p99, failures: f.failures });
const full = health?.figures;
console.log('');
console.log(
  JSON.stringify({
    scenarios: [...selected],
    path: HEALTH_PATH,
    mode: health?.mode ?? null,
    durationSeconds: duration,
    warmupSeconds,
    connections,
    workers,
    bare: figuresJson(bare),
    full: full ? figuresJson(full) : null,
    ratio: full ? { rps: round(full.rps / bare.rps, 3), p99: round(full.p99 / bare.p99, 3) } : null,
    catalog: catalog ? { ...catalogJson(catalog), bareRps: round(bare.rps, 0) } : null,
    seatViews: seatViews ? { ...seatViewsJson(seatViews), bareRps: round(bare.rps, 0) } : null,
    waitingRoom: waitingRoom ? { ...waitingRoomJson(waitingRoom), bareRps: round(bare.rps, 0) } : null,
    booking: booking ? { ...bookingJson(booking), bareRps: round(bare.rps, 0) } : null,
    coupons: coupons ? { ...couponsJson(coupons), bareRps: round(bare.rps, 0) } : null,
    hotPaths: hotPaths ? hotPathsJson(hotPaths) : null,
    payments: payments ? { ...paymentsJson(payments, bare.rps), bareRps: round(bare.rps, 0) } : null,
    settlement: settlement ? settlementJson(settlement) : null,
    web: web ? webJson(web) : null,
  }),
);

// Failed requests are fast, so a run with any would overstate throughput: say so in the exit
// code. A missed target is a finding, not a failure of the bench: it does not change the code.
// (A hold refused with 409 is an answer, not a failure: LoadFigures count only the unexpected.)
const failures = [
  bare,
  full,
  catalog?.large.seatMap,
  catalog?.small.seatMap,
  ...(seatViews?.runs.map((r) => r.figures) ?? []),
  seatViews ? { failures: seatViews.fanOut.failures } : undefined,
  waitingRoom?.enter,
  waitingRoom?.poll,
  booking?.holds,
  booking?.orders,
  coupons?.large,
  coupons?.soldOut,
  ...(coupons?.aof.map((a) => a.run) ?? []),
  ...(hotPaths?.routes.flatMap((r) => [r.mos, r.floor]) ?? []),
  ...(payments?.runs.flatMap((r) => [r.orders, r.confirms, r.sandboxAlone]) ?? []),
].reduce((n, f) => n + (f?.failures ?? 0), 0);
if (failures) {
  console.error('bench: some requests failed (non-2xx or connection errors); figures are not comparable');
  process.exitCode = 1;
}
// Coupons told "issued" that are not in a wallet (or are twice): a bug, not a slow machine.
if (coupons?.walletMismatch) {
  console.error('bench: coupon wallet rows do not match the coupons issued (see the wallet check above)');
  process.exitCode = 1;
}
await stopCluster?.();
