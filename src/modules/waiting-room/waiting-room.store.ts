/** Where a buyer stands in a showtime's waiting room. */
export type Standing =
  | { state: 'ABSENT' }
  /** Entered before the sale opened: unordered until the opening shuffle. */
  | { state: 'PREQUEUE' }
  /** `rank` = buyers ahead (0-based). */
  | { state: 'WAITING'; rank: number }
  /** In the active set until `activeUntil` (ms). */
  | { state: 'ADMITTED'; activeUntil: number };

/** Admissions over the last minute: `admitted` buyers since `oldestAt` (ms), or none. */
export interface RecentAdmissions {
  admitted: number;
  oldestAt: number | null;
}

export interface RoomRef {
  scheduleId: string;
  saleOpensAt: number;
}

export interface TickSettings {
  maxActive: number;
  admitPerTick: number;
  admissionTtlMs: number;
  abandonAfterMs: number;
  /** Bounds one tick's work when many buyers stop polling at once. */
  maxDropsPerTick: number;
  auditCap: number;
}

export type TickResult = { stale: true } | { stale: false; admitted: string[]; expired: number; abandoned: number; waiting: number; active: number };

/**
 * The hot state of every waiting room. Both adapters (Redis, memory) pass one contract suite
 * (test/contract/waiting-room-store.test.ts). `now` always comes from the caller's clock, and
 * every operation first performs the opening shuffle if the sale has opened since the last call.
 */
export interface WaitingRoomStore {
  /** Idempotent: re-entering keeps the place. `seed` drives the opening shuffle if this call opens the room. */
  enter(room: RoomRef, userId: string, now: number, seed: number): Promise<{ standing: Standing; recent: RecentAdmissions }>;
  /** Standings of several buyers in one round trip; also their heartbeat. */
  standings(room: RoomRef, userIds: readonly string[], now: number, seed: number): Promise<{ standings: Standing[]; recent: RecentAdmissions }>;
  /** The admission expiry (ms) if the buyer is in the active set now, else null. */
  activeUntil(room: RoomRef, userId: string, now: number): Promise<number | null>;
  leave(room: RoomRef, userId: string): Promise<void>;
  /** One admission step under the leader's fencing token; `stale` if a newer leader already ticked. */
  tick(room: RoomRef, settings: TickSettings, now: number, fence: number, seed: number): Promise<TickResult>;
  counts(room: RoomRef): Promise<{ waiting: number; active: number }>;
  /** Buyers admitted so far, in admission order (capped at `auditCap`). */
  admissionLog(room: RoomRef): Promise<string[]>;
  /** Showtimes whose rooms someone entered (the admission job's work list). */
  rooms(): Promise<string[]>;
  forgetRoom(scheduleId: string): Promise<void>;
}
