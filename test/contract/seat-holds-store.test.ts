import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { MemorySeatHoldStore } from '../../src/modules/booking/seat-holds.memory.js';
import { RedisSeatHoldStore } from '../../src/modules/booking/seat-holds.redis.js';
import type { SeatHoldStore } from '../../src/modules/booking/seat-holds.store.js';
import { isolatedRedis } from '../support/redis.js';

const redis = isolatedRedis();
afterAll(() => redis.cleanup());

const adapters: [string, () => SeatHoldStore][] = [
  ['memory', () => new MemorySeatHoldStore()],
  ['redis', () => new RedisSeatHoldStore(redis.redis)],
];

const NOW = 1_000_000;
const TTL = 10_000;
const MAX = 4;

async function loaded(store: SeatHoldStore, sold: string[] = []) {
  const id = randomUUID();
  await store.load(id, sold, [], NOW);
  return id;
}

describe.each(adapters)('SeatHoldStore contract (%s)', (_name, make) => {
  it('answers not-loaded for a showtime it has no state for', async () => {
    expect(await make().hold(randomUUID(), 'u', ['s1'], NOW, TTL, MAX)).toEqual({ kind: 'not-loaded' });
  });

  it('holds all seats or none, naming the taken ones', async () => {
    const store = make();
    const sch = await loaded(store, ['sold1']);
    expect(await store.hold(sch, 'a', ['s1', 's2'], NOW, TTL, MAX)).toEqual({ kind: 'held', expiresAt: NOW + TTL });
    expect(await store.hold(sch, 'b', ['s3', 's2', 'sold1'], NOW, TTL, MAX)).toEqual({ kind: 'unavailable', seatIds: ['s2', 'sold1'] });
    // The refused request left nothing behind: s3 is free.
    expect(await store.hold(sch, 'c', ['s3'], NOW, TTL, MAX)).toMatchObject({ kind: 'held' });
    expect(await store.heldSeats(sch, NOW)).toEqual(
      new Map([
        ['s1', 'a'],
        ['s2', 'a'],
        ['s3', 'c'],
      ]),
    );
  });

  it('holds each seat for exactly one of many concurrent buyers', async () => {
    const store = make();
    const sch = await loaded(store);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.hold(sch, `u${i}`, ['x', `own${i}`], NOW, TTL, MAX)));
    expect(results.filter((r) => r.kind === 'held')).toHaveLength(1);
  });

  it('enforces the per-buyer limit, counting seats already held once', async () => {
    const store = make();
    const sch = await loaded(store);
    await store.hold(sch, 'a', ['1', '2', '3'], NOW, TTL, MAX);
    expect(await store.hold(sch, 'a', ['3', '4'], NOW, TTL, MAX)).toMatchObject({ kind: 'held' });
    expect(await store.hold(sch, 'a', ['5'], NOW, TTL, MAX)).toEqual({ kind: 'limit', holding: 4 });
    await store.release(sch, 'a', ['1'], NOW);
    expect(await store.hold(sch, 'a', ['5'], NOW, TTL, MAX)).toMatchObject({ kind: 'held' });
  });

  it('lets a lapsed hold be taken, and stops counting it for its old holder', async () => {
    const store = make();
    const sch = await loaded(store);
    await store.hold(sch, 'a', ['1', '2', '3', '4'], NOW, TTL, MAX);
    const later = NOW + TTL;
    expect(await store.hold(sch, 'b', ['1'], later, TTL, MAX)).toMatchObject({ kind: 'held' });
    expect(await store.hold(sch, 'a', ['9'], later, TTL, MAX)).toMatchObject({ kind: 'held' });
    expect(await store.holdsOf(sch, 'a', later)).toEqual([{ seatId: '9', expiresAt: later + TTL }]);
  });

  it('sweeps lapsed holds', async () => {
    const store = make();
    const sch = await loaded(store);
    await store.hold(sch, 'a', ['1', '2', '3'], NOW, TTL, MAX);
    expect(await store.expire(sch, NOW + TTL - 1)).toBe(0);
    expect(await store.expire(sch, NOW + TTL)).toBe(3);
    expect(await store.heldSeats(sch, NOW)).toEqual(new Map());
  });

  it('extends only seats the buyer holds, all or nothing, and never shortens by re-holding', async () => {
    const store = make();
    const sch = await loaded(store);
    await store.hold(sch, 'a', ['1', '2'], NOW, TTL, MAX);
    await store.hold(sch, 'b', ['3'], NOW, TTL, MAX);
    expect(await store.extend(sch, 'a', ['1', '3'], NOW + 60_000, NOW)).toEqual({ ok: false, missing: ['3'] });
    expect(await store.extend(sch, 'a', ['1', '2'], NOW + 60_000, NOW)).toEqual({ ok: true });
    expect(await store.hold(sch, 'a', ['1'], NOW + 1, TTL, MAX)).toEqual({ kind: 'held', expiresAt: NOW + 60_000 });
    const mine = (await store.holdsOf(sch, 'a', NOW)).sort((x, y) => x.seatId.localeCompare(y.seatId));
    expect(mine).toEqual([
      { seatId: '1', expiresAt: NOW + 60_000 },
      { seatId: '2', expiresAt: NOW + 60_000 },
    ]);
  });

  it("releases only the buyer's own holds, or all of them", async () => {
    const store = make();
    const sch = await loaded(store);
    await store.hold(sch, 'a', ['1', '2'], NOW, TTL, MAX);
    await store.hold(sch, 'b', ['3'], NOW, TTL, MAX);
    expect(await store.release(sch, 'a', ['3'], NOW)).toBe(0);
    expect(await store.release(sch, 'a', [], NOW)).toBe(2);
    expect(await store.heldSeats(sch, NOW)).toEqual(new Map([['3', 'b']]));
  });

  it('never holds a sold seat, and ends holds on seats that sell', async () => {
    const store = make();
    const sch = await loaded(store);
    await store.hold(sch, 'a', ['1'], NOW, TTL, MAX);
    await store.markSold(sch, ['1']);
    expect(await store.heldSeats(sch, NOW)).toEqual(new Map());
    expect(await store.hold(sch, 'a', ['1'], NOW, TTL, MAX)).toEqual({ kind: 'unavailable', seatIds: ['1'] });
    await store.markUnsold(sch, ['1']);
    expect(await store.hold(sch, 'b', ['1'], NOW, TTL, MAX)).toMatchObject({ kind: 'held' });
  });

  it("rebuilds pending orders' holds on load, counted against their buyers", async () => {
    const store = make();
    const sch = randomUUID();
    await store.load(
      sch,
      ['s0'],
      [
        { seatId: 's1', userId: 'a', expiresAt: NOW + 5_000 },
        { seatId: 's2', userId: 'a', expiresAt: NOW + 5_000 },
        { seatId: 's3', userId: 'b', expiresAt: NOW - 1 },
      ],
      NOW,
    );
    expect(await store.hold(sch, 'c', ['s1'], NOW, TTL, MAX)).toEqual({ kind: 'unavailable', seatIds: ['s1'] });
    expect(await store.hold(sch, 'c', ['s3'], NOW, TTL, MAX)).toMatchObject({ kind: 'held' });
    expect(await store.hold(sch, 'a', ['x', 'y', 'z'], NOW, TTL, MAX)).toEqual({ kind: 'limit', holding: 2 });
  });
});
