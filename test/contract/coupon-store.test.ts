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

  it('numbers a user\'s coupons up to the per-user limit', async () => {
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
    await store.load(r, new Map([['a', 2], ['b', 1]]));
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
    expect(stale.map((e) => [e.userId, e.deliveries]).sort()).toEqual([['a', 2], ['b', 2]]);
    await store.ack(stale.slice(0, 1));
    await store.deadLetter(stale[1]!, 'poison');
    await idle(250);
    expect((await store.claimStale('alive', 200, 10)).filter((e) => e.campaignId === r.campaignId)).toEqual([]);
    expect(await store.deadLetters()).toContainEqual({ eventId: stale[1]!.eventId, reason: 'poison' });
  });
});
