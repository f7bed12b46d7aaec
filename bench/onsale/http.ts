/**
 * The crowd's HTTP: one undici Pool per API process (keep-alive connections shared by every
 * buyer, as many buyers behind one load balancer share its upstream connections), a buyer
 * sticking to one API and moving to another when its API stops answering — what a load
 * balancer does when a backend dies. Each call's latency is recorded by step.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

export interface Answer {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

export interface CallOptions {
  token?: string;
  admission?: string;
  body?: unknown;
  key?: string;
  /** Extra headers (If-None-Match). */
  headers?: Record<string, string>;
  /** Basic auth etc.: replaces the Bearer token. */
  authorization?: string;
}

/** Connection errors a buyer retries elsewhere: the API died or was restarting. */
export class Unreachable extends Error {
  override name = 'Unreachable';
}

/** Latencies of one kind of call, in ms, with the time each ended (ms since the scene's origin). */
export class Series {
  readonly ms: number[] = [];
  readonly at: number[] = [];
  /** Statuses seen (network errors as 0). */
  readonly statuses = new Map<number, number>();

  add(ms: number, at: number, status: number): void {
    this.ms.push(ms);
    this.at.push(at);
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }
}

/** A buyer as the crowd's HTTP sees it: the API it sticks to, and whether it was admitted. */
export interface Caller {
  api: number;
  /** Admitted buyers' calls go over connections of their own (`Http.admittedPools`). */
  admitted?: boolean;
}

export class Http {
  readonly pools: Pool[];
  /**
   * The admitted buyers' connections. On the internet every buyer has connections of its own and
   * a server serves them side by side; here all buyers share a few hundred, and a call waits in
   * this process for a free one. Sharing them with 100,000 waiting buyers put the few thousand
   * choosing seats behind minutes of queued polls, until their admissions lapsed unused.
   */
  readonly admittedPools: Pool[];
  readonly streamPools: Pool[];
  /** Calls by route label. */
  readonly series = new Map<string, Series>();
  /** Network errors seen (each one retried elsewhere). */
  networkErrors = 0;

  constructor(
    readonly bases: string[],
    connectionsPerApi: number,
    readonly origin: number,
  ) {
    this.pools = bases.map((b) => new Pool(b, { connections: connectionsPerApi, headersTimeout: 60_000, bodyTimeout: 60_000, keepAliveTimeout: 30_000 }));
    this.admittedPools = bases.map((b) => new Pool(b, { connections: 64, headersTimeout: 60_000, bodyTimeout: 60_000, keepAliveTimeout: 30_000 }));
    // Event streams hold their connection for minutes: a pool of their own, unbounded, so they never queue the calls.
    this.streamPools = bases.map((b) => new Pool(b, { headersTimeout: 60_000, bodyTimeout: 0 }));
  }

  seriesOf(label: string): Series {
    let s = this.series.get(label);
    if (!s) this.series.set(label, (s = new Series()));
    return s;
  }

  now(): number {
    return performance.now() - this.origin;
  }

  /** One attempt on API `api`; throws Unreachable on a connection error. */
  async once(api: number, label: string, method: 'GET' | 'POST' | 'DELETE', path: string, o: CallOptions = {}, admitted = false): Promise<Answer> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.authorization) headers.authorization = o.authorization;
    else if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.admission) headers['x-admission-token'] = o.admission;
    if (o.key) headers['idempotency-key'] = o.key;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    const started = performance.now();
    try {
      const pools = admitted ? this.admittedPools : this.pools;
      const res = await pools[api % pools.length]!.request({ method, path, headers, body });
      const text = await res.body.text();
      const ended = performance.now();
      this.seriesOf(label).add(ended - started, ended - this.origin, res.statusCode);
      let parsed: unknown = null;
      if (text.length && (text[0] === '{' || text[0] === '[')) parsed = JSON.parse(text);
      return { status: res.statusCode, body: parsed, headers: res.headers };
    } catch (err) {
      const ended = performance.now();
      this.seriesOf(label).add(ended - started, ended - this.origin, 0);
      this.networkErrors++;
      throw new Unreachable(`${method} ${path} on ${this.bases[api % this.bases.length]}: ${(err as Error).message}`);
    }
  }

  /**
   * A call that survives a dead API: on a connection error it moves to the next API after a
   * short pause (the same Idempotency-Key, so a request that did run is not run twice), and
   * answers 503 with Retry-After are waited out; `deadlineMs` bounds it all.
   */
  async call(buyer: Caller, label: string, method: 'GET' | 'POST' | 'DELETE', path: string, o: CallOptions = {}, deadlineMs = 30_000): Promise<Answer> {
    const end = performance.now() + deadlineMs;
    let delay = 100;
    for (;;) {
      try {
        const a = await this.once(buyer.api, label, method, path, o, buyer.admitted);
        if (a.status !== 503 || performance.now() > end) return a;
        const retryAfter = Number(a.headers['retry-after'] ?? 1);
        await sleep(Math.min(2000, Math.max(100, retryAfter * 1000 * Math.random())));
      } catch (err) {
        if (!(err instanceof Unreachable) || performance.now() > end) throw err;
        buyer.api = (buyer.api + 1) % this.pools.length;
        await sleep(delay * (0.5 + Math.random()));
        delay = Math.min(1000, delay * 2);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools, ...this.admittedPools, ...this.streamPools].map((p) => p.destroy()));
  }
}

/** p-th percentile (0–100) of unsorted values, nearest rank; 0 when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
