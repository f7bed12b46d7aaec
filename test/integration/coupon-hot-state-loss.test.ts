import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AppContext } from '../../src/context.js';
import { queryRows } from '../../src/platform/db/client.js';
import { deleteByPrefix } from '../../src/platform/redis/client.js';
import { campaignBody, givenAdmin, givenBuyer, mintBuyer, type GivenUser } from '../support/builders.js';
import { createTestApp, createTestEnv, TEST_REDIS_URL, type TestApp } from '../support/harness.js';
import { runMos } from '../support/processes.js';

/**
 * Invariant 2 across a loss of Redis (issue 10, item 7): buyers told ISSUED whose events the
 * wallet consumer had not persisted yet must not see their coupons offered to others when the
 * hot state is gone. The loss is this file's own Redis key prefix wiped (never FLUSHALL: the
 * Redis is shared). No consumer runs unless a test drains it.
 */
describe('coupon hot state lost in Redis (production mode)', () => {
  let t: TestApp;
  let admin: GivenUser;
  const logs: { level: number; msg: string; campaignId?: string }[] = [];

  /** What the operator's chat was told (ALERT_WEBHOOK_URL points at this receiver). */
  const chat: string[] = [];
  let receiver: Server;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        chat.push((JSON.parse(body) as { text: string }).text);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const alertUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });
    t = await createTestApp({
      mode: 'production',
      env: { RATE_LIMIT_MAX: '1000000', ALERT_WEBHOOK_URL: alertUrl },
      context: { logger: pino({ level: 'info' }, sink) },
    });
    admin = await givenAdmin(t.app, t.ctx);
  });
  afterAll(async () => {
    await t.cleanup();
    await new Promise((r) => receiver.close(r));
  });

  const createCampaign = async (quantity: number) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/coupons',
      headers: admin.auth,
      payload: campaignBody(new Date(), { name: 'Loss test', quantity }),
    });
    expect(res.statusCode).toBe(201);
    return res.json<{ id: string }>().id;
  };
  const claim = (b: { auth: object }, id: string) =>
    t.app.inject({ method: 'POST', url: `/v1/coupons/${id}/claims`, headers: b.auth as Record<string, string> });
  const claimAll = (buyers: { auth: object }[], id: string) => Promise.all(buyers.map((b) => claim(b, id)));
  const codes = (responses: { statusCode: number; json: () => { code?: string } }[]): string[] =>
    responses.map((r) => (r.statusCode === 201 ? 'ISSUED' : (r.json().code ?? String(r.statusCode))));
  const count = (xs: string[], x: string) => xs.filter((y) => y === x).length;
  const wipeRedis = () => deleteByPrefix(TEST_REDIS_URL, t.redisPrefix);
  const drain = async () => {
    while ((await t.ctx.coupons.consumer.drainOnce()) > 0);
  };
  const walletRows = async (id: string) =>
    (
      await queryRows<{ n: number; users: number }>(
        t.ctx.database.db,
        sql`select count(*)::int as n, count(distinct user_id)::int as users from coupons where campaign_id = ${id}`,
      )
    )[0]!;
  const metric = async (name: string) => {
    const body = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    return body
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  };
  const reconcile = (id: string, who: { auth: object } = admin) =>
    t.app.inject({ method: 'POST', url: `/v1/admin/coupons/${id}/reconcile`, headers: who.auth as Record<string, string> });

  it('refuses claims once a campaign with unpersisted issues lost its hot state, alerts, and resumes after reconciliation within the quantity', async () => {
    const id = await createCampaign(50);
    const told = await Promise.all(Array.from({ length: 30 }, () => mintBuyer()));
    expect(count(codes(await claimAll(told, id)), 'ISSUED')).toBe(30);
    const lostBefore = await metric('mos_coupon_hot_state_lost_total');

    await wipeRedis(); // the worker never ran: the 30 issue events existed only in Redis

    // Nobody is offered stock the lost state may have promised: not newcomers, and not the 30
    // (their ALREADY_CLAIMED record is gone too); concurrent claims find one loss, not many.
    const newcomers = await Promise.all(Array.from({ length: 20 }, () => mintBuyer()));
    const refused = await claimAll([...newcomers, ...told.slice(0, 10)], id);
    expect(codes(refused)).toEqual(new Array(30).fill('SERVICE_UNAVAILABLE'));
    expect(refused.every((r) => r.statusCode === 503 && Number(r.headers['retry-after']) > 0)).toBe(true);
    expect((await t.app.inject({ method: 'GET', url: `/v1/coupons/${id}` })).json().remaining).toBe(0);

    // The alert: one counted loss, and an error line naming the campaign.
    expect((await metric('mos_coupon_hot_state_lost_total')) - lostBefore).toBe(1);
    expect(logs.filter((l) => l.level >= 50 && l.campaignId === id && /lost/.test(l.msg))).toHaveLength(1);
    expect(chat.filter((text) => text.includes(id))).toEqual([expect.stringMatching(/^\[MOS coupon-hot-state-lost\] .*mos coupons reconcile/)]);

    // A frozen state lost again is still frozen: PostgreSQL remembers the loss.
    await wipeRedis();
    expect(codes(await claimAll(newcomers.slice(0, 3), id))).toEqual(new Array(3).fill('SERVICE_UNAVAILABLE'));
    expect((await metric('mos_coupon_hot_state_lost_total')) - lostBefore).toBe(1);

    // Reconciliation is an operator's act.
    expect((await reconcile(id, await givenBuyer(t.app))).statusCode).toBe(403);
    const done = await reconcile(id);
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual({ campaignId: id, epoch: 2, issued: 0, remaining: 50 });
    expect(logs.some((l) => l.campaignId === id && /reconciled/.test(l.msg))).toBe(true);
    expect((await reconcile(id)).json().code).toBe('NOT_RECONCILABLE'); // live again: nothing to do

    // Claims work again, and never past the quantity.
    const after = codes(await claimAll([...newcomers, ...told, ...(await Promise.all(Array.from({ length: 30 }, () => mintBuyer())))], id));
    expect(count(after, 'ISSUED')).toBe(50);
    expect(after.every((c) => c === 'ISSUED' || c === 'SOLD_OUT')).toBe(true);
    await drain();
    expect(await walletRows(id)).toEqual({ n: 50, users: 50 });
  });

  it('does not flag the first load of a fresh campaign as a loss', async () => {
    const lostBefore = await metric('mos_coupon_hot_state_lost_total');
    const id = await createCampaign(10);
    const answers = codes(await claimAll(await Promise.all(Array.from({ length: 15 }, () => mintBuyer())), id));
    expect(count(answers, 'ISSUED')).toBe(10);
    expect(count(answers, 'SOLD_OUT')).toBe(5);
    expect(await metric('mos_coupon_hot_state_lost_total')).toBe(lostBefore);
  });

  it('freezes a campaign whose events were all persisted before the loss but that was not sold out, and reconciles it exactly', async () => {
    // Every event was in the wallet at the loss, but nothing says no claim came after the last
    // one the consumer saw: not provably safe, so the same freeze.
    const id = await createCampaign(20);
    const first = await Promise.all(Array.from({ length: 8 }, () => mintBuyer()));
    expect(count(codes(await claimAll(first, id)), 'ISSUED')).toBe(8);
    await drain();
    expect((await walletRows(id)).n).toBe(8);
    const lostBefore = await metric('mos_coupon_hot_state_lost_total');

    await wipeRedis();
    expect(codes(await claimAll(first.slice(0, 2), id))).toEqual(['SERVICE_UNAVAILABLE', 'SERVICE_UNAVAILABLE']);
    expect((await metric('mos_coupon_hot_state_lost_total')) - lostBefore).toBe(1);

    expect((await reconcile(id)).json()).toMatchObject({ issued: 8, remaining: 12 });
    expect(codes(await claimAll(first.slice(0, 2), id))).toEqual(['ALREADY_CLAIMED', 'ALREADY_CLAIMED']);
    const more = codes(await claimAll(await Promise.all(Array.from({ length: 20 }, () => mintBuyer())), id));
    expect(count(more, 'ISSUED')).toBe(12);
    await drain();
    expect(await walletRows(id)).toEqual({ n: 20, users: 20 });
  });

  it('rebuilds a sold-out campaign whose coupons were all persisted without freezing it', async () => {
    // Every coupon of the quantity is in the wallet: the lost state cannot have issued one more.
    const id = await createCampaign(5);
    const holders = await Promise.all(Array.from({ length: 5 }, () => mintBuyer()));
    expect(count(codes(await claimAll(holders, id)), 'ISSUED')).toBe(5);
    await drain();
    const lostBefore = await metric('mos_coupon_hot_state_lost_total');
    const rebuiltBefore = await metric('mos_coupon_hot_state_rebuilt_total{reason="sold-out"}');

    await wipeRedis();
    expect(codes(await claimAll([await mintBuyer(), holders[0]!], id))).toEqual(['SOLD_OUT', 'ALREADY_CLAIMED']);
    expect(await metric('mos_coupon_hot_state_lost_total')).toBe(lostBefore);
    expect((await metric('mos_coupon_hot_state_rebuilt_total{reason="sold-out"}')) - rebuiltBefore).toBe(1);
    expect(await walletRows(id)).toEqual({ n: 5, users: 5 });
  });

  it('keeps a sold-out campaign frozen when some of its coupons were not persisted yet', async () => {
    const id = await createCampaign(5);
    const holders = await Promise.all(Array.from({ length: 5 }, () => mintBuyer()));
    expect(count(codes(await claimAll(holders.slice(0, 3), id)), 'ISSUED')).toBe(3);
    await drain();
    expect(count(codes(await claimAll(holders.slice(3), id)), 'ISSUED')).toBe(2); // sold out; 2 events unpersisted
    await wipeRedis();
    expect(codes(await claimAll([await mintBuyer()], id))).toEqual(['SERVICE_UNAVAILABLE']);
  });

  it('waits for the events of a surviving stream before reconciling (a partial loss: the stock and buyers went, the stream stayed)', async () => {
    const id = await createCampaign(10);
    const told = await Promise.all(Array.from({ length: 4 }, () => mintBuyer()));
    expect(count(codes(await claimAll(told, id)), 'ISSUED')).toBe(4);
    const raw = new Redis(TEST_REDIS_URL);
    try {
      await raw.del(`${t.redisPrefix}cpn:{cpn_${id}}:meta`, `${t.redisPrefix}cpn:{cpn_${id}}:stock`, `${t.redisPrefix}cpn:{cpn_${id}}:users`);
    } finally {
      raw.disconnect();
    }
    expect(codes(await claimAll([await mintBuyer()], id))).toEqual(['SERVICE_UNAVAILABLE']);
    const early = await reconcile(id);
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ code: 'NOT_RECONCILABLE' });
    expect(Number(early.headers['retry-after'])).toBeGreaterThan(0);

    await drain(); // the worker persists what the stream still held
    expect((await reconcile(id)).json()).toMatchObject({ issued: 4, remaining: 6 });
    expect(codes(await claimAll(told, id))).toEqual(new Array(4).fill('ALREADY_CLAIMED'));
  });

  it('is reconciled by `mos coupons reconcile <campaignId>`', async () => {
    const id = await createCampaign(3);
    expect(codes(await claimAll([await mintBuyer()], id))).toEqual(['ISSUED']);
    await wipeRedis();
    expect(codes(await claimAll([await mintBuyer()], id))).toEqual(['SERVICE_UNAVAILABLE']);
    const env = {
      DATABASE_URL: t.config.db.url!,
      REDIS_URL: t.config.redis.url!,
      REDIS_KEY_PREFIX: t.redisPrefix,
      JWT_SECRET: t.config.auth.jwtSecret!,
      LOG_LEVEL: 'warn',
    };
    const run = await runMos(['coupons', 'reconcile', id], env);
    expect(run.output).toContain(`campaign ${id} reconciled: epoch 2, 0 coupons in wallets, 3 offered again`);
    expect(run.code).toBe(0);
    const again = await runMos(['coupons', 'reconcile', id], env);
    expect(again.output).toMatch(/reconcile refused \(NOT_RECONCILABLE\)/);
    expect(again.code).toBe(1);
    expect(codes(await claimAll([await mintBuyer()], id))).toEqual(['ISSUED']);
  }, 60_000);
});

/**
 * Embedded mode: the memory store cannot lose state apart from its process, but a restart on the
 * same data directory starts without it. A graceful stop persists the last events and seals the
 * campaign (the next start rebuilds it); a stop that could not hand over is a loss like Redis's.
 */
describe('coupon hot state across an embedded restart', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const admin = { id: '01900000-0000-7000-8000-0000000000ad', role: 'ADMIN' as const };

  async function campaignWithClaims(ctx: AppContext, quantity: number, buyers: string[]) {
    const c = await ctx.coupons.service.createCampaign(admin, campaignBody(new Date(), { name: 'Restart test', quantity }));
    for (const b of buyers) await ctx.coupons.service.claim(b, c.id); // no consumer runs: events wait in memory
    return c.id;
  }
  const answer = (p: Promise<void>) =>
    p.then(
      () => 'ISSUED',
      (err: { code?: string }) => err.code ?? 'ERROR',
    );
  const newBuyers = (n: number) => Promise.all(Array.from({ length: n }, async () => (await mintBuyer()).id));

  it('rebuilds a campaign after a graceful stop persisted and sealed it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mos-coupon-restart-'));
    dirs.push(dir);
    const told = await newBuyers(3);
    const first = await createTestEnv('embedded', { DATA_DIR: dir });
    const id = await campaignWithClaims(first.ctx, 5, told);
    await first.cleanup(); // ctx.close: the hand-over drains the 3 events and seals

    const second = await createTestEnv('embedded', { DATA_DIR: dir });
    try {
      const svc = second.ctx.coupons.service;
      expect((await svc.getCampaign(id)).remaining).toBe(2);
      expect(await answer(svc.claim(told[0]!, id))).toBe('ALREADY_CLAIMED');
      const answers = await Promise.all((await newBuyers(4)).map((b) => answer(svc.claim(b, id))));
      expect(answers.sort()).toEqual(['ISSUED', 'ISSUED', 'SOLD_OUT', 'SOLD_OUT']);
    } finally {
      await second.cleanup();
    }
  });

  it('freezes a campaign whose last events could not be persisted at the stop, until reconciled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mos-coupon-restart-'));
    dirs.push(dir);
    const told = await newBuyers(3);
    const first = await createTestEnv('embedded', { DATA_DIR: dir });
    const id = await campaignWithClaims(first.ctx, 5, told);
    vi.spyOn(first.ctx.coupons.service, 'handOver').mockResolvedValue(); // as if the process died
    await first.cleanup();

    const second = await createTestEnv('embedded', { DATA_DIR: dir });
    try {
      const svc = second.ctx.coupons.service;
      expect(await answer(svc.claim((await newBuyers(1))[0]!, id))).toBe('SERVICE_UNAVAILABLE');
      expect(await answer(svc.claim(told[0]!, id))).toBe('SERVICE_UNAVAILABLE');
      expect(await svc.reconcile(id)).toEqual({ campaignId: id, epoch: 2, issued: 0, remaining: 5 });
      expect(await answer(svc.claim(told[0]!, id))).toBe('ISSUED');
    } finally {
      await second.cleanup();
    }
  });
});
