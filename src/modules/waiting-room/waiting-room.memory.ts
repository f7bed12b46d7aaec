import { shuffleWithSeed } from './shuffle.js';
import type { RecentAdmissions, RoomRef, Standing, TickResult, TickSettings, WaitingRoomStore } from './waiting-room.store.js';

const RATE_WINDOW = 60_000;

/**
 * Counts of present slots with O(log n) prefix sums: a waiting buyer's rank is the number of
 * occupied slots before theirs, as ZRANK is in Redis.
 */
class Fenwick {
  #tree = new Int32Array(1024);
  add(slot: number, delta: number): void {
    while (slot + 1 >= this.#tree.length) {
      // Growing keeps the tree valid: rebuild from point values.
      const values = this.#values();
      this.#tree = new Int32Array(this.#tree.length * 2);
      values.forEach((v, i) => v && this.#addRaw(i, v));
    }
    this.#addRaw(slot, delta);
  }
  /** Sum of slots [0, slot). */
  prefix(slot: number): number {
    let sum = 0;
    for (let i = Math.min(slot, this.#tree.length - 1); i > 0; i -= i & -i) sum += this.#tree[i]!;
    return sum;
  }
  #addRaw(slot: number, delta: number): void {
    for (let i = slot + 1; i < this.#tree.length; i += i & -i) this.#tree[i]! += delta;
  }
  #values(): number[] {
    const n = this.#tree.length - 1;
    return Array.from({ length: n }, (_, i) => this.prefix(i + 1) - this.prefix(i));
  }
}

class Room {
  opened = false;
  seq = 0;
  fence = 0;
  readonly pre: string[] = [];
  readonly preSet = new Set<string>();
  readonly slotOf = new Map<string, number>();
  readonly userAt: (string | undefined)[] = [];
  readonly present = new Fenwick();
  head = 0;
  readonly heartbeat = new Map<string, number>();
  readonly active = new Map<string, number>();
  readonly log: { at: number; count: number }[] = [];
  readonly audit: string[] = [];

  openIfDue(now: number, opensAt: number, seed: number): void {
    if (this.opened || now < opensAt) return;
    for (const user of shuffleWithSeed(this.pre, seed)) this.#place(user);
    this.pre.length = 0;
    this.preSet.clear();
    this.opened = true;
  }

  arrive(user: string): void {
    if (this.opened) this.#place(user);
    else {
      this.pre.push(user);
      this.preSet.add(user);
    }
  }

  #place(user: string): void {
    const slot = this.seq++;
    this.slotOf.set(user, slot);
    this.userAt[slot] = user;
    this.present.add(slot, 1);
  }

  removeWaiting(user: string): void {
    const slot = this.slotOf.get(user);
    if (slot !== undefined) {
      this.slotOf.delete(user);
      this.userAt[slot] = undefined;
      this.present.add(slot, -1);
    }
    if (this.preSet.delete(user)) this.pre.splice(this.pre.indexOf(user), 1);
    this.heartbeat.delete(user);
  }

  popFirst(): string | undefined {
    while (this.head < this.seq && this.userAt[this.head] === undefined) this.head++;
    const user = this.userAt[this.head];
    if (user !== undefined) this.removeWaiting(user);
    return user;
  }

  standing(user: string, now: number, beat: boolean): Standing {
    const expiry = this.active.get(user);
    if (expiry !== undefined && expiry > now) return { state: 'ADMITTED', activeUntil: expiry };
    const slot = this.slotOf.get(user);
    if (slot !== undefined) {
      if (beat) this.beat(user, now);
      return { state: 'WAITING', rank: this.present.prefix(slot) };
    }
    if (this.preSet.has(user)) {
      if (beat) this.beat(user, now);
      return { state: 'PREQUEUE' };
    }
    return { state: 'ABSENT' };
  }

  /** Re-inserting keeps the map in last-poll order, so the abandon sweep stops at the first live buyer. */
  beat(user: string, now: number): void {
    this.heartbeat.delete(user);
    this.heartbeat.set(user, now);
  }

  recent(now: number): RecentAdmissions {
    while (this.log.length && this.log[0]!.at <= now - RATE_WINDOW) this.log.shift();
    if (!this.log.length) return { admitted: 0, oldestAt: null };
    return { admitted: this.log.reduce((s, e) => s + e.count, 0), oldestAt: this.log[0]!.at };
  }

  waitingCount(): number {
    return this.slotOf.size + this.preSet.size;
  }
}

/** Single-process adapter (embedded mode): the same rules as waiting-room.lua, in memory. */
export class MemoryWaitingRoomStore implements WaitingRoomStore {
  readonly #rooms = new Map<string, Room>();

  #room(ref: RoomRef): Room {
    let room = this.#rooms.get(ref.scheduleId);
    if (!room) this.#rooms.set(ref.scheduleId, (room = new Room()));
    return room;
  }

  async enter(ref: RoomRef, userId: string, now: number, seed: number) {
    const room = this.#room(ref);
    room.openIfDue(now, ref.saleOpensAt, seed);
    if (room.standing(userId, now, true).state === 'ABSENT') {
      room.arrive(userId);
      room.beat(userId, now);
    }
    return { standing: room.standing(userId, now, false), recent: room.recent(now) };
  }

  async standings(ref: RoomRef, userIds: readonly string[], now: number, seed: number) {
    const room = this.#room(ref);
    room.openIfDue(now, ref.saleOpensAt, seed);
    return { standings: userIds.map((u) => room.standing(u, now, true)), recent: room.recent(now) };
  }

  async activeUntil(ref: RoomRef, userId: string, now: number): Promise<number | null> {
    const expiry = this.#rooms.get(ref.scheduleId)?.active.get(userId);
    return expiry !== undefined && expiry > now ? expiry : null;
  }

  async leave(ref: RoomRef, userId: string): Promise<void> {
    const room = this.#rooms.get(ref.scheduleId);
    if (!room) return;
    room.removeWaiting(userId);
    room.active.delete(userId);
  }

  async tick(ref: RoomRef, s: TickSettings, now: number, fence: number, seed: number): Promise<TickResult> {
    const room = this.#room(ref);
    if (fence < room.fence) return { stale: true };
    room.fence = fence;
    room.openIfDue(now, ref.saleOpensAt, seed);

    let expired = 0;
    for (const [user, until] of room.active) {
      if (until <= now) {
        room.active.delete(user);
        expired++;
      }
    }
    const stale: string[] = [];
    for (const [user, at] of room.heartbeat) {
      if (stale.length >= s.maxDropsPerTick || at > now - s.abandonAfterMs) break;
      stale.push(user);
    }
    for (const user of stale) room.removeWaiting(user);

    const admitted: string[] = [];
    if (room.opened) {
      const n = Math.min(s.maxActive - room.active.size, s.admitPerTick);
      for (let i = 0; i < n; i++) {
        const user = room.popFirst();
        if (user === undefined) break;
        room.active.set(user, now + s.admissionTtlMs);
        admitted.push(user);
      }
      if (admitted.length) {
        room.log.push({ at: now, count: admitted.length });
        room.audit.push(...admitted);
        if (room.audit.length > s.auditCap) room.audit.splice(0, room.audit.length - s.auditCap);
      }
    }
    return { stale: false, admitted, expired, abandoned: stale.length, waiting: room.waitingCount(), active: room.active.size };
  }

  async counts(ref: RoomRef) {
    const room = this.#rooms.get(ref.scheduleId);
    return { waiting: room?.waitingCount() ?? 0, active: room?.active.size ?? 0 };
  }

  async admissionLog(ref: RoomRef): Promise<string[]> {
    return [...(this.#rooms.get(ref.scheduleId)?.audit ?? [])];
  }

  async rooms(): Promise<string[]> {
    return [...this.#rooms.keys()];
  }

  async forgetRoom(scheduleId: string): Promise<void> {
    this.#rooms.delete(scheduleId);
  }
}
