import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/client.js';
import { CatalogRepository } from './catalog.repository.js';
import { catalogRoutes } from './catalog.routes.js';
import { CatalogService, type CatalogQuotas, type PerformanceView } from './catalog.service.js';
import type { HeldSeatsReader } from './held-seats.js';
import { InventoryRepository } from './inventory.repository.js';
import { SaleInventoryService, type SaleInventory } from './sale-inventory.service.js';
import { SeatMapCache } from './seat-map.js';

export type { HeldSeatsReader } from './held-seats.js';
export { CatalogErrors } from './catalog.errors.js';
export type { PerformanceView } from './catalog.service.js';
export { saleFactsPart, seatReservationPart, type InventorySeat, type SeatReservationPlaceholders } from './inventory.repository.js';
export type { SaleCheck, SaleInventory } from './sale-inventory.service.js';
export type { SaleSchedule, ScheduleView, WaitingRoomSettings } from './schedule-view.js';

/** A live performance by id, or undefined (coupons check a campaign's scope with it). */
export type FindPerformance = (id: string) => Promise<PerformanceView | undefined>;

export interface CatalogModuleDeps {
  db: Db;
  clock: Clock;
  holds: HeldSeatsReader;
  venueMaxSeats: number;
  quotas: CatalogQuotas;
  seatMapCacheSeats: number;
  scheduleCacheMs: number;
  waitingRoomDefaults: { maxActive: number; admitPerTick: number };
}

/**
 * The catalog: `service` serves its own routes (sellers' venues, performances and showtimes, and
 * the seat map); other modules get only the narrow `inventory` (the sale side of a showtime's
 * seats) and `findPerformance`.
 */
export function createCatalogModule(deps: CatalogModuleDeps) {
  const inventoryRepo = new InventoryRepository(deps.db);
  const inventory = new SaleInventoryService({
    repo: inventoryRepo,
    clock: deps.clock,
    seatMaps: new SeatMapCache(deps.seatMapCacheSeats),
    scheduleCacheMs: deps.scheduleCacheMs,
    waitingRoomDefaults: deps.waitingRoomDefaults,
  });
  const service = new CatalogService({
    repo: new CatalogRepository(deps.db),
    inventoryRepo,
    inventory,
    clock: deps.clock,
    holds: deps.holds,
    venueMaxSeats: deps.venueMaxSeats,
    quotas: deps.quotas,
    waitingRoomDefaults: deps.waitingRoomDefaults,
  });
  const findPerformance: FindPerformance = (id) => service.findPerformance(id);
  return { service, inventory: inventory as SaleInventory, findPerformance, routes: catalogRoutes };
}

export type CatalogModule = ReturnType<typeof createCatalogModule>;
