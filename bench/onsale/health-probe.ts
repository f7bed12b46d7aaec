/**
 * The load balancer's view of the APIs during the on-sale: `GET /health/live` of each API in
 * turn, 10 times a second, each over its own keep-alive connection, from a process of its own.
 * Probing from the crowd's process through the crowd's connection pools measured the crowd: a
 * probe waited behind thousands of buyers' calls for a free connection, and behind the crowd's
 * event loop, before it was even sent (p99 of seconds while the APIs answered in milliseconds).
 *
 * Started by the scene with `fork` (IPC): `process.argv[2]` is the API base URLs, comma
 * separated. On the message `stop` it sends back every probe `{at, ms, status}` (`at` = epoch ms
 * when the answer came, status 0 = no answer within PROBE_TIMEOUT_MS) and exits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'undici';

export interface Probe {
  at: number;
  ms: number;
  status: number;
}

const EVERY_MS = 100;
const PROBE_TIMEOUT_MS = 5000;

const bases = (process.argv[2] ?? '').split(',').filter(Boolean);
if (!bases.length || !process.send) {
  console.error('health-probe: run by the on-sale scene with fork(), the API bases as its argument');
  process.exit(2);
}
const clients = bases.map((b) => new Client(b, { headersTimeout: PROBE_TIMEOUT_MS, bodyTimeout: PROBE_TIMEOUT_MS, keepAliveTimeout: 60_000 }));
const probes: Probe[] = [];
let running = true;

process.on('message', (m) => {
  if (m !== 'stop') return;
  running = false;
  process.send!({ probes }, () => process.exit(0));
});
// The scene died without saying stop: do not outlive it.
process.on('disconnect', () => process.exit(0));

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
