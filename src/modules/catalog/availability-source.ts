/** A seat's status as buyers see it (the seat map's `status`). */
export type SeatStatus = 'AVAILABLE' | 'HELD' | 'SOLD';

/** The status changes of one version: each named seat now has this status, applied in order. */
export interface SeatStatusChange {
  version: number;
  seats: (readonly [seatId: string, status: SeatStatus])[];
}

/**
 * One read of a showtime's seat statuses from the hot state: the changes of every version after
 * the one asked for, or — when those are no longer kept, or none was asked for — the whole
 * state at `version` (every seat not listed is AVAILABLE).
 */
export type LoadedAvailability =
  | { kind: 'changes'; version: number; changes: SeatStatusChange[] }
  | { kind: 'full'; version: number; sold: string[]; held: string[] };

/** What the hold store answers: also `not-loaded` when it has no state for the showtime yet. */
export type AvailabilityRead = LoadedAvailability | { kind: 'not-loaded' };

/**
 * Where the live availability comes from: the booking module's hold store (gate 1 of invariant
 * 1: what a hold would be refused for). The catalog cannot import booking (booking prices seats
 * through the catalog), so the composition root passes it in, as it does `HeldSeatsReader`.
 * One call is one hot-state round trip.
 */
export interface AvailabilitySource {
  availability(scheduleId: string, since: number | null): Promise<LoadedAvailability>;
}
