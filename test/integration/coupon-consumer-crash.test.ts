import type { ChildProcess } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { couponStore } from '../../src/modules/coupons/testing.js';
import { queryRows } from '../../src/platform/db/client.js';
import { mintBuyer } from '../support/builders.js';
import { createTestEnv, type TestEnv } from '../support/harness.js';
import { exited, killLeftovers, startMos } from '../support/processes.js';

/**
 * Invariant 2 across a crash: a consumer that read events and died before acknowledging them,
 * and a worker killed mid-drain, lose nothing and duplicate nothing — the survivors take the
 * stale events over and the wallet ends with exactly the issued coupons.
 */
const worker = (env: Record<string, string>): ChildProcess => startMos(['worker'], env).child;

describe('wallet consumer across crashes', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv('production');
  });
  afterAll(async () => {
    await killLeftovers();
    await env.cleanup();
  });

  const walletRows = async (campaignId: string) =>
    (
      await queryRows<{ n: number; users: number; maxPerUser: number }>(
        env.ctx.database.db,
        sql`select count(*)::int as n, count(distinct user_id)::int as users, coalesce(max(seq), 0)::int as "maxPerUser" from coupons where campaign_id = ${campaignId}`,
      )
    )[0]!;

  it('persists exactly the 300 issued coupons after a dead consumer and a killed worker', async () => {
    const { ctx } = env;
    const admin = { id: '01900000-0000-7000-8000-0000000000ad', role: 'ADMIN' as const };
    const now = Date.now();
    const campaign = await ctx.coupons.service.createCampaign(admin, {
      name: 'Crash test',
      kind: 'PERCENT',
      params: { percent: 10 },
      appliesTo: 'ORDER',
      quantity: 300,
      claimOpensAt: new Date(now - 1000).toISOString(),
      validUntil: new Date(now + 86_400_000).toISOString(),
    });
    const buyers = await Promise.all(Array.from({ length: 1500 }, () => mintBuyer()));
    const answers = await Promise.allSettled([...buyers, ...buyers.slice(0, 500)].map((b) => ctx.coupons.service.claim(b.id, campaign.id)));
    expect(answers.filter((a) => a.status === 'fulfilled')).toHaveLength(300);

    // A consumer takes 120 events and dies before acknowledging any.
    const stranded = await couponStore(ctx.coupons).read('consumer-that-died', 120);
    expect(stranded).toHaveLength(120);

    const workerEnv = {
      DATABASE_URL: env.config.db.url!,
      REDIS_URL: env.config.redis.url!,
      REDIS_KEY_PREFIX: env.redisPrefix,
      JWT_SECRET: env.config.auth.jwtSecret!,
      LOG_LEVEL: 'warn',
      COUPON_CONSUMER_BATCH: '5',
      COUPON_CONSUMER_STALE_MS: '1000',
    };
    // A worker starts draining and is killed mid-way.
    const first = worker(workerEnv);
    const started = Date.now();
    while ((await walletRows(campaign.id)).n === 0 && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 10));
    first.kill('SIGKILL');
    await exited(first);
    const afterKill = (await walletRows(campaign.id)).n;
    expect(afterKill).toBeGreaterThan(0);
    expect(afterKill).toBeLessThanOrEqual(180); // the 120 stranded events cannot have been taken yet

    // Another worker finishes: the new events, those the killed worker left pending, and the
    // stranded ones (after they have been idle for COUPON_CONSUMER_STALE_MS).
    worker(workerEnv);
    const deadline = Date.now() + 30_000;
    while ((await walletRows(campaign.id)).n < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500)); // and nothing more arrives later
    expect(await walletRows(campaign.id)).toEqual({ n: 300, users: 300, maxPerUser: 1 });
    expect(await couponStore(ctx.coupons).deadLetters()).toEqual([]);
  }, 90_000);
});
