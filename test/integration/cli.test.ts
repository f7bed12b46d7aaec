import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteByPrefix } from '../../src/platform/redis/client.js';
import { createTestDatabase, TEST_REDIS_URL } from '../support/harness.js';
import { exited, freePort, killLeftovers, runMos, startMos } from '../support/processes.js';

const baseEnv = { LOG_LEVEL: 'warn' };
const mos = (args: string[], env: Record<string, string>) => startMos(args, { ...baseEnv, ...env });
const run = (args: string[], env: Record<string, string>) => runMos(args, { ...baseEnv, ...env });

const login = (port: number, email: string, password: string) =>
  fetch(`http://127.0.0.1:${port}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });

describe('mos CLI', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await killLeftovers(); // a server whose test failed before stopping it
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('`mos start` serves embedded mode on this machine only with demo data, survives a restart, and stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mos-cli-'));
    dirs.push(dataDir);
    const port = await freePort();
    // No HOST: the embedded default applies.
    const env = { PORT: String(port), DATA_DIR: dataDir };

    const first = mos(['start'], env);
    await expect.poll(() => first.output(), { timeout: 30_000, interval: 100 }).toContain('MOS is running');
    expect(first.output()).toContain(`listening on 127.0.0.1:${port}`);
    expect(first.output()).toContain(`http://localhost:${port}/docs`);
    const password = /buyer@mos\.local \/ (\S+)/.exec(first.output())?.[1];
    expect(password).toBeDefined();
    expect(password).not.toBe('mos-buyer-demo');
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    // Another interface of this machine, as a neighbour on its network would reach it, finds nothing.
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (lan) await expect(fetch(`http://${lan.address}:${port}/health/live`)).rejects.toThrow();
    const tokens = (await (await login(port, 'buyer@mos.local', password!)).json()) as { accessToken: string };
    first.child.kill('SIGTERM');
    expect(await exited(first.child)).toBe(0);

    // Second start on the same data: seeding adds nothing, the JWT secret and the demo
    // passwords were kept, and the passwords are not printed again.
    const second = mos(['start'], env);
    await expect.poll(() => second.output(), { timeout: 30_000, interval: 100 }).toContain('MOS is running');
    expect(second.output()).not.toContain(password);
    expect(second.output()).toContain(join(dataDir, 'demo-accounts.json'));
    expect((await login(port, 'buyer@mos.local', password!)).status).toBe(200);
    const me = await fetch(`http://127.0.0.1:${port}/v1/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    expect(me.status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
  }, 90_000);

  it('refuses `mos api` and `mos worker` without PostgreSQL and Redis', async () => {
    for (const cmd of ['api', 'worker']) {
      const { code, output } = await run([cmd], { DATA_DIR: 'memory://' });
      expect(code).toBe(2);
      expect(output).toMatch(/DATABASE_URL and REDIS_URL/);
    }
  });

  it('stops at start naming a bad key', async () => {
    const { code, output } = await run(['start'], { PORT: 'eighty', DATA_DIR: 'memory://' });
    expect(code).toBe(2);
    expect(output).toMatch(/PORT: expected an integer/);
  });

  it('`mos migrate` then `mos admin create` make a working admin on PostgreSQL', async () => {
    const db = await createTestDatabase();
    const prefix = `mos:test:${randomBytes(6).toString('hex')}:`;
    const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, JWT_SECRET: 'cli-test-secret-cli-test-secret-0123' };
    try {
      expect((await run(['migrate'], env)).code).toBe(0);
      expect((await run(['migrate'], env)).code).toBe(0); // applying twice is a no-op
      const created = await run(['admin', 'create', '--email', 'Ops@Example.com', '--password', 'operator pw 1'], env);
      expect(created.code).toBe(0);
      expect(created.output).toMatch(/admin ready: ops@example\.com/);
      const again = await run(['admin', 'create', '--email', 'ops@example.com', '--password', 'operator pw 2'], env);
      expect(again.code).toBe(0);
      const blank = await run(['admin', 'create', '--email', 'blank@example.com', '--password', 'operator pw 3', '--name', '   '], env);
      expect(blank.code).toBe(2);
      expect(blank.output).toMatch(/--name must not be blank/);

      const port = await freePort();
      const api = mos(['api'], { ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' });
      try {
        await expect.poll(() => api.output(), { timeout: 30_000, interval: 100 }).toContain('api listening');
        expect((await login(port, 'ops@example.com', 'operator pw 1')).status).toBe(401);
        const ok = await login(port, 'ops@example.com', 'operator pw 2');
        expect(ok.status).toBe(200);
        const { accessToken } = (await ok.json()) as { accessToken: string };
        const me = await fetch(`http://127.0.0.1:${port}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } });
        expect(((await me.json()) as { role: string }).role).toBe('ADMIN');
      } finally {
        api.child.kill('SIGTERM');
        expect(await exited(api.child)).toBe(0);
      }
    } finally {
      await db.drop();
      await deleteByPrefix(TEST_REDIS_URL, prefix);
    }
  }, 90_000);
});
