import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { givenAdmin, mintBuyer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/harness.js';

/** Invariant 2 under load, in both modes (memory store + in-process log; Redis Lua + streams). */
describe('first-come claims race', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_MAX: '1000000' } });
  });
  afterAll(() => t.cleanup());

  it('2,000 concurrent claims from 1,500 buyers on a campaign of 300: exactly 300 issued, one per buyer, 300 wallet rows', async () => {
    const admin = await givenAdmin(t.app, t.ctx);
    const now = Date.now();
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/coupons',
      headers: admin.auth,
      payload: {
        name: 'Opening day',
        kind: 'FIXED',
        params: { amount: 5000 },
        appliesTo: 'ORDER',
        quantity: 300,
        perUserLimit: 1,
        claimOpensAt: new Date(now - 1000).toISOString(),
        validUntil: new Date(now + 86_400_000).toISOString(),
      },
    });
    expect(created.statusCode).toBe(201);
    const campaign = created.json();

    const buyers = await Promise.all(Array.from({ length: 1500 }, () => mintBuyer()));
    // Every buyer claims once; 500 of them twice, all at the same time.
    const claimers = [...buyers, ...buyers.slice(0, 500)];
    const responses = await Promise.all(claimers.map((b) => t.app.inject({ method: 'POST', url: `/v1/coupons/${campaign.id}/claims`, headers: b.auth })));

    const byCode = new Map<string, number>();
    const issuedTo = new Map<string, number>();
    responses.forEach((res, i) => {
      const code = res.statusCode === 201 ? 'ISSUED' : res.json().code;
      byCode.set(code, (byCode.get(code) ?? 0) + 1);
      if (code === 'ISSUED') issuedTo.set(claimers[i]!.id, (issuedTo.get(claimers[i]!.id) ?? 0) + 1);
    });
    expect(byCode.get('ISSUED')).toBe(300);
    expect([...byCode.keys()].every((c) => ['ISSUED', 'SOLD_OUT', 'ALREADY_CLAIMED'].includes(c))).toBe(true);
    expect(Math.max(...issuedTo.values())).toBe(1);
    expect((await t.app.inject({ method: 'GET', url: `/v1/coupons/${campaign.id}` })).json().remaining).toBe(0);

    while ((await t.ctx.coupons.consumer.drainOnce()) > 0);
    // Re-delivering everything would change nothing: the insert is idempotent.
    const wallets = await Promise.all(
      [...issuedTo.keys()].map(async (userId) => {
        const b = claimers.find((c) => c.id === userId)!;
        return (await t.app.inject({ method: 'GET', url: '/v1/me/coupons', headers: b.auth })).json().items as { campaignId: string; status: string }[];
      }),
    );
    expect(wallets.map((w) => w.filter((c) => c.campaignId === campaign.id).length)).toEqual(new Array(300).fill(1));
    const losers = buyers.filter((b) => !issuedTo.has(b.id)).slice(0, 20);
    for (const b of losers) expect((await t.app.inject({ method: 'GET', url: '/v1/me/coupons', headers: b.auth })).json().items).toEqual([]);
  });
});
