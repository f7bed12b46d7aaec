import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo.js';
import { createTestEnv, type TestEnv } from '../support/harness.js';

/** Item 8 of issue 10: no demo account has a password anyone else knows. */
describe('demo accounts', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const published = ['mos-admin-demo', 'mos-seller-demo', 'mos-buyer-demo'];
  async function withEnv<T>(dataDir: string, fn: (env: TestEnv) => Promise<T>): Promise<T> {
    const env = await createTestEnv('embedded', { DATA_DIR: dataDir });
    try {
      return await fn(env);
    } finally {
      await env.cleanup();
    }
  }
  const loginWorks = (env: TestEnv, email: string, password: string) =>
    env.ctx.identity.service.login({ email, password }).then(
      () => true,
      () => false,
    );

  it('makes random passwords on the first start of a data directory, keeps them 0600, and reuses them later', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mos-demo-'));
    dirs.push(dir);
    const first = await withEnv(dir, async (env) => {
      const seeded = await seedDemo(env.ctx);
      expect(seeded.credentials.created).toBe(true);
      expect(seeded.credentials.file).toBe(join(dir, 'demo-accounts.json'));
      const passwords = seeded.credentials.accounts.map((a) => a.password);
      expect(new Set(passwords).size).toBe(3);
      for (const p of passwords) {
        expect(p.length).toBeGreaterThanOrEqual(16);
        expect(published).not.toContain(p);
      }
      for (const a of seeded.credentials.accounts) expect(await loginWorks(env, a.email, a.password)).toBe(true);
      return seeded.credentials.accounts;
    });
    expect(statSync(join(dir, 'demo-accounts.json')).mode & 0o777).toBe(0o600);

    await withEnv(dir, async (env) => {
      const again = await seedDemo(env.ctx);
      expect(again.credentials.created).toBe(false);
      expect(again.credentials.accounts).toEqual(first);
      for (const a of first) expect(await loginWorks(env, a.email, a.password)).toBe(true);
    });

    const other = mkdtempSync(join(tmpdir(), 'mos-demo-'));
    dirs.push(other);
    await withEnv(other, async (env) => {
      const elsewhere = (await seedDemo(env.ctx)).credentials.accounts.map((a) => a.password);
      expect(elsewhere.some((p) => first.some((a) => a.password === p))).toBe(false);
    });
  }, 90_000);

  it('makes new passwords at every start with memory://, and replaces a published one left in the data', async () => {
    const run = () =>
      withEnv('memory://', async (env) => {
        // An account seeded before the passwords were random.
        await env.ctx.identity.service.ensureUser({ email: 'admin@mos.local', password: 'mos-admin-demo', name: 'Demo Admin', role: 'ADMIN' });
        const seeded = await seedDemo(env.ctx);
        expect(seeded.credentials.file).toBeUndefined();
        expect(await loginWorks(env, 'admin@mos.local', 'mos-admin-demo')).toBe(false);
        const admin = seeded.credentials.accounts.find((a) => a.role === 'ADMIN')!;
        expect(await loginWorks(env, admin.email, admin.password)).toBe(true);
        return admin.password;
      });
    expect(await run()).not.toBe(await run());
  }, 90_000);
});
