/**
 * The `seat-views` scenario, in production mode (PostgreSQL + Redis) over real HTTP: a
 * 50,000-seat showtime with 20% of its seats taken (half sold in PostgreSQL and the hot state,
 * half held by 1,250 buyers), then
 *
 *   1. the layout: the full body (br, 10 connections) and a revalidation (304, 200 connections);
 *   2. the availability: the full state (gzip) and a delta of 10 changes, 200 connections each;
 *   3. the old `/seats` map of the same showtime, gzip, 10 connections;
 *   4. SSE fan-out: 2,000 stream clients while one seat changes every 100 ms — events delivered,
 *      the delay from a change to its arrival, and the hot-state reads per second it cost.
 *
 * Bytes are response bodies as they travel (compressed where the request accepts it). The
 * database and Redis prefix are throwaway (bench/production.ts).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { performance as perf } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { newId } from '../src/platform/ids.js';
import { createShowtime, http, LARGE } from './catalog.js';
import { duration, fmtInt, measure, measureLargeBodies, printTable, round, warmupSeconds, workers, type Figures } from './lib.js';
import { printTargets, targetsJson, under, withProduction, type BenchTarget } from './production.js';

const CONNECTIONS = 200;
/** Bodies of hundreds of KB (the layout, the old map): as many connections as the catalog scenario's large map. */
const LARGE_BODY_CONNECTIONS = 10;
const STREAM_CLIENTS = 2000;
const REFRESH_MS = 1000;
const CHANGE_EVERY_MS = 100;
const TAKEN_SHARE = 0.2;

interface Raw {
  status: number;
  headers: IncomingMessage['headers'];
  bytes: number;
}

/** One GET as it travels: the body's bytes before any decompression (fetch would inflate them). */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

export interface Run {
  name: string;
  figures: Figures;
  bytes: number;
}

export interface FanOut {
  clients: number;
  seconds: number;
  changes: number;
  /** Events received across every client (each carries one or more versions' changes). */
  events: number;
  /** Clients that saw the last change by the end. */
  upToDate: number;
  /**
   * Delay from a change to its arrival at a client, for the newest change each event carries
   * (an event carries every change since the client's version: the older ones of a batch waited
   * up to one SEAT_AVAILABILITY_REFRESH_MS longer, by design).
   */
  p50Ms: number;
  p99Ms: number;
  readsPerSecond: number;
  /** Connections refused or dropped. */
  failures: number;
}

export interface SeatViewsResult {
  seats: number;
  taken: number;
  runs: Run[];
  fanOut: FanOut;
  targets: BenchTarget[];
}

export async function benchSeatViews(): Promise<SeatViewsResult> {
  return withProduction(
    { SEAT_AVAILABILITY_REFRESH_MS: String(REFRESH_MS), SEAT_AVAILABILITY_MAX_STREAMS: String(STREAM_CLIENTS + 100) },
    async ({ ctx, base }) => {
      const email = `bench-seller-${randomBytes(4).toString('hex')}@bench.mos`;
      const password = 'bench password 1';
      await http(base, 'POST', '/v1/auth/signup', { body: { email, password, name: 'Bench Seller', role: 'SELLER' }, expect: 201 });
      const { accessToken } = (await http<{ accessToken: string }>(base, 'POST', '/v1/auth/login', { body: { email, password }, expect: 200 })).json;
      const { scheduleId, seats } = await createShowtime(base, accessToken, LARGE, 'Bench Seat Views');
      const layout = (await http<{ seats: { seatId: string }[] }>(base, 'GET', `/v1/schedules/${scheduleId}/layout`, { expect: 200 })).json.seats;
      const seatIds = layout.map((s) => s.seatId);

      // 20% taken, spread over the venue by a fixed shuffle: half sold (PostgreSQL, then the hot
      // state, as a paid order does), half held by buyers of four seats each.
      const order = seatIds.map((_, i) => i);
      let seed = 42;
      for (let i = order.length - 1; i > 0; i--) {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        const j = seed % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const taken = Math.round(seats * TAKEN_SHARE);
      const sold = order.slice(0, taken / 2).map((i) => seatIds[i]!);
      const held = order.slice(taken / 2, taken).map((i) => seatIds[i]!);
      const free = order.slice(taken).map((i) => seatIds[i]!);
      await ctx.database.db.transaction((tx) => ctx.catalog.inventory.sellSeats({ scheduleId, seatIds: sold, orderId: newId() }, tx));
      const schedule = await ctx.catalog.inventory.scheduleForSale(scheduleId);
      await ctx.booking.holds.load(scheduleId);
      await ctx.booking.holds.soldForOrder({ scheduleId, seatIds: sold });
      for (let i = 0; i < held.length; i += 4 * 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, k) => held.slice(i + k * 4, i + k * 4 + 4))
            .filter((group) => group.length)
            .map((group) => ctx.booking.holds.hold(newId(), schedule, group)),
        );
      }
      let nextFree = 0;
      const change = () => ctx.booking.holds.hold(newId(), schedule, [free[nextFree++]!]);

      const url = (path: string) => `${base}/v1/schedules/${scheduleId}${path}`;
      const runs: Run[] = [];
      const run = async (name: string, path: string, conns: number, headers: Record<string, string>, expect: '2xx' | '3xx' = '2xx') => {
        await sleep(500);
        const sample = await rawGet(url(path), headers);
        // Large bodies: autocannon would measure its own string building (see measureLargeBodies).
        const figures = await (conns === LARGE_BODY_CONNECTIONS ? measureLargeBodies : measure)(url(path), conns, { headers, expect });
        const r = { name, figures, bytes: sample.bytes };
        runs.push(r);
        return r;
      };

      await run('layout, full (br)', '/layout', LARGE_BODY_CONNECTIONS, { 'accept-encoding': 'br' });
      const layoutGzip = await rawGet(url('/layout'), { 'accept-encoding': 'gzip' });
      const layoutPlain = await rawGet(url('/layout'));
      const etag = String(layoutGzip.headers.etag);
      await run('layout, revalidated (304)', '/layout', CONNECTIONS, { 'accept-encoding': 'br', 'if-none-match': etag }, '3xx');
      const availabilityFull = await run('availability, full (gzip)', '/availability', CONNECTIONS, { 'accept-encoding': 'gzip' });
      const availabilityPlain = await rawGet(url('/availability'));

      // Ten changes after a version a client has, then the delta that client asks for.
      await sleep(REFRESH_MS);
      const before = (await http<{ version: number }>(base, 'GET', `/v1/schedules/${scheduleId}/availability`, { expect: 200 })).json.version;
      for (let i = 0; i < 10; i++) await change();
      await sleep(REFRESH_MS);
      const availabilityDelta = await run('availability, delta of 10 changes', `/availability?since=${before}`, CONNECTIONS, { 'accept-encoding': 'gzip' });

      const seatsGzip = await run('old /seats (gzip)', '/seats', LARGE_BODY_CONNECTIONS, { 'accept-encoding': 'gzip' });
      const seatsPlain = await rawGet(url('/seats'));

      const fanOut = await fanOutRun(base, scheduleId, change, () => ctx.catalog.availabilityReads());

      const targets: BenchTarget[] = [
        below('availability full body (gzip)', availabilityFull.bytes, 16 * 1024, 'bytes', 0),
        under(`availability full p99 (${CONNECTIONS} conn.)`, availabilityFull.figures.p99, 50, availabilityFull.figures.failures),
        below('availability delta of 10 changes', availabilityDelta.bytes, 200, 'bytes', 0),
        // "One read per interval": a little over 1 where a read's own time stretches an interval.
        below(
          `hot-state reads per interval, ${fmtInt(STREAM_CLIENTS)} stream clients`,
          (fanOut.readsPerSecond * REFRESH_MS) / 1000,
          1.05,
          'reads',
          fanOut.failures + (fanOut.clients - fanOut.upToDate),
          2,
        ),
        under(`old /seats p99, gzip (${LARGE_BODY_CONNECTIONS} conn.)`, seatsGzip.figures.p99, 250, seatsGzip.figures.failures),
      ];
      extra = { layoutGzip: layoutGzip.bytes, layoutPlain: layoutPlain.bytes, availabilityPlain: availabilityPlain.bytes, seatsPlain: seatsPlain.bytes };
      return { seats, taken, runs, fanOut, targets };
    },
  );
}

/** A target on something other than time: `value` must stay under `limit`. */
function below(name: string, value: number, limit: number, unit: string, failures: number, digits = 0): BenchTarget {
  return {
    ...under(name, value, limit, failures, digits),
    limitText: `< ${Number.isInteger(limit) ? fmtInt(limit) : limit.toFixed(2)} ${unit}`,
    valueText: `${value.toFixed(digits)} ${unit}`,
  };
}

/** Body sizes measured once, beside the runs. */
let extra = { layoutGzip: 0, layoutPlain: 0, availabilityPlain: 0, seatsPlain: 0 };

/**
 * 2,000 stream clients on one showtime, a seat changing every CHANGE_EVERY_MS for the run: how
 * many events they get, how long a change takes to reach them, and the hot-state reads it costs.
 */
async function fanOutRun(base: string, scheduleId: string, change: () => Promise<unknown>, reads: () => number): Promise<FanOut> {
  const versionsAt = new Map<number, number>();
  const delays: number[] = [];
  let events = 0;
  let failures = 0;
  const last: number[] = [];
  const sockets: { destroy: () => void }[] = [];
  await Promise.all(
    Array.from(
      { length: STREAM_CLIENTS },
      (_, c) =>
        new Promise<void>((resolve) => {
          const req = httpRequest(`${base}/v1/schedules/${scheduleId}/availability/stream`, { agent: false }, (res) => {
            if (res.statusCode !== 200) {
              failures++;
              res.resume();
              resolve();
              return;
            }
            let buffered = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              buffered += chunk;
              let end = buffered.indexOf('\n\n');
              while (end >= 0) {
                const block = buffered.slice(0, end);
                buffered = buffered.slice(end + 2);
                const id = /^id: (\d+)$/m.exec(block)?.[1];
                if (id !== undefined) {
                  const version = Number(id);
                  if (last[c] === undefined) resolve();
                  else {
                    events++;
                    const at = versionsAt.get(version);
                    if (at !== undefined) delays.push(perf.now() - at);
                  }
                  last[c] = version;
                }
                end = buffered.indexOf('\n\n');
              }
            });
            res.on('error', () => failures++);
          });
          req.on('error', () => {
            failures++;
            resolve();
          });
          sockets.push(req);
          req.end();
        }),
    ),
  );
  const readsBefore = reads();
  const started = perf.now();
  // Every client starts at the same version; each change (a hold of a free seat, nothing lapsing
  // meanwhile) makes exactly the next one, so the events name the change they carry.
  let lastVersion = Math.max(...last.filter((v) => v !== undefined));
  let changes = 0;
  while (perf.now() - started < duration * 1000) {
    await change();
    changes++;
    versionsAt.set(++lastVersion, perf.now());
    await sleep(CHANGE_EVERY_MS);
  }
  const elapsed = (perf.now() - started) / 1000;
  const readsDuring = reads() - readsBefore;
  await sleep(REFRESH_MS * 2);
  const upToDate = last.filter((v) => v >= lastVersion).length;
  for (const s of sockets) s.destroy();
  delays.sort((a, b) => a - b);
  const pct = (p: number) => (delays.length ? delays[Math.min(delays.length - 1, Math.floor(delays.length * p))]! : 0);
  return {
    clients: STREAM_CLIENTS,
    seconds: elapsed,
    changes,
    events,
    upToDate,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    readsPerSecond: readsDuring / elapsed,
    failures,
  };
}

// ---- output ----

export function printSeatViews(r: SeatViewsResult, bare: Figures): void {
  console.log('');
  console.log(
    `Seat views — production mode, ${fmtInt(r.seats)}-seat showtime, ${fmtInt(r.taken)} seats taken (half sold, half held); ` +
      `${duration} s per run after ${warmupSeconds} s warm-up, ${workers || 'no'} load worker(s); bare Fastify from this same run`,
  );
  printTable([
    ['route', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'bytes/response', 'failures', 'req/s ÷ bare'],
    ...r.runs.map((x) => [
      x.name,
      String(x.figures.connections),
      fmtInt(x.figures.rps),
      x.figures.p50.toFixed(1),
      x.figures.p99.toFixed(1),
      fmtInt(x.bytes),
      String(x.figures.failures),
      (x.figures.rps / bare.rps).toFixed(4),
    ]),
    ['bare fastify /health/live', String(bare.connections), fmtInt(bare.rps), bare.p50.toFixed(1), bare.p99.toFixed(1), '15', String(bare.failures), '1'],
  ]);
  console.log(
    `uncompressed: layout ${fmtInt(extra.layoutPlain)} B (gzip ${fmtInt(extra.layoutGzip)} B), availability ${fmtInt(extra.availabilityPlain)} B, old /seats ${fmtInt(extra.seatsPlain)} B`,
  );
  const f = r.fanOut;
  console.log('');
  console.log(
    `SSE fan-out: ${fmtInt(f.clients)} clients, one seat changing every ${CHANGE_EVERY_MS} ms for ${f.seconds.toFixed(1)} s (SEAT_AVAILABILITY_REFRESH_MS=${REFRESH_MS})`,
  );
  printTable([
    ['changes', 'events delivered', 'clients up to date', "newest change's delay p50 ms", 'p99 ms', 'hot-state reads/s', 'failures'],
    [fmtInt(f.changes), fmtInt(f.events), fmtInt(f.upToDate), f.p50Ms.toFixed(0), f.p99Ms.toFixed(0), f.readsPerSecond.toFixed(2), String(f.failures)],
  ]);
  console.log('');
  printTargets(r.targets);
}

export function seatViewsJson(r: SeatViewsResult) {
  return {
    mode: 'production',
    seats: r.seats,
    taken: r.taken,
    runs: r.runs.map((x) => ({
      name: x.name,
      connections: x.figures.connections,
      rps: round(x.figures.rps, 1),
      p50Ms: x.figures.p50,
      p99Ms: x.figures.p99,
      bytes: x.bytes,
      failures: x.figures.failures,
    })),
    uncompressedBytes: extra,
    fanOut: { ...r.fanOut, seconds: round(r.fanOut.seconds, 2), readsPerSecond: round(r.fanOut.readsPerSecond, 3) },
    targets: targetsJson(r.targets),
  };
}
