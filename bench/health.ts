/**
 * The `health` scenario: what the full MOS stack costs per request, relative to bare Fastify.
 *
 * Both servers answer `GET /health/live` with `{"status":"ok"}`, so the difference between
 * them is MOS's own per-request overhead (helmet, rate-limit hook, auth and idempotency hooks,
 * request ids, response serialisation) rather than any handler work. Absolute figures depend
 * on the machine; the full/bare ratio is the number worth comparing across runs.
 */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import { deleteByPrefix } from '../src/platform/redis/client.js';
import { listen, measure, registerCleanup, type Figures } from './lib.js';

export const HEALTH_PATH = '/health/live';

/** The reference every other figure is read against: a bare Fastify route, same machine, same run. */
export async function benchBare(): Promise<Figures> {
  const app = Fastify({ logger: false });
  app.get(HEALTH_PATH, async () => ({ status: 'ok' }));
  try {
    return await measure((await listen(app)) + HEALTH_PATH);
  } finally {
    await app.close();
  }
}

/**
 * The full app on `GET /health/live`: embedded by default; BENCH_MODE=production uses the
 * DATABASE_URL and REDIS_URL given (no database writes, so no throwaway database is needed).
 */
export async function benchHealth(production: boolean): Promise<{ mode: string; figures: Figures }> {
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
  const cleanRedis = registerCleanup(async () => {
    if (production) await deleteByPrefix(process.env.REDIS_URL!, redisPrefix);
  });
  try {
    const ctx = await createContext(loadConfig(env));
    const closeCtx = registerCleanup(() => ctx.close());
    try {
      const app = await buildApp(ctx);
      const closeApp = registerCleanup(() => app.close());
      try {
        return { mode: ctx.config.mode, figures: await measure((await listen(app)) + HEALTH_PATH) };
      } finally {
        await closeApp();
      }
    } finally {
      await closeCtx();
    }
  } finally {
    await cleanRedis();
  }
}
