import type { RedisClient } from '../../platform/redis/client.js';
import type { Logger } from 'pino';
import type { Alerts } from '../../platform/observability/alerts.js';
import type { Registry } from 'prom-client';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/client.js';
import type { FindPerformance } from '../catalog/index.js';
import { MemoryCouponStore } from './coupon-claims.memory.js';
import { RedisCouponStore, type Durability } from './coupon-claims.redis.js';
import { CouponIssuedConsumer, type ConsumerSettings } from './coupon-issued.consumer.js';
import { createCouponMetrics } from './coupons.metrics.js';
import { CouponsRepository } from './coupons.repository.js';
import { couponsRoutes } from './coupons.routes.js';
import { CouponsService } from './coupons.service.js';

import { internals } from './testing.js';

export { CouponErrors } from './coupons.errors.js';
export { couponReservationPart, couponUsePart, discountFundingPart, type CouponReservationPlaceholders } from './coupons.repository.js';
export type { CouponPlan, CreateCampaignInput } from './coupons.service.js';
/** The optimizer: a pure function (its own property tests; the bench times it alone). */
export { bestCoupons, type CandidateCoupon, type SeatLine } from './best-coupon.js';

/** What an order needs of the coupons: the best (or the named) coupons priced in, giving them back when it ends unpaid, restoring them when it is refunded (spending them is `couponUsePart`, in the paying statement). */
export type OrderCoupons = Pick<CouponsService, 'plan' | 'release' | 'restore'>;

export interface CouponsModuleDeps {
  db: Db;
  redis: RedisClient | null;
  findPerformance: FindPerformance;
  clock: Clock;
  registry: Registry;
  logger: Logger;
  alerts: Alerts;
  consumer: ConsumerSettings;
  /** Retry-After of a claim refused while its campaign awaits reconciliation. */
  frozenRetryAfterSeconds: number;
  /** Replicas a claim (and an event before the wallet gets it) must reach first; see RedisCouponStore. */
  durability?: Durability;
}

export function createCouponsModule(deps: CouponsModuleDeps) {
  const metrics = createCouponMetrics(deps.registry);
  const repo = new CouponsRepository(deps.db);
  // One object is both the claim store and the event log: the claim step appends the event.
  const store = deps.redis ? new RedisCouponStore(deps.redis, deps.durability) : new MemoryCouponStore(deps.clock);
  const service = new CouponsService({
    repo,
    store,
    findPerformance: deps.findPerformance,
    clock: deps.clock,
    metrics,
    logger: deps.logger.child({ module: 'coupons' }),
    alerts: deps.alerts,
    frozenRetryAfterSeconds: deps.frozenRetryAfterSeconds,
  });
  const consumer = new CouponIssuedConsumer(store, repo, deps.consumer, metrics, deps.logger.child({ consumer: 'coupon.issued' }), deps.alerts);
  return {
    service,
    orderCoupons: service as OrderCoupons,
    consumer,
    routes: couponsRoutes,
    [internals]: { store },
    /**
     * After the process stopped taking requests: stop the consumer, and if the hot state dies
     * with the process (embedded mode), persist its last events and seal the campaigns whose
     * events all reached the wallet, so the next start rebuilds them instead of freezing them.
     */
    close: async () => {
      await consumer.stop();
      await service.handOver(async () => {
        while ((await consumer.drainOnce()) > 0);
      });
    },
  };
}

export type CouponsModule = ReturnType<typeof createCouponsModule>;
