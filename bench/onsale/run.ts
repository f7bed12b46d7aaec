/**
 * `npm run bench:onsale`: the on-sale day, end to end — see bench/onsale/scene.ts.
 *
 *   --buyers N     buyers in the crowd (default 20,000)
 *   --seats S      seats of the showtime (default 2,000)
 *   --coupons C    coupons of the first-come campaign (default seats ÷ 4)
 *   --apis K       API processes (default 2); --workers W worker processes (default 2)
 *   --chaos        sandbox PG faults, an API and the leading worker SIGKILLed and restarted,
 *                  the showtime's seat hot state flushed from Redis once
 *   --max-sale-seconds T   stop the crowd T s after the opening (default 300)
 *   --steps N      buyers taken through each step alone after the checks, for the CPU µs per
 *                  step by part (default 1,000; 0 skips it)
 *   --out DIR      where the JSON and the PNG go (default bench/onsale/results)
 *   --no-bare      skip the bare-Fastify reference run
 *   --api-node-flags=F   Node flags for the API processes only, space-separated (e.g.
 *                  --api-node-flags=--max-semi-space-size=64 to try a larger young generation)
 *   --connections N  keep-alive connections of the waiting crowd to each API (the load
 *                  balancer's upstream connections; default 64–256 by the crowd's size)
 *   --api-nice=N   run the API processes at niceness N (e.g. --api-nice=-10: ahead of the crowd,
 *                  workers, PostgreSQL and Redis on this machine, as if on cores of their own;
 *                  below 0 needs root)
 *
 * Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test, the server where a
 * throwaway database is made) and BENCH_REDIS_URL (default redis://127.0.0.1:6379; only keys
 * under a fresh prefix are written, and deleted at the end). Exits non-zero when a check fails.
 */
import { freemem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { benchBare } from '../health.js';
import type { Figures } from '../lib.js';
import { printReport, writeChart, writeJson } from './report.js';
import { runOnsale } from './scene.js';

const { values } = parseArgs({
  options: {
    buyers: { type: 'string', default: '20000' },
    seats: { type: 'string', default: '2000' },
    coupons: { type: 'string' },
    apis: { type: 'string', default: '2' },
    workers: { type: 'string', default: '2' },
    chaos: { type: 'boolean', default: false },
    'max-sale-seconds': { type: 'string', default: '300' },
    steps: { type: 'string', default: '1000' },
    out: { type: 'string', default: fileURLToPath(new URL('./results', import.meta.url)) },
    'no-bare': { type: 'boolean', default: false },
    'api-node-flags': { type: 'string', default: '' },
    'api-nice': { type: 'string', default: '0' },
    connections: { type: 'string' },
  },
  strict: true,
});

const int = (name: string, raw: string | undefined, min: number): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer ≥ ${min}, got "${raw}"`);
  return n;
};

const niceness = (raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < -20 || n > 19) throw new Error(`--api-nice: expected an integer from -20 to 19, got "${raw}"`);
  return n;
};

let buyers = int('buyers', values.buyers, 10);
const seats = int('seats', values.seats, 10);
// What a buyer costs this process: its record, token and a share of the sockets (~4 KB);
// keep the crowd within a quarter of the free memory, and say so when it had to shrink.
const fits = Math.floor(freemem() / 4 / 4096);
if (buyers > fits) {
  console.log(`bench:onsale: ${buyers.toLocaleString('en-US')} buyers do not fit this machine's free memory; scaled down to ${fits.toLocaleString('en-US')}`);
  buyers = fits;
}

const run = await runOnsale({
  buyers,
  seats,
  coupons: values.coupons === undefined ? Math.max(1, Math.floor(seats / 4)) : int('coupons', values.coupons, 1),
  apis: int('apis', values.apis, 1),
  workers: int('workers', values.workers, 1),
  chaos: values.chaos,
  maxSaleSeconds: int('max-sale-seconds', values['max-sale-seconds'], 10),
  steps: int('steps', values.steps, 0),
  apiNodeFlags: values['api-node-flags'].split(' ').filter((f) => f !== ''),
  apiNice: niceness(values['api-nice']),
  connections: values.connections === undefined ? undefined : int('connections', values.connections, 1),
  log: (line) => console.log(line),
});

// The machine's reference, after the cluster is gone, as every other bench prints it.
let bare: Figures | null = null;
if (!values['no-bare']) bare = await benchBare();

const report = printReport(run, bare);
const name = `onsale-${run.options.buyers}-${run.options.seats}${run.options.chaos ? '-chaos' : ''}`;
const jsonPath = join(values.out, `${name}.json`);
const pngPath = join(values.out, `${name}.png`);
writeJson(jsonPath, run, report, bare);
await writeChart(pngPath, run);
console.log('');
console.log(`wrote ${jsonPath} and ${pngPath}`);

const failed = run.checks.filter((c) => !c.ok);
if (failed.length) {
  console.error(`bench:onsale: ${failed.length} check(s) FAILED: ${failed.map((c) => c.name).join('; ')}`);
  process.exitCode = 1;
}
