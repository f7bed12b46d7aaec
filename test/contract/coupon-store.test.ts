import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryCouponStore } from '../../src/modules/coupons/coupon-claims.memory.js';
import { RedisCouponStore } from '../../src/modules/coupons/coupon-claims.redis.js';
import type { CampaignRules, CouponClaimStore, CouponEventLog } from '../../src/modules/coupons/coupon-claims.store.js';
import { ManualClock } from '../../src/platform/clock.js';
import { newId } from '../../src/platform/ids.js';
import { isolatedRedis } from '../support/redis.js';

const redis = isolatedRedis();
afterAll(() => redis.cleanup());

type Store = CouponClaimStore & CouponEventLog;
const adapters: [string, () => { store: Store; idle: (ms: number) => Promise<void> }][] = [
  [
    'memory',
    () => {
      const clock = new ManualClock();
      return { store: new MemoryCouponStore(clock), idle: async (ms) => clock.advance(ms) };
    },
  ],
  ['redis', () => ({ store: new RedisCouponStore(redis.redis), idle: (ms) => new Promise((r) => setTimeout(r, ms)) })],
];

const NOW = 1_000_000;
const rules = (over: Partial<CampaignRules> = {}): CampaignRules => ({
  campaignId: randomUUID(),
  quantity: 3,
  perUserLimit: 1,
  claimOpensAt: NOW,
  claimClosesAt: NOW + 60_000,
  ...over,
});
const ev = () => ({ eventId: newId(), occurredAt: new Date(NOW).toISOString() });

describe.each(adapters)('coupon claim store and event log contract (%s)', (_name, make) => {
  it('answers NOT_LOADED for a campaign it does not know', async () => {
    expect(await make().store.claim(randomUUID(), 'u', NOW, ev())).toEqual({ answer: 'NOT_LOADED' });
  });

  it('issues up to the quantity, once per user, inside the window', async () => {
    const { store } = make();
    const r = rules();
    await store.load(r, new Map());
    expect(await store.claim(r.campaignId, 'a', NOW - 1, ev())).toEqual({ answer: 'CLAIM_NOT_OPEN' });
    expect(await store.claim(r.campaignId, 'a', NOW, ev())).toEqual({ answer: 'ISSUED', seq: 1, remaining: 2 });
    expect(await store.claim(r.campaignId, 'a', NOW, ev())).toEqual({ answer: 'ALREADY_CLAIMED' });
    await store.claim(r.campaignId, 'b', NOW, ev());
    await store.claim(r.campaignId, 'c', NOW, ev());
    expect(await store.claim(r.campaignId, 'd', NOW, ev())).toEqual({ answer: 'SOLD_OUT' });
    expect(await store.claim(r.campaignId, 'e', NOW + 60_000, ev())).toEqual({ answer: 'CLAIM_NOT_OPEN' });
    expect(await store.remaining(r.campaignId)).toBe(0);
  });

  it("numbers a user's coupons up to the per-user limit", async () => {
    const { store } = make();
    const r = rules({ perUserLimit: 2, quantity: 10 });
    await store.load(r, new Map());
    expect(await store.claim(r.campaignId, 'a', NOW, ev())).toMatchObject({ seq: 1 });
    expect(await store.claim(r.campaignId, 'a', NOW, ev())).toMatchObject({ seq: 2 });
    expect(await store.claim(r.campaignId, 'a', NOW, ev())).toEqual({ answer: 'ALREADY_CLAIMED' });
  });

  it('rebuilds from what was issued, and never overwrites a live campaign', async () => {
    const { store } = make();
    const r = rules({ quantity: 5, perUserLimit: 2 });
    await store.load(
      r,
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
    expect(await store.remaining(r.campaignId)).toBe(2);
    expect(await store.claim(r.campaignId, 'a', NOW, ev())).toEqual({ answer: 'ALREADY_CLAIMED' });
    expect(await store.claim(r.campaignId, 'b', NOW, ev())).toMatchObject({ answer: 'ISSUED', seq: 2 });
    await store.load(r, new Map()); // a second load (another process) changes nothing
    expect(await store.remaining(r.campaignId)).toBe(1);
  });

  it('issues exactly the quantity under concurrent claims, with one event per issue', async () => {
    const { store } = make();
    const r = rules({ quantity: 20 });
    await store.load(r, new Map());
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => store.claim(r.campaignId, `u${i % 60}`, NOW, ev())));
    expect(results.filter((x) => x.answer === 'ISSUED')).toHaveLength(20);
    const events = [];
    for (let batch = await store.read('c1', 50); batch.length; batch = await store.read('c1', 50)) {
      events.push(...batch.filter((e) => e.campaignId === r.campaignId));
      await store.ack(batch);
    }
    expect(events).toHaveLength(20);
    expect(new Set(events.map((e) => e.userId)).size).toBe(20);
  });

  it('hands unacknowledged events of a dead consumer to another, counting deliveries', async () => {
    const { store, idle } = make();
    const r = rules({ quantity: 2 });
    await store.load(r, new Map());
    await store.claim(r.campaignId, 'a', NOW, ev());
    await store.claim(r.campaignId, 'b', NOW, ev());
    const taken = (await store.read('dead', 10)).filter((e) => e.campaignId === r.campaignId);
    expect(taken).toHaveLength(2);
    expect(await store.claimStale('alive', 200, 10)).toEqual([]);
    await idle(250);
    const stale = (await store.claimStale('alive', 200, 10)).filter((e) => e.campaignId === r.campaignId);
    expect(stale.map((e) => [e.userId, e.deliveries]).sort()).toEqual([
      ['a', 2],
      ['b', 2],
    ]);
    await store.ack(stale.slice(0, 1));
    await store.deadLetter(stale[1]!, 'poison');
    await idle(250);
    expect((await store.claimStale('alive', 200, 10)).filter((e) => e.campaignId === r.campaignId)).toEqual([]);
    expect(await store.deadLetters()).toContainEqual({ eventId: stale[1]!.eventId, reason: 'poison' });
  });

  it('says what it holds: nothing, a live state of an epoch with its stock, or a frozen one', async () => {
    const { store } = make();
    const r = rules({ epoch: 3 });
    expect(await store.status(r.campaignId)).toEqual({ state: 'MISSING' });
    await store.load(r, new Map([['a', 1]]));
    expect(await store.status(r.campaignId)).toEqual({ state: 'LIVE', epoch: 3, remaining: 2 });
    const lost = randomUUID();
    await store.freeze(lost, 2);
    expect(await store.status(lost)).toEqual({ state: 'FROZEN', epoch: 2 });
  });

  it('refuses every claim of a frozen campaign, and offers no stock, until a newer epoch is loaded', async () => {
    const { store } = make();
    const r = rules({ quantity: 5 });
    await store.freeze(r.campaignId, 1);
    expect(await store.claim(r.campaignId, 'a', NOW, ev())).toEqual({ answer: 'FROZEN' });
    expect(await store.remaining(r.campaignId)).toBe(0);
    await store.load({ ...r, epoch: 1 }, new Map()); // the lost epoch itself does not lift it...
    expect(await store.status(r.campaignId)).toMatchObject({ state: 'LIVE', epoch: 1 });
    await store.freeze(r.campaignId, 1); // ...but a freeze never touches a live state
    expect(await store.claim(r.campaignId, 'a', NOW, ev())).toMatchObject({ answer: 'ISSUED' });
  });

  it('replaces a frozen or older state on a newer load, never a newer one on an older freeze', async () => {
    const { store } = make();
    const r = rules({ quantity: 5, perUserLimit: 1 });
    await store.load({ ...r, epoch: 1 }, new Map());
    await store.claim(r.campaignId, 'a', NOW, ev());
    // A newer epoch (a reconcile) rebuilds from what it is given, whatever was there.
    await store.load({ ...r, epoch: 2 }, new Map([['b', 1]]));
    expect(await store.status(r.campaignId)).toEqual({ state: 'LIVE', epoch: 2, remaining: 4 });
    expect(await store.claim(r.campaignId, 'a', NOW, ev())).toMatchObject({ answer: 'ISSUED' });
    expect(await store.claim(r.campaignId, 'b', NOW, ev())).toEqual({ answer: 'ALREADY_CLAIMED' });
    await store.load({ ...r, epoch: 1 }, new Map()); // a late loader of an older epoch changes nothing
    expect(await store.status(r.campaignId)).toEqual({ state: 'LIVE', epoch: 2, remaining: 3 });

    const lost = randomUUID();
    await store.freeze(lost, 4);
    await store.freeze(lost, 3); // a late detector of an older loss changes nothing
    expect(await store.status(lost)).toEqual({ state: 'FROZEN', epoch: 4 });
    await store.load({ ...rules({ campaignId: lost }), epoch: 5 }, new Map());
    expect(await store.status(lost)).toEqual({ state: 'LIVE', epoch: 5, remaining: 3 });
  });

  it("counts a campaign's events not acknowledged yet, delivered or not", async () => {
    const { store } = make();
    const r = rules({ quantity: 5 });
    await store.load(r, new Map());
    expect(await store.unconsumed(r.campaignId)).toBe(0);
    for (const u of ['a', 'b', 'c']) await store.claim(r.campaignId, u, NOW, ev());
    expect(await store.unconsumed(r.campaignId)).toBe(3);
    const mine = [];
    for (let batch = await store.read('c1', 100); batch.length; batch = await store.read('c1', 100))
      mine.push(...batch.filter((e) => e.campaignId === r.campaignId));
    expect(await store.unconsumed(r.campaignId)).toBe(3); // delivered, not persisted
    await store.ack(mine.slice(0, 2));
    expect(await store.unconsumed(r.campaignId)).toBe(1);
    await store.ack(mine.slice(2));
    expect(await store.unconsumed(r.campaignId)).toBe(0);
    expect(await store.unconsumed(randomUUID())).toBe(0);
  });

  it('at hand-over, either outlives the process (null) or stops issuing and names what it held', async () => {
    const { store } = make();
    const r = rules({ epoch: 2 });
    await store.load(r, new Map());
    const held = await store.handOver();
    if (held === null) {
      expect(await store.claim(r.campaignId, 'a', NOW, ev())).toMatchObject({ answer: 'ISSUED' });
    } else {
      expect(held).toContainEqual({ campaignId: r.campaignId, epoch: 2 });
      expect(await store.claim(r.campaignId, 'a', NOW, ev())).toEqual({ answer: 'FROZEN' });
    }
  });
});

// Redis only, where there are replicas to wait for (the `cluster` project: one per master).
describe.runIf(process.env.MOS_TEST_REDIS === 'cluster')('RedisCouponStore waiting for replicas (WAIT)', () => {
  it('answers ISSUED once the replica has the claim, and hands the consumer only replicated events', async () => {
    const store = new RedisCouponStore(redis.redis, { replicas: 1, timeoutMs: 1000 });
    const r = rules();
    await store.load(r, new Map());
    expect(await store.claim(r.campaignId, 'a', NOW, ev())).toMatchObject({ answer: 'ISSUED' });
    expect((await store.read('c1', 10)).map((e) => e.userId)).toContain('a');
  });

  it('refuses a claim while its replicas are not in step, taking nothing, and keeps unreplicated events from the consumer', async () => {
    // Two replicas asked of a master that has one: the wait falls short.
    const short = new RedisCouponStore(redis.redis, { replicas: 2, timeoutMs: 50 });
    const sure = new RedisCouponStore(redis.redis, { replicas: 1, timeoutMs: 1000 });
    const r = rules({ quantity: 1 });
    await short.load(r, new Map());
    expect(await short.claim(r.campaignId, 'a', NOW, ev())).toEqual({ answer: 'UNREPLICATED' });
    // Nothing was taken: the one coupon is still there.
    expect(await sure.claim(r.campaignId, 'a', NOW, ev())).toMatchObject({ answer: 'ISSUED', remaining: 0 });
    // A consumer that cannot see its events on enough replicas leaves them pending…
    const mine = <E extends { campaignId: string }>(events: E[]) => events.filter((e) => e.campaignId === r.campaignId);
    expect(mine(await short.read('c1', 100))).toEqual([]);
    expect(await short.unconsumed(r.campaignId)).toBe(1);
    // …and once the replicas can be met, a stale take-over hands them on.
    expect(mine(await sure.claimStale('c2', 0, 100)).map((e) => e.userId)).toEqual(['a']);
  });
});
