import type { RedisClient } from '../../platform/redis/client.js';
import { key, tag } from '../../platform/redis/keys.js';
import { loadLua, type LuaScript } from '../../platform/redis/scripts.js';
import type { AvailabilityRead, SeatStatus, SeatStatusChange } from '../catalog/index.js';
import type { HoldResult, PendingHold, SeatHoldStore } from './seat-holds.store.js';

const STATUS: Record<string, SeatStatus> = { A: 'AVAILABLE', H: 'HELD', S: 'SOLD' };

/** One entry of seat-holds.lua's change log: `"<version> <S><seatId> <S><seatId> ..."`. */
function parseLogEntry(entry: string): SeatStatusChange {
  const [version, ...seats] = entry.split(' ');
  return { version: Number(version), seats: seats.map((s) => [s.slice(1), STATUS[s[0]!]!] as const) };
}

/** Redis adapter: one Lua script (seat-holds.lua) per step, all keys of a showtime under one hash tag. */
export class RedisSeatHoldStore implements SeatHoldStore {
  readonly #script: LuaScript;
  constructor(redis: RedisClient) {
    this.#script = loadLua(redis, 'seat_holds', new URL('./seat-holds.lua', import.meta.url));
  }

  async hold(scheduleId: string, userId: string, seatIds: readonly string[], now: number, ttlMs: number, maxPerBuyer: number): Promise<HoldResult> {
    const res = (await this.#run(scheduleId, 'hold', now, [userId, ttlMs, maxPerBuyer, ...seatIds])) as [number, unknown];
    switch (res[0]) {
      case 1:
        return { kind: 'held', expiresAt: res[1] as number };
      case 0:
        return { kind: 'unavailable', seatIds: res[1] as string[] };
      case -2:
        return { kind: 'limit', holding: res[1] as number };
      default:
        return { kind: 'not-loaded' };
    }
  }

  async extend(scheduleId: string, userId: string, seatIds: readonly string[], until: number, now: number) {
    const res = (await this.#run(scheduleId, 'extend', now, [userId, until, ...seatIds])) as [number, unknown];
    return res[0] === 1 ? { ok: true as const } : { ok: false as const, missing: res[1] as string[] };
  }

  async release(scheduleId: string, userId: string, seatIds: readonly string[], now: number): Promise<number> {
    return (await this.#run(scheduleId, 'release', now, [userId, ...seatIds])) as number;
  }

  async holdsOf(scheduleId: string, userId: string, now: number) {
    const flat = (await this.#run(scheduleId, 'mine', now, [userId])) as (string | number)[];
    const out: { seatId: string; expiresAt: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ seatId: String(flat[i]), expiresAt: Number(flat[i + 1]) });
    return out;
  }

  async heldSeats(scheduleId: string, now: number): Promise<Map<string, string>> {
    const flat = (await this.#run(scheduleId, 'held', now, [])) as string[];
    const out = new Map<string, string>();
    for (let i = 0; i < flat.length; i += 2) out.set(flat[i]!, flat[i + 1]!);
    return out;
  }

  async load(scheduleId: string, sold: readonly string[], pending: readonly PendingHold[], now: number): Promise<void> {
    const triples = pending.flatMap((p) => [p.seatId, p.userId, p.expiresAt]);
    await this.#run(scheduleId, 'load', now, [sold.length, ...sold, ...triples]);
  }

  async markSold(scheduleId: string, seatIds: readonly string[], now: number): Promise<void> {
    if (seatIds.length) await this.#run(scheduleId, 'sold', now, seatIds);
  }

  async markUnsold(scheduleId: string, seatIds: readonly string[], now: number): Promise<void> {
    if (seatIds.length) await this.#run(scheduleId, 'unsold', now, seatIds);
  }

  async availability(scheduleId: string, since: number | null, now: number): Promise<AvailabilityRead> {
    const res = (await this.#run(scheduleId, 'availability', now, [since === null ? '' : since])) as [number, string?, string[]?, string[]?];
    if (res[0] === -1) return { kind: 'not-loaded' };
    const version = Number(res[1]);
    if (res[0] === 2) return { kind: 'full', version, sold: res[2]!, held: res[3]! };
    return { kind: 'changes', version, changes: res[2]!.map(parseLogEntry) };
  }

  async expire(scheduleId: string, now: number): Promise<number> {
    return (await this.#run(scheduleId, 'expire', now, [])) as number;
  }

  #run(scheduleId: string, op: string, now: number, rest: readonly (string | number)[]) {
    const t = tag('hold', scheduleId);
    const keys = ['seats', 'exp', 'sold', 'loaded', 'users', 'ver', 'log'].map((part) => key('hold', t, part));
    return this.#script(keys, [op, now, ...rest]);
  }
}
