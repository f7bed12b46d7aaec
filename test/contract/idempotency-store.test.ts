import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { MemoryIdempotencyStore } from '../../src/platform/http/idempotency.memory.js';
import { RedisIdempotencyStore } from '../../src/platform/http/idempotency.redis.js';
import type { IdempotencyStore } from '../../src/platform/http/idempotency.store.js';
import { isolatedRedis } from '../support/redis.js';

/** One contract, both adapters (docs/architecture.md §2). */
const redis = isolatedRedis();
afterAll(() => redis.cleanup());

const adapters: [string, () => { store: IdempotencyStore; expire: (ms: number) => Promise<void> }][] = [
  [
    'memory',
    () => {
      const clock = new ManualClock();
      return { store: new MemoryIdempotencyStore(clock), expire: async (ms) => clock.advance(ms) };
    },
  ],
  ['redis', () => ({ store: new RedisIdempotencyStore(redis.redis), expire: (ms) => new Promise((r) => setTimeout(r, ms)) })],
];

const response = { status: 201, contentType: 'application/json; charset=utf-8', body: '{"ok":true}' };
let n = 0;
const freshKey = () => `user-1:key-${++n}-${Math.random()}`;

describe.each(adapters)('IdempotencyStore contract (%s)', (_name, make) => {
  it('starts a new key once, and reports it in flight to everyone else', async () => {
    const { store } = make();
    const key = freshKey();
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => store.begin(key, 'fp', `owner-${i}`, 5000)));
    expect(results.filter((r) => r.kind === 'started')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'in-flight')).toHaveLength(24);
  });

  it('returns the completed response with its fingerprint', async () => {
    const { store } = make();
    const key = freshKey();
    await store.begin(key, 'fp-1', 'me', 5000);
    await store.complete(key, 'me', 'fp-1', response, 60_000);
    expect(await store.begin(key, 'fp-2', 'someone', 5000)).toEqual({ kind: 'completed', fingerprint: 'fp-1', response });
  });

  it('lets only the owner complete or abandon', async () => {
    const { store } = make();
    const key = freshKey();
    await store.begin(key, 'fp', 'me', 5000);
    await store.complete(key, 'intruder', 'fp', response, 60_000);
    await store.abandon(key, 'intruder');
    expect((await store.begin(key, 'fp', 'x', 5000)).kind).toBe('in-flight');
    await store.abandon(key, 'me');
    expect((await store.begin(key, 'fp', 'x', 5000)).kind).toBe('started');
  });

  it('frees an in-flight key whose owner died once the lock expires', async () => {
    const { store, expire } = make();
    const key = freshKey();
    await store.begin(key, 'fp', 'dead', 50);
    await expire(120);
    expect((await store.begin(key, 'fp', 'next', 5000)).kind).toBe('started');
  });

  it('forgets a completed response after its TTL', async () => {
    const { store, expire } = make();
    const key = freshKey();
    await store.begin(key, 'fp', 'me', 5000);
    await store.complete(key, 'me', 'fp', response, 50);
    await expire(120);
    expect((await store.begin(key, 'fp', 'next', 5000)).kind).toBe('started');
  });
});
