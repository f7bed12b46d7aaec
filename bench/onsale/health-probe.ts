/**
 * The load balancer's view of the APIs during the on-sale: `GET /health/live` of each API in
 * turn, 10 times a second, each over its own keep-alive connection, from a process of its own.
 * Probing from the crowd's process through the crowd's connection pools measured the crowd: a
 * probe waited behind thousands of buyers' calls for a free connection, and behind the crowd's
 * event loop, before it was even sent (p99 of seconds while the APIs answered in milliseconds).
 *
 * It also reads each API's `/metrics` every LOOP_EVERY_MS: the event loop's delay since the last
 * read (prom-client resets it on every read) and the garbage collector's time, so a slow probe
 * can be told from a blocked event loop, a collection or a process waiting for a core.
 *
 * Started by the scene with `fork` (IPC): `process.argv[2]` is the API base URLs, comma
 * separated. On the message `stop` it sends back every probe `{at, ms, status}` (`at` = epoch ms
 * when the answer came, status 0 = no answer within PROBE_TIMEOUT_MS) and every loop reading,
 * and exits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';

export interface Probe {
  at: number;
  ms: number;
  status: number;
}

/** One API's event loop, read from its /metrics: delays since the previous reading, GC totals since its start. */
export interface LoopReading {
  at: number;
  api: number;
  delayMaxMs: number;
  delayP99Ms: number;
  /** Cumulative GC pauses by kind (major, minor, incremental, weakcb): count and ms. */
  gc: Record<string, { count: number; ms: number }>;
}

const EVERY_MS = 100;
const PROBE_TIMEOUT_MS = 5000;
const LOOP_EVERY_MS = 2000;

const bases = (process.argv[2] ?? '').split(',').filter(Boolean);
if (!bases.length || !process.send) {
  console.error('health-probe: run by the on-sale scene with fork(), the API bases as its argument');
  process.exit(2);
}
const clients = bases.map((b) => new Client(b, { headersTimeout: PROBE_TIMEOUT_MS, bodyTimeout: PROBE_TIMEOUT_MS, keepAliveTimeout: 60_000 }));
const metricClients = bases.map((b) => new Client(b, { headersTimeout: PROBE_TIMEOUT_MS, bodyTimeout: PROBE_TIMEOUT_MS, keepAliveTimeout: 60_000 }));
const probes: Probe[] = [];
const loops: LoopReading[] = [];
let running = true;

process.on('message', (m) => {
  if (m !== 'stop') return;
  running = false;
  process.send!({ probes, loops }, () => process.exit(0));
});
// The scene died without saying stop: do not outlive it.
process.on('disconnect', () => process.exit(0));

/** The few lines of a Prometheus text page this reads: `name{labels} value`. */
function readLoop(text: string, api: number, at: number): LoopReading {
  const value = (name: string, labels = ''): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name}{`)));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };
  const gc: LoopReading['gc'] = {};
  for (const kind of ['major', 'minor', 'incremental', 'weakcb']) {
    gc[kind] = {
      count: value('mos_nodejs_gc_duration_seconds_count', `{kind="${kind}"}`),
      ms: value('mos_nodejs_gc_duration_seconds_sum', `{kind="${kind}"}`) * 1000,
    };
  }
  return { at, api, delayMaxMs: value('mos_nodejs_eventloop_lag_max_seconds') * 1000, delayP99Ms: value('mos_nodejs_eventloop_lag_p99_seconds') * 1000, gc };
}

void (async () => {
  while (running) {
    await Promise.all(
      metricClients.map(async (client, api) => {
        try {
          const res = await client.request({ method: 'GET', path: '/metrics' });
          const text = await res.body.text();
          if (res.statusCode === 200) loops.push(readLoop(text, api, Date.now()));
        } catch {
          // The API is down (killed by --chaos): no reading this time.
        }
      }),
    );
    await sleep(LOOP_EVERY_MS);
  }
})();

let k = 0;
while (running) {
  const started = performance.now();
  const client = clients[k++ % clients.length]!;
  let status = 0;
  try {
    const res = await client.request({ method: 'GET', path: '/health/live' });
    await res.body.dump();
    status = res.statusCode;
  } catch {
    // No answer (the API was killed, or is restarting): a failed probe.
  }
  const ms = performance.now() - started;
  probes.push({ at: Date.now(), ms, status });
  await sleep(Math.max(0, EVERY_MS - ms));
}
