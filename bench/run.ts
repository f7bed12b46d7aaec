/**
 * `npm run bench`: what the full MOS stack costs per request, relative to bare Fastify.
 *
 * Both servers answer `GET /health/live` with `{"status":"ok"}`, so the difference between
 * them is MOS's own per-request overhead (helmet, rate-limit hook, auth and idempotency hooks,
 * request ids, response serialisation) rather than any handler work. Absolute figures depend
 * on the machine; the full/bare ratio is the number worth comparing across runs.
 *
 * Env: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 50), BENCH_WORKERS (load
 * generator threads, default 1; 0 = in the server's thread), BENCH_MODE=production (uses
 * DATABASE_URL and REDIS_URL; default embedded).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { deleteByPrefix } from '../src/platform/redis/client.js';

const PATH = '/health/live';
const WARMUP_SECONDS = 2;

function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}: expected an integer >= ${min}, got "${raw}"`);
  return n;
}

const duration = intEnv('BENCH_DURATION', 10, 1);
const connections = intEnv('BENCH_CONNECTIONS', 50, 1);
// The servers run on this process's main thread; firing the load from a worker thread keeps
// autocannon from competing with them for the same event loop, which would blur the ratio.
const workers = intEnv('BENCH_WORKERS', 1, 0);
const production = process.env.BENCH_MODE === 'production';

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx responses plus connection errors: anything but 0 makes the figures meaningless. */
  failures: number;
}

/** Listens on an ephemeral port (port 0) so the bench never collides with a running MOS. */
async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}${PATH}`;
}

function fire(url: string, seconds: number): Promise<autocannon.Result> {
  // `workers: undefined` (not 0) is autocannon's single-threaded mode.
  return autocannon({ url, connections, duration: seconds, ...(workers > 0 ? { workers } : {}) });
}

/** Warm-up first (JIT, connection setup, lazy plugin state), discarded; then the measured run. */
async function measure(url: string): Promise<Figures> {
  await fire(url, WARMUP_SECONDS);
  const r = await fire(url, duration);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failures: r.non2xx + r.errors };
}

async function benchBare(): Promise<Figures> {
  const app = Fastify({ logger: false });
  app.get(PATH, async () => ({ status: 'ok' }));
  try {
    return await measure(await listen(app));
  } finally {
    await app.close();
  }
}

async function benchFull(): Promise<{ mode: string; figures: Figures }> {
  const redisPrefix = `mos:bench:${randomBytes(6).toString('hex')}:`;
  const env: Record<string, string> = {
    LOG_LEVEL: 'silent',
    DATA_DIR: 'memory://',
    SEED_DEMO: 'false',
    // The global per-IP limiter (default 1200/min) would answer 429 to a load test from one IP.
    RATE_LIMIT_MAX: '100000000',
  };
  if (production) {
    const { DATABASE_URL, REDIS_URL } = process.env;
    // Refuse rather than silently measure embedded mode under a "production" label.
    if (!DATABASE_URL || !REDIS_URL) throw new Error('BENCH_MODE=production needs DATABASE_URL and REDIS_URL');
    Object.assign(env, {
      DATABASE_URL,
      REDIS_URL,
      JWT_SECRET: randomBytes(32).toString('base64url'),
      // A prefix of its own, so the bench never touches (and can clean up after) real keys.
      REDIS_KEY_PREFIX: redisPrefix,
    });
  }
  const ctx = await createContext(loadConfig(env));
  try {
    const app = await buildApp(ctx);
    try {
      return { mode: ctx.config.mode, figures: await measure(await listen(app)) };
    } finally {
      await app.close();
    }
  } finally {
    await ctx.close();
    if (production) await deleteByPrefix(process.env.REDIS_URL!, redisPrefix);
  }
}

// One after the other, never concurrently: they would share the CPU and skew each other.
const bare = await benchBare();
const { mode, figures: full } = await benchFull();

const ratio = { rps: full.rps / bare.rps, p99: full.p99 / bare.p99 };
const round = (n: number, digits = 2) => Number(n.toFixed(digits));

const rows: string[][] = [
  ['server', 'req/s', 'p50 ms', 'p99 ms', 'failures'],
  ['bare fastify', bare.rps.toFixed(0), bare.p50.toFixed(2), bare.p99.toFixed(2), String(bare.failures)],
  [`mos (${mode})`, full.rps.toFixed(0), full.p50.toFixed(2), full.p99.toFixed(2), String(full.failures)],
  ['full/bare', ratio.rps.toFixed(3), '', ratio.p99.toFixed(3), ''],
];
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
console.log(`GET ${PATH} — ${duration} s, ${connections} connections, ${workers || 'no'} load worker(s), after ${WARMUP_SECONDS} s warm-up`);
for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
console.log(
  JSON.stringify({
    path: PATH,
    mode,
    durationSeconds: duration,
    connections,
    workers,
    bare: { rps: round(bare.rps, 0), p50Ms: bare.p50, p99Ms: bare.p99, failures: bare.failures },
    full: { rps: round(full.rps, 0), p50Ms: full.p50, p99Ms: full.p99, failures: full.failures },
    ratio: { rps: round(ratio.rps, 3), p99: round(ratio.p99, 3) },
  }),
);

// Failed requests are fast, so a run with any would overstate throughput: say so in the exit code.
if (bare.failures || full.failures) {
  console.error('bench: some requests failed (non-2xx or connection errors); figures are not comparable');
  process.exitCode = 1;
}
