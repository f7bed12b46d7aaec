/**
 * Load with many distinct buyers: the typed front of bench/buyer-requests.cjs (which mints a
 * buyer's token per request inside the load generator) and an autocannon wrapper that counts
 * status codes, since for holds a 409 is a correct answer rather than a failure.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { duration, fmtInt, round, workers, type Figures } from './lib.js';

/** What bench/buyer-requests.cjs does for each request; see there. */
export type BuyerKind = 'queue-enter' | 'queue-poll' | 'hold' | 'hold-pair' | 'order' | 'coupon-claim' | 'confirm' | 'pg-confirm';

/** The body of a confirm: MOS's (`POST /v1/payments/confirm`) and the PG's are the same three fields. */
export interface PreparedPayment {
  paymentKey: string;
  orderId: string;
  amount: number;
}

export interface BuyerPlan {
  kind: BuyerKind;
  /** JWT_SECRET, issuer and audience of the app under load. */
  secret: string;
  issuer: string;
  audience: string;
  /** 12 hex digits: buyer `i` of this run is `buyerId(runId, i)`. */
  runId: string;
  /** The showtime of queue, hold and order requests (unused by coupon claims, whose URL names the campaign). */
  scheduleId: string;
  /** Next buyer number (index 0), shared by every load thread (SharedArrayBuffer). */
  counter: Int32Array;
  /** queue-poll: buyers first .. first + pool - 1 are polled at random. */
  first: number;
  pool: number;
  /** hold: the showtime's seats (two at random per request); hold-pair: buyer i asks for seats 2i and 2i+1, order: buyer i holds them. */
  seatIds: string[];
  /** confirm: buyer i pays payments[i] (the order buyer i placed, checked out at the PG); pg-confirm: checkout i. */
  payments: PreparedPayment[];
  /** pg-confirm: the sandbox's `Basic base64(secretKey + ':')`. */
  basicAuth: string;
}

interface BuyerRequestsModule {
  (req: unknown): unknown;
  configure(plan: BuyerPlan): void;
  buyerId(runId: string, i: number): string;
  buyerToken(plan: Pick<BuyerPlan, 'secret' | 'issuer' | 'audience' | 'runId'>, i: number): string;
}

const MODULE_PATH = fileURLToPath(new URL('./buyer-requests.cjs', import.meta.url));
const buyerRequests = createRequire(import.meta.url)(MODULE_PATH) as BuyerRequestsModule;

export const buyerId = (runId: string, i: number): string => buyerRequests.buyerId(runId, i);
export const buyerToken = (plan: Pick<BuyerPlan, 'secret' | 'issuer' | 'audience' | 'runId'>, i: number): string => buyerRequests.buyerToken(plan, i);
export const newRunId = (): string => randomBytes(6).toString('hex');

/** A plan with its own buyer counter starting at `first`. */
export function buyerPlan(
  fields: Omit<BuyerPlan, 'counter' | 'first' | 'pool' | 'seatIds' | 'payments' | 'basicAuth'> &
    Partial<Pick<BuyerPlan, 'first' | 'pool' | 'seatIds' | 'payments' | 'basicAuth'>>,
): BuyerPlan {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  counter[0] = fields.first ?? 0;
  return { first: 0, pool: 0, seatIds: [], payments: [], basicAuth: '', ...fields, counter };
}

/** Buyer numbers handed out so far (the next unused one). */
export const buyersUsed = (plan: BuyerPlan): number => Atomics.load(plan.counter, 0);

export interface LoadFigures extends Figures {
  /** Responses per status code. */
  statusCodes: Record<string, number>;
  /** Connection errors and timeouts (no status at all). */
  errors: number;
  /** Wall time of the run. */
  seconds: number;
}

/** `201×10,715 409×8,111` for a table cell. */
export const statusesText = (f: LoadFigures): string =>
  Object.entries(f.statusCodes)
    .map(([code, n]) => `${code}×${fmtInt(n)}`)
    .join(' ') + (f.errors ? ` err×${f.errors}` : '');

/** Cells a scenario adds to a results row: after req/s, and after the statuses. */
export interface ExtraCells {
  afterRate?: string[];
  afterStatuses?: string[];
}

/**
 * A results-table row of a load run: name, how it ran, connections, requests, req/s, the
 * scenario's own cells, p50, p99, statuses, more of its own, failures, and req/s ÷ bare.
 */
export const loadRow = (name: string, run: string, f: LoadFigures, bare: Figures, extra: ExtraCells = {}): string[] => [
  name,
  run,
  String(f.connections),
  fmtInt(f.requests),
  fmtInt(f.rps),
  ...(extra.afterRate ?? []),
  f.p50.toFixed(1),
  f.p99.toFixed(1),
  statusesText(f),
  ...(extra.afterStatuses ?? []),
  String(f.failures),
  (f.rps / bare.rps).toFixed(3),
];

/** The bare-Fastify reference in the same columns, the scenario's own cells left blank. */
export const bareRow = (bare: Figures, extra: { afterRate?: number; afterStatuses?: number } = {}): string[] => [
  'bare fastify /health/live',
  `${duration} s`,
  String(bare.connections),
  fmtInt(bare.requests),
  fmtInt(bare.rps),
  ...Array<string>(extra.afterRate ?? 0).fill(''),
  bare.p50.toFixed(1),
  bare.p99.toFixed(1),
  '',
  ...Array<string>(extra.afterStatuses ?? 0).fill(''),
  String(bare.failures),
  '1.000',
];

/** A load run as it goes into the final JSON line. */
export const loadJson = (f: LoadFigures, bareRps: number) => ({
  connections: f.connections,
  requests: f.requests,
  seconds: f.seconds,
  rps: round(f.rps, 0),
  p50Ms: f.p50,
  p99Ms: f.p99,
  statusCodes: f.statusCodes,
  failures: f.failures,
  ratioToBare: round(f.rps / bareRps, 3),
});

export interface LoadOptions {
  url: string;
  method: 'GET' | 'POST';
  connections: number;
  plan: BuyerPlan;
  /** Statuses that are answers (anything else counts as a failure). */
  ok: readonly number[];
  /** Exactly this many requests (distinct-buyer runs), or else `seconds` of load. */
  amount?: number;
  seconds?: number;
}

/**
 * One autocannon run whose every request goes through buyer-requests.cjs. Req/s is the
 * per-second sample average of a timed run (as in lib.ts) and requests ÷ wall time of a
 * fixed-amount run, whose last, partial second would otherwise drag the average down.
 */
export async function fireBuyers(o: LoadOptions): Promise<LoadFigures> {
  if (!workers) buyerRequests.configure(o.plan); // load in this thread: hand the plan over directly
  const opts = {
    url: o.url,
    connections: o.connections,
    // autocannon notices that a fixed-amount run is over only at its next sample; sampling
    // every 50 ms instead of every second keeps that idle tail out of the run's wall time.
    ...(o.amount !== undefined ? { amount: o.amount, sampleInt: 50 } : { duration: o.seconds ?? 1 }),
    // `workers: undefined` (not 0) is autocannon's single-threaded mode.
    ...(workers > 0 ? { workers } : {}),
    requests: [
      {
        method: o.method,
        // A path, not the function: the only form a worker thread can load (autocannon
        // requires it there; in single-threaded mode it requires it in this thread).
        setupRequest: MODULE_PATH,
        // Only requests with a JSON body say so: Fastify answers 400 to an empty JSON body.
        ...(['hold', 'hold-pair', 'order', 'confirm', 'pg-confirm'].includes(o.plan.kind) ? { headers: { 'content-type': 'application/json' } } : {}),
      },
    ],
    // Not an autocannon option: it rides along in `workerData` for buyer-requests.cjs.
    mosBuyerPlan: o.plan,
  };
  const r = await autocannon(opts as unknown as autocannon.Options);
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries((r as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats ?? {})) {
    statusCodes[code] = stat.count;
  }
  const answered = Object.values(statusCodes).reduce((n, c) => n + c, 0);
  const accepted = o.ok.reduce((n, code) => n + (statusCodes[String(code)] ?? 0), 0);
  const seconds = r.duration;
  return {
    rps: o.amount !== undefined ? r.requests.total / seconds : r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    failures: answered - accepted + r.errors,
    requests: r.requests.total,
    connections: o.connections,
    statusCodes,
    errors: r.errors,
    seconds,
  };
}
