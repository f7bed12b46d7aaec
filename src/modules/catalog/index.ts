import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/client.js';
import type { AvailabilitySource } from './availability-source.js';
import { AvailabilityWatcher } from './availability-stream.js';
import { CatalogRepository } from './catalog.repository.js';
import { catalogRoutes } from './catalog.routes.js';
import { CatalogService, type CatalogQuotas, type PerformanceView } from './catalog.service.js';
import type { HeldSeatsReader } from './held-seats.js';
import { InventoryRepository } from './inventory.repository.js';
import { LayoutCache } from './layout-view.js';
import { SaleInventoryService, type SaleInventory } from './sale-inventory.service.js';
import { SeatAvailability } from './seat-availability.js';
import { SeatMapCache } from './seat-map.js';
import { SeatViewsService } from './seat-views.service.js';

export type { HeldSeatsReader } from './held-seats.js';
export type { AvailabilityRead, AvailabilitySource, LoadedAvailability, SeatStatus, SeatStatusChange } from './availability-source.js';
export * as availabilityCodec from './availability-codec.js';
export { CatalogErrors } from './catalog.errors.js';
export type { PerformanceView } from './catalog.service.js';
export {
  saleFactsPart,
  seatReservationPart,
  seatSalePart,
  type InventorySeat,
  type SeatReservationPlaceholders,
  type SeatSalePlaceholders,
} from './inventory.repository.js';
export type { SaleCheck, SaleInventory } from './sale-inventory.service.js';
export type { SaleSchedule, ScheduleView, WaitingRoomSettings } from './schedule-view.js';

/** A live performance by id, or undefined (coupons check a campaign's scope with it). */
export type FindPerformance = (id: string) => Promise<PerformanceView | undefined>;

export interface CatalogModuleDeps {
  db: Db;
  clock: Clock;
  holds: HeldSeatsReader;
  /** The live availability's source: the hold store, through booking. */
  availability: AvailabilitySource;
  logger: Logger;
  venueMaxSeats: number;
  quotas: CatalogQuotas;
  seatMapCacheSeats: number;
  scheduleCacheMs: number;
  waitingRoomDefaults: { maxActive: number; admitPerTick: number };
  availabilitySettings: { refreshMs: number; historySeats: number; maxStreams: number };
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
  const availability = new SeatAvailability({
    source: deps.availability,
    seatsOf: (scheduleId) => inventory.seatMapBase(scheduleId),
    clock: deps.clock,
    refreshMs: deps.availabilitySettings.refreshMs,
    historySeats: deps.availabilitySettings.historySeats,
  });
  const seatViews = new SeatViewsService({ inventoryRepo, inventory, layouts: new LayoutCache(deps.seatMapCacheSeats), availability });
  const watcher = new AvailabilityWatcher(availability, deps.availabilitySettings.refreshMs, deps.logger, deps.clock);
  const service = new CatalogService({
    repo: new CatalogRepository(deps.db),
    inventoryRepo,
    inventory: {
      seatMapBase: (id) => inventory.seatMapBase(id),
      forget: (id) => {
        inventory.forget(id);
        seatViews.forget(id);
      },
    },
    clock: deps.clock,
    holds: deps.holds,
    venueMaxSeats: deps.venueMaxSeats,
    quotas: deps.quotas,
    waitingRoomDefaults: deps.waitingRoomDefaults,
  });
  const findPerformance: FindPerformance = (id) => service.findPerformance(id);
  return {
    service,
    seatViews,
    /** The shared per-showtime loop of availability streams (closed before the server waits for connections). */
    watcher,
    /** This process's hot-state reads for the availability (the bench compares them with requests served). */
    availabilityReads: () => availability.reads,
    inventory: inventory as SaleInventory,
    findPerformance,
    routes: catalogRoutes,
    maxAvailabilityStreams: deps.availabilitySettings.maxStreams,
  };
}

export type CatalogModule = ReturnType<typeof createCatalogModule>;
