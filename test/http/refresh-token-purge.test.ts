import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { queryRows } from '../../src/platform/db/client.js';
import { givenBuyer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/harness.js';

describe('refresh-token purge job', () => {
  let t: TestApp;
  const clock = new ManualClock('2026-11-28T00:00:00Z');
  beforeAll(async () => {
    t = await createTestApp({ context: { clock } });
  });
  afterAll(() => t.cleanup());

  const count = async (table: 'refresh_tokens' | 'refresh_token_families') =>
    Number((await queryRows<{ n: number }>(t.ctx.database.db, sql`select count(*)::int as n from ${sql.identifier(table)}`))[0]!.n);

  it('deletes expired tokens and their emptied families, keeping live sessions', async () => {
    const old = await givenBuyer(t.app);
    clock.advance((t.config.auth.refreshTokenTtlSeconds - 60) * 1000);
    const fresh = await givenBuyer(t.app);
    clock.advance(120_000); // the first session is now past its expiry; the second is not
    const job = t.ctx.jobs.find((j) => j.name === 'identity.purge-refresh-tokens')!;
    await job.run(1);
    expect(await count('refresh_tokens')).toBe(1);
    expect(await count('refresh_token_families')).toBe(1);
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: fresh.refreshToken } });
    expect(res.statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: old.refreshToken } })).statusCode).toBe(401);
  });
});
