import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisLeaseStore } from '../../src/platform/jobs/lease.redis.js';
import { JobRunner, type PeriodicJob } from '../../src/platform/jobs/runner.js';
import { isolatedRedis } from '../support/redis.js';

const redis = isolatedRedis();
afterAll(() => redis.cleanup());
const logger = pino({ level: 'silent' });

describe('JobRunner on Redis leases', () => {
  it('runs each tick of a job on exactly one of several workers', async () => {
    const leases = new RedisLeaseStore(redis.redis);
    const ranBy: string[] = [];
    const workers = ['w1', 'w2', 'w3'].map((name) => ({
      name,
      runner: new JobRunner({ leases, leaseMs: 5_000, logger }),
      job: { name: 'shared-job', intervalMs: 10, run: async () => void ranBy.push(name) } satisfies PeriodicJob,
    }));
    for (let tick = 0; tick < 5; tick++) {
      const ran = await Promise.all(workers.map((w) => w.runner.tick(w.job)));
      expect(ran.filter(Boolean)).toHaveLength(1);
    }
    // The leader keeps its lease from tick to tick.
    expect(new Set(ranBy).size).toBe(1);
    expect(ranBy).toHaveLength(5);
  });

  it('passes a fencing token that grows when leadership changes hands', async () => {
    const leases = new RedisLeaseStore(redis.redis);
    const fences: number[] = [];
    const job: PeriodicJob = { name: 'fenced', intervalMs: 10, run: async (fence) => void fences.push(fence) };
    const a = new JobRunner({ leases, leaseMs: 5_000, logger });
    const b = new JobRunner({ leases, leaseMs: 5_000, logger });
    await a.tick(job);
    await a.stop([job]); // hands the lease back
    await b.tick(job);
    expect(fences).toHaveLength(2);
    expect(fences[1]!).toBeGreaterThan(fences[0]!);
  });

  it('keeps scheduling after a failed run and stops cleanly', async () => {
    const leases = new RedisLeaseStore(redis.redis);
    let runs = 0;
    const errors: string[] = [];
    const job: PeriodicJob = {
      name: 'flaky',
      intervalMs: 5,
      run: async () => {
        runs += 1;
        if (runs === 1) throw new Error('first run fails');
      },
    };
    const runner = new JobRunner({ leases, leaseMs: 5_000, logger, onError: (name) => errors.push(name) });
    runner.start([job]);
    await expect.poll(() => runs, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    await runner.stop([job]);
    const after = runs;
    await new Promise((r) => setTimeout(r, 50));
    expect(runs).toBe(after);
    expect(errors).toEqual(['flaky']);
  });
});
