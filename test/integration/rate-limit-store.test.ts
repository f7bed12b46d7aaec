import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import { afterAll, describe, expect, it } from 'vitest';
import { syncedRedisLimit } from '../../src/platform/http/rate-limit-store.js';
import { createRedis } from '../../src/platform/redis/client.js';
import { isolatedRedis } from '../support/redis.js';

const SYNC_MS = 50;
const WINDOW_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One check of `store` for `key`: the count the plugin compares with its max. */
const count = (store: FastifyRateLimitStore, key: string, max: number) =>
  new Promise<{ current: number; ttl: number }>((resolve, reject) => store.incr(key, (err, res) => (err ? reject(err) : resolve(res!)), WINDOW_MS, max));

describe('the global rate limit counted per process and synced to Redis', () => {
  const { redis, cleanup } = isolatedRedis();
  afterAll(cleanup);
  const fallbacks = { n: 0 };
  const Store = syncedRedisLimit(redis, 'ratelimit:', { syncMs: SYNC_MS, onFallback: () => fallbacks.n++ });
  const options = {};

  it('counts one process exactly, and without a Redis round trip per check', async () => {
    const store = new Store(options);
    const before = (await redis.info('stats')).match(/total_commands_processed:(\d+)/)![1];
    const counts = [];
    for (let i = 0; i < 30; i++) counts.push((await count(store, 'one', 10)).current);
    const after = (await redis.info('stats')).match(/total_commands_processed:(\d+)/)![1];
    expect(counts).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // INFO itself is one command; nothing was sent for the 30 checks yet (the sync is later).
    expect(Number(after) - Number(before)).toBeLessThanOrEqual(1);
    await sleep(SYNC_MS * 4);
    expect(Number(await redis.get('ratelimit:one'))).toBe(30);
    expect(await redis.pttl('ratelimit:one')).toBeGreaterThan(WINDOW_MS - 5_000);
  });

  it("refuses a client over the limit in every process once each has synced with the others' counts", async () => {
    const [a, b] = [new Store(options), new Store(options)];
    for (let i = 0; i < 7; i++) await count(a, 'shared', 10);
    for (let i = 0; i < 7; i++) await count(b, 'shared', 10);
    await sleep(SYNC_MS * 4);
    expect(Number(await redis.get('ratelimit:shared'))).toBe(14);
    // a synced before b counted: its next check is still answered from what it knew (the
    // documented tolerance: a sync interval's worth of the other processes' requests)…
    expect((await count(a, 'shared', 10)).current).toBe(8);
    await sleep(SYNC_MS * 4);
    // …and once that check's sync is back, a knows all 15 and refuses.
    expect((await count(a, 'shared', 10)).current).toBe(16);
    expect((await count(b, 'shared', 10)).current).toBeGreaterThan(10);
    await sleep(SYNC_MS * 4);
    expect(Number(await redis.get('ratelimit:shared'))).toBe(17);
    expect(fallbacks.n).toBe(0);
  });

  it('keeps limiting in the process while Redis is unreachable, and counts those checks', async () => {
    const down = createRedis('redis://127.0.0.1:1', 'mos:test:down:', { commandTimeoutMs: 200, connectTimeoutMs: 200 });
    try {
      const seen = { n: 0 };
      const store = new (syncedRedisLimit(down, 'ratelimit:', { syncMs: SYNC_MS, onFallback: () => seen.n++ }, 100))(options);
      await count(store, 'alone', 3);
      await sleep(600); // the first sync fails
      const counts = [];
      for (let i = 0; i < 4; i++) counts.push((await count(store, 'alone', 3)).current);
      expect(counts).toEqual([2, 3, 4, 5]); // the 4th and 5th are over the limit of 3: refused
      expect(seen.n).toBe(4);
    } finally {
      down.disconnect();
    }
  });
});
