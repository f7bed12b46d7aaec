/**
 * The on-sale scene's cluster, on loopback, in production mode: K `mos api` processes, W `mos
 * worker` processes (two by default, so the periodic jobs' leader election is real) and the
 * sandbox PG as its own process (`mos sandbox`), on a throwaway PostgreSQL database and a Redis
 * key prefix of their own. Every process is a real `node --import tsx src/main.ts <command>` that
 * this module can SIGKILL and start again on the same port. `stop()` kills them all, drops the
 * database and deletes the prefix's keys; it is registered with bench/lib.ts's cleanup, so a
 * failure or Ctrl-C removes everything too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { deleteByPrefix } from '../../src/platform/redis/client.js';
import { processCpuNs } from '../cpu.js';
import { freePort, registerCleanup } from '../lib.js';
import { createThrowawayDatabase, REDIS_URL } from '../production.js';
import { keepTail } from '../server-process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export type Role = 'api' | 'worker' | 'sandbox';

export interface Member {
  role: Role;
  /** api-0, worker-1, sandbox. */
  name: string;
  /** The port it serves on (apis, sandbox); 0 for workers. */
  port: number;
  child: ChildProcess;
  /** Every pid this member has had (restarts included): their CPU is counted until each ends. */
  generation: number;
  tail(): string;
}

export interface ClusterOptions {
  apis: number;
  workers: number;
  /** Extra environment for every MOS process (the scene's TTLs, ticks, sandbox fault rates). */
  env: Record<string, string>;
  /** Sandbox-only environment (its fault rates apply to the sandbox process only). */
  sandboxEnv: Record<string, string>;
  /** Node flags for the API processes only (e.g. `--max-semi-space-size=64`), to try a runtime setting. */
  apiNodeFlags?: string[];
  /**
   * Niceness of the API processes (every thread: they start under `nice`), e.g. -10 to run them
   * ahead of everything else on the machine, as if they had cores of their own. Below 0 needs
   * root (or CAP_SYS_NICE).
   */
  apiNice?: number;
}

export interface Cluster {
  database: string;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  jwtSecret: string;
  apis: Member[];
  workers: Member[];
  sandbox: Member;
  /** http://127.0.0.1:<port> of each API. */
  apiBases: string[];
  sandboxBase: string;
  /** SIGKILL, then wait for the exit. */
  kill(m: Member): Promise<void>;
  /** Start the member again (same port), and wait until it serves. */
  restart(m: Member): Promise<void>;
  /** CPU ns of every process this cluster ever started, ended ones included (their last reading). */
  cpuNs(): Record<Role, number>;
  stop(): Promise<void>;
}

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const redisPrefix = `mos:onsale:${randomBytes(6).toString('hex')}:`;
  const jwtSecret = randomBytes(33).toString('base64url');
  const database = await createThrowawayDatabase();
  const procs = new Set<ChildProcess>();
  /** CPU of processes that ended, by role (their last reading before they went). */
  const endedNs: Record<Role, number> = { api: 0, worker: 0, sandbox: 0 };
  const lastNs = new Map<ChildProcess, number>();
  const roleOf = new Map<ChildProcess, Role>();

  let stopped = false;
  const killAll = () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  };
  // However this process ends short of a SIGKILL (a second Ctrl-C during the cleanup, an uncaught
  // error), no member outlives it: they would keep serving, and loading the machine, for good.
  process.on('exit', killAll);
  const stop = registerCleanup(async () => {
    stopped = true;
    process.off('exit', killAll);
    killAll();
    await Promise.all([...procs].map((p) => exitedOf(p)));
    try {
      await database.drop();
    } finally {
      await deleteByPrefix(REDIS_URL, redisPrefix);
    }
  });

  const sandboxPort = await freePort();
  const base: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    JWT_SECRET: jwtSecret,
    HOST: '127.0.0.1',
    // Per-request access logs would cost the API more than some of its routes: the bench logs warnings only.
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    // Every buyer comes from 127.0.0.1: the per-IP limit stays on (its Redis round trip is part of
    // the cost) but high enough never to answer 429 to one address carrying a crowd.
    RATE_LIMIT_MAX: '1000000000',
    TOSS_API_URL: `http://127.0.0.1:${sandboxPort}/sandbox/toss`,
    ...o.env,
  };

  const spawnMember = (role: Role, name: string, port: number, generation: number): Member => {
    const args = role === 'api' ? ['api'] : role === 'worker' ? ['worker'] : ['sandbox'];
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ...base,
      ...(role === 'api' ? { PORT: String(port) } : {}),
      ...(role === 'sandbox' ? { SANDBOX_PORT: String(port), ...o.sandboxEnv } : {}),
      // A worker says "worker running" at info: the one line this module waits for.
      ...(role === 'worker' ? { LOG_LEVEL: 'info' } : {}),
    };
    const flags = role === 'api' ? (o.apiNodeFlags ?? []) : [];
    const command = [process.execPath, ...flags, '--import', 'tsx', 'src/main.ts', ...args];
    // `nice` execs node in its own pid, so the pid signalled and killed is still the server's.
    if (role === 'api' && o.apiNice) command.unshift('nice', '-n', String(o.apiNice));
    const child = spawn(command[0]!, command.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    procs.add(child);
    roleOf.set(child, role);
    const tail = keepTail(child);
    child.once('exit', () => {
      endedNs[role] += lastNs.get(child) ?? 0;
      lastNs.delete(child);
      roleOf.delete(child);
    });
    return { role, name, port, child, generation, tail };
  };

  const ready = async (m: Member): Promise<void> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (stopped) throw new Error('cluster stopped');
      if (m.child.exitCode !== null || m.child.signalCode !== null) throw new Error(`${m.name} exited while starting:\n${m.tail()}`);
      if (m.role === 'worker') {
        if (/worker running/.test(m.tail())) return;
      } else {
        const path = m.role === 'sandbox' ? '/health/live' : '/health/ready';
        try {
          const res = await fetch(`http://127.0.0.1:${m.port}${path}`, { signal: AbortSignal.timeout(1000) });
          if (res.ok) return;
        } catch {
          // not listening yet
        }
      }
      if (Date.now() > deadline) throw new Error(`${m.name} did not start within 60 s:\n${m.tail()}`);
      await sleep(100);
    }
  };

  try {
    // Migrations first, by the CLI as an operator runs them.
    const migration = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'migrate'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...base, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    procs.add(migration);
    let migrationOut = '';
    migration.stdout!.on('data', (d: Buffer) => (migrationOut += d.toString()));
    migration.stderr!.on('data', (d: Buffer) => (migrationOut += d.toString()));
    if ((await exitedOf(migration)) !== 0) throw new Error(`mos migrate failed:\n${migrationOut}`);

    const sandbox = spawnMember('sandbox', 'sandbox', sandboxPort, 0);
    const apiPorts = await Promise.all(Array.from({ length: o.apis }, () => freePort()));
    const apis = apiPorts.map((port, i) => spawnMember('api', `api-${i}`, port, 0));
    const workers = Array.from({ length: o.workers }, (_, i) => spawnMember('worker', `worker-${i}`, 0, 0));
    await Promise.all([sandbox, ...apis, ...workers].map(ready));

    const sampleCpu = () => {
      for (const [child] of roleOf) {
        const ns = processCpuNs(child.pid);
        if (ns !== null) lastNs.set(child, ns);
      }
    };

    return {
      database: database.name,
      databaseUrl: database.url,
      redisUrl: REDIS_URL,
      redisPrefix,
      jwtSecret,
      apis,
      workers,
      sandbox,
      apiBases: apis.map((a) => `http://127.0.0.1:${a.port}`),
      sandboxBase: `http://127.0.0.1:${sandboxPort}/sandbox/toss`,
      async kill(m) {
        sampleCpu(); // its last reading, before it goes
        m.child.kill('SIGKILL');
        await exitedOf(m.child);
      },
      async restart(m) {
        const next = spawnMember(m.role, m.name, m.port, m.generation + 1);
        m.child = next.child;
        m.generation = next.generation;
        m.tail = next.tail;
        await ready(m);
      },
      cpuNs() {
        sampleCpu();
        const out: Record<Role, number> = { ...endedNs };
        for (const [child, role] of roleOf) out[role] += lastNs.get(child) ?? 0;
        return out;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function exitedOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}
