import { randomBytes } from 'node:crypto';
import { createRedis, deleteByPrefix, type RedisClient } from '../../src/platform/redis/client.js';
import { testRedis } from './harness.js';

/** A Redis client (a cluster's in the `cluster` project) confined to a fresh key prefix; `cleanup` deletes that prefix only. */
export function isolatedRedis(): { redis: RedisClient; prefix: string; cleanup: () => Promise<void> } {
  const prefix = `mos:test:${randomBytes(6).toString('hex')}:`;
  const redis = createRedis(testRedis(), prefix);
  return {
    redis,
    prefix,
    cleanup: async () => {
      redis.disconnect();
      await deleteByPrefix(testRedis(), prefix);
    },
  };
}
