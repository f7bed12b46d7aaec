/**
 * A Redis Cluster of its own for the tests (and the bench): masters with one replica each, from
 * the machine's `redis-server` (Debian's package), on free loopback ports, in a temporary
 * directory. Nothing persists (`--save "" --appendonly no`): a node killed and started again
 * comes back empty, knows its place from its `nodes-<port>.conf`, and rejoins as a replica of
 * whoever took its slots. `destroy` stops every node and removes the directory.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { exited, freePort } from './processes.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ClusterNode {
  readonly port: number;
  /** `127.0.0.1:<port>`, as the cluster names it. */
  readonly address: string;
}

export interface LocalCluster {
  /** Every node, `host:port` (seed list for REDIS_CLUSTER_NODES). */
  readonly nodes: readonly string[];
  readonly dir: string;
  /** The node that serves `key`'s slot now (asked of the cluster, not cached). */
  masterOf(key: string): Promise<ClusterNode>;
  /** The nodes that are masters now, by port. */
  masters(): Promise<number[]>;
  /** SIGKILL: a crashed host; whatever its replica had not received is gone. */
  kill(port: number): Promise<void>;
  /** Starts a killed node again (it rejoins as a replica) and waits until it has synced. */
  restart(port: number): Promise<void>;
  /** Until every slot is served, every live master has its replicas online, and every node agrees. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

export interface LocalClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** `cluster-node-timeout`: how long a silent master takes to be failed over (plus an election). */
  nodeTimeoutMs?: number;
}

export async function startLocalCluster(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 1;
  const nodeTimeoutMs = opts.nodeTimeoutMs ?? 2000;
  const dir = mkdtempSync(join(tmpdir(), 'mos-redis-cluster-'));
  const ports: number[] = [];
  while (ports.length < masters * (1 + replicas)) {
    const p = await freePort();
    // The cluster bus listens on port + 10000: both must be free, and distinct from the others'.
    if (p + 10000 <= 65535 && !ports.includes(p) && !ports.some((q) => q + 10000 === p || p + 10000 === q)) ports.push(p);
  }
  const children = new Map<number, ChildProcess>();
  const startNode = (port: number) => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        String(nodeTimeoutMs),
        // The other shards keep serving while one is failed over (the default stops them all).
        '--cluster-require-full-coverage',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
        '--logfile',
        join(dir, `${port}.log`),
      ],
      { stdio: 'ignore' },
    );
    children.set(port, child);
  };
  const stopAll = () => {
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  // A test run killed midway must not leave servers behind.
  process.once('exit', stopAll);

  const client = (port: number) => {
    const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
    c.on('error', () => {});
    return c;
  };
  const ask = async <T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T | undefined> => {
    const c = client(port);
    try {
      await c.connect();
      return await fn(c);
    } catch {
      return undefined;
    } finally {
      c.disconnect();
    }
  };
  const alive = (port: number) => {
    const child = children.get(port);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  };

  const waitHealthy = async (timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const live = ports.filter(alive);
      const states = await Promise.all(
        live.map((p) =>
          ask(p, async (c) => {
            const info = await c.cluster('INFO');
            const replication = await c.info('replication');
            return { info: String(info), replication };
          }),
        ),
      );
      const ok =
        states.every((s) => s && /cluster_state:ok/.test(s.info) && /cluster_slots_ok:16384/.test(s.info) && /cluster_slots_pfail:0/.test(s.info)) &&
        states.every((s) => {
          if (!s || !/role:master/.test(s.replication)) return true;
          // A master that serves slots has each of its live replicas online (WAIT can be met).
          return !/slave\d+:.*state=(wait_bgsave|send_bulk)/.test(s.replication);
        }) &&
        states.every((s) => !s || !/role:slave/.test(s.replication) || /master_link_status:up/.test(s.replication));
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`Redis Cluster in ${dir} not healthy within ${timeoutMs} ms`);
      await sleep(100);
    }
  };

  try {
    for (const port of ports) startNode(port);
    for (const port of ports) {
      for (let i = 0; ; i++) {
        if ((await ask(port, (c) => c.ping())) === 'PONG') break;
        if (i > 100) throw new Error(`redis-server on ${port} did not start (log: ${join(dir, `${port}.log`)})`);
        await sleep(50);
      }
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'], {
      timeout: 30_000,
    });
    await waitHealthy();
    // Every replica attached and synced: WAIT answers from the first command on.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const attached = await Promise.all(ports.map((p) => ask(p, (c) => c.info('replication'))));
      const mastersWithReplicas = attached.filter(
        (r) => r && /role:master/.test(r) && new RegExp(`connected_slaves:${replicas}`).test(r) && !/state=(wait_bgsave|send_bulk)/.test(r),
      );
      if (mastersWithReplicas.length === masters) break;
      if (Date.now() > deadline) throw new Error(`Redis Cluster in ${dir}: replicas did not attach`);
      await sleep(100);
    }
  } catch (err) {
    stopAll();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const masterPorts = async () => {
    for (const p of ports.filter(alive)) {
      const slots = await ask(p, (c) => c.cluster('SLOTS'));
      if (slots) return [...new Set(slots.map((s) => Number(s[2]![1])))].sort((a, b) => a - b);
    }
    return [];
  };

  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`),
    dir,
    masterOf: async (key) => {
      for (const p of ports.filter(alive)) {
        const found = await ask(p, async (c) => {
          const slot = Number(await c.cluster('KEYSLOT', key));
          const range = (await c.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
          return range ? Number(range[2]![1]) : undefined;
        });
        if (found) return { port: found, address: `127.0.0.1:${found}` };
      }
      throw new Error(`no live node knows who serves ${key}`);
    },
    masters: masterPorts,
    kill: async (port) => {
      const child = children.get(port);
      if (!child || !alive(port)) return;
      child.kill('SIGKILL');
      await exited(child);
    },
    restart: async (port) => {
      if (alive(port)) return;
      startNode(port);
      for (let i = 0; (await ask(port, (c) => c.ping())) !== 'PONG'; i++) {
        if (i > 100) throw new Error(`redis-server on ${port} did not restart`);
        await sleep(50);
      }
      await waitHealthy();
    },
    waitHealthy,
    destroy: async () => {
      process.removeListener('exit', stopAll);
      await Promise.all(
        [...children.values()].map(async (child) => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited(child);
        }),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
