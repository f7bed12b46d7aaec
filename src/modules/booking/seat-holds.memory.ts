import type { HoldResult, PendingHold, SeatHoldStore } from './seat-holds.store.js';

interface Showtime {
  holds: Map<string, { userId: string; expiresAt: number }>;
  sold: Set<string>;
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
    for (const seat of seatIds) {
      const expiresAt = Math.max(live.get(seat) ?? 0, now + ttlMs);
      st.holds.set(seat, { userId, expiresAt });
      latest = Math.max(latest, expiresAt);
    }
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
    for (const seat of list) {
      if (st.holds.get(seat)?.userId === userId) {
        st.holds.delete(seat);
        released++;
      }
    }
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
    let st = this.#showtimes.get(scheduleId);
    if (!st) this.#showtimes.set(scheduleId, (st = { holds: new Map(), sold: new Set() }));
    for (const seat of sold) st.sold.add(seat);
    for (const p of pending) if (p.expiresAt > now && !st.holds.has(p.seatId)) st.holds.set(p.seatId, { userId: p.userId, expiresAt: p.expiresAt });
  }

  async markSold(scheduleId: string, seatIds: readonly string[]): Promise<void> {
    const st = this.#showtimes.get(scheduleId);
    if (!st) return; // not loaded: the next load reads the sale from PostgreSQL
    for (const seat of seatIds) {
      st.sold.add(seat);
      st.holds.delete(seat);
    }
  }

  async markUnsold(scheduleId: string, seatIds: readonly string[]): Promise<void> {
    const st = this.#showtimes.get(scheduleId);
    for (const seat of seatIds) st?.sold.delete(seat);
  }

  async expire(scheduleId: string, now: number): Promise<number> {
    const st = this.#showtimes.get(scheduleId);
    let removed = 0;
    for (const [seat, h] of st?.holds ?? []) {
      if (h.expiresAt <= now) {
        st!.holds.delete(seat);
        removed++;
      }
    }
    return removed;
  }

  /** The buyer's live holds: seat → expiry. */
  #live(st: Showtime, userId: string, now: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [seat, h] of st.holds) if (h.userId === userId && h.expiresAt > now) out.set(seat, h.expiresAt);
    return out;
  }
}
