import type { Clock } from '../../platform/clock.js';
import { CommonErrors, type FieldError } from '../../platform/http/errors.js';
import type { Principal } from '../../platform/http/auth.js';
import { newId } from '../../platform/ids.js';
import type { CatalogRepository, PerformanceRow, ScheduleRow } from './catalog.repository.js';
import { CatalogErrors, invalid, notFound } from './catalog.errors.js';
import type { Grade, SeatGradeRule, VenueLayout } from './catalog.tables.js';
import { gradingErrors } from './grading.js';
import type { HeldSeatsReader } from './held-seats.js';
import { countSeats, expandSeats, layoutErrors } from './layout.js';
import type { InventoryRepository } from './inventory.repository.js';
import type { SaleInventoryService } from './sale-inventory.service.js';
import { toScheduleView, type ScheduleView, type WaitingRoomDefaults } from './schedule-view.js';
import { heldKey, renderSeatMap, SeatMapMemo } from './seat-map.js';

/** What one seller may create; admins are exempt. Checked at create time, under the seller's lock. */
export interface CatalogQuotas {
  venuesPerSeller: number;
  venueSeatsPerSeller: number;
  performancesPerSeller: number;
  schedulesPerPerformance: number;
  scheduleSeatsPerSeller: number;
}

export interface CatalogServiceDeps {
  repo: CatalogRepository;
  /** The seat map's read of taken seats. */
  inventoryRepo: Pick<InventoryRepository, 'takenSeats'>;
  /** The sale side's caches: the seat map's immutable part, and forgetting a deleted showtime. */
  inventory: Pick<SaleInventoryService, 'seatMapBase' | 'forget'>;
  clock: Clock;
  holds: HeldSeatsReader;
  venueMaxSeats: number;
  quotas: CatalogQuotas;
  waitingRoomDefaults: WaitingRoomDefaults;
}

export interface PerformanceView {
  id: string;
  title: string;
  description: string | null;
  venueId: string;
  sellerId: string;
  runningMinutes: number;
  grades: Grade[];
  seatGrades: SeatGradeRule[];
  defaultGrade: string;
  createdAt: string;
  updatedAt: string;
}

export interface CreatePerformanceInput {
  title: string;
  description?: string;
  venueId: string;
  runningMinutes: number;
  grades: Grade[];
  seatGrades: SeatGradeRule[];
  defaultGrade: string;
}

export interface CreateScheduleInput {
  startsAt: string;
  saleOpensAt: string;
  saleClosesAt?: string;
  waitingRoom?: { enabled: boolean; maxActive?: number; admitPerTick?: number };
}

const quotaNames = {
  venues: 'venues per seller',
  venueSeats: "seats across a seller's venues",
  performances: 'live performances per seller',
  schedulesPerPerformance: 'live showtimes per performance',
  scheduleSeats: "seats across a seller's live showtimes",
} as const;

/** Refuses a creation that would take `quota` to `after`, past its `limit`. */
function within(quota: keyof typeof quotaNames, after: number, limit: number): void {
  if (after > limit) throw CatalogErrors.QUOTA_EXCEEDED(`At most ${limit} ${quotaNames[quota]}`, { quota, limit });
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

/**
 * The catalog's use cases for sellers and browsers: venues, performances and showtimes, and the
 * seat map read model. What buyers' holds and orders do to the seats is `SaleInventoryService`'s.
 */
export class CatalogService {
  readonly #seatMaps = new SeatMapMemo();

  constructor(private readonly deps: CatalogServiceDeps) {}

  // ---- venues ----

  async createVenue(owner: Principal, input: { name: string; address?: string; sections: VenueLayout['sections'] }) {
    const layout: VenueLayout = { sections: input.sections };
    const errors = layoutErrors(layout, this.deps.venueMaxSeats);
    if (errors.length) throw invalid(errors);
    const venue = {
      id: newId(),
      ownerId: owner.id,
      name: input.name,
      address: input.address ?? null,
      seatCount: countSeats(layout),
      layout,
      createdAt: this.deps.clock.now(),
    };
    const { quotas } = this.deps;
    await this.deps.repo.transaction(async (tx) => {
      if (owner.role !== 'ADMIN') {
        await this.deps.repo.lockSellerQuota(owner.id, tx);
        const used = await this.deps.repo.venueUsage(owner.id, tx);
        within('venues', used.venues + 1, quotas.venuesPerSeller);
        within('venueSeats', used.seats + venue.seatCount, quotas.venueSeatsPerSeller);
      }
      await this.deps.repo.insertVenue(venue, expandSeats(layout), newId, tx);
    });
    return { id: venue.id, name: venue.name, address: venue.address, seatCount: venue.seatCount, sections: layout.sections };
  }

  async getVenue(id: string) {
    const venue = await this.deps.repo.findVenue(id);
    if (!venue) throw notFound('venue');
    const seats = await this.deps.repo.venueSeats(id);
    let i = 0;
    return {
      id: venue.id,
      name: venue.name,
      address: venue.address,
      seatCount: venue.seatCount,
      // Seats come back in layout order, so the layout's counts slice them into rows.
      sections: venue.layout.sections.map((section) => ({
        name: section.name,
        rows: section.rows.map((row) => ({
          label: row.label,
          seats: seats.slice(i, (i += row.seats)).map((s) => ({ id: s.id, number: s.number, label: s.label })),
        })),
      })),
    };
  }

  // ---- performances ----

  async createPerformance(seller: Principal, input: CreatePerformanceInput): Promise<PerformanceView> {
    const venue = await this.deps.repo.findVenue(input.venueId);
    if (!venue) throw notFound('venue');
    const errors = gradingErrors(input, venue.layout);
    if (errors.length) throw invalid(errors);
    const now = this.deps.clock.now();
    const performance = {
      id: newId(),
      sellerId: seller.id,
      venueId: venue.id,
      title: input.title,
      description: input.description ?? null,
      runningMinutes: input.runningMinutes,
      grades: input.grades,
      seatGrades: input.seatGrades,
      defaultGrade: input.defaultGrade,
      createdAt: now,
      updatedAt: now,
    };
    const row = await this.deps.repo.transaction(async (tx) => {
      if (seller.role !== 'ADMIN') {
        await this.deps.repo.lockSellerQuota(seller.id, tx);
        within('performances', (await this.deps.repo.livePerformanceCount(seller.id, tx)) + 1, this.deps.quotas.performancesPerSeller);
      }
      return this.deps.repo.insertPerformance(performance, tx);
    });
    return this.#performanceView(row);
  }

  async listPerformances(query: { q?: string; limit: number; after?: string }) {
    const rows = await this.deps.repo.listPerformances({ q: query.q, after: query.after, limit: query.limit + 1, now: this.deps.clock.now() });
    return rows.map((r) => ({ ...r, nextScheduleAt: iso(r.nextScheduleAt) }));
  }

  /** A live performance, or undefined: for other modules, which decide themselves what its absence means. */
  async findPerformance(id: string): Promise<PerformanceView | undefined> {
    const row = await this.deps.repo.findPerformance(id);
    return row && this.#performanceView(row);
  }

  async getPerformance(id: string) {
    const row = await this.deps.repo.findPerformance(id);
    if (!row) throw notFound('performance');
    const schedules = await this.deps.repo.schedulesOf([id]);
    return { ...this.#performanceView(row), schedules: schedules.map((s) => this.#scheduleView(s)) };
  }

  async updatePerformance(actor: Principal, id: string, patch: { title?: string; description?: string }) {
    await this.#ownedPerformance(actor, id);
    const row = await this.deps.repo.updatePerformance(id, patch, this.deps.clock.now());
    if (!row) throw notFound('performance');
    return this.#performanceView(row);
  }

  /** Refused once any seat of any showtime was sold; otherwise hidden with its showtimes. */
  async deletePerformance(actor: Principal, id: string): Promise<void> {
    await this.#ownedPerformance(actor, id);
    const scheduleIds = await this.deps.repo.transaction(async (tx) => {
      const performance = await this.deps.repo.lockPerformance(id, tx);
      if (!performance) throw notFound('performance');
      const live = await this.deps.repo.lockSchedulesOf(id, tx);
      if (await this.deps.repo.hasSales({ performanceId: id }, tx)) throw CatalogErrors.HAS_SALES();
      await this.deps.repo.softDeletePerformance(id, this.deps.clock.now(), tx);
      return live;
    });
    for (const s of scheduleIds) {
      this.deps.inventory.forget(s);
      this.#seatMaps.delete(s);
    }
  }

  // ---- schedules ----

  async createSchedule(actor: Principal, performanceId: string, input: CreateScheduleInput): Promise<ScheduleView> {
    const performance = await this.#ownedPerformance(actor, performanceId);
    const startsAt = new Date(input.startsAt);
    const saleOpensAt = new Date(input.saleOpensAt);
    const saleClosesAt = new Date(input.saleClosesAt ?? input.startsAt);
    const errors: FieldError[] = [];
    if (startsAt <= this.deps.clock.now()) errors.push({ path: '/body/startsAt', message: 'must be in the future' });
    if (saleOpensAt >= startsAt) errors.push({ path: '/body/saleOpensAt', message: 'must be before startsAt' });
    if (saleClosesAt <= saleOpensAt) errors.push({ path: '/body/saleClosesAt', message: 'must be after saleOpensAt' });
    if (saleClosesAt > startsAt) errors.push({ path: '/body/saleClosesAt', message: 'must not be after startsAt' });
    if (errors.length) throw invalid(errors);

    const row = await this.deps.repo.transaction(async (tx) => {
      const venue = await this.deps.repo.findVenue(performance.venueId, tx);
      if (actor.role !== 'ADMIN') {
        // The performance's seller's quota: only its seller (or an admin) gets this far.
        await this.deps.repo.lockSellerQuota(performance.sellerId, tx);
        const used = await this.deps.repo.scheduleUsage(performanceId, performance.sellerId, tx);
        within('schedulesPerPerformance', used.ofPerformance + 1, this.deps.quotas.schedulesPerPerformance);
        within('scheduleSeats', used.sellerSeats + venue!.seatCount, this.deps.quotas.scheduleSeatsPerSeller);
      }
      const id = newId();
      // The inventory and the showtime are one transaction: a showtime never exists without its seats.
      const created = await this.deps.repo.insertSchedule(
        {
          id,
          performanceId,
          startsAt,
          saleOpensAt,
          saleClosesAt,
          waitingRoomEnabled: input.waitingRoom?.enabled ?? false,
          maxActive: input.waitingRoom?.maxActive ?? null,
          admitPerTick: input.waitingRoom?.admitPerTick ?? null,
          seatCount: venue!.seatCount,
          createdAt: this.deps.clock.now(),
        },
        tx,
      );
      const seats = await this.deps.repo.createInventory(id, performance.venueId, performance, tx);
      if (seats !== venue!.seatCount) throw new Error(`inventory of ${id} has ${seats} seats, venue has ${venue!.seatCount}`);
      return created;
    });
    return this.#scheduleView(row);
  }

  async getSchedule(id: string) {
    const row = await this.deps.repo.findSchedule(id);
    if (!row) throw notFound('schedule');
    const [taken, held] = await Promise.all([this.deps.inventoryRepo.takenSeats(id, this.deps.clock.now()), this.deps.holds.heldSeats(id)]);
    const sold = taken?.sold.length ?? 0;
    const heldIds = new Set(held.keys());
    for (const seat of taken?.reserved ?? []) heldIds.add(seat);
    for (const seat of taken?.sold ?? []) heldIds.delete(seat);
    return {
      ...this.#scheduleView(row),
      counts: { available: row.seatCount - sold - heldIds.size, held: heldIds.size, sold },
    };
  }

  async deleteSchedule(actor: Principal, id: string): Promise<void> {
    const schedule = await this.deps.repo.findSchedule(id);
    if (!schedule) throw notFound('schedule');
    await this.#ownedPerformance(actor, schedule.performanceId);
    await this.deps.repo.transaction(async (tx) => {
      const live = await this.deps.repo.lockSchedule(id, tx);
      if (!live) throw notFound('schedule');
      if (await this.deps.repo.hasSales({ scheduleId: id }, tx)) throw CatalogErrors.HAS_SALES();
      await this.deps.repo.softDeleteSchedule(id, this.deps.clock.now(), tx);
    });
    this.deps.inventory.forget(id);
    this.#seatMaps.delete(id);
  }

  /**
   * The seat map as JSON bytes: one database read (existence, sold and reserved seats) and
   * one hold-store read per request; the immutable part comes from the cache after the first
   * request. A seat reserved for a pending order shows HELD even if the hold store lost it.
   * Between two changes every reader but a holder gets the same bytes, so they are rendered once
   * per change (`SeatMapMemo`) — and the same buffer lets the gzip cache answer by identity.
   */
  async seatMap(scheduleId: string, viewerId: string | undefined): Promise<Buffer> {
    const [taken, held] = await Promise.all([this.deps.inventoryRepo.takenSeats(scheduleId, this.deps.clock.now()), this.deps.holds.heldSeats(scheduleId)]);
    if (!taken) {
      this.deps.inventory.forget(scheduleId);
      this.#seatMaps.delete(scheduleId);
      throw notFound('schedule');
    }
    const personal = viewerId !== undefined && [...held.values()].includes(viewerId);
    const key = personal ? undefined : `${taken.key}|${heldKey(held)}`;
    const remembered = key === undefined ? undefined : this.#seatMaps.get(scheduleId, key);
    if (remembered) return remembered;
    const base = await this.deps.inventory.seatMapBase(scheduleId);
    let holders: ReadonlyMap<string, string> = held;
    if (taken.reserved.some((seat) => !held.has(seat))) {
      const merged = new Map(held);
      for (const seat of taken.reserved) if (!merged.has(seat)) merged.set(seat, '');
      holders = merged;
    }
    const body = renderSeatMap(base, new Set(taken.sold), holders, viewerId);
    if (key !== undefined) this.#seatMaps.set(scheduleId, key, body);
    return body;
  }

  // ---- helpers ----

  /** The performance if the actor owns it (or is an admin): 404 if it does not exist, 403 if not theirs. */
  async #ownedPerformance(actor: Principal, id: string): Promise<PerformanceRow> {
    const row = await this.deps.repo.findPerformance(id);
    if (!row) throw notFound('performance');
    if (actor.role !== 'ADMIN' && row.sellerId !== actor.id) throw CommonErrors.FORBIDDEN("Only the performance's seller may change it");
    return row;
  }

  #performanceView(row: PerformanceRow): PerformanceView {
    return {
      id: row.id,
      title: row.title,
      description: row.description,
      venueId: row.venueId,
      sellerId: row.sellerId,
      runningMinutes: row.runningMinutes,
      grades: row.grades,
      seatGrades: row.seatGrades,
      defaultGrade: row.defaultGrade,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }

  #scheduleView(row: ScheduleRow): ScheduleView {
    return toScheduleView(row, this.deps.waitingRoomDefaults);
  }
}
