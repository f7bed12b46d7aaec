import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { shuffleWithSeed } from '../../src/modules/waiting-room/shuffle.js';
import { MemoryWaitingRoomStore } from '../../src/modules/waiting-room/waiting-room.memory.js';
import { RedisWaitingRoomStore } from '../../src/modules/waiting-room/waiting-room.redis.js';
import type { RoomRef, TickSettings, WaitingRoomStore } from '../../src/modules/waiting-room/waiting-room.store.js';
import { isolatedRedis } from '../support/redis.js';

const redis = isolatedRedis();
afterAll(() => redis.cleanup());

const adapters: [string, () => WaitingRoomStore][] = [
  ['memory', () => new MemoryWaitingRoomStore()],
  ['redis', () => new RedisWaitingRoomStore(redis.redis)],
];

const OPEN = 1_000_000;
const settings: TickSettings = { maxActive: 3, admitPerTick: 2, admissionTtlMs: 10_000, abandonAfterMs: 5_000, maxDropsPerTick: 100, auditCap: 1000 };
const room = (saleOpensAt = OPEN): RoomRef => ({ scheduleId: randomUUID(), saleOpensAt });
const users = (n: number, prefix = 'u') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe.each(adapters)('WaitingRoomStore contract (%s)', (_name, make) => {
  it('keeps FIFO order after the opening, and re-entering keeps the place', async () => {
    const store = make();
    const r = room();
    const ranks = [];
    for (const u of users(5)) ranks.push((await store.enter(r, u, OPEN + 10, 7)).standing);
    expect(ranks).toEqual([0, 1, 2, 3, 4].map((rank) => ({ state: 'WAITING', rank })));
    expect((await store.enter(r, 'u2', OPEN + 20, 7)).standing).toEqual({ state: 'WAITING', rank: 2 });
    expect((await store.counts(r)).waiting).toBe(5);
  });

  it('shuffles the pre-queue once at opening, by the seed, ahead of every later arrival', async () => {
    const store = make();
    const r = room();
    const early = users(50, 'early');
    for (const u of early) expect((await store.enter(r, u, OPEN - 1000, 1)).standing).toEqual({ state: 'PREQUEUE' });
    // The first call after the opening instant opens the room with its seed.
    await store.enter(r, 'late0', OPEN + 1, 424242);
    await store.enter(r, 'late1', OPEN + 2, 999);
    const { standings } = await store.standings(r, [...early, 'late0', 'late1'], OPEN + 3, 555);
    const order = new Array<string>(52);
    [...early, 'late0', 'late1'].forEach((u, i) => {
      const s = standings[i]!;
      expect(s.state).toBe('WAITING');
      if (s.state === 'WAITING') order[s.rank] = u;
    });
    expect(order.slice(0, 50)).toEqual(shuffleWithSeed(early, 424242));
    expect(order.slice(50)).toEqual(['late0', 'late1']);
  });

  it('opens a pre-queue of 10,000 buyers (more than one script call can unpack at once)', async () => {
    const store = make();
    const r = room();
    const early = users(10_000, 'crowd');
    for (let i = 0; i < early.length; i += 500) await Promise.all(early.slice(i, i + 500).map((u) => store.enter(r, u, OPEN - 1000, 1)));
    const late = await store.enter(r, 'late', OPEN + 1, 31337);
    expect(late.standing).toEqual({ state: 'WAITING', rank: 10_000 });
    const { standings } = await store.standings(r, early.slice(0, 3), OPEN + 2, 1);
    for (const s of standings) expect(s.state).toBe('WAITING');
    expect((await store.counts(r)).waiting).toBe(10_001);
  }, 60_000);

  it('admits up to admitPerTick while below maxActive, in queue order, and logs it', async () => {
    const store = make();
    const r = room();
    for (const u of users(6)) await store.enter(r, u, OPEN, 1);
    const first = await store.tick(r, settings, OPEN + 100, 1, 1);
    expect(first).toMatchObject({ stale: false, admitted: ['u0', 'u1'], waiting: 4, active: 2 });
    const second = await store.tick(r, settings, OPEN + 200, 1, 1);
    expect(second).toMatchObject({ admitted: ['u2'], waiting: 3, active: 3 }); // maxActive 3
    expect(await store.tick(r, settings, OPEN + 300, 1, 1)).toMatchObject({ admitted: [] });
    expect((await store.standings(r, ['u0', 'u3'], OPEN + 300, 1)).standings).toEqual([
      { state: 'ADMITTED', activeUntil: OPEN + 100 + 10_000 },
      { state: 'WAITING', rank: 0 },
    ]);
    expect(await store.activeUntil(r, 'u2', OPEN + 300)).toBe(OPEN + 200 + 10_000);
    expect(await store.activeUntil(r, 'u3', OPEN + 300)).toBeNull();
    expect(await store.admissionLog(r)).toEqual(['u0', 'u1', 'u2']);
  });

  it('admits nobody before the sale opens', async () => {
    const store = make();
    const r = room();
    await store.enter(r, 'a', OPEN - 10, 1);
    expect(await store.tick(r, settings, OPEN - 5, 1, 1)).toMatchObject({ admitted: [], waiting: 1 });
    expect(await store.tick(r, settings, OPEN, 1, 1)).toMatchObject({ admitted: ['a'], waiting: 0 });
  });

  it('frees the slot of an admission that expired or of a buyer who left', async () => {
    const store = make();
    const r = room();
    for (const u of users(5)) await store.enter(r, u, OPEN, 1);
    await store.tick(r, { ...settings, admitPerTick: 3 }, OPEN, 1, 1); // u0..u2 active
    await store.leave(r, 'u1');
    await store.leave(r, 'u1'); // twice is fine
    expect(await store.activeUntil(r, 'u1', OPEN + 1)).toBeNull();
    expect(await store.tick(r, settings, OPEN + 1, 1, 1)).toMatchObject({ admitted: ['u3'], active: 3 });
    // Everyone admitted at OPEN expires at OPEN + 10 s; the waiting buyer keeps polling.
    await store.standings(r, ['u4'], OPEN + 9_000, 1);
    const later = await store.tick(r, settings, OPEN + 10_000, 1, 1);
    expect(later).toMatchObject({ expired: 2, admitted: ['u4'], active: 2 });
    expect((await store.standings(r, ['u0'], OPEN + 10_000, 1)).standings[0]).toEqual({ state: 'ABSENT' });
  });

  it('drops waiting buyers who stopped polling, keeps those who poll, and ranks close up', async () => {
    const store = make();
    const r = room();
    for (const u of users(4)) await store.enter(r, u, OPEN, 1);
    await store.standings(r, ['u1', 'u3'], OPEN + 4_000, 1);
    const res = await store.tick(r, { ...settings, admitPerTick: 0 }, OPEN + 5_000, 1, 1);
    expect(res).toMatchObject({ abandoned: 2, waiting: 2 });
    expect((await store.standings(r, ['u0', 'u1', 'u3'], OPEN + 5_001, 1)).standings).toEqual([
      { state: 'ABSENT' },
      { state: 'WAITING', rank: 0 },
      { state: 'WAITING', rank: 1 },
    ]);
  });

  it('bounds the buyers dropped per tick', async () => {
    const store = make();
    const r = room();
    for (const u of users(10)) await store.enter(r, u, OPEN, 1);
    const res = await store.tick(r, { ...settings, admitPerTick: 0, maxDropsPerTick: 4 }, OPEN + 60_000, 1, 1);
    expect(res).toMatchObject({ abandoned: 4, waiting: 6 });
  });

  it('refuses a tick from a leader whose fence is older than the last one seen', async () => {
    const store = make();
    const r = room();
    await store.enter(r, 'a', OPEN, 1);
    await store.tick(r, settings, OPEN, 5, 1);
    expect(await store.tick(r, settings, OPEN + 1, 4, 1)).toEqual({ stale: true });
    expect(await store.tick(r, settings, OPEN + 1, 5, 1)).toMatchObject({ stale: false });
  });

  it('reports admissions of the last minute for the wait estimate', async () => {
    const store = make();
    const r = room();
    expect((await store.enter(r, 'x', OPEN, 1)).recent).toEqual({ admitted: 0, oldestAt: null });
    for (const u of users(6)) await store.enter(r, u, OPEN, 1);
    await store.tick(r, { ...settings, maxActive: 100 }, OPEN + 1_000, 1, 1);
    await store.tick(r, { ...settings, maxActive: 100 }, OPEN + 2_000, 1, 1);
    expect((await store.standings(r, ['u5'], OPEN + 3_000, 1)).recent).toEqual({ admitted: 4, oldestAt: OPEN + 1_000 });
    expect((await store.standings(r, ['u5'], OPEN + 61_500, 1)).recent).toEqual({ admitted: 2, oldestAt: OPEN + 2_000 });
  });

  it("keeps the last minute's count exact as batches come and go, with a batch every tick", async () => {
    const store = make();
    const r = room();
    for (const u of users(400)) await store.enter(r, u, OPEN, 1);
    const wide = { ...settings, maxActive: 1000, admitPerTick: 1, abandonAfterMs: 3_600_000 };
    // 300 ticks 250 ms apart admit one buyer each: 75 s of batches, the first 15 s of them older than the window by the end.
    for (let k = 1; k <= 300; k++) await store.tick(r, wide, OPEN + k * 250, 1, 1);
    const at = OPEN + 300 * 250;
    const { recent } = await store.standings(r, ['u399'], at, 1);
    // Batches from at − 60 s exclusive … at: (75 000 − 60 000) / 250 = 60 dropped, 240 left.
    expect(recent).toEqual({ admitted: 240, oldestAt: at - 60_000 + 250 });
    expect((await store.standings(r, ['u399'], at + 59_000, 1)).recent).toEqual({ admitted: 4, oldestAt: at - 750 });
    expect((await store.standings(r, ['u399'], at + 60_001, 1)).recent).toEqual({ admitted: 0, oldestAt: null });
  });

  it('lists rooms someone entered, and forgets a room on request', async () => {
    const store = make();
    const r = room();
    await store.enter(r, 'a', OPEN, 1);
    expect(await store.rooms()).toContain(r.scheduleId);
    await store.forgetRoom(r.scheduleId);
    expect(await store.rooms()).not.toContain(r.scheduleId);
  });
});
