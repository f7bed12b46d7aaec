import { afterAll, describe, expect, it } from 'vitest';
import { createSeatHoldStore } from '../../src/modules/booking/index.js';
import { Redis } from 'ioredis';
import { createRedis, deleteByPrefix, masters, whenReady } from '../../src/platform/redis/client.js';
import { isRedisUnavailable } from '../../src/platform/redis/errors.js';
import { key, tag } from '../../src/platform/redis/keys.js';
import { loadLua } from '../../src/platform/redis/scripts.js';
import { testRedis } from '../support/harness.js';
import { isolatedRedis } from '../support/redis.js';

/**
 * What the other suites of the `cluster` project rely on: the cluster refuses a step whose keys
 * span slots (so their passing proves no hot-state step does), the key prefix applies on a
 * cluster, scripts survive a node losing its script cache, and cleanup reaches every master.
 */
describe('the Redis Cluster client', () => {
  const r = isolatedRedis();
  afterAll(() => r.cleanup());

  it('runs on three masters, and refuses a script whose keys span two slots', async () => {
    await whenReady(r.redis);
    expect(masters(r.redis)).toHaveLength(3);
    const script = loadLua(r.redis, 'cross_slot_probe', new URL('./two-keys.lua', import.meta.url));
    await expect(script(['left', 'right'], [])).rejects.toThrow(/CROSSSLOT|same slot/);
    // The same two keys under one tag are one slot, and the step runs.
    await expect(script([key('x', tag('t', '1'), 'left'), key('x', tag('t', '1'), 'right')], [])).resolves.toBe(2);
  });

  it('prefixes every key, scripts included, and finds them on the master of their slot', async () => {
    const store = createSeatHoldStore(r.redis);
    await store.load('sch-1', ['sold'], [], 0);
    const probe = createRedis(testRedis(), '');
    try {
      const marker = `${r.prefix}hold:{hold_sch-1}:loaded`;
      expect(await probe.exists(marker)).toBe(1);
      expect(await probe.exists('hold:{hold_sch-1}:loaded')).toBe(0);
    } finally {
      probe.disconnect();
    }
  });

  it('runs scripts again after every master lost its script cache (EVAL, then EVALSHA)', async () => {
    const store = createSeatHoldStore(r.redis);
    await store.load('sch-2', [], [], 0);
    for (const node of masters(r.redis)) await node.script('FLUSH');
    expect(await store.hold('sch-2', 'u', ['s1'], 0, 1000, 4)).toMatchObject({ kind: 'held' });
  });

  it("takes a replica's refusal of WAIT (a slot map one failover behind) for Redis unavailable, so a claim answers 503", async () => {
    const target = testRedis();
    if (!('clusterNodes' in target)) throw new Error('the cluster project runs on a cluster');
    let refused: unknown;
    for (const node of target.clusterNodes) {
      const [host, port] = node.split(':');
      const direct = new Redis({ host, port: Number(port), lazyConnect: true });
      try {
        await direct.connect();
        if ((await direct.role())[0] !== 'slave') continue;
        refused = await direct.wait(1, 10).then(
          () => undefined,
          (err: unknown) => err,
        );
        break;
      } finally {
        direct.disconnect();
      }
    }
    expect(String(refused)).toMatch(/WAIT cannot be used with replica instances/);
    expect(isRedisUnavailable(refused)).toBe(true);
  });

  it('deletes a prefix on every master (SCAN sees one node only)', async () => {
    const own = isolatedRedis();
    for (let i = 0; i < 60; i++) await own.redis.set(`k${i}`, '1');
    await whenReady(own.redis);
    const perNode = await Promise.all(masters(own.redis).map((n) => n.keys(`${own.prefix}*`)));
    expect(perNode.filter((keys) => keys.length > 0).length).toBeGreaterThan(1);
    own.redis.disconnect();
    expect(await deleteByPrefix(testRedis(), own.prefix)).toBe(60);
  });
});
