import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { MemoryLeaseStore } from '../../src/platform/jobs/lease.memory.js';
import { RedisLeaseStore } from '../../src/platform/jobs/lease.redis.js';
import type { LeaseStore } from '../../src/platform/jobs/lease.store.js';
import { isolatedRedis } from '../support/redis.js';

const redis = isolatedRedis();
afterAll(() => redis.cleanup());

const adapters: [string, () => { leases: LeaseStore; expire: (ms: number) => Promise<void> }][] = [
  [
    'memory',
    () => {
      const clock = new ManualClock();
      return { leases: new MemoryLeaseStore(clock), expire: async (ms) => clock.advance(ms) };
    },
  ],
  ['redis', () => ({ leases: new RedisLeaseStore(redis.redis), expire: (ms) => new Promise((r) => setTimeout(r, ms)) })],
];

let n = 0;
const freshName = () => `job-${++n}-${Math.random()}`;

describe.each(adapters)('LeaseStore contract (%s)', (_name, make) => {
  it('gives a lease to exactly one of many concurrent contenders', async () => {
    const { leases } = make();
    const name = freshName();
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => leases.acquire(name, `w${i}`, 5000)));
    expect(tokens.filter((t) => t !== null)).toHaveLength(1);
  });

  it('keeps the fencing token while the holder re-acquires, and raises it for the next holder', async () => {
    const { leases, expire } = make();
    const name = freshName();
    const first = await leases.acquire(name, 'a', 50);
    expect(await leases.acquire(name, 'a', 50)).toBe(first);
    expect(await leases.acquire(name, 'b', 50)).toBeNull();
    await expire(120);
    const second = await leases.acquire(name, 'b', 5000);
    expect(second).not.toBeNull();
    expect(second!).toBeGreaterThan(first!);
  });

  it("extends the holder's lease on re-acquire, so it does not lapse between runs", async () => {
    const { leases, expire } = make();
    const name = freshName();
    const token = await leases.acquire(name, 'a', 100);
    await expire(60);
    expect(await leases.acquire(name, 'a', 100)).toBe(token);
    await expire(60); // 120 ms after the first take: alive only because it was extended
    expect(await leases.acquire(name, 'b', 100)).toBeNull();
  });

  it('hands the lease over on release, and ignores a release by another', async () => {
    const { leases } = make();
    const name = freshName();
    await leases.acquire(name, 'a', 5000);
    await leases.release(name, 'b');
    expect(await leases.acquire(name, 'b', 5000)).toBeNull();
    await leases.release(name, 'a');
    expect(await leases.acquire(name, 'b', 5000)).not.toBeNull();
  });
});
