import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/client.js';
import type { PeriodicJob } from '../../platform/jobs/runner.js';
import type { CatalogService } from '../catalog/index.js';
import type { CouponsService } from '../coupons/index.js';
import { createBookingMetrics } from './booking.metrics.js';
import { bookingRoutes } from './booking.routes.js';
import { HoldsService } from './holds.service.js';
import { OrdersRepository } from './orders.repository.js';
import { OrdersService } from './orders.service.js';
import { MemorySeatHoldStore } from './seat-holds.memory.js';
import { RedisSeatHoldStore } from './seat-holds.redis.js';
import type { SeatHoldStore } from './seat-holds.store.js';

export { BookingErrors } from './booking.errors.js';
export type { OrderView } from './orders.service.js';

/** The hold store comes first: the catalog reads it for the seat map before booking exists. */
export function createSeatHoldStore(redis: Redis | null): SeatHoldStore {
  return redis ? new RedisSeatHoldStore(redis) : new MemorySeatHoldStore();
}

export interface BookingModuleDeps {
  db: Db;
  store: SeatHoldStore;
  catalog: CatalogService;
  coupons: CouponsService;
  clock: Clock;
  registry: Registry;
  settings: { maxSeatsPerBuyer: number; holdTtlSeconds: number; paymentWindowSeconds: number; expiryIntervalSeconds: number };
}

export function createBookingModule(deps: BookingModuleDeps) {
  const metrics = createBookingMetrics(deps.registry);
  const repo = new OrdersRepository(deps.db, {
    seats: (p) => deps.catalog.seatReservation(p),
    coupons: (p) => deps.coupons.couponReservation(p),
  });
  const holds = new HoldsService({
    store: deps.store,
    orders: repo,
    catalog: deps.catalog,
    clock: deps.clock,
    metrics,
    maxSeatsPerBuyer: deps.settings.maxSeatsPerBuyer,
    holdTtlSeconds: deps.settings.holdTtlSeconds,
  });
  const orders = new OrdersService({
    repo,
    holds,
    store: deps.store,
    catalog: deps.catalog,
    coupons: deps.coupons,
    clock: deps.clock,
    metrics,
    paymentWindowSeconds: deps.settings.paymentWindowSeconds,
    maxSeatsPerBuyer: deps.settings.maxSeatsPerBuyer,
  });
  const jobs: PeriodicJob[] = [
    { name: 'booking.expire-orders', intervalMs: deps.settings.expiryIntervalSeconds * 1000, run: async () => void (await orders.expireDue()) },
  ];
  return { holds, orders, repo, store: deps.store, routes: bookingRoutes, jobs };
}

export type BookingModule = ReturnType<typeof createBookingModule>;
