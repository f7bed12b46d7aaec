import type { AvailabilityRead } from '../catalog/index.js';

export type HoldResult =
  | { kind: 'held'; expiresAt: number }
  /** Some seats are held by others or sold: nothing was held. */
  | { kind: 'unavailable'; seatIds: string[] }
  /** The buyer would hold more than the limit: nothing was held. */
  | { kind: 'limit'; holding: number }
  /** The store has no state for this showtime (new, or lost in a flush): load it, then retry. */
  | { kind: 'not-loaded' };

export interface PendingHold {
  seatId: string;
  userId: string;
  expiresAt: number;
}

/**
 * Gate 1 of invariant 1: seat holds of a showtime. Both adapters (Redis, memory) pass one
 * contract suite (test/contract/seat-holds-store.test.ts). `now` comes from the caller's clock.
 */
export interface SeatHoldStore {
  /** All or nothing: holds every seat for `ttlMs`, or none. */
  hold(scheduleId: string, userId: string, seatIds: readonly string[], now: number, ttlMs: number, maxPerBuyer: number): Promise<HoldResult>;
  /** All or nothing: every seat must be held by the buyer now; then each lasts until `until`. */
  extend(scheduleId: string, userId: string, seatIds: readonly string[], until: number, now: number): Promise<{ ok: true } | { ok: false; missing: string[] }>;
  /** Releases the buyer's own holds on these seats (all of the buyer's seats when none are named). */
  release(scheduleId: string, userId: string, seatIds: readonly string[], now: number): Promise<number>;
  /** The buyer's live holds. */
  holdsOf(scheduleId: string, userId: string, now: number): Promise<{ seatId: string; expiresAt: number }[]>;
  /** Every live hold of the showtime, seat → holder, in one round trip (the seat map). */
  heldSeats(scheduleId: string, now: number): Promise<Map<string, string>>;
  /** Loads what PostgreSQL knows — sold seats and pending orders' seats — and marks the showtime loaded. */
  load(scheduleId: string, sold: readonly string[], pending: readonly PendingHold[], now: number): Promise<void>;
  /** Seats PostgreSQL now has as sold: never holdable again. */
  markSold(scheduleId: string, seatIds: readonly string[], now: number): Promise<void>;
  /** Seats returned to sale by a refund. */
  markUnsold(scheduleId: string, seatIds: readonly string[], now: number): Promise<void>;
  /** Sweeps lapsed holds (reads never depend on it); returns how many were removed. */
  expire(scheduleId: string, now: number): Promise<number>;
  /**
   * The showtime's seat statuses for the live availability, in one round trip: lapsed holds are
   * swept first (so they turn AVAILABLE with a version of their own), then the status changes
   * of every version after `since` — or, when `since` is null or older than the kept log, the
   * whole state at the current version. Every step that changes a seat's status (hold,
   * release, sweep, sold, unsold, load) adds one version in the same atomic step, so the
   * version is one counter per showtime shared by every process.
   */
  availability(scheduleId: string, since: number | null, now: number): Promise<AvailabilityRead>;
}
