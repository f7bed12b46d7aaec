import type { RedisClient } from '../../platform/redis/client.js';
import { key, tag } from '../../platform/redis/keys.js';
import { loadLua, type LuaScript } from '../../platform/redis/scripts.js';
import type { RecentAdmissions, RoomRef, Standing, TickResult, TickSettings, WaitingRoomStore } from './waiting-room.store.js';

const ROOMS = 'wr:rooms';

/** Redis adapter: sorted sets and one Lua script per step (waiting-room.lua). */
export class RedisWaitingRoomStore implements WaitingRoomStore {
  readonly #script: LuaScript;
  constructor(private readonly redis: RedisClient) {
    this.#script = loadLua(redis, 'waiting_room', new URL('./waiting-room.lua', import.meta.url));
  }

  async enter(room: RoomRef, userId: string, now: number, seed: number) {
    const [res] = await Promise.all([
      this.#run(room, 'enter', now, seed, [userId]) as Promise<number[]>,
      // The work list of the admission job lives outside the room's hash slot, so it is a
      // separate command; the job tolerates a room it finds empty.
      this.redis.sadd(ROOMS, room.scheduleId),
    ]);
    return { standing: toStanding(res[0]!, res[1]!, res[2]!), recent: toRecent(res[3]!, res[4]!) };
  }

  async standings(room: RoomRef, userIds: readonly string[], now: number, seed: number) {
    if (!userIds.length) return { standings: [], recent: { admitted: 0, oldestAt: null } };
    const res = (await this.#run(room, 'status', now, seed, userIds)) as number[];
    const standings: Standing[] = [];
    for (let i = 0; i < res.length; i += 5) standings.push(toStanding(res[i]!, res[i + 1]!, res[i + 2]!));
    return { standings, recent: toRecent(res[3]!, res[4]!) };
  }

  async activeUntil(room: RoomRef, userId: string, now: number): Promise<number | null> {
    const expiry = (await this.#run(room, 'active', now, 0, [userId])) as number;
    return expiry > 0 ? expiry : null;
  }

  async leave(room: RoomRef, userId: string): Promise<void> {
    await this.#run(room, 'leave', 0, 0, [userId]);
  }

  async tick(room: RoomRef, s: TickSettings, now: number, fence: number, seed: number): Promise<TickResult> {
    const res = (await this.#run(room, 'tick', now, seed, [
      fence,
      s.maxActive,
      s.admitPerTick,
      s.admissionTtlMs,
      s.abandonAfterMs,
      s.maxDropsPerTick,
      s.auditCap,
    ])) as [number, number, number, number, number, string[]];
    if (res[0] === -1) return { stale: true };
    return { stale: false, admitted: res[5], expired: res[1], abandoned: res[2], waiting: res[3], active: res[4] };
  }

  async counts(room: RoomRef) {
    const [waiting, active] = (await this.#run(room, 'counts', 0, 0, [])) as [number, number];
    return { waiting, active };
  }

  async admissionLog(room: RoomRef): Promise<string[]> {
    return (await this.#run(room, 'audit', 0, 0, [])) as string[];
  }

  async rooms(): Promise<string[]> {
    return this.redis.smembers(ROOMS);
  }

  async forgetRoom(scheduleId: string): Promise<void> {
    await this.redis.srem(ROOMS, scheduleId);
  }

  #run(room: RoomRef, op: string, now: number, seed: number, rest: readonly (string | number)[]) {
    return this.#script(roomKeys(room.scheduleId), [op, now, room.saleOpensAt, seed, ...rest]);
  }
}

function roomKeys(scheduleId: string): string[] {
  const t = tag('wr', scheduleId);
  return ['pre', 'q', 'hb', 'active', 'meta', 'log', 'audit'].map((part) => key('wr', t, part));
}

function toStanding(state: number, rank: number, expiry: number): Standing {
  switch (state) {
    case 1:
      return { state: 'PREQUEUE' };
    case 2:
      return { state: 'WAITING', rank };
    case 3:
      return { state: 'ADMITTED', activeUntil: expiry };
    default:
      return { state: 'ABSENT' };
  }
}

function toRecent(admitted: number, oldest: number): RecentAdmissions {
  return { admitted, oldestAt: oldest >= 0 ? oldest : null };
}
