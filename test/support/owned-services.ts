/**
 * A PostgreSQL and a Redis that one test file owns: started on free loopback ports in a
 * temporary directory from the machine's own binaries, stopped and started at will (the faults a
 * shared server must never see), and removed at the end.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { exited, freePort } from './processes.js';

/** PostgreSQL's server binaries: on PATH, or Debian's versioned directory. */
function pgBin(name: string): string {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    for (const version of readdirSync(base).sort().reverse()) {
      const path = join(base, version, 'bin', name);
      if (existsSync(path)) return path;
    }
  }
  return name;
}

/** PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user. */
const asRoot = process.getuid?.() === 0;
function runPg(args: string[]): string {
  const [cmd, ...rest] = args;
  return asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', cmd!, ...rest], { encoding: 'utf8' }) : execFileSync(cmd!, rest, { encoding: 'utf8' });
}

export interface OwnedPostgres {
  /** URL of its `postgres` database. */
  readonly url: string;
  start(): void;
  /** `immediate` is a crash (no shutdown checkpoint); either way every connection is cut. */
  stop(mode?: 'fast' | 'immediate'): void;
  destroy(): void;
}

export async function startOwnedPostgres(): Promise<OwnedPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'mos-pg-'));
  if (asRoot) {
    const ids = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    chownSync(dir, Number(ids), Number(gid));
  }
  const data = join(dir, 'data');
  const port = await freePort();
  runPg([pgBin('initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const pgCtl = (...args: string[]) => runPg([pgBin('pg_ctl'), '-D', data, ...args]);
  const start = () => void pgCtl('-o', options, '-l', join(dir, 'log'), '-w', 'start');
  start();
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => {
      start();
      running = true;
    },
    stop: (mode = 'fast') => {
      pgCtl('-m', mode, '-w', 'stop');
      running = false;
    },
    destroy: () => {
      if (running) pgCtl('-m', 'immediate', '-w', 'stop');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface OwnedRedis {
  readonly url: string;
  start(): Promise<void>;
  /** SIGKILL: what an OOM kill or a crashed host does; with AOF `always` nothing acknowledged is lost. */
  kill(): Promise<void>;
  destroy(): Promise<void>;
}

/** A redis-server of its own, persisting every write before it answers (`appendfsync always`). */
export async function startOwnedRedis(): Promise<OwnedRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'mos-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
      {
        stdio: 'ignore',
      },
    );
    const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        if ((await probe.ping()) === 'PONG') break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    probe.disconnect();
  };
  const kill = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited(child);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    kill,
    destroy: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
