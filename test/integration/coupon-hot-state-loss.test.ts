import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/platform/db/client.js';
import { deleteByPrefix } from '../../src/platform/redis/client.js';
import { givenAdmin, givenBuyer, mintBuyer, type GivenUser } from '../support/builders.js';
import { createTestApp, TEST_REDIS_URL, type TestApp } from '../support/harness.js';

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

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });
    t = await createTestApp({ mode: 'production', env: { RATE_LIMIT_MAX: '1000000' }, context: { logger: pino({ level: 'info' }, sink) } });
    admin = await givenAdmin(t.app, t.ctx);
  });
  afterAll(() => t.cleanup());

  const createCampaign = async (quantity: number) => {
    const now = Date.now();
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/coupons',
      headers: admin.auth,
      payload: {
        name: 'Loss test',
        kind: 'FIXED',
        params: { amount: 1000 },
        appliesTo: 'ORDER',
        quantity,
        claimOpensAt: new Date(now - 1000).toISOString(),
        validUntil: new Date(now + 86_400_000).toISOString(),
      },
    });
    expect(res.statusCode).toBe(201);
    return res.json<{ id: string }>().id;
  };
  const claim = (b: { auth: object }, id: string) => t.app.inject({ method: 'POST', url: `/v1/coupons/${id}/claims`, headers: b.auth as Record<string, string> });
  const claimAll = (buyers: { auth: object }[], id: string) => Promise.all(buyers.map((b) => claim(b, id)));
  const codes = (responses: { statusCode: number; json: () => { code?: string } }[]): string[] => responses.map((r) => (r.statusCode === 201 ? 'ISSUED' : (r.json().code ?? String(r.statusCode))));
  const count = (xs: string[], x: string) => xs.filter((y) => y === x).length;
  const wipeRedis = () => deleteByPrefix(TEST_REDIS_URL, t.redisPrefix);
  const drain = async () => {
    while ((await t.ctx.coupons.consumer.drainOnce()) > 0);
  };
  const walletRows = async (id: string) =>
    (await queryRows<{ n: number; users: number }>(t.ctx.database.db, sql`select count(*)::int as n, count(distinct user_id)::int as users from coupons where campaign_id = ${id}`))[0]!;
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
});
