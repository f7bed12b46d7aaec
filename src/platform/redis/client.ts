import { Redis } from 'ioredis';

export interface RedisClientOptions {
  /** A command not answered within this fails (a hung server must not hang requests). */
  commandTimeoutMs?: number;
  /** A connection attempt not completed within this counts as failed. */
  connectTimeoutMs?: number;
  /** Connection errors (the commands that needed Redis fail on their own). */
  onError?: (err: Error) => void;
}

/**
 * A Redis client whose every key (including the keys of Lua scripts) carries `keyPrefix`, so
 * tests and tenants sharing one Redis never touch each other's keys.
 *
 * Outages fail fast: once the first connection is up, the client keeps no offline queue, so a
 * command sent while Redis is down fails at once (503 at the edge) instead of waiting in a queue
 * that grows with every request; every command also has a deadline. Commands sent before the
 * first connection wait for it (a process starting next to its Redis), bounded by the same
 * deadline. The client reconnects on its own, forever, with a capped backoff.
 */
export function createRedis(url: string, keyPrefix: string, options: RedisClientOptions = {}): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    connectionName: 'mos',
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  redis.once('ready', () => {
    redis.options.enableOfflineQueue = false;
  });
  redis.on('error', options.onError ?? (() => {}));
  return redis;
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
