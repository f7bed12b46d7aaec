import { createRequire } from 'node:module';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor, RateLimitPluginOptions } from '@fastify/rate-limit';
import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
import type { RedisClient } from '../redis/client.js';

// The plugin's own stores (CommonJS, not in its public types): the shared Redis counter and the
// per-process LRU counter, reused rather than rewritten.
const require = createRequire(import.meta.url);
type StoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, ...rest: unknown[]) => FastifyRateLimitStore;
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as StoreCtor;
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as StoreCtor;

type Counted = { current: number; ttl: number };
type Incr = FastifyRateLimitStore['incr'];

/**
 * The rate limits' store in production: counters shared by every API process in Redis, and, while
 * Redis is unavailable, each process's own counters instead. Without Redis a request must neither
 * wait for it (every route pays the limiter, including those that need no Redis) nor go
 * unlimited; a per-process limit is the honest middle, and `onFallback` counts each request it
 * served (a metric). After a failure Redis is left alone for `retryAfterMs`, so an outage costs
 * one failed command per interval per process, not one per request.
 */
export function redisWithLocalFallback(redis: RedisClient, nameSpace: string, onFallback: () => void, retryAfterMs = 2000): FastifyRateLimitStoreCtor {
  const breaker = circuitBreaker(handleAll, { halfOpenAfter: retryAfterMs, breaker: new ConsecutiveBreaker(1) });

  class FallbackStore implements FastifyRateLimitStore {
    constructor(
      private readonly shared: FastifyRateLimitStore,
      private readonly local: FastifyRateLimitStore,
    ) {}

    incr(key: string, callback: (error: Error | null, result?: Counted) => void, timeWindow: number, max: number): void {
      breaker
        .execute(() => new Promise<Counted>((resolve, reject) => this.shared.incr(key, (err, res) => (err ? reject(err) : resolve(res!)), timeWindow, max)))
        .then(
          (res) => callback(null, res),
          () => {
            onFallback();
            this.local.incr(key, callback, timeWindow, max);
          },
        );
    }

    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
      return new FallbackStore(this.shared.child(routeOptions), this.local.child(routeOptions));
    }
  }

  return class extends FallbackStore {
    constructor(options: RateLimitPluginOptions) {
      const continueExceeding = options.continueExceeding ?? false;
      const exponentialBackoff = options.exponentialBackoff ?? false;
      super(new RedisStore(continueExceeding, exponentialBackoff, redis, nameSpace), new LocalStore(continueExceeding, exponentialBackoff));
    }
  };
}

/** Adds `count` to a window's shared counter, starting the window's expiry if it is new; answers the total and the time left. */
const SYNC_LUA = `
local current = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {current, ttl}
`;
const SYNC_COMMAND = 'mos_rate_limit_sync';

interface Window {
  /** The shared count Redis answered at the last sync (this process's synced requests included). */
  shared: number;
  /** Counted here, not yet sent to Redis. */
  pending: number;
  /** Being sent right now. */
  sending: number;
  /** When the window ends (ms epoch), as Redis last said. */
  resetAt: number;
  timeWindow: number;
}

export interface SyncedLimitOptions {
  /** How often counts counted here are added to Redis's (and Redis's totals read back). */
  syncMs: number;
  /** Counted per request served while Redis is unavailable (a metric). */
  onFallback: () => void;
}

/**
 * The global per-client limit without a Redis round trip per request. Each process answers from
 * its own counters and, every `syncMs`, adds what it counted to the shared counter in Redis and
 * reads back the total of every process (one script call per client address seen since the last
 * sync). A request is refused when the last shared total plus what this process counted since
 * exceeds the limit.
 *
 * Tolerance: between two syncs a process does not see what the others counted, so across P
 * processes a client can get at most (P − 1) × (its request rate per process) × `syncMs` requests
 * past the limit before every process refuses it; with one process the limit is exact. Windows
 * are fixed and Redis's (the first sync of an address starts its expiry), as with the plugin's
 * own Redis store, whose keys these are.
 *
 * While Redis is unavailable every process goes on counting alone (the per-process limit of
 * `redisWithLocalFallback`, counted by `onFallback` per request), and what it counted is sent
 * once Redis is back. Route-level limits (`config.rateLimit`, `createRateLimit`: login's, which
 * are small and guard against guessing) are `child` stores: those stay exact, one Redis step per
 * check, with the local fallback.
 */
export function syncedRedisLimit(redis: RedisClient, nameSpace: string, options: SyncedLimitOptions, retryAfterMs = 2000): FastifyRateLimitStoreCtor {
  if (!(SYNC_COMMAND in redis)) redis.defineCommand(SYNC_COMMAND, { numberOfKeys: 1, lua: SYNC_LUA });
  const sync = (redis as unknown as Record<string, (key: string, count: number, window: number) => Promise<[number, number]>>)[SYNC_COMMAND]!.bind(redis);
  const exact = redisWithLocalFallback(redis, nameSpace, options.onFallback, retryAfterMs);

  return class SyncedStore implements FastifyRateLimitStore {
    readonly #windows = new Map<string, Window>();
    readonly #dirty = new Set<string>();
    readonly #exact: FastifyRateLimitStore;
    #timer: NodeJS.Timeout | undefined;
    #redisUp = true;

    constructor(pluginOptions: RateLimitPluginOptions) {
      this.#exact = new exact(pluginOptions);
    }

    incr: Incr = (key, callback, timeWindow, _max) => {
      const now = Date.now();
      let w = this.#windows.get(key);
      if (!w || now >= w.resetAt) {
        // A window of ours that ended, or an address first seen: until the next sync says
        // otherwise, the window starts now and only this process counted in it.
        w = { shared: 0, pending: 0, sending: 0, resetAt: now + timeWindow, timeWindow };
        this.#windows.set(key, w);
      }
      w.pending++;
      if (!this.#redisUp) options.onFallback();
      this.#dirty.add(key);
      this.#timer ??= setTimeout(() => void this.#sync(), options.syncMs).unref();
      callback(null, { current: w.shared + w.sending + w.pending, ttl: w.resetAt - now });
    };

    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
      return this.#exact.child(routeOptions);
    }

    async #sync(): Promise<void> {
      const keys = [...this.#dirty];
      this.#dirty.clear();
      const now = Date.now();
      await Promise.all(
        keys.map(async (key) => {
          const w = this.#windows.get(key);
          if (!w || w.pending === 0) return;
          const count = w.pending;
          w.sending += count;
          w.pending = 0;
          try {
            const [current, ttl] = await sync(`${nameSpace}${key}`, count, w.timeWindow);
            w.sending -= count;
            // What was counted here while the sync was on its way is still pending, on top.
            w.shared = Number(current);
            w.resetAt = Date.now() + Number(ttl);
            this.#redisUp = true;
          } catch {
            w.sending -= count;
            w.pending += count;
            this.#dirty.add(key);
            this.#redisUp = false;
          }
        }),
      );
      // Ended windows with nothing left to send are forgotten: the map holds the addresses of
      // the current window only.
      for (const [key, w] of this.#windows) if (now >= w.resetAt && w.pending === 0 && w.sending === 0) this.#windows.delete(key);
      this.#timer = this.#dirty.size ? setTimeout(() => void this.#sync(), this.#redisUp ? options.syncMs : retryAfterMs).unref() : undefined;
    }
  };
}
