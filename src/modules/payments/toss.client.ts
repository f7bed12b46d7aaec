import {
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  type GeneratorFn,
  handleWhenResult,
  isBrokenCircuitError,
  type RetryPolicy,
  retry,
  type TimeoutPolicy,
  TimeoutStrategy,
  timeout,
} from 'cockatiel';
import { Agent, request } from 'undici';
import { type Clock, systemClock } from '../../platform/clock.js';
import {
  type CancelRequest,
  type ConfirmRequest,
  type PgGateway,
  type PgLookup,
  PgMisconfiguredError,
  type PgResult,
  type PgUnavailable,
  type PgUnknownReason,
  type TossPayment,
} from './pg-gateway.js';
import { classifyTossError, type TossCodeClass } from './toss-codes.js';

/** What the client needs to know; `Config['pg']` is one. */
export interface TossClientOptions {
  /** Base URL; a path prefix (a sandbox mounted under `/sandbox/toss`) is kept. */
  apiUrl: string;
  secretKey: string;
  /** Most attempts per call, the first included. */
  attempts: number;
  attemptTimeoutMs: number;
  /** One call, retries and backoff included. */
  deadlineMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Consecutive failed attempts that open the breaker. */
  breakerFailures: number;
  breakerHalfOpenMs: number;
  /** Source of the backoff jitter, in [0, 1); tests pin it. */
  random?: () => number;
  /** Where breaker transitions are reported (a pino logger fits). */
  log?: { warn(fields: Record<string, unknown>, message: string): void };
}

/**
 * The Toss Payments client, the adapter of `PgGateway`. How a call runs, outermost first:
 *
 * 1. **Deadline** (`deadlineMs`): the call as a whole — attempts, backoff, the lookup after an
 *    ALREADY_PROCESSED answer — ends by then. When it passes, the attempt in flight is aborted
 *    and a confirm or cancel is `unknown`. The injected clock decides whether time is left before
 *    each attempt; timers do the waiting (a clock cannot wake a waiting socket).
 * 2. **Retry** (cockatiel `retry`, `attempts` at most): only what is safe to send again — a
 *    timeout, a connection error, a 5xx, a `retryable` Toss code. Every attempt of one call sends
 *    the **same Idempotency-Key**, so Toss runs a POST at most once and answers a resend with the
 *    first request's result (or 409 IDEMPOTENT_REQUEST_PROCESSING while it runs, itself
 *    retryable). Between attempts: exponential backoff with **full jitter**, a wait drawn in
 *    [0, min(`backoffMaxMs`, `backoffBaseMs`·2ⁿ)), so callers that failed together do not resend
 *    together.
 * 3. **Circuit breaker** (cockatiel `circuitBreaker`, `breakerFailures` consecutive failed
 *    attempts): a failure is a timeout, a connection error or a 5xx — Toss itself struggling. A
 *    buyer's refusal or a card company's PROVIDER_ERROR is an answer, not an outage, and counts
 *    as a success. While open, calls fail at once as `unavailable` (503 + Retry-After) without
 *    reaching Toss; after `breakerHalfOpenMs` one call tests it. The breaker is per client,
 *    i.e. per process, and cockatiel times its half-open wait on the system clock.
 * 4. **Attempt timeout** (cockatiel `timeout`, cooperative: the attempt's fetch is aborted).
 *
 * What the service gets (see `PgResult`): an answer Toss gave is classified by `toss-codes.ts`;
 * a call without an answer is `unknown` when any attempt may have reached Toss (it may have
 * charged: reconcile by lookup) and `unavailable` when none did (circuit open, connection
 * refused: nothing happened, fail fast). Misconfiguration throws `PgMisconfiguredError`.
 */
export function createTossClient(options: TossClientOptions, clock: Clock = systemClock): PgGateway {
  return new TossClient(options, clock);
}

/**
 * Full jitter (cockatiel generator): the n-th wait is drawn uniformly from
 * [0, min(maxDelay, initialDelay·exponentⁿ)). cockatiel's own `fullJitterGenerator` reads
 * Math.random; this one takes the random source, so a test can pin it.
 */
export function fullJitter(random: () => number): GeneratorFn<number> {
  return (attempt = 0, options) => {
    const cap = Math.min(options.maxDelay, options.initialDelay * options.exponent ** attempt);
    return [Math.floor(random() * cap), attempt + 1];
  };
}

/** The outcome of one attempt. */
type Attempt =
  /** A 2xx, its body parsed (undefined when it is not JSON). */
  | { kind: 'answer'; status: number; body: unknown }
  /** A non-2xx, classified. */
  | { kind: 'error'; status: number; code: string | undefined; message: string; cls: TossCodeClass }
  /** No answer: a timeout, a refused or dropped connection. */
  | { kind: 'transport'; detail: string }
  /** Not sent: the deadline had passed. */
  | { kind: 'not-sent' };

/** What one call learned across its attempts. */
interface CallState {
  /** Some attempt may have reached Toss (anything but a refused connection): its outcome can only be learnt by asking. */
  reached: boolean;
  attempts: number;
  last: string;
  /** Epoch ms, on the injected clock. */
  deadlineAt: number;
}

type Ended = { end: Attempt | 'circuit-open'; call: CallState; deadlineHit: boolean };

interface HttpRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: Record<string, unknown>;
  idempotencyKey?: string;
}

/** Connection errors raised before a request is written: the server never saw it. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

class TossClient implements PgGateway {
  readonly #base: string;
  readonly #authorization: string;
  readonly #retry: RetryPolicy;
  readonly #breaker: CircuitBreakerPolicy;
  readonly #timeout: TimeoutPolicy;
  readonly #unavailable: PgUnavailable;
  /** Keep-alive connections to Toss, shared by every call (idle sockets do not hold the process open). */
  readonly #agent = new Agent({ keepAliveTimeout: 10_000 });

  constructor(
    private readonly options: TossClientOptions,
    private readonly clock: Clock,
  ) {
    this.#base = options.apiUrl.replace(/\/+$/, '');
    // The secret key is the Basic user name, with an empty password: the colon is required (docs/toss.md B2).
    this.#authorization = `Basic ${Buffer.from(`${options.secretKey}:`, 'utf8').toString('base64')}`;
    const isAttempt = (v: unknown): v is Attempt => typeof v === 'object' && v !== null && 'kind' in v;
    this.#retry = retry(
      handleWhenResult((r) => isAttempt(r) && (r.kind === 'transport' || (r.kind === 'error' && r.cls === 'retryable'))),
      {
        maxAttempts: options.attempts - 1,
        backoff: new ExponentialBackoff<number>({
          generator: fullJitter(options.random ?? Math.random),
          initialDelay: options.backoffBaseMs,
          maxDelay: options.backoffMaxMs,
          exponent: 2,
        }),
      },
    );
    this.#breaker = circuitBreaker(
      handleWhenResult((r) => isAttempt(r) && (r.kind === 'transport' || (r.kind === 'error' && r.status >= 500))),
      { halfOpenAfter: options.breakerHalfOpenMs, breaker: new ConsecutiveBreaker(options.breakerFailures) },
    );
    this.#timeout = timeout(options.attemptTimeoutMs, TimeoutStrategy.Cooperative);
    this.#unavailable = { kind: 'unavailable', retryAfterSeconds: Math.max(1, Math.ceil(options.breakerHalfOpenMs / 1000)) };
    const log = options.log;
    if (log) {
      this.#breaker.onBreak(() => log.warn({ dependency: 'pg', breaker: 'open' }, 'PG circuit breaker opened: PG calls fail fast'));
      this.#breaker.onHalfOpen(() => log.warn({ dependency: 'pg', breaker: 'half-open' }, 'PG circuit breaker half-open: testing with one call'));
      this.#breaker.onReset(() => log.warn({ dependency: 'pg', breaker: 'closed' }, 'PG circuit breaker closed'));
    }
  }

  async confirm(req: ConfirmRequest): Promise<PgResult> {
    checkKey(req.idempotencyKey);
    const deadlineAt = this.#deadlineAt();
    const ended = await this.#send(
      {
        method: 'POST',
        path: '/v1/payments/confirm',
        body: { paymentKey: req.paymentKey, orderId: req.orderId, amount: req.amount },
        idempotencyKey: req.idempotencyKey,
      },
      deadlineAt,
    );
    const isOurs = (p: TossPayment) => p.paymentKey === req.paymentKey && p.orderId === req.orderId && p.totalAmount === req.amount;
    return this.#settle(ended, {
      answer: (payment) =>
        isOurs(payment)
          ? { kind: 'done', payment }
          : unknown('bad-response', `the PG answered with payment of order ${payment.orderId}, amount ${payment.totalAmount}`),
      alreadyDone: async () => {
        const found = await this.#lookup(`/v1/payments/${enc(req.paymentKey)}`, deadlineAt);
        if (found.kind !== 'found') return unknown('lookup-failed', `ALREADY_PROCESSED_PAYMENT, then the lookup: ${describeLookup(found)}`);
        const payment = found.payment;
        // A paymentKey confirmed for another order or amount does not pay this one.
        if (!isOurs(payment)) return rejected('ALREADY_PROCESSED_PAYMENT', 'The paymentKey was confirmed for another order or amount');
        return asConfirmed(payment);
      },
    });
  }

  async cancel(req: CancelRequest): Promise<PgResult> {
    checkKey(req.idempotencyKey);
    const deadlineAt = this.#deadlineAt();
    const body: Record<string, unknown> = { cancelReason: req.cancelReason };
    if (req.cancelAmount !== undefined) body.cancelAmount = req.cancelAmount;
    const path = `/v1/payments/${enc(req.paymentKey)}/cancel`;
    const ended = await this.#send({ method: 'POST', path, body, idempotencyKey: req.idempotencyKey }, deadlineAt);
    return this.#settle(ended, {
      answer: (payment) =>
        payment.paymentKey === req.paymentKey ? { kind: 'done', payment } : unknown('bad-response', `the PG answered with payment ${payment.paymentKey}`),
      alreadyDone: async () => {
        const found = await this.#lookup(`/v1/payments/${enc(req.paymentKey)}`, deadlineAt);
        return found.kind === 'found'
          ? { kind: 'done', payment: found.payment }
          : unknown('lookup-failed', `already cancelled, then the lookup: ${describeLookup(found)}`);
      },
    });
  }

  getByPaymentKey(paymentKey: string): Promise<PgLookup> {
    return this.#lookup(`/v1/payments/${enc(paymentKey)}`, this.#deadlineAt());
  }

  getByOrderId(orderId: string): Promise<PgLookup> {
    return this.#lookup(`/v1/payments/orders/${enc(orderId)}`, this.#deadlineAt());
  }

  async #lookup(path: string, deadlineAt: number): Promise<PgLookup> {
    const ended = await this.#send({ method: 'GET', path }, deadlineAt);
    const { end } = ended;
    if (end !== 'circuit-open' && end.kind === 'error' && end.cls === 'not-found') return { kind: 'not-found' };
    return this.#settle<PgLookup>(ended, {
      answer: (payment) => ({ kind: 'found', payment }),
      // Nothing is "already done" by a GET; should Toss say so, it is a refusal like any other.
      alreadyDone: async () =>
        rejected(end !== 'circuit-open' && end.kind === 'error' ? (end.code ?? 'UNEXPECTED') : 'UNEXPECTED', 'An unexpected answer to a lookup'),
    });
  }

  /** Turns how a call ended into the port's result. */
  async #settle<R extends PgResult | PgLookup>(
    { end, call, deadlineHit }: Ended,
    on: { answer: (payment: TossPayment) => R; alreadyDone: () => Promise<R> },
  ): Promise<R> {
    const noAnswer = (reason: PgUnknownReason): R =>
      (call.reached ? unknown(reason, `${call.attempts} attempt(s), last: ${call.last}`) : this.#unavailable) as R;
    if (end === 'circuit-open') return noAnswer('circuit-open');
    switch (end.kind) {
      case 'not-sent':
        return noAnswer('deadline');
      case 'transport':
        return noAnswer(deadlineHit ? 'deadline' : 'retries-exhausted');
      case 'answer':
        return isPayment(end.body) ? on.answer(end.body) : (unknown('bad-response', `HTTP ${end.status} without a payment`) as R);
      case 'error':
        switch (end.cls) {
          case 'retryable':
            return noAnswer(deadlineHit ? 'deadline' : 'retries-exhausted');
          case 'outcome-unknown':
            return unknown('pg-unknown', `${end.code ?? `HTTP ${end.status}`}: ${end.message}`) as R;
          case 'already-done':
            return on.alreadyDone();
          case 'not-found':
          case 'final':
            return rejected(end.code ?? `HTTP_${end.status}`, end.message) as R;
          case 'misconfigured':
            throw new PgMisconfiguredError(end.code ?? `HTTP ${end.status}`, end.status, end.message);
        }
    }
  }

  #deadlineAt(): number {
    return this.clock.now().getTime() + this.options.deadlineMs;
  }

  /** Runs one call: deadline ⊃ retry ⊃ breaker ⊃ attempt timeout ⊃ fetch. */
  async #send(req: HttpRequest, deadlineAt: number): Promise<Ended> {
    const call: CallState = { reached: false, attempts: 0, last: 'none', deadlineAt };
    const deadline = new AbortController();
    const remaining = deadlineAt - this.clock.now().getTime();
    if (remaining <= 0) return { end: { kind: 'not-sent' }, call, deadlineHit: true };
    const timer = setTimeout(() => deadline.abort(), remaining);
    const deadlinePassed = new Promise<{ kind: 'not-sent' }>((resolve) =>
      deadline.signal.addEventListener('abort', () => resolve({ kind: 'not-sent' }), { once: true }),
    );
    const run = this.#retry
      .execute(
        ({ signal }) =>
          this.#breaker.execute(({ signal }) => this.#timeout.execute(({ signal }) => this.#attempt(req, call, signal, deadline.signal), signal), signal),
        deadline.signal,
      )
      .catch((err: unknown) => {
        if (isBrokenCircuitError(err)) return 'circuit-open' as const;
        throw err;
      });
    // Past the deadline the retry loop may still be in a backoff; it ends on its own, sending nothing.
    run.catch(() => undefined);
    try {
      const end = await Promise.race([run, deadlinePassed]);
      return { end, call, deadlineHit: deadline.signal.aborted };
    } finally {
      clearTimeout(timer);
    }
  }

  async #attempt(req: HttpRequest, call: CallState, signal: AbortSignal, deadline: AbortSignal): Promise<Attempt> {
    if (signal.aborted || this.clock.now().getTime() >= call.deadlineAt) return { kind: 'not-sent' };
    call.attempts++;
    const headers: Record<string, string> = {
      authorization: this.#authorization,
      accept: 'application/json',
      'accept-language': 'en-US',
    };
    if (req.body) headers['content-type'] = 'application/json';
    if (req.idempotencyKey !== undefined) headers['idempotency-key'] = req.idempotencyKey;
    let status: number;
    let text: string;
    try {
      // undici's `request`, not `fetch`: the same client without the WHATWG streams and objects
      // around it, a third of fetch's CPU per call; it follows no redirect.
      const res = await request(`${this.#base}${req.path}`, {
        method: req.method,
        headers,
        body: req.body ? JSON.stringify(req.body) : null,
        signal,
        dispatcher: this.#agent,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      // A timeout may strike after the request was written: only a refused connection proves it was not.
      if (signal.aborted || !wasNeverSent(err)) call.reached = true;
      call.last = signal.aborted ? (deadline.aborted ? 'deadline' : `timeout after ${this.options.attemptTimeoutMs} ms`) : describeError(err);
      return { kind: 'transport', detail: call.last };
    }
    call.reached = true;
    const body = parseJson(text);
    if (status >= 200 && status < 300) {
      call.last = `HTTP ${status}`;
      return { kind: 'answer', status, body };
    }
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const code = typeof fields.code === 'string' ? fields.code : undefined;
    const message = typeof fields.message === 'string' ? fields.message : `HTTP ${status}`;
    call.last = `HTTP ${status} ${code ?? '(no code)'}`;
    return { kind: 'error', status, code, message, cls: classifyTossError(status, code) };
  }
}

/** A confirm found already processed: its payment as it stands now. */
function asConfirmed(payment: TossPayment): PgResult {
  switch (payment.status) {
    case 'DONE':
    case 'CANCELED':
    case 'PARTIAL_CANCELED':
    case 'WAITING_FOR_DEPOSIT':
      return { kind: 'done', payment };
    case 'ABORTED':
    case 'EXPIRED':
      return rejected(payment.failure?.code ?? payment.status, payment.failure?.message ?? `The payment is ${payment.status}`);
    default:
      return unknown('pg-unknown', `ALREADY_PROCESSED_PAYMENT but the payment is ${payment.status}`);
  }
}

const unknown = (reason: PgUnknownReason, detail: string) => ({ kind: 'unknown', reason, detail }) as const;
const rejected = (code: string, message: string) => ({ kind: 'rejected', code, message }) as const;

function describeLookup(l: PgLookup): string {
  if (l.kind === 'unknown') return `${l.reason} (${l.detail})`;
  if (l.kind === 'rejected') return `${l.code}: ${l.message}`;
  return l.kind;
}

function isPayment(v: unknown): v is TossPayment {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p.paymentKey === 'string' && typeof p.orderId === 'string' && typeof p.status === 'string' && typeof p.totalAmount === 'number';
}

function checkKey(key: string): void {
  // Toss refuses a key over 300 characters (INVALID_IDEMPOTENCY_KEY): a caller's bug, caught before it costs a request.
  if (key.length === 0 || key.length > 300) throw new RangeError(`an Idempotency-Key has 1 to 300 characters, got ${key.length}`);
}

const enc = encodeURIComponent;

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** A request failure whose every cause is a connection that was never made. */
function wasNeverSent(err: unknown): boolean {
  const codes = failureCodes(err);
  return codes.length > 0 && codes.every((c) => NOT_SENT_CODES.has(c));
}

/** The error codes of a failure: its own, or its cause's (a wrapped socket error). */
function failureCodes(err: unknown): string[] {
  const own = errorCodes(err);
  return own.length ? own : errorCodes((err as { cause?: unknown } | null)?.cause);
}

function errorCodes(err: unknown): string[] {
  if (typeof err !== 'object' || err === null) return [];
  const e = err as { code?: unknown; errors?: unknown };
  if (Array.isArray(e.errors) && e.errors.length > 0) return e.errors.flatMap(errorCodes);
  return typeof e.code === 'string' ? [e.code] : [];
}

function describeError(err: unknown): string {
  const codes = failureCodes(err);
  return codes.length ? codes.join(',') : err instanceof Error ? err.message : String(err);
}
