import type { RedisClient } from '../../platform/redis/client.js';
import type { Registry } from 'prom-client';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/client.js';
import type { PeriodicJob } from '../../platform/jobs/runner.js';
import { seatReservationPart, seatSalePart, type SaleInventory } from '../catalog/index.js';
import { couponReservationPart, couponUsePart, type OrderCoupons } from '../coupons/index.js';
import { createBookingMetrics } from './booking.metrics.js';
import { internals } from './testing.js';
import { bookingRoutes } from './booking.routes.js';
import { HoldsService } from './holds.service.js';
import { OrdersRepository } from './orders.repository.js';
import { OrdersService } from './orders.service.js';
import { MemorySeatHoldStore } from './seat-holds.memory.js';
import { RedisSeatHoldStore } from './seat-holds.redis.js';
import type { SeatHoldStore } from './seat-holds.store.js';

export { BookingErrors } from './booking.errors.js';
export { Order as OrderSchema, Ticket as TicketSchema } from './booking.schemas.js';
export type { PayingExtension, TicketRow } from './orders.repository.js';
export {
  OrderNotPayableError,
  OrderNotRefundableError,
  type OrderView,
  type PaidOrder,
  type PayOrder,
  type PayableOrder,
  type RefundedOrder,
} from './orders.service.js';
export { CancelBody } from './booking.schemas.js';

/**
 * What the payments flow needs of booking: read an order, pay it in one statement with payments'
 * own writes in it, and tell the hot state after; cancel a pending order, or refund a paid one (check the cutoff, then
 * booking's part of the refunding transaction, then tell the hot state).
 */
export type PayingOrders = Pick<
  OrdersService,
  'payableOrder' | 'ticketsOfOrder' | 'preparePay' | 'afterPaid' | 'cancel' | 'checkRefundable' | 'refund' | 'afterRefunded'
>;

/** The hold store comes first: the catalog reads it for the seat map before booking exists. */
export function createSeatHoldStore(redis: RedisClient | null): SeatHoldStore {
  return redis ? new RedisSeatHoldStore(redis) : new MemorySeatHoldStore();
}

export interface BookingModuleDeps {
  db: Db;
  store: SeatHoldStore;
  inventory: SaleInventory;
  coupons: OrderCoupons;
  clock: Clock;
  registry: Registry;
  settings: { maxSeatsPerBuyer: number; holdTtlSeconds: number; paymentWindowSeconds: number; expiryIntervalSeconds: number; refundCutoffMinutes: number };
}

export function createBookingModule(deps: BookingModuleDeps) {
  const metrics = createBookingMetrics(deps.registry);
  const repo = new OrdersRepository(
    deps.db,
    { seats: seatReservationPart, coupons: couponReservationPart },
    { seats: seatSalePart, couponsUsed: couponUsePart },
  );
  const holds = new HoldsService({
    store: deps.store,
    inventory: deps.inventory,
    pendingOrders: repo,
    clock: deps.clock,
    metrics,
    maxSeatsPerBuyer: deps.settings.maxSeatsPerBuyer,
    holdTtlSeconds: deps.settings.holdTtlSeconds,
  });
  const orders = new OrdersService({
    repo,
    holds,
    inventory: deps.inventory,
    coupons: deps.coupons,
    clock: deps.clock,
    metrics,
    paymentWindowSeconds: deps.settings.paymentWindowSeconds,
    maxSeatsPerBuyer: deps.settings.maxSeatsPerBuyer,
    refundCutoffMinutes: deps.settings.refundCutoffMinutes,
  });
  const jobs: PeriodicJob[] = [
    { name: 'booking.expire-orders', intervalMs: deps.settings.expiryIntervalSeconds * 1000, run: async () => void (await orders.expireDue()) },
  ];
  return { holds, orders, routes: bookingRoutes, jobs, [internals]: { repo, store: deps.store } };
}

export type BookingModule = ReturnType<typeof createBookingModule>;
