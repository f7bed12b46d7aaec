/**
 * CPU time per answered request, split by the parts of the system that spent it. Requests per
 * second depend on how fast this machine's cores and system calls happen to be (one commit
 * measured 2.2× apart on two VMs of the same kind); CPU time per request depends on that much
 * less, and it shows where a request's cost goes. On a machine where everything shares the same
 * cores, `cores × 1 s ÷ total` is the throughput ceiling.
 *
 * Read from Linux's /proc (`schedstat`: nanoseconds on a CPU) and Redis `INFO cpu`. PostgreSQL is
 * counted only when it runs on this machine (every process named `postgres`, so anything else the
 * server does at the time counts too); elsewhere, and off Linux, a part reads as unknown.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Redis } from 'ioredis';
import { workers } from './lib.js';
import { benchClusterNodes, REDIS_URL } from './production.js';

interface Sample {
  /** The app's main thread: its event loop (unknown when the load runs on this process's main thread too). */
  apiThread: number | null;
  /** Every thread of the app's process, ended ones included: V8's helpers too (and the load generator's threads when it runs in this process). */
  process: number;
  postgres: Map<string, number> | null;
  /** ns on a CPU of every Redis node (a cluster's replicas too: replicating is part of the cost). */
  redis: number | null;
  /** Commands each master has run (INFO commandstats), by node. */
  commands: Map<string, number>;
  at: number;
}

export interface CpuPerRequest {
  /** µs per answered request; null where unknown. */
  apiThread: number | null;
  otherThreads: number | null;
  postgres: number | null;
  redis: number | null;
  total: number;
  cores: number;
  /** cores × 1 s ÷ total: requests per second the machine could answer at most. */
  ceilingRps: number;
  /** Commands per second each Redis master ran during the load (one entry for a single Redis). */
  redisShards: { node: string; commandsPerSecond: number }[];
}

/** ns on a CPU of one task, from /proc/<path>/schedstat; null if unreadable. */
function schedNs(path: string): number | null {
  try {
    return Number(readFileSync(`/proc/${path}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

/** ns on a CPU per `postgres` process, by pid; null if /proc cannot be read. */
function postgresNs(): Map<string, number> | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return null;
  }
  const byPid = new Map<string, number>();
  for (const pid of pids) {
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue; // ended meanwhile
    }
    if (comm !== 'postgres') continue;
    const ns = schedNs(pid);
    if (ns !== null) byPid.set(pid, ns);
  }
  return byPid;
}

/**
 * CPU the PostgreSQL processes spent between two readings: the growth of each process alive at
 * the second (a new one counts whole). One that ended in between takes its share with it, so
 * this undercounts a little rather than going negative.
 */
function postgresDelta(before: Map<string, number> | null, after: Map<string, number> | null): number | null {
  if (!before || !after) return null;
  let total = 0;
  for (const [pid, ns] of after) total += Math.max(0, ns - (before.get(pid) ?? 0));
  return total;
}

async function redisNs(nodes: readonly Redis[]): Promise<number | null> {
  let ns = 0;
  for (const node of nodes) {
    const info = await node.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
    const seconds = field('used_cpu_sys') + field('used_cpu_user');
    if (!Number.isFinite(seconds)) return null;
    ns += seconds * 1e9;
  }
  return ns;
}

/** Commands run so far by each master among `nodes` (a replica's replicated writes are not its own). */
async function redisCommands(nodes: readonly Redis[]): Promise<Map<string, number>> {
  const byNode = new Map<string, number>();
  for (const node of nodes) {
    const [replication, stats] = [await node.info('replication'), await node.info('commandstats')];
    if (!/^role:master/m.test(replication)) continue;
    let calls = 0;
    for (const m of stats.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) calls += Number(m[1]);
    byNode.set(`${node.options.host}:${node.options.port}`, calls);
  }
  return byNode;
}

/** ns on a CPU of a whole process (all its threads, ended ones too), from /proc/<pid>/stat; null if it is gone. */
export function processCpuNs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15)
    return (ticks * 1e9) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/**
 * Where the app runs: `true`, in this process with its main thread running nothing else (the load
 * in worker threads or in another process, such as wrk), so that thread's CPU is the app event
 * loop's; `false`, in this process beside the load (the event loop's share is unknown); or a
 * server process of its own (bench/server-process.ts), whose main thread is its event loop.
 */
export type AppProcess = boolean | { pid: number };

/** The CPU the app has spent so far: its side of a sample, read with nothing else in between. */
function appSample(app: AppProcess): Pick<Sample, 'apiThread' | 'process'> {
  if (typeof app === 'object') {
    const total = processCpuNs(app.pid);
    if (total === null) throw new Error(`the server process ${app.pid} is gone`);
    return { apiThread: schedNs(`${app.pid}/task/${app.pid}`), process: total };
  }
  const usage = process.cpuUsage();
  return { apiThread: app ? schedNs(`self/task/${process.pid}`) : null, process: (usage.user + usage.system) * 1000 };
}

/**
 * The other parts' side of a sample: PostgreSQL's processes (a scan of /proc) and Redis (INFO
 * over the network). Redis's CPU is read last at the start of an interval and first at its end,
 * so the meter's other INFO calls fall outside it too.
 */
async function othersSample(
  redis: readonly Redis[],
  postgresIsLocal: boolean,
  edge: 'start' | 'end',
): Promise<Pick<Sample, 'postgres' | 'redis' | 'commands'>> {
  if (edge === 'start') {
    const commands = await redisCommands(redis);
    const postgres = postgresIsLocal ? postgresNs() : null;
    return { commands, postgres, redis: await redisNs(redis) };
  }
  const redisCpu = await redisNs(redis);
  const postgres = postgresIsLocal ? postgresNs() : null;
  return { redis: redisCpu, postgres, commands: await redisCommands(redis) };
}

/**
 * A sample taken so that the meter's own work falls outside the interval it measures: the app's
 * CPU is read last when the interval starts and first when it ends. Scanning /proc for PostgreSQL
 * and parsing Redis's INFO run on this thread (milliseconds per sample); read the other way round,
 * the starting sample's reads were counted as the app's CPU.
 */
async function sample(redis: readonly Redis[], postgresIsLocal: boolean, app: AppProcess, edge: 'start' | 'end'): Promise<Sample> {
  if (edge === 'start') {
    const others = await othersSample(redis, postgresIsLocal, edge);
    return { ...others, ...appSample(app), at: performance.now() };
  }
  const at = performance.now();
  const self = appSample(app);
  return { ...self, ...(await othersSample(redis, postgresIsLocal, edge)), at };
}

const isLocal = (url: string) => ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(new URL(url).hostname);

/**
 * Starts counting; the returned function stops and divides by the requests answered meanwhile.
 * `databaseUrl` and `redisUrl` are the servers under load.
 */
async function cpuMeter(databaseUrl: string, redisUrl: string, app: AppProcess): Promise<(requests: number) => Promise<CpuPerRequest>> {
  // The bench's Redis on a cluster (BENCH_REDIS_CLUSTER): every node, each on its own connection.
  const cluster = redisUrl === REDIS_URL ? benchClusterNodes() : null;
  const redis = cluster
    ? cluster.map((node) => {
        const [host, port] = node.split(':');
        return new Redis({ host, port: Number(port), maxRetriesPerRequest: 3, lazyConnect: true });
      })
    : [new Redis(redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true })];
  await Promise.all(redis.map((r) => r.connect()));
  const postgresIsLocal = isLocal(databaseUrl);
  const before = await sample(redis, postgresIsLocal, app, 'start');
  return async (requests) => {
    const after = await sample(redis, postgresIsLocal, app, 'end');
    for (const r of redis) r.disconnect();
    const seconds = (after.at - before.at) / 1000;
    const redisShards = [...after.commands].map(([node, calls]) => ({
      node,
      commandsPerSecond: seconds > 0 ? Math.max(0, calls - (before.commands.get(node) ?? 0)) / seconds : 0,
    }));
    const per = (a: number | null, b: number | null) => (a === null || b === null || requests === 0 ? null : (b - a) / 1000 / requests);
    const apiThread = per(before.apiThread, after.apiThread);
    const processUs = per(before.process, after.process)!;
    const pgNs = postgresDelta(before.postgres, after.postgres);
    const postgres = pgNs === null ? null : per(0, pgNs);
    const redisUs = per(before.redis, after.redis);
    const total = processUs + (postgres ?? 0) + (redisUs ?? 0);
    const cores = availableParallelism();
    return {
      apiThread,
      otherThreads: apiThread === null ? null : processUs - apiThread,
      postgres,
      redis: redisUs,
      total,
      cores,
      ceilingRps: total > 0 ? (cores * 1e6) / total : 0,
      redisShards,
    };
  };
}

/**
 * Runs a load (anything that counts its answered `requests`) and adds the CPU it cost per request.
 * `app`: where the app runs (AppProcess); by default in this process, its main thread alone when
 * the load runs in worker threads.
 */
export async function withCpu<T extends { requests: number }>(
  databaseUrl: string,
  redisUrl: string,
  run: () => Promise<T>,
  app: AppProcess = workers > 0,
): Promise<T & { cpu: CpuPerRequest }> {
  const stop = await cpuMeter(databaseUrl, redisUrl, app);
  const figures = await run();
  return { ...figures, cpu: await stop(figures.requests) };
}

const us = (v: number | null) => (v === null ? '?' : Math.round(v).toLocaleString('en-US'));

/** One table row: label, then the parts in µs, the total and the ceiling. */
export function cpuRow(label: string, c: CpuPerRequest): string[] {
  return [
    label,
    us(c.apiThread),
    us(c.otherThreads),
    us(c.postgres),
    us(c.redis),
    us(c.total),
    `${Math.round(c.ceilingRps).toLocaleString('en-US')} on ${c.cores} cores`,
    c.redisShards.map((s) => Math.round(s.commandsPerSecond).toLocaleString('en-US')).join(' / '),
  ];
}

export const CPU_HEADER = [
  'CPU µs per answered request',
  'app event loop',
  'other threads',
  'PostgreSQL',
  'Redis',
  'total',
  'ceiling req/s',
  'Redis commands/s per master',
];

/** The final JSON line's form: µs rounded, unknown parts null. */
export const cpuJson = (c: CpuPerRequest) => {
  const r = (v: number | null) => (v === null ? null : Math.round(v));
  return {
    apiThread: r(c.apiThread),
    otherThreads: r(c.otherThreads),
    postgres: r(c.postgres),
    redis: r(c.redis),
    total: r(c.total),
    cores: c.cores,
    ceilingRps: r(c.ceilingRps),
    redisShards: c.redisShards.map((s) => ({ node: s.node, commandsPerSecond: Math.round(s.commandsPerSecond) })),
  };
};
