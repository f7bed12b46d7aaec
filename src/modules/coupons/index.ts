import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/client.js';
import type { CatalogService } from '../catalog/index.js';
import { MemoryCouponStore } from './coupon-claims.memory.js';
import { RedisCouponStore } from './coupon-claims.redis.js';
import { CouponIssuedConsumer, type ConsumerSettings } from './coupon-issued.consumer.js';
import { createCouponMetrics } from './coupons.metrics.js';
import { CouponsRepository } from './coupons.repository.js';
import { couponsRoutes } from './coupons.routes.js';
import { CouponsService } from './coupons.service.js';

export { CouponErrors } from './coupons.errors.js';
export type { CouponPlan, CouponsService } from './coupons.service.js';

export interface CouponsModuleDeps {
  db: Db;
  redis: Redis | null;
  catalog: CatalogService;
  clock: Clock;
  registry: Registry;
  logger: Logger;
  consumer: ConsumerSettings;
}

export function createCouponsModule(deps: CouponsModuleDeps) {
  const metrics = createCouponMetrics(deps.registry);
  const repo = new CouponsRepository(deps.db);
  // One object is both the claim store and the event log: the claim step appends the event.
  const store = deps.redis ? new RedisCouponStore(deps.redis) : new MemoryCouponStore(deps.clock);
  const service = new CouponsService({ repo, store, catalog: deps.catalog, clock: deps.clock, metrics });
  const consumer = new CouponIssuedConsumer(store, repo, deps.consumer, metrics, deps.logger.child({ consumer: 'coupon.issued' }));
  return { service, consumer, store, routes: couponsRoutes };
}

export type CouponsModule = ReturnType<typeof createCouponsModule>;
