import type { AvailabilityRead, SeatStatus, SeatStatusChange } from '../catalog/index.js';
import type { HoldResult, PendingHold, SeatHoldStore } from './seat-holds.store.js';

/** As in seat-holds.lua: versions kept in the change log, and lapsed holds swept per availability read. */
const LOG_VERSIONS = 1000;
const SWEEP_ON_READ = 2000;

interface Showtime {
  holds: Map<string, { userId: string; expiresAt: number }>;
  sold: Set<string>;
  /** The availability version (see seat-holds.lua: a seat is SOLD if sold, else HELD if in `holds`, lapsed or not). */
  version: number;
  log: SeatStatusChange[];
}

/** The status changes of one step, published as one version (seat-holds.lua's `note` and `publish`). */
class Changes {
  readonly seats: [string, SeatStatus][] = [];
  note(status: SeatStatus, seat: string): void {
    this.seats.push([seat, status]);
  }
  publish(st: Showtime): void {
    if (!this.seats.length) return;
    st.version += 1;
    st.log.push({ version: st.version, seats: this.seats.splice(0) });
    if (st.log.length > LOG_VERSIONS) st.log.splice(0, st.log.length - LOG_VERSIONS);
  }
}

/** Single-process adapter (embedded mode): the rules of seat-holds.lua, in memory. */
export class MemorySeatHoldStore implements SeatHoldStore {
  readonly #showtimes = new Map<string, Showtime>();

  async hold(scheduleId: string, userId: string, seatIds: readonly string[], now: number, ttlMs: number, maxPerBuyer: number): Promise<HoldResult> {
    const st = this.#showtimes.get(scheduleId);
    if (!st) return { kind: 'not-loaded' };
    const taken = seatIds.filter((seat) => {
      if (st.sold.has(seat)) return true;
      const h = st.holds.get(seat);
      return h !== undefined && h.userId !== userId && h.expiresAt > now;
    });
    if (taken.length) return { kind: 'unavailable', seatIds: taken };
    const live = this.#live(st, userId, now);
    const fresh = seatIds.filter((seat) => !live.has(seat)).length;
    if (live.size + fresh > maxPerBuyer) return { kind: 'limit', holding: live.size };
    let latest = 0;
    const changes = new Changes();
    for (const seat of seatIds) {
      const expiresAt = Math.max(live.get(seat) ?? 0, now + ttlMs);
      if (!st.holds.has(seat)) changes.note('HELD', seat);
      st.holds.set(seat, { userId, expiresAt });
      latest = Math.max(latest, expiresAt);
    }
    changes.publish(st);
    return { kind: 'held', expiresAt: latest };
  }

  async extend(scheduleId: string, userId: string, seatIds: readonly string[], until: number, now: number) {
    const st = this.#showtimes.get(scheduleId);
    const missing = seatIds.filter((seat) => {
      const h = st?.holds.get(seat);
      return !h || h.userId !== userId || h.expiresAt <= now;
    });
    if (!st) return { ok: false as const, missing: [...seatIds] };
    if (missing.length) return { ok: false as const, missing };
    for (const seat of seatIds) st.holds.set(seat, { userId, expiresAt: until });
    return { ok: true as const };
  }

  async release(scheduleId: string, userId: string, seatIds: readonly string[], now: number): Promise<number> {
    const st = this.#showtimes.get(scheduleId);
    if (!st) return 0;
    const list = seatIds.length ? seatIds : [...this.#live(st, userId, now).keys()];
    let released = 0;
    const changes = new Changes();
    for (const seat of list) {
      if (st.holds.get(seat)?.userId === userId) {
        st.holds.delete(seat);
        if (!st.sold.has(seat)) changes.note('AVAILABLE', seat);
        released++;
      }
    }
    changes.publish(st);
    return released;
  }

  async holdsOf(scheduleId: string, userId: string, now: number) {
    const st = this.#showtimes.get(scheduleId);
    return st ? [...this.#live(st, userId, now)].map(([seatId, expiresAt]) => ({ seatId, expiresAt })) : [];
  }

  async heldSeats(scheduleId: string, now: number): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const [seat, h] of this.#showtimes.get(scheduleId)?.holds ?? []) if (h.expiresAt > now) out.set(seat, h.userId);
    return out;
  }

  async load(scheduleId: string, sold: readonly string[], pending: readonly PendingHold[], now: number): Promise<void> {
    const existing = this.#showtimes.get(scheduleId);
    // A first load starts a new epoch (versions from now * 1000, as in seat-holds.lua); a reload logs what it changed.
    const st = existing ?? { holds: new Map(), sold: new Set(), version: now * 1000, log: [] };
    const changes = new Changes();
    for (const seat of sold) {
      // As markSold: a seat PostgreSQL has sold (its own step lost) ends any hold on it.
      st.holds.delete(seat);
      if (st.sold.has(seat)) continue;
      st.sold.add(seat);
      if (existing) changes.note('SOLD', seat);
    }
    // `pending` was read from PostgreSQL before this step: an order paid since then has its seats
    // sold here already, and its stale hold must not come back on them (seat-holds.lua's load).
    for (const p of pending) {
      if (p.expiresAt > now && !st.holds.has(p.seatId) && !st.sold.has(p.seatId)) {
        st.holds.set(p.seatId, { userId: p.userId, expiresAt: p.expiresAt });
        if (existing) changes.note('HELD', p.seatId);
      }
    }
    changes.publish(st);
    this.#showtimes.set(scheduleId, st);
  }

  async markSold(scheduleId: string, seatIds: readonly string[], _now: number): Promise<void> {
    const st = this.#showtimes.get(scheduleId);
    if (!st) return; // not loaded: the next load reads the sale from PostgreSQL
    const changes = new Changes();
    for (const seat of seatIds) {
      if (!st.sold.has(seat)) changes.note('SOLD', seat);
      st.sold.add(seat);
      st.holds.delete(seat);
    }
    changes.publish(st);
  }

  async markUnsold(scheduleId: string, seatIds: readonly string[], _now: number): Promise<void> {
    const st = this.#showtimes.get(scheduleId);
    if (!st) return;
    const changes = new Changes();
    for (const seat of seatIds) if (st.sold.delete(seat)) changes.note(st.holds.has(seat) ? 'HELD' : 'AVAILABLE', seat);
    changes.publish(st);
  }

  async expire(scheduleId: string, now: number): Promise<number> {
    const st = this.#showtimes.get(scheduleId);
    return st ? this.#sweep(st, now, Number.POSITIVE_INFINITY) : 0;
  }

  async availability(scheduleId: string, since: number | null, now: number): Promise<AvailabilityRead> {
    const st = this.#showtimes.get(scheduleId);
    if (!st) return { kind: 'not-loaded' };
    this.#sweep(st, now, SWEEP_ON_READ);
    const behind = since === null ? Number.NaN : st.version - since;
    if (behind === 0) return { kind: 'changes', version: st.version, changes: [] };
    if (behind > 0 && behind <= st.log.length) {
      return { kind: 'changes', version: st.version, changes: st.log.slice(-behind).map((c) => ({ version: c.version, seats: [...c.seats] })) };
    }
    return { kind: 'full', version: st.version, sold: [...st.sold], held: [...st.holds.keys()] };
  }

  /** Removes up to `limit` lapsed holds as one version; returns how many. */
  #sweep(st: Showtime, now: number, limit: number): number {
    const changes = new Changes();
    let removed = 0;
    for (const [seat, h] of st.holds) {
      if (removed >= limit) break;
      if (h.expiresAt <= now) {
        st.holds.delete(seat);
        if (!st.sold.has(seat)) changes.note('AVAILABLE', seat);
        removed++;
      }
    }
    changes.publish(st);
    return removed;
  }

  /** The buyer's live holds: seat → expiry. */
  #live(st: Showtime, userId: string, now: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [seat, h] of st.holds) if (h.userId === userId && h.expiresAt > now) out.set(seat, h.expiresAt);
    return out;
  }
}
