import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config, type Mode } from '../../src/config.js';
import { createContext, type AppContext, type ContextOptions } from '../../src/context.js';
import { inject } from 'vitest';
import { deleteByPrefix, type RedisTarget } from '../../src/platform/redis/client.js';

/** Where the tests find the machine's services (CI and developers alike). */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The Redis the production-mode tests run on: the machine's server (TEST_REDIS_URL), or — in the
 * `cluster` project (MOS_TEST_REDIS=cluster) — the local Redis Cluster its global setup started
 * (test/support/cluster-setup.ts).
 */
export function testRedis(): RedisTarget {
  if (process.env.MOS_TEST_REDIS !== 'cluster') return { url: TEST_REDIS_URL };
  return { clusterNodes: inject('redisClusterNodes').split(',') };
}

/** The environment that points a MOS process at `testRedis()`: a cluster's claims also wait for their replica. */
export function testRedisEnv(): Record<string, string> {
  const target = testRedis();
  return 'url' in target ? { REDIS_URL: target.url } : { REDIS_CLUSTER_NODES: target.clusterNodes.join(','), REDIS_WAIT_REPLICAS: '1' };
}

/** The mode an HTTP suite runs in, chosen by the vitest project (vitest.config.ts). */
export const testMode = (): Mode => (process.env.MOS_TEST_MODE === 'production' ? 'production' : 'embedded');

const suffix = () => randomBytes(6).toString('hex');

/** The JWT key every test app signs with, so tests can mint tokens for many buyers without signing each up. */
export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123';

/**
 * A database of its own (for one test file, or one benchmark run) on the server of `adminUrl`,
 * and how to drop it. Hex suffix only, so the name needs no quoting.
 */
export async function createTestDatabase(adminUrl: string = TEST_PG_URL, prefix = 'mos_t_'): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `${prefix}${suffix()}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  // `with (force)` ends whatever connections the app's pool still holds (PostgreSQL 13+).
  return { name, url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

export interface TestEnv {
  ctx: AppContext;
  config: Config;
  /** The Redis key prefix of this file (production mode). */
  redisPrefix: string;
  cleanup(): Promise<void>;
}

/**
 * A context in the given mode, isolated from every other test file: production mode gets a
 * fresh database and a unique Redis key prefix; embedded mode an in-memory PGlite.
 */
export async function createTestEnv(mode: Mode = testMode(), env: Record<string, string> = {}, options: ContextOptions = {}): Promise<TestEnv> {
  const redisPrefix = `mos:test:${suffix()}:`;
  const database = mode === 'production' ? await createTestDatabase() : undefined;
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    JWT_SECRET: TEST_JWT_SECRET,
    DATA_DIR: 'memory://',
    REDIS_KEY_PREFIX: redisPrefix,
    DATABASE_POOL_SIZE: '5',
    ...(database ? { DATABASE_URL: database.url, ...testRedisEnv() } : {}),
    ...env,
  });
  let ctx: AppContext;
  try {
    ctx = await createContext(config, { migrate: true, logger: pino({ level: 'silent' }), ...options });
  } catch (err) {
    await database?.drop();
    throw err;
  }
  return {
    ctx,
    config,
    redisPrefix,
    cleanup: async () => {
      await ctx.close();
      await database?.drop();
      if (mode === 'production') await deleteByPrefix(testRedis(), redisPrefix);
    },
  };
}

export interface TestApp extends TestEnv {
  app: FastifyInstance;
}

/**
 * A built (not listening) app over a test env. `extend` registers extra routes before the app
 * is readied — how platform tests reach plugins that no product route exercises in a way a
 * test can control (a route that throws, a slow idempotent route).
 */
export async function createTestApp(
  opts: { mode?: Mode; env?: Record<string, string>; context?: ContextOptions; extend?: (app: FastifyInstance, ctx: AppContext) => void | Promise<void> } = {},
): Promise<TestApp> {
  const env = await createTestEnv(opts.mode, opts.env, opts.context);
  try {
    const app = await buildApp(env.ctx);
    await opts.extend?.(app, env.ctx);
    await app.ready();
    return {
      ...env,
      app,
      cleanup: async () => {
        await app.close();
        await env.cleanup();
      },
    };
  } catch (err) {
    await env.cleanup();
    throw err;
  }
}
