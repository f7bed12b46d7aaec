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
