import { notFound } from './catalog.errors.js';
import type { InventoryRepository } from './inventory.repository.js';
import { precompress, renderLayout, seatPositions, type ContentCoding, type LayoutCache, type LayoutView } from './layout-view.js';
import type { SaleInventoryService } from './sale-inventory.service.js';
import type { AvailabilityAnswer, SeatAvailability } from './seat-availability.js';

export interface SeatViewsDeps {
  inventoryRepo: Pick<InventoryRepository, 'layoutOf'>;
  inventory: Pick<SaleInventoryService, 'scheduleForSale' | 'seatMapBase'>;
  layouts: LayoutCache;
  availability: SeatAvailability;
}

/**
 * A stadium's seat map in two parts: the layout (what each seat is and where it is drawn —
 * fixed when the showtime is created, so built and compressed once per process and cacheable
 * anywhere) and the live availability (a few bits per seat, and only the changes after a
 * version a client already has).
 */
export class SeatViewsService {
  readonly #building = new Map<string, Promise<LayoutView>>();
  constructor(private readonly deps: SeatViewsDeps) {}

  /** The prebuilt layout of a live showtime; 404 otherwise (a deleted one too, within SCHEDULE_CACHE_MS). */
  async layout(scheduleId: string): Promise<LayoutView> {
    if (!(await this.deps.inventory.scheduleForSale(scheduleId))) throw notFound('schedule');
    const cached = this.deps.layouts.get(scheduleId);
    if (cached) return cached;
    let building = this.#building.get(scheduleId);
    if (!building) {
      building = this.#build(scheduleId).finally(() => this.#building.delete(scheduleId));
      this.#building.set(scheduleId, building);
    }
    return building;
  }

  /** The availability for a client at `since` (none: the whole state); one hot-state read per interval per process at most. */
  async availability(scheduleId: string, since: number | undefined): Promise<AvailabilityAnswer> {
    if (!(await this.deps.inventory.scheduleForSale(scheduleId))) throw notFound('schedule');
    const snapshot = await this.deps.availability.current(scheduleId);
    return this.deps.availability.answer(snapshot, since);
  }

  /** A full answer's JSON body in a content coding, built once per version. */
  fullBody(snapshot: AvailabilityAnswer['snapshot'], coding: ContentCoding): Promise<Buffer> {
    return this.deps.availability.fullBody(snapshot, coding);
  }

  forget(scheduleId: string): void {
    this.deps.layouts.delete(scheduleId);
    this.deps.availability.forget(scheduleId);
  }

  async #build(scheduleId: string): Promise<LayoutView> {
    const [drawing, base] = await Promise.all([this.deps.inventoryRepo.layoutOf(scheduleId), this.deps.inventory.seatMapBase(scheduleId)]);
    if (!drawing) throw notFound('schedule');
    const body = await precompress(renderLayout(scheduleId, base.seats, seatPositions(drawing.layout), drawing.grades));
    const view: LayoutView = { scheduleId, seats: base.seats.length, body };
    this.deps.layouts.set(view);
    return view;
  }
}
