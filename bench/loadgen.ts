/**
 * The hot-path load generator: `wrk` (Debian's package; a C event loop with LuaJIT) when it is
 * on the PATH, autocannon otherwise (BENCH_LOADGEN=autocannon forces it).
 *
 * autocannon builds every request in JavaScript (`setupRequest`: a token signed per call, the
 * request object copied, the headers serialized): 250–370 µs of its threads per request on these
 * routes, as much as the app spends, on the same two cores. Here every request is minted before
 * the run — a buyer's token, body and Idempotency-Key as bench/buyer-requests.cjs makes them —
 * written to a file, formatted once by wrk's Lua `init`, and sent in turn by `request()`, which
 * returns a string already built. What wrk's process costs is measured (bash's `times` after it
 * exits: the CPU of the child) and printed beside the app's, so the figures show how much of
 * the machine the load took.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fireBuyers, type BuyerPlan, type LoadFigures } from './buyers.js';

const wanted = process.env.BENCH_LOADGEN?.trim() || 'auto';
if (!['auto', 'wrk', 'autocannon'].includes(wanted)) throw new Error(`BENCH_LOADGEN: expected auto, wrk or autocannon, got "${wanted}"`);

/** wrk's path when it can be used; null: autocannon. */
export const wrkPath: string | null = (() => {
  if (wanted === 'autocannon') return null;
  const found = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' });
  const path = found.status === 0 ? found.stdout.trim() : '';
  if (!path && wanted === 'wrk') throw new Error('BENCH_LOADGEN=wrk but wrk is not on the PATH (apt-get install -y wrk)');
  return path || null;
})();

export const loadGeneratorName = wrkPath ? 'wrk (pre-minted requests)' : 'autocannon';

export interface HotLoad extends LoadFigures {
  /** CPU µs per answered request of the load generator's process (wrk); null when it runs in this process. */
  loadGenUs: number | null;
  /** Requests sent again from the start of the minted list (a run that outlasted its buyers). */
  wraps: number;
  /** wrk's p90, p99.9 and slowest latency (ms), to see the shape of a tail; absent with autocannon. */
  tailMs?: { p90: number; p999: number; max: number };
  /** Answers in each wall-clock second of the run (wrk), first to last: a stall shows as a dip. */
  answersPerSecond?: number[];
}

export interface HotLoadOptions {
  url: string;
  method: 'GET' | 'POST';
  connections: number;
  seconds: number;
  plan: BuyerPlan;
  /** Statuses that are answers. */
  ok: readonly number[];
  /** Requests to mint for wrk (each a buyer of the plan): more than the run can send, or it wraps. */
  mint: number;
}

interface SetupRequest {
  (req: { headers: Record<string, string>; body?: string }): { headers: Record<string, string>; body?: string };
  configure(plan: BuyerPlan): void;
}
const setupRequest = createRequire(import.meta.url)(fileURLToPath(new URL('./buyer-requests.cjs', import.meta.url))) as SetupRequest;

const LUA = String.raw`
local reqs, n, i = {}, 0, 0
wraps, statuses, seconds = 0, {}, {}

function init(args)
  local method, file = args[1], args[2]
  for line in io.lines(file) do
    local auth, body, key = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
    local headers = { ["Authorization"] = auth }
    if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
    if key ~= "" then headers["Idempotency-Key"] = key end
    n = n + 1
    reqs[n] = wrk.format(method, nil, headers, body)
  end
end

function request()
  i = i + 1
  if i > n then i = 1; wraps = wraps + 1 end
  return reqs[i]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local t = os.time()
  seconds[t] = (seconds[t] or 0) + 1
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

function done(summary, latency, requests)
  local counts, w, per = {}, 0, {}
  for _, t in ipairs(threads) do
    for code, c in pairs(t:get("statuses")) do counts[#counts + 1] = string.format('"%d":%d', code, c) end
    for sec, c in pairs(t:get("seconds")) do per[#per + 1] = string.format('"%d":%d', sec, c) end
    w = w + t:get("wraps")
  end
  local e = summary.errors
  io.write(string.format('\nMOSJSON {"requests":%d,"durationUs":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"p999Us":%d,"maxUs":%d,"errors":%d,"wraps":%d,"statuses":{%s},"perSecond":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max,
    e.connect + e.read + e.write + e.timeout, w, table.concat(counts, ","), table.concat(per, ",")))
end
`;

/** `0m1.234s` → seconds. */
const bashSeconds = (s: string) => {
  const m = /^(\d+)m([\d.]+)s$/.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
};

/**
 * Mints `count` requests of `plan` (advancing its buyer counter) into a wrk input file, written
 * a chunk at a time: each chunk's strings die young (a scavenge takes them), where a list of the
 * whole run's requests (some 90 MB for a hold run) would reach the old generation and leave a
 * full collection of it to land in the measured run that follows.
 */
function mintFile(dir: string, plan: BuyerPlan, count: number): string {
  setupRequest.configure(plan);
  const file = join(dir, 'requests.tsv');
  const fd = openSync(file, 'w');
  try {
    for (let k = 0; k < count; ) {
      let chunk = '';
      for (const end = Math.min(count, k + MINT_CHUNK); k < end; k++) {
        const req = setupRequest({ headers: {} });
        chunk += `${req.headers.authorization ?? ''}\t${req.body ?? ''}\t${req.headers['idempotency-key'] ?? ''}\n`;
      }
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

const MINT_CHUNK = 1000;

async function runWrk(o: HotLoadOptions, file: string, dir: string): Promise<HotLoad> {
  const script = join(dir, 'mos.lua');
  writeFileSync(script, LUA);
  // One wrk thread: it answers tens of thousands of requests per second, far above these routes,
  // and leaves the second core to the app, Redis and PostgreSQL.
  const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--timeout', '10s', '-s', script, o.url, '--', o.method, file];
  const quoted = [wrkPath!, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('bash', ['-c', `${quoted}; code=$?; times; exit $code`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const json = /MOSJSON (\{.*\})/.exec(out)?.[1];
  if (code !== 0 || !json) throw new Error(`wrk failed (exit ${code}): ${err || out}`);
  const r = JSON.parse(json) as {
    requests: number;
    durationUs: number;
    p50Us: number;
    p90Us: number;
    p99Us: number;
    p999Us: number;
    maxUs: number;
    errors: number;
    wraps: number;
    statuses: Record<string, number>;
    perSecond: Record<string, number>;
  };
  // `times`: this shell's user and system time, then its children's (wrk's).
  const timesLine = out.trim().split('\n').at(-1)!.trim().split(/\s+/);
  const loadGenSeconds = bashSeconds(timesLine[0]!) + bashSeconds(timesLine[1]!);
  const seconds = r.durationUs / 1e6;
  const answered = Object.values(r.statuses).reduce((a, b) => a + b, 0);
  const accepted = o.ok.reduce((a, c) => a + (r.statuses[String(c)] ?? 0), 0);
  return {
    rps: r.requests / seconds,
    p50: r.p50Us / 1000,
    p99: r.p99Us / 1000,
    tailMs: { p90: r.p90Us / 1000, p999: r.p999Us / 1000, max: r.maxUs / 1000 },
    answersPerSecond: Object.entries(r.perSecond)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, c]) => c),
    failures: answered - accepted + r.errors,
    requests: r.requests,
    connections: o.connections,
    statusCodes: r.statuses,
    errors: r.errors,
    seconds,
    loadGenUs: r.requests ? (loadGenSeconds * 1e6) / r.requests : null,
    wraps: r.wraps,
  };
}

/** A load run made ready: its requests minted (for wrk), so `fire` only sends them. */
export interface PreparedHot {
  /** The timed run. Once. */
  fire(): Promise<HotLoad>;
  /** Removes the minted requests (after `fire`, or instead of it). */
  dispose(): void;
}

/**
 * Makes one timed run of `plan`'s requests against `url` ready: for wrk, mints its requests into a
 * file now, so that a CPU meter started between this and `fire` counts the app and not the
 * minting (a signed token per request: seconds of this thread for a hold run). MOS and its floor
 * are prepared the same way. autocannon mints in its own threads as it sends, so there is nothing
 * to do ahead.
 */
export function prepareHot(o: HotLoadOptions): PreparedHot {
  if (!wrkPath) {
    return {
      fire: async () => {
        const f = await fireBuyers({ url: o.url, method: o.method, connections: o.connections, plan: o.plan, ok: o.ok, seconds: o.seconds });
        return { ...f, loadGenUs: null, wraps: 0 };
      },
      dispose: () => {},
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'mos-wrk-'));
  try {
    const file = mintFile(dir, o.plan, o.mint);
    return { fire: () => runWrk(o, file, dir), dispose: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
