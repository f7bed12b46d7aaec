import { Cluster, Redis } from 'ioredis';

/**
 * What every Redis user of MOS is handed: one server's client or a Redis Cluster's. Both speak
 * the same commands, Lua scripts (`defineCommand`) and pipelines; on a cluster each command, script
 * and pipeline must stay within one hash slot, which the `{tag}` of every multi-key step
 * guarantees (src/platform/redis/keys.ts).
 */
export type RedisClient = Redis | Cluster;

/** Where Redis is: one server's URL, or a cluster's seed nodes (`host:port`; the rest are discovered). */
export type RedisTarget = { readonly url: string } | { readonly clusterNodes: readonly string[] };

export interface RedisClientOptions {
  /** A command not answered within this fails (a hung server must not hang requests). */
  commandTimeoutMs?: number;
  /** A connection attempt not completed within this counts as failed. */
  connectTimeoutMs?: number;
  /** Connection errors (the commands that needed Redis fail on their own). */
  onError?: (err: Error) => void;
}

/**
 * A client whose every key (including the keys of Lua scripts) carries `keyPrefix`, so tests and
 * tenants sharing one Redis never touch each other's keys.
 *
 * Outages fail fast: once the first connection is up, the client keeps no offline queue, so a
 * command sent while Redis is down fails at once (503 at the edge) instead of waiting in a queue
 * that grows with every request; every command also has a deadline. Commands sent before the
 * first connection wait for it (a process starting next to its Redis), bounded by the same
 * deadline. The client reconnects on its own, forever, with a capped backoff.
 *
 * On a cluster (`clusterNodes`), ioredis' `Cluster` routes each command to its slot's master and
 * follows the topology: a MOVED answer or a dropped node refreshes the slot map, and a command
 * that met a dead master or CLUSTERDOWN is retried every 100 ms, at most 8 times (so for about
 * one second), then fails (503) — a failover's promotion takes the cluster's node timeout plus
 * an election, and a request must not wait for it longer than a buyer would. The slot map is
 * also refreshed every 2 s, so a promotion is seen even by a process that sent nothing to the
 * failed node. Scripts are sent as EVAL the first time on each node connection and as EVALSHA
 * after (ioredis' `defineCommand`), so a promoted replica, whose script cache is empty, gets
 * them without a NOSCRIPT round trip.
 */
export function createRedis(target: RedisTarget | string, keyPrefix: string, options: RedisClientOptions = {}): RedisClient {
  const where: RedisTarget = typeof target === 'string' ? { url: target } : target;
  const common = {
    connectionName: 'mos',
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectTimeout: options.connectTimeoutMs ?? 2000,
  };
  const client: RedisClient =
    'url' in where
      ? new Redis(where.url, {
          ...common,
          keyPrefix,
          maxRetriesPerRequest: 1,
          enableAutoPipelining: true,
          retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
        })
      : new Cluster(where.clusterNodes.map(parseNode), {
          // The prefix goes on the cluster's options: ioredis applies it there (redisOptions' own
          // keyPrefix is only copied up), to plain commands, pipelines and scripts alike.
          keyPrefix,
          // Off on a cluster: ioredis files an auto-pipelined command under the slot of its first
          // argument, which for a Lua script is its key count and for XREADGROUP the word GROUP,
          // so one batch would mix slots and be refused whole. Commands still share each node's
          // connection without waiting for each other; only the batching of writes is lost.
          enableAutoPipelining: false,
          scaleReads: 'master',
          maxRedirections: 8,
          retryDelayOnFailover: 100,
          retryDelayOnClusterDown: 100,
          retryDelayOnTryAgain: 100,
          slotsRefreshInterval: 2000,
          slotsRefreshTimeout: common.connectTimeout,
          clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 1000),
          redisOptions: { ...common, maxRetriesPerRequest: 1 },
        });
  client.once('ready', () => {
    client.options.enableOfflineQueue = false;
  });
  client.on('error', options.onError ?? (() => {}));
  // A node's own errors (its connection refused while it is down) reach `node error`; the
  // commands that needed it fail on their own, as above.
  if (client instanceof Cluster) client.on('node error', (err: Error) => options.onError?.(err));
  return client;
}

function parseNode(node: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(node.trim());
  if (!m) throw new Error(`not a host:port: ${node}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** Resolves once the client is connected (a cluster's: once it has the slot map). */
export function whenReady(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      if (redis.status === 'end') reject(err);
    };
    redis.once('ready', () => {
      redis.off('error', onError);
      resolve();
    });
    redis.on('error', onError);
  });
}

/**
 * The clients of every node that holds data: the server itself, or each master of a cluster
 * (as of the client's slot map: call after `whenReady`; before it, a cluster's seed nodes
 * count as masters, replicas included).
 */
export function masters(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/**
 * Deletes every key under a prefix with SCAN (never FLUSHALL: the Redis may be shared). On a
 * cluster SCAN sees one node's keys only, so it runs on every master, each deleting its own keys
 * (one UNLINK per key, pipelined: a cluster refuses an UNLINK whose keys span slots, even on one node).
 */
export async function deleteByPrefix(target: RedisTarget | string, prefix: string): Promise<number> {
  const where: RedisTarget = typeof target === 'string' ? { url: target } : target;
  const raw: RedisClient = 'url' in where ? new Redis(where.url, { maxRetriesPerRequest: 3 }) : new Cluster(where.clusterNodes.map(parseNode));
  let deleted = 0;
  try {
    await whenReady(raw);
    for (const node of masters(raw)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (!keys.length) continue;
        if (raw instanceof Cluster) {
          const pipeline = node.pipeline();
          for (const k of keys) pipeline.unlink(k);
          for (const [err, n] of (await pipeline.exec()) ?? []) {
            if (err) throw err;
            deleted += Number(n);
          }
        } else deleted += await node.unlink(...keys);
      } while (cursor !== '0');
    }
  } finally {
    raw.disconnect();
  }
  return deleted;
}
