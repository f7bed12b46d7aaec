import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedis, deleteByPrefix } from '../../src/platform/redis/client.js';
import { TEST_REDIS_URL } from './harness.js';

/** A Redis client confined to a fresh key prefix; `cleanup` deletes that prefix only. */
export function isolatedRedis(): { redis: Redis; prefix: string; cleanup: () => Promise<void> } {
  const prefix = `mos:test:${randomBytes(6).toString('hex')}:`;
  const redis = createRedis(TEST_REDIS_URL, prefix);
  return {
    redis,
    prefix,
    cleanup: async () => {
      redis.disconnect();
      await deleteByPrefix(TEST_REDIS_URL, prefix);
    },
  };
}
