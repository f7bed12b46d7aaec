/**
 * What every benchmark scenario shares: the environment knobs, the autocannon wrapper, table
 * printing and the cleanup registry that also runs on Ctrl-C.
 */
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import type { FastifyInstance } from 'fastify';

export function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}: expected an integer >= ${min}, got "${raw}"`);
  return n;
}

/** Seconds of each measured autocannon run. */
export const duration = intEnv('BENCH_DURATION', 10, 1);
/** Connections of the health runs (bare and full); the seat-map runs use their own fixed counts. */
export const connections = intEnv('BENCH_CONNECTIONS', 50, 1);
// The servers run on this process's main thread; firing the load from a worker thread keeps
// autocannon from competing with them for the same event loop, which would blur the figures.
export const workers = intEnv('BENCH_WORKERS', 1, 0);
/** Discarded run before each measured one: JIT, connection setup, caches, lazy plugin state. */
export const warmupSeconds = intEnv('BENCH_WARMUP', 2, 0);

export interface Figures {
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx responses plus connection errors (timeouts included): anything but 0 makes the figures meaningless. */
  failures: number;
  /** Requests answered during the measured run (a 50,000-seat map is slow enough for this to be small). */
  requests: number;
  connections: number;
}

/**
 * Listens on an ephemeral port (port 0) so the bench never collides with a running MOS, or on
 * `port` (one taken from `freePort`, for an app that must know its own URL before it listens);
 * returns the base URL.
 */
export async function listen(app: FastifyInstance, port = 0): Promise<string> {
  await app.listen({ host: '127.0.0.1', port });
  const bound = (app.server.address() as AddressInfo).port;
  return `http://127.0.0.1:${bound}`;
}

/**
 * A port free right now on 127.0.0.1 (the OS picks it; another process could take it before it
 * is used, which the bench accepts, as test/http/payments.test.ts does).
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function fire(url: string, seconds: number, conns: number, headers?: Record<string, string>): Promise<autocannon.Result> {
  // `workers: undefined` (not 0) is autocannon's single-threaded mode.
  return autocannon({ url, connections: conns, duration: seconds, ...(headers ? { headers } : {}), ...(workers > 0 ? { workers } : {}) });
}

export interface MeasureOptions {
  /** Request headers (Accept-Encoding, If-None-Match). */
  headers?: Record<string, string>;
  /** The status class every answer must have (default 2xx; a revalidation run expects 304s). */
  expect?: '2xx' | '3xx';
}

/** Warm-up first, discarded; then the measured run. */
export async function measure(url: string, conns: number = connections, opts: MeasureOptions = {}): Promise<Figures> {
  if (warmupSeconds > 0) await fire(url, warmupSeconds, conns, opts.headers);
  const r = await fire(url, duration, conns, opts.headers);
  const unexpected = opts.expect === '3xx' ? r['1xx'] + r['2xx'] + r['4xx'] + r['5xx'] : r.non2xx;
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    failures: unexpected + r.errors,
    requests: r.requests.total,
    connections: conns,
  };
}

/**
 * `measure` for large bodies (a 50,000-seat map is ~1 MB even compressed). autocannon appends
 * every body chunk to a string, which costs its thread more than the server spends answering
 * (74–80% of the load worker's samples in a profile of the `/seats` run): there it measures
 * itself. Here `conns` loops of undici `request` on one keep-alive Agent count the body's bytes
 * and drop them, in this thread.
 */
export async function measureLargeBodies(url: string, conns: number, opts: MeasureOptions = {}): Promise<Figures> {
  const agent = new Agent({ connections: conns, keepAliveTimeout: 10_000 });
  const loop = async (seconds: number) => {
    const latencies: number[] = [];
    let failures = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: conns }, async () => {
        while (performance.now() < end) {
          const started = performance.now();
          try {
            const res = await request(url, { headers: opts.headers, dispatcher: agent });
            for await (const _chunk of res.body) {
              // The bytes are counted by the server's sample (`rawGet`); here they are only drained.
            }
            const ok = opts.expect === '3xx' ? res.statusCode >= 300 && res.statusCode < 400 : res.statusCode >= 200 && res.statusCode < 300;
            if (!ok) failures++;
          } catch {
            failures++;
          }
          latencies.push(performance.now() - started);
        }
      }),
    );
    return { latencies, failures };
  };
  try {
    if (warmupSeconds > 0) await loop(warmupSeconds);
    const { latencies, failures } = await loop(duration);
    latencies.sort((a, b) => a - b);
    const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
    return { rps: latencies.length / duration, p50: at(0.5), p99: at(0.99), failures, requests: latencies.length, connections: conns };
  } finally {
    await agent.close();
  }
}

export const round = (n: number, digits = 2) => Number(n.toFixed(digits));

/** 12,345 for a table cell. */
export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Prints rows as a table: first column left-aligned, the others right-aligned. */
export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  for (const row of rows) {
    console.log(
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    );
  }
}

// ---- cleanup ----

const CLEANUP_STEP_MS = 5000;
const pending = new Set<() => Promise<void>>();

/**
 * Registers `fn` (dropping a database, deleting Redis keys) and returns a function that runs it
 * at most once. Call the returned function in a `finally`; should the run be interrupted with
 * Ctrl-C or SIGTERM instead, every still-registered cleanup runs before the process exits.
 */
export function registerCleanup(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = () => {
    pending.delete(once);
    return (done ??= fn());
  };
  pending.add(once);
  return once;
}

async function interrupted(signal: NodeJS.Signals): Promise<void> {
  console.error(`bench: ${signal}, cleaning up…`);
  // A second one while cleanup runs ends the process at once, through process.exit so that the
  // synchronous 'exit' handlers still run (bench/onsale/cluster.ts SIGKILLs its processes there).
  process.once(signal, () => process.exit(130));
  // Newest first, like unwinding nested finally blocks (close the app before dropping its database).
  for (const fn of [...pending].reverse()) {
    // Bounded, so that one step that hangs (an app waiting for in-flight requests) cannot keep
    // the later ones (dropping the database) from running.
    const timeout = sleep(CLEANUP_STEP_MS).then(() => {
      throw new Error(`timed out after ${CLEANUP_STEP_MS} ms`);
    });
    await Promise.race([fn(), timeout]).catch((err: unknown) => console.error('bench: cleanup step failed:', err));
  }
  process.exit(130);
}
process.once('SIGINT', (s) => void interrupted(s));
process.once('SIGTERM', (s) => void interrupted(s));
