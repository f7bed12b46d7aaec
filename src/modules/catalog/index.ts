import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/client.js';
import { CatalogRepository } from './catalog.repository.js';
import { catalogRoutes } from './catalog.routes.js';
import { CatalogService } from './catalog.service.js';
import type { HeldSeatsReader } from './held-seats.js';
import type { CatalogQuotas } from './catalog.service.js';
import { SeatMapCache } from './seat-map.js';

export type { HeldSeatsReader } from './held-seats.js';
export { CatalogErrors } from './catalog.errors.js';
export type { InventorySeat } from './catalog.repository.js';
export type { CatalogService, SaleSchedule, ScheduleView, WaitingRoomSettings } from './catalog.service.js';

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

export function createCatalogModule(deps: CatalogModuleDeps) {
  const service = new CatalogService({
    repo: new CatalogRepository(deps.db),
    clock: deps.clock,
    holds: deps.holds,
    seatMaps: new SeatMapCache(deps.seatMapCacheSeats),
    venueMaxSeats: deps.venueMaxSeats,
    quotas: deps.quotas,
    scheduleCacheMs: deps.scheduleCacheMs,
    waitingRoomDefaults: deps.waitingRoomDefaults,
  });
  return { service, routes: catalogRoutes };
}

export type CatalogModule = ReturnType<typeof createCatalogModule>;
