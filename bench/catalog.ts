/**
 * The `catalog` scenario, always in production mode (PostgreSQL + Redis) and always through real
 * HTTP against a listening server, the way a seller and buyers reach it:
 *
 *   1. a seller signs up and logs in, creates a 50,000-seat venue, a performance with three
 *      grades and a few seat-grade rules, and a showtime — the venue and showtime POSTs timed;
 *   2. `GET /v1/schedules/:id/seats` of that showtime under 10 connections;
 *   3. the same for a 2,000-seat showtime under 50 connections.
 *
 * By default it creates a throwaway database on the local server the way the tests do
 * (test/support/harness.ts) and uses a Redis key prefix of its own; both are removed at the
 * end, failed or not (and on Ctrl-C). Env: BENCH_DATABASE_URL (admin URL of the server the
 * throwaway database is created on; default postgres://postgres@127.0.0.1:5432/test),
 * BENCH_REDIS_URL (default redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { performance as perf } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { duration, fmtInt, measure, printTable, round, warmupSeconds, workers, type Figures } from './lib.js';
import { target, withProduction, type Target } from './production.js';

// The connection counts are part of the targets' definitions, so they are fixed here rather
// than taken from BENCH_CONNECTIONS.
const LARGE_CONNECTIONS = 10;
const SMALL_CONNECTIONS = 50;

const TARGETS = {
  createSeconds: 3,
  largeP99Ms: 250,
  smallRps: 500,
  smallP99Ms: 100,
} as const;

// ---- layouts and grading ----

export interface Layout {
  sections: { name: string; rows: { label: string; seats: number }[] }[];
}

/** `sections` sections named A, B, C… of `rows` rows labelled 1..rows, `seats` seats each. */
function layout(sections: number, rows: number, seats: number): Layout {
  return {
    sections: Array.from({ length: sections }, (_, s) => ({
      name: String.fromCharCode(65 + s),
      rows: Array.from({ length: rows }, (_, r) => ({ label: String(r + 1), seats })),
    })),
  };
}

export const LARGE = layout(20, 50, 50); // 50,000 seats
const SMALL = layout(4, 20, 25); // 2,000 seats

/**
 * Three grades and a few rules, first match wins (grading.ts): the front rows of A and B are VIP,
 * the rest of A–C is R, everything else falls to the default S. Row-restricted rules exercise
 * the `row_label = any(…)` branch of the inventory CASE, whole-section rules the plain one.
 */
const front = Array.from({ length: 5 }, (_, i) => String(i + 1));
const GRADING = {
  grades: [
    { name: 'VIP', price: 165_000 },
    { name: 'R', price: 132_000 },
    { name: 'S', price: 99_000 },
  ],
  seatGrades: [
    { grade: 'VIP', section: 'A', rows: front },
    { grade: 'VIP', section: 'B', rows: front },
    { grade: 'R', section: 'A' },
    { grade: 'R', section: 'B' },
    { grade: 'R', section: 'C' },
  ],
  defaultGrade: 'S',
};

// ---- infrastructure ----

interface Response<T> {
  json: T;
  /** Client-side wall time from sending the request to having read the whole body. */
  seconds: number;
  bytes: number;
}

export async function http<T>(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  opts: { body?: unknown; token?: string; expect: number },
): Promise<Response<T>> {
  const headers: Record<string, string> = {};
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const started = perf.now();
  const res = await fetch(base + path, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const raw = Buffer.from(await res.arrayBuffer());
  const seconds = (perf.now() - started) / 1000;
  // Setup steps must work for the figures to mean anything; this is not an assertion on them.
  if (res.status !== opts.expect) throw new Error(`${method} ${path}: expected ${opts.expect}, got ${res.status} ${raw.toString('utf8').slice(0, 500)}`);
  return { json: JSON.parse(raw.toString('utf8')) as T, seconds, bytes: raw.length };
}

// ---- the scenario ----

export interface Creation {
  seats: number;
  scheduleId: string;
  venueSeconds: number;
  performanceSeconds: number;
  scheduleSeconds: number;
}

export interface SeatMapFigures extends Figures {
  seats: number;
  /** Size of one response body. */
  bytes: number;
  /** Seats in that body: a cheap check that the map is the whole showtime. */
  seatsInBody: number;
  /** The first request, which reads the inventory and builds the cached part; not in the figures. */
  firstRequestMs: number;
}

export interface CatalogResult {
  database: string;
  postgres: string;
  redis: string;
  redisPrefix: string;
  large: { creation: Creation; seatMap: SeatMapFigures };
  small: { creation: Creation; seatMap: SeatMapFigures };
  targets: Target[];
}

export async function createShowtime(base: string, token: string, venue: Layout, title: string): Promise<Creation> {
  const v = await http<{ id: string; seatCount: number }>(base, 'POST', '/v1/venues', {
    token,
    body: { name: `${title} Hall`, address: 'Bench-ro 1, Seoul', ...venue },
    expect: 201,
  });
  const p = await http<{ id: string }>(base, 'POST', '/v1/performances', {
    token,
    body: { title, venueId: v.json.id, runningMinutes: 150, ...GRADING },
    expect: 201,
  });
  const now = Date.now();
  const s = await http<{ id: string; seatCount: number }>(base, 'POST', `/v1/performances/${p.json.id}/schedules`, {
    token,
    body: { startsAt: new Date(now + 30 * 86_400_000).toISOString(), saleOpensAt: new Date(now - 60_000).toISOString() },
    expect: 201,
  });
  return { seats: s.json.seatCount, scheduleId: s.json.id, venueSeconds: v.seconds, performanceSeconds: p.seconds, scheduleSeconds: s.seconds };
}

async function benchSeatMap(base: string, creation: Creation, conns: number): Promise<SeatMapFigures> {
  const path = `/v1/schedules/${creation.scheduleId}/seats`;
  // When autocannon stops, the server is still rendering the requests it had already read
  // (10 × ~40 ms for the large map); let that drain so it does not inflate the first request.
  await sleep(1000);
  const first = await http<{ seats: unknown[] }>(base, 'GET', path, { expect: 200 });
  const figures = await measure(base + path, conns);
  return { ...figures, seats: creation.seats, bytes: first.bytes, seatsInBody: first.json.seats.length, firstRequestMs: first.seconds * 1000 };
}

export async function benchCatalog(): Promise<CatalogResult> {
  return withProduction({}, async ({ base, database, postgres, redis, redisPrefix }) => {
    const email = `bench-seller-${randomBytes(4).toString('hex')}@bench.mos`;
    const password = 'bench password 1';
    await http(base, 'POST', '/v1/auth/signup', { body: { email, password, name: 'Bench Seller', role: 'SELLER' }, expect: 201 });
    const { accessToken } = (await http<{ accessToken: string }>(base, 'POST', '/v1/auth/login', { body: { email, password }, expect: 200 })).json;

    // The small showtime first: besides being needed for step 3, it takes the creation code
    // path through its first (JIT-cold) run, so the timed 50,000-seat creation measures a
    // server in its usual, warm state rather than the first request after a deploy.
    const smallCreation = await createShowtime(base, accessToken, SMALL, 'Bench Quartet');
    const largeCreation = await createShowtime(base, accessToken, LARGE, 'Bench Stadium Tour');

    // One after the other, never concurrently: they would share the CPU and skew each other.
    const largeMap = await benchSeatMap(base, largeCreation, LARGE_CONNECTIONS);
    const smallMap = await benchSeatMap(base, smallCreation, SMALL_CONNECTIONS);

    const createSeconds = largeCreation.venueSeconds + largeCreation.scheduleSeconds;
    return {
      database,
      postgres,
      redis,
      redisPrefix,
      large: { creation: largeCreation, seatMap: largeMap },
      small: { creation: smallCreation, seatMap: smallMap },
      targets: [
        target(`${fmtInt(largeCreation.seats)}-seat venue + showtime POSTs`, createSeconds, 's', TARGETS.createSeconds, false),
        target(`${fmtInt(largeMap.seats)}-seat map p99 (${LARGE_CONNECTIONS} conn.)`, largeMap.p99, 'ms', TARGETS.largeP99Ms, false, largeMap.failures),
        target(`${fmtInt(smallMap.seats)}-seat map req/s (${SMALL_CONNECTIONS} conn.)`, smallMap.rps, 'req/s', TARGETS.smallRps, true, smallMap.failures),
        target(`${fmtInt(smallMap.seats)}-seat map p99 (${SMALL_CONNECTIONS} conn.)`, smallMap.p99, 'ms', TARGETS.smallP99Ms, false, smallMap.failures),
      ],
    };
  });
}

// ---- output ----

const fmtValue = (t: Target) => (t.unit === 's' ? `${t.value.toFixed(2)} s` : t.unit === 'ms' ? `${t.value.toFixed(0)} ms` : `${fmtInt(t.value)} req/s`);
const fmtLimit = (t: Target) => `${t.atLeast ? '≥' : '<'} ${t.unit === 'req/s' ? `${fmtInt(t.limit)} req/s` : `${t.limit} ${t.unit}`}`;

export function printCatalog(r: CatalogResult, bare: Figures): void {
  const { large, small } = r;
  console.log('');
  console.log(`Catalog — production mode: PostgreSQL ${r.postgres} (throwaway database ${r.database}), Redis ${r.redis} (prefix ${r.redisPrefix})`);
  console.log('');
  console.log('Creating a showtime through HTTP as a seller (client-side wall time of each POST)');
  const sec = (n: number) => `${n.toFixed(3)} s`;
  printTable([
    ['step', `${fmtInt(large.creation.seats)} seats`, `${fmtInt(small.creation.seats)} seats`],
    ['POST /v1/venues', sec(large.creation.venueSeconds), sec(small.creation.venueSeconds)],
    ['POST /v1/performances (3 grades, 5 rules)', sec(large.creation.performanceSeconds), sec(small.creation.performanceSeconds)],
    ['POST /v1/performances/:id/schedules', sec(large.creation.scheduleSeconds), sec(small.creation.scheduleSeconds)],
    ['venue + showtime', sec(large.creation.venueSeconds + large.creation.scheduleSeconds), sec(small.creation.venueSeconds + small.creation.scheduleSeconds)],
  ]);
  console.log('');
  console.log(
    `GET /v1/schedules/:id/seats (anonymous) — ${duration} s per run after ${warmupSeconds} s warm-up, ${workers || 'no'} load worker(s); ` +
      'bare Fastify from this same run for comparison',
  );
  const row = (name: string, f: Figures, bytes: string, first: string): string[] => [
    name,
    String(f.connections),
    fmtInt(f.rps),
    f.p50.toFixed(1),
    f.p99.toFixed(1),
    bytes,
    first,
    String(f.failures),
    (f.rps / bare.rps).toFixed(4),
  ];
  printTable([
    ['server / route', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'body bytes', '1st req ms', 'failures', 'req/s ÷ bare'],
    row(`seat map, ${fmtInt(large.seatMap.seats)} seats`, large.seatMap, fmtInt(large.seatMap.bytes), large.seatMap.firstRequestMs.toFixed(0)),
    row(`seat map, ${fmtInt(small.seatMap.seats)} seats`, small.seatMap, fmtInt(small.seatMap.bytes), small.seatMap.firstRequestMs.toFixed(0)),
    row('bare fastify /health/live', bare, '15', ''),
  ]);
  for (const m of [large.seatMap, small.seatMap]) {
    if (m.seatsInBody !== m.seats) console.log(`note: the ${fmtInt(m.seats)}-seat map answered ${fmtInt(m.seatsInBody)} seats`);
  }
  console.log('');
  console.log('Targets');
  printTable([
    ['target', 'limit', 'measured', 'result'],
    ...r.targets.map((t) => [t.name, fmtLimit(t), fmtValue(t), (t.met ? 'MET' : 'MISSED') + (t.failures ? ` (${t.failures} failed requests)` : '')]),
  ]);
}

/** The catalog part of the final JSON line. */
export function catalogJson(r: CatalogResult) {
  const creation = (c: Creation) => ({
    seats: c.seats,
    venueSeconds: round(c.venueSeconds, 3),
    performanceSeconds: round(c.performanceSeconds, 3),
    scheduleSeconds: round(c.scheduleSeconds, 3),
    venuePlusScheduleSeconds: round(c.venueSeconds + c.scheduleSeconds, 3),
  });
  const seatMap = (m: SeatMapFigures) => ({
    seats: m.seats,
    connections: m.connections,
    rps: round(m.rps, 1),
    p50Ms: m.p50,
    p99Ms: m.p99,
    bytes: m.bytes,
    firstRequestMs: round(m.firstRequestMs, 1),
    requests: m.requests,
    failures: m.failures,
  });
  return {
    mode: 'production',
    create: creation(r.large.creation),
    createSmall: creation(r.small.creation),
    seatMapLarge: seatMap(r.large.seatMap),
    seatMapSmall: seatMap(r.small.seatMap),
    targets: r.targets.map((t) => ({ name: t.name, value: round(t.value, 3), unit: t.unit, limit: t.limit, atLeast: t.atLeast, met: t.met })),
  };
}
