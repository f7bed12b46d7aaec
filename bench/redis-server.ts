/**
 * A throwaway `redis-server` for one measurement: its own free port on 127.0.0.1, its own data
 * directory (under BENCH_REDIS_DIR, default the OS temp directory — which must be on a real disk
 * for `appendfsync` to mean anything: on tmpfs an fsync costs nothing), the given settings, and
 * removed at the end (and on Ctrl-C). The binary is BENCH_REDIS_SERVER (default `redis-server`
 * from PATH; Debian's package puts it in /usr/bin).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { registerCleanup } from './lib.js';

export const REDIS_SERVER_BIN = process.env.BENCH_REDIS_SERVER || 'redis-server';
const ROOT = process.env.BENCH_REDIS_DIR || tmpdir();

export interface ThrowawayRedis {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Starts redis-server with `settings` (e.g. `{ appendonly: 'yes', appendfsync: 'always' }`) and waits until it answers. */
export async function startRedis(settings: Record<string, string>): Promise<ThrowawayRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(ROOT, 'mos-bench-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--logfile', ''];
  for (const [k, v] of Object.entries(settings)) args.push(`--${k}`, v);
  const child = spawn(REDIS_SERVER_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  const stop = registerCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `redis://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${stderr.trim()}`);
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {}); // refused until the server listens: the loop retries
      const up = await Promise.race([
        spawnError,
        probe
          .connect()
          .then(() => probe.ping())
          .then(
            () => true,
            () => false,
          ),
      ]).finally(() => probe.disconnect());
      if (up) break;
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 10 s: ${stderr.trim()}`);
      await sleep(50);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, dir, stop };
}
