import { Redis } from 'ioredis';

/**
 * A Redis client whose every key (including the keys of Lua scripts) carries `keyPrefix`, so
 * tests and tenants sharing one Redis never touch each other's keys.
 */
export function createRedis(url: string, keyPrefix: string): Redis {
  return new Redis(url, {
    keyPrefix,
    maxRetriesPerRequest: 3,
    enableAutoPipelining: true,
    connectionName: 'mos',
  });
}

/** Deletes every key under a prefix with SCAN (never FLUSHALL: the Redis may be shared). */
export async function deleteByPrefix(url: string, prefix: string): Promise<number> {
  const raw = new Redis(url, { maxRetriesPerRequest: 3 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await raw.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    raw.disconnect();
  }
  return deleted;
}
