import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteByPrefix } from '../../src/platform/redis/client.js';
import { createTestDatabase, TEST_REDIS_URL } from '../support/harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = join(root, 'node_modules/.bin/tsx');
const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn' };

function mos(args: string[], env: Record<string, string>): ChildProcess & { output: () => string } {
  const child = spawn(tsx, ['src/main.ts', ...args], { cwd: root, env: { ...baseEnv, ...env } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return Object.assign(child, { output: () => out });
}

function exit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

async function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = mos(args, env);
  const code = await exit(child);
  return { code, output: child.output() };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const login = (port: number, email: string, password: string) =>
  fetch(`http://127.0.0.1:${port}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });

describe('mos CLI', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('`mos start` serves embedded mode with demo data, survives a restart, and stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mos-cli-'));
    dirs.push(dataDir);
    const port = await freePort();
    const env = { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir };

    const first = mos(['start'], env);
    await expect.poll(() => first.output(), { timeout: 30_000, interval: 100 }).toContain('MOS is running');
    expect(first.output()).toContain(`http://localhost:${port}/docs`);
    expect(first.output()).toContain('buyer@mos.local / mos-buyer-demo');
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    const tokens = (await (await login(port, 'buyer@mos.local', 'mos-buyer-demo')).json()) as { accessToken: string };
    first.kill('SIGTERM');
    expect(await exit(first)).toBe(0);

    // Second start on the same data: seeding adds nothing, and the JWT secret was kept.
    const second = mos(['start'], env);
    await expect.poll(() => second.output(), { timeout: 30_000, interval: 100 }).toContain('MOS is running');
    const me = await fetch(`http://127.0.0.1:${port}/v1/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    expect(me.status).toBe(200);
    second.kill('SIGTERM');
    expect(await exit(second)).toBe(0);
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
        api.kill('SIGTERM');
        expect(await exit(api)).toBe(0);
      }
    } finally {
      await db.drop();
      await deleteByPrefix(TEST_REDIS_URL, prefix);
    }
  }, 90_000);
});
