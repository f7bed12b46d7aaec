/**
 * The one place that reads `process.env`. Every key is declared once, in `configSpec`: its
 * one-line doc, its default, its parser and its place in `Config` (`path`); the `Config` type
 * and the object `loadConfig` returns are both derived from that entry. A bad value stops the
 * process at start with a message naming the key. The README's configuration table is
 * generated from `configSpec` (`npm run docs:config`) and a test keeps them in sync.
 */

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Parser<T> = (raw: string) => T;

export type Mode = 'embedded' | 'production';

interface Entry<T> {
  /** Where the parsed value sits in `Config`, dot-separated: `'booking.maxSeatsPerBuyer'`. */
  path: string;
  doc: string;
  /** Raw default as it would be written in the environment; undefined = unset. */
  default?: string;
  parse: Parser<T>;
  /**
   * The value when the key is unset and has no default: one that depends on the mode, or on
   * other keys (`raw`: every key's parsed value by env name, before any `unset` rule).
   */
  unset?: (mode: Mode, raw: RawValues) => T;
}

/** Every key's parsed value by env name, as an `unset` rule reads them (before any `unset` rule). */
type RawValues = Readonly<Record<string, unknown>>;

const int =
  (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`expected an integer in ${min}..${max}, got ${n}`);
    return n;
  };

const bool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new Error(`expected true or false, got "${raw}"`);
};

const str =
  (check?: (v: string) => string | undefined): Parser<string> =>
  (raw) => {
    const problem = check?.(raw);
    if (problem) throw new Error(problem);
    return raw;
  };

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    if (!(values as string[]).includes(raw)) throw new Error(`expected one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };

const url =
  (...protocols: string[]): Parser<string> =>
  (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new Error(`expected a URL, got "${raw}"`);
    }
    if (!protocols.includes(parsed.protocol)) throw new Error(`expected a ${protocols.join(' or ')} URL`);
    return raw;
  };

const fraction: Parser<number> = (raw) => {
  if (!/^\s*(?:0|1|0?\.\d+|1\.0*)\s*$/.test(raw)) throw new Error(`expected a number from 0 to 1, got "${raw}"`);
  return Number(raw);
};

const list: Parser<readonly string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

// The overloads keep, in the type of each entry, its path as a literal and whether it always
// has a value (a default, or an `unset` rule) — what `Config` is derived from.
function entry<T, const P extends string>(e: {
  path: P;
  doc: string;
  default: string;
  parse: Parser<T>;
}): { path: P; doc: string; default: string; parse: Parser<T> };
function entry<T, const P extends string>(e: {
  path: P;
  doc: string;
  parse: Parser<T>;
  unset: (mode: Mode, raw: RawValues) => T;
}): { path: P; doc: string; parse: Parser<T>; unset: (mode: Mode, raw: RawValues) => T };
function entry<T, const P extends string>(e: { path: P; doc: string; parse: Parser<T> }): { path: P; doc: string; default?: string; parse: Parser<T> };
function entry<T>(e: Entry<T>): Entry<T> {
  return e;
}

function timeZoneKnown(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Whether this process mounts the sandbox PG: TOSS_SANDBOX, else on in embedded mode. */
function sandboxMounted(mode: Mode, raw: RawValues): boolean {
  return (raw.TOSS_SANDBOX as boolean | undefined) ?? mode === 'embedded';
}

export const configSpec = {
  PORT: entry({ path: 'http.port', doc: 'HTTP port the API listens on', default: '3000', parse: int(0, 65535) }),
  HOST: entry({
    path: 'http.host',
    doc: 'Interface the API binds to. Unset: `127.0.0.1` in embedded mode (this machine only: its demo accounts are known to whoever reads the start output), `0.0.0.0` in production (containers and load balancers reach it)',
    parse: str((v) => (v.trim() === '' ? 'must not be blank' : undefined)),
    unset: (mode) => (mode === 'embedded' ? '127.0.0.1' : '0.0.0.0'),
  }),
  DATABASE_URL: entry({
    path: 'db.url',
    doc: 'PostgreSQL URL. Set together with REDIS_URL for production mode; unset = embedded PGlite',
    parse: url('postgres:', 'postgresql:'),
  }),
  REDIS_URL: entry({
    path: 'redis.url',
    doc: 'Redis URL. Set together with DATABASE_URL for production mode (or REDIS_CLUSTER_NODES instead); unset = in-memory adapters',
    parse: url('redis:', 'rediss:'),
  }),
  REDIS_CLUSTER_NODES: entry({
    path: 'redis.clusterNodes',
    doc: 'A Redis Cluster instead of one Redis: some of its nodes as `host:port,host:port` (the client discovers the rest and follows failovers). Set instead of REDIS_URL, together with DATABASE_URL',
    parse: (raw) => {
      const nodes = raw
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean);
      const bad = nodes.find((n) => !/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/.test(n));
      if (!nodes.length || bad !== undefined) throw new Error(`expected host:port,host:port…, got "${bad ?? raw}"`);
      return nodes as readonly string[];
    },
  }),
  REDIS_WAIT_REPLICAS: entry({
    path: 'redis.waitReplicas',
    doc: 'Replicas that must have a coupon claim (and every issue event the wallet consumer persists) before it counts (Redis WAIT): 1 on a cluster or server with a replica, so a failover never loses a claim a buyer was told ISSUED; 0 = no wait (one Redis without replicas)',
    default: '0',
    parse: int(0, 5),
  }),
  REDIS_WAIT_TIMEOUT_MS: entry({
    path: 'redis.waitTimeoutMs',
    doc: 'How long a claim waits for REDIS_WAIT_REPLICAS replicas; short of them the claim answers 503 (its outcome is then known only from the wallet) and the consumer leaves its events pending',
    default: '200',
    parse: int(1, 10_000),
  }),
  DATABASE_POOL_SIZE: entry({ path: 'db.poolSize', doc: 'PostgreSQL connections per process (production)', default: '10', parse: int(1, 500) }),
  DATABASE_CONNECT_TIMEOUT_MS: entry({
    path: 'db.connectTimeoutMs',
    doc: 'How long a request waits for a new PostgreSQL connection before it answers 503 (production)',
    default: '2000',
    parse: int(100, 60_000),
  }),
  REDIS_COMMAND_TIMEOUT_MS: entry({
    path: 'redis.commandTimeoutMs',
    doc: 'How long a Redis command may take before it fails (503 at the edge); while Redis is down commands fail at once (production)',
    default: '1000',
    parse: int(50, 60_000),
  }),
  DATA_DIR: entry({
    path: 'db.dataDir',
    doc: 'Embedded mode: directory for the PGlite database, the generated JWT secret and the demo passwords (`demo-accounts.json`); `memory://` keeps nothing',
    default: '.mos',
    parse: str((v) => (v.length === 0 ? 'must not be empty' : undefined)),
  }),
  REDIS_KEY_PREFIX: entry({
    path: 'redis.keyPrefix',
    doc: 'Prefix of every Redis key (tests and multi-tenant deployments); no braces, so hash tags stay valid',
    default: 'mos:',
    parse: str((v) => (/[{}]/.test(v) ? 'must not contain { or }' : undefined)),
  }),
  LOG_LEVEL: entry({
    path: 'logLevel',
    doc: 'pino log level',
    default: 'info',
    parse: oneOf<string>('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  }),
  JWT_SECRET: entry({
    path: 'auth.jwtSecret',
    doc: 'HS256 key for access and admission tokens (at least 32 characters). Required in production; embedded mode generates one in DATA_DIR',
    parse: str((v) => (v.length < 32 ? 'must be at least 32 characters' : undefined)),
  }),
  JWT_ISSUER: entry({ path: 'auth.issuer', doc: 'Issuer (`iss`) of access tokens, checked on every request', default: 'mos', parse: str() }),
  JWT_AUDIENCE: entry({ path: 'auth.audience', doc: 'Audience (`aud`) of access tokens, checked on every request', default: 'mos-api', parse: str() }),
  ACCESS_TOKEN_TTL_SECONDS: entry({ path: 'auth.accessTokenTtlSeconds', doc: 'Lifetime of an access token', default: '900', parse: int(30, 86_400) }),
  REFRESH_TOKEN_TTL_SECONDS: entry({
    path: 'auth.refreshTokenTtlSeconds',
    doc: 'Lifetime of a refresh token (and of its family since the last rotation)',
    default: '1209600',
    parse: int(60, 31_536_000),
  }),
  HTTP_HEADERS_TIMEOUT_MS: entry({
    path: 'http.headersTimeoutMs',
    doc: 'A client must send its request headers within this time of connecting (or of its previous request), else 408 and the connection is closed: a slow-headers client cannot hold a connection',
    default: '10000',
    parse: int(100, 600_000),
  }),
  HTTP_REQUEST_TIMEOUT_MS: entry({
    path: 'http.requestTimeoutMs',
    doc: 'A client must send its whole request (headers and body) within this time, else 408 and the connection is closed; at least HTTP_HEADERS_TIMEOUT_MS. Responses, event streams included, are not limited by it',
    default: '30000',
    parse: int(100, 3_600_000),
  }),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: entry({
    path: 'http.keepAliveTimeoutMs',
    doc: "An idle keep-alive connection is closed after this long. Behind a load balancer keep it above the balancer's idle timeout (60 s for nginx and AWS ALB), or the balancer may reuse a connection as it closes",
    default: '72000',
    parse: int(100, 3_600_000),
  }),
  BODY_LIMIT_BYTES: entry({
    path: 'http.bodyLimit',
    doc: 'Largest accepted request body; larger answers 400',
    default: '262144',
    parse: int(1024, 50_000_000),
  }),
  CORS_ORIGINS: entry({
    path: 'http.corsOrigins',
    doc: 'Comma-separated origins allowed by CORS; empty = CORS off, `*` = any origin',
    default: '',
    parse: list,
  }),
  TRUST_PROXY: entry({
    path: 'http.trustProxy',
    doc: 'Trust X-Forwarded-* from the load balancer (needed for per-IP rate limits behind one)',
    default: 'false',
    parse: bool,
  }),
  RATE_LIMIT_MAX: entry({ path: 'rateLimit.max', doc: 'Requests per client IP per window on every API route', default: '1200', parse: int(1) }),
  RATE_LIMIT_WINDOW_SECONDS: entry({ path: 'rateLimit.windowSeconds', doc: 'Window of the per-IP rate limit', default: '60', parse: int(1, 86_400) }),
  RATE_LIMIT_SYNC_MS: entry({
    path: 'rateLimit.syncMs',
    doc: 'How often each API process adds its per-IP counts to the shared ones in Redis (production); across P processes a client may pass the limit by at most (P - 1) × its rate per process × this',
    default: '250',
    parse: int(10, 10_000),
  }),
  LOGIN_MAX_PER_EMAIL_IP: entry({
    path: 'rateLimit.loginMaxPerEmailIp',
    doc: 'Login attempts per email from one client IP per login window: what slows one guesser without locking the owner out (the owner signs in from another address)',
    default: '5',
    parse: int(1),
  }),
  LOGIN_MAX_PER_EMAIL: entry({
    path: 'rateLimit.loginMaxPerEmail',
    doc: 'Login attempts per email from all addresses per login window: the ceiling a guesser spread over many addresses meets (it locks the account for everyone until the window passes)',
    default: '20',
    parse: int(1),
  }),
  LOGIN_MAX_PER_IP: entry({ path: 'rateLimit.loginMaxPerIp', doc: 'Login attempts per client IP per login window', default: '30', parse: int(1) }),
  LOGIN_WINDOW_SECONDS: entry({ path: 'rateLimit.loginWindowSeconds', doc: 'Window of the login rate limits', default: '300', parse: int(1, 86_400) }),
  IDEMPOTENCY_TTL_SECONDS: entry({
    path: 'idempotency.ttlSeconds',
    doc: 'How long a stored response is replayed for its Idempotency-Key',
    default: '86400',
    parse: int(60),
  }),
  IDEMPOTENCY_LOCK_SECONDS: entry({
    path: 'idempotency.lockSeconds',
    doc: 'How long an in-flight Idempotency-Key stays locked if its process dies mid-request',
    default: '60',
    parse: int(1, 3600),
  }),
  METRICS_TOKEN: entry({
    path: 'metricsToken',
    doc: 'When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>` (at least 16 characters); unset = /metrics is public, so keep it off the public load balancer',
    parse: str((v) => (v.length < 16 ? 'must be at least 16 characters' : undefined)),
  }),
  WEB_DIR: entry({
    path: 'http.webDir',
    doc: "Directory of the built box office web app served at `/` (`npm run web:build`); unset = `web/dist` beside the code (the checkout's, or the Docker image's); `off` = no web app, only the API",
    parse: str((v) => (v.length === 0 ? 'must not be empty' : undefined)),
  }),
  ALERT_WEBHOOK_URL: entry({
    path: 'alerts.webhookUrl',
    doc: 'Slack-compatible incoming webhook (`{"text": …}`) told of failures that need a person, once per incident; unset = alerts are only logged',
    parse: url('http:', 'https:'),
  }),
  ALERT_REPEAT_AFTER_SECONDS: entry({
    path: 'alerts.repeatAfterSeconds',
    doc: 'An incident already told is told again only after this long (across all processes)',
    default: '3600',
    parse: int(1, 7 * 86_400),
  }),
  ALERT_TIMEOUT_MS: entry({ path: 'alerts.timeoutMs', doc: 'How long posting one alert may take', default: '3000', parse: int(100, 60_000) }),
  SHUTDOWN_GRACE_MS: entry({
    path: 'shutdownGraceMs',
    doc: 'How long shutdown waits for in-flight requests and jobs',
    default: '10000',
    parse: int(0, 600_000),
  }),
  JOB_LEASE_SECONDS: entry({
    path: 'jobs.leaseSeconds',
    doc: 'Lease a worker takes at each run of a periodic job; another worker takes over once it lapses',
    default: '15',
    parse: int(2, 3600),
  }),
  REFRESH_TOKEN_PURGE_INTERVAL_SECONDS: entry({
    path: 'jobs.refreshTokenPurgeIntervalSeconds',
    doc: 'How often the worker deletes refresh tokens past their expiry',
    default: '3600',
    parse: int(1),
  }),
  WAITING_ROOM_MAX_ACTIVE: entry({
    path: 'catalog.waitingRoomDefaults.maxActive',
    doc: "Default size of a showtime's active set (buyers admitted at once) when its settings do not say",
    default: '500',
    parse: int(1, 1_000_000),
  }),
  WAITING_ROOM_ADMIT_PER_TICK: entry({
    path: 'catalog.waitingRoomDefaults.admitPerTick',
    doc: 'Default number of buyers a showtime admits per admission tick when its settings do not say',
    default: '50',
    parse: int(1, 100_000),
  }),
  WAITING_ROOM_TICK_MS: entry({
    path: 'waitingRoom.tickMs',
    doc: 'Interval of the admission job (one leader among all workers)',
    default: '1000',
    parse: int(50, 60_000),
  }),
  WAITING_ROOM_ADMISSION_TTL_SECONDS: entry({
    path: 'waitingRoom.admissionTtlSeconds',
    doc: 'How long an admitted buyer stays in the active set (holding and ordering seats) unless they leave first',
    default: '600',
    parse: int(10, 86_400),
  }),
  WAITING_ROOM_ABANDON_AFTER_SECONDS: entry({
    path: 'waitingRoom.abandonAfterSeconds',
    doc: 'A waiting buyer who has not polled (GET …/queue or the stream) for this long is dropped',
    default: '60',
    parse: int(5, 86_400),
  }),
  WAITING_ROOM_MAX_DROPS_PER_TICK: entry({
    path: 'waitingRoom.maxDropsPerTick',
    doc: 'Most abandoned buyers removed per room per tick (bounds a tick)',
    default: '2000',
    parse: int(1, 1_000_000),
  }),
  WAITING_ROOM_STREAM_INTERVAL_MS: entry({
    path: 'waitingRoom.streamIntervalMs',
    doc: 'How often the queue stream checks positions (one shared loop per showtime per process)',
    default: '1000',
    parse: int(100, 60_000),
  }),
  WAITING_ROOM_MAX_STREAMS_PER_USER: entry({
    path: 'waitingRoom.maxStreamsPerUser',
    doc: 'Open queue streams (GET …/queue/stream) one buyer may hold per API process; more answer 429 RATE_LIMITED. Per process: behind N API processes a buyer may reach N times this',
    default: '4',
    parse: int(1, 1000),
  }),
  WAITING_ROOM_AUDIT_CAP: entry({
    path: 'waitingRoom.auditCap',
    doc: 'Admissions kept per showtime in the admission log',
    default: '200000',
    parse: int(0, 10_000_000),
  }),
  ADMISSION_TOKEN_TTL_SECONDS: entry({
    path: 'waitingRoom.tokenTtlSeconds',
    doc: 'Lifetime of an admission token (X-Admission-Token); polling the queue renews it while admitted',
    default: '120',
    parse: int(5, 86_400),
  }),
  MAX_SEATS_PER_BUYER: entry({ path: 'booking.maxSeatsPerBuyer', doc: 'Seats one buyer may hold at once per showtime', default: '4', parse: int(1, 20) }),
  HOLD_TTL_SECONDS: entry({ path: 'booking.holdTtlSeconds', doc: 'How long a seat hold lasts before it lapses', default: '600', parse: int(10, 86_400) }),
  PAYMENT_WINDOW_SECONDS: entry({
    path: 'booking.paymentWindowSeconds',
    doc: 'How long a placed order waits for payment (its holds and reservations last as long)',
    default: '600',
    parse: int(30, 86_400),
  }),
  REFUND_CUTOFF_MINUTES: entry({
    path: 'booking.refundCutoffMinutes',
    doc: 'A paid order can be cancelled (refunded through the PG) until this many minutes before its showtime starts; 0 = until it starts. Later: 409 NOT_CANCELLABLE',
    default: '0',
    parse: int(0, 60 * 24 * 30),
  }),
  ORDER_EXPIRY_INTERVAL_SECONDS: entry({
    path: 'booking.expiryIntervalSeconds',
    doc: 'How often the worker expires unpaid orders past their window',
    default: '5',
    parse: int(1, 3600),
  }),
  TOSS_API_URL: entry({
    path: 'pg.apiUrl',
    doc: "Base URL of Toss Payments' API (the payment gateway, PG): the real one, or a Toss-compatible sandbox. Unset: this process's own sandbox, `http://127.0.0.1:<PORT>/sandbox/toss`, where it mounts one (TOSS_SANDBOX; embedded mode by default), else `https://api.tosspayments.com`. Set it where the API does not listen on loopback, and for several processes (each mounted sandbox keeps its own ledger: run `mos sandbox` and point every process at it)",
    parse: url('http:', 'https:'),
    unset: (mode, raw) => (sandboxMounted(mode, raw) ? `http://127.0.0.1:${String(raw.PORT)}/sandbox/toss` : 'https://api.tosspayments.com'),
  }),
  TOSS_SECRET_KEY: entry({
    path: 'pg.secretKey',
    doc: 'Toss secret key (`test_sk…` or `live_sk…`), sent as HTTP Basic `base64(key + ":")`; the sandbox PG accepts it too. The default is the sandbox\'s test key, which the real Toss refuses: production sets its own. Never beside TOSS_SANDBOX with a `live_` key',
    default: 'test_sk_mos_sandbox',
    parse: str((v) =>
      v.trim() !== v || v.length === 0
        ? 'must not be blank or carry spaces'
        : v.includes(':')
          ? 'must not contain ":" (it ends the Basic user name)'
          : /^(?:test|live)_[A-Za-z0-9_]+$/.test(v)
            ? undefined
            : 'must start with test_ or live_ and hold only letters, digits and _',
    ),
  }),
  PG_ATTEMPTS: entry({
    path: 'pg.attempts',
    doc: 'Most attempts of one PG call (the first included): a timeout, a dropped connection, a 5xx or a retryable Toss code is sent again with the same Idempotency-Key',
    default: '4',
    parse: int(1, 20),
  }),
  PG_ATTEMPT_TIMEOUT_MS: entry({
    path: 'pg.attemptTimeoutMs',
    doc: 'How long one attempt of a PG call may take before it is abandoned (and, within the deadline, sent again with the same Idempotency-Key)',
    default: '3000',
    parse: int(10, 120_000),
  }),
  PG_DEADLINE_MS: entry({
    path: 'pg.deadlineMs',
    doc: 'How long one PG call may take, retries and backoff included; past it a confirm or cancel is reported as of unknown outcome and reconciled by a lookup',
    default: '10000',
    parse: int(10, 600_000),
  }),
  PG_BACKOFF_BASE_MS: entry({
    path: 'pg.backoffBaseMs',
    doc: 'Backoff before the first resend of a PG call; it doubles per resend up to PG_BACKOFF_MAX_MS, each wait drawn at random below it (full jitter)',
    default: '100',
    parse: int(1, 60_000),
  }),
  PG_BACKOFF_MAX_MS: entry({
    path: 'pg.backoffMaxMs',
    doc: 'Cap of the backoff between attempts of a PG call',
    default: '2000',
    parse: int(1, 600_000),
  }),
  PG_BREAKER_FAILURES: entry({
    path: 'pg.breakerFailures',
    doc: 'Consecutive failed PG attempts (timeouts, dropped connections, 5xx) that open the circuit breaker: PG calls then fail at once with 503 until it half-opens',
    default: '5',
    parse: int(1, 1000),
  }),
  PG_BREAKER_HALF_OPEN_MS: entry({
    path: 'pg.breakerHalfOpenMs',
    doc: 'How long the open PG circuit breaker refuses calls before it lets one test call through (also the 503 `Retry-After`)',
    default: '10000',
    parse: int(10, 3_600_000),
  }),
  PAYMENT_RECONCILE_INTERVAL_SECONDS: entry({
    path: 'payments.reconcileIntervalSeconds',
    doc: 'How often the worker (one leader) resolves payments of unknown outcome by asking the PG (`payments.reconcile`)',
    default: '30',
    parse: int(1, 3600),
  }),
  PAYMENT_RECONCILE_AFTER_SECONDS: entry({
    path: 'payments.reconcileAfterSeconds',
    doc: 'A payment left CONFIRMING this long is taken for orphaned by a crash and reconciled, and a PG lookup that finds no approval turns a payment this old REJECTED; longer than PG_DEADLINE_MS, so a confirm still in flight is never taken for one',
    default: '60',
    parse: int(1, 86_400),
  }),
  PAYMENT_PARKED_ALERT_MINUTES: entry({
    path: 'payments.parkedAlertMinutes',
    doc: 'A payment whose outcome is still open (UNKNOWN, CONFIRMING, or a refund REFUNDING) this long after it last changed is alerted (`payment-parked`, once per payment) by the reconciliation job',
    default: '15',
    parse: int(1, 7 * 24 * 60),
  }),
  PLATFORM_FEE_RATE: entry({
    path: 'settlement.platformFeeRate',
    doc: "The platform's fee on a sale, as a fraction (0.1 = 10 %) of the seller's revenue (list price total − seller-funded discounts); rounded half up to the won on each ledger entry",
    default: '0.1',
    parse: fraction,
  }),
  PG_FEE_RATE: entry({
    path: 'settlement.pgFeeRate',
    doc: "The PG's fee, as a fraction of the amount charged, borne by the seller; rounded half up to the won on each ledger entry",
    default: '0.03',
    parse: fraction,
  }),
  PG_FEE_REFUNDABLE: entry({
    path: 'settlement.pgFeeRefundable',
    doc: "Whether a refund gives the sale's PG fee back to the seller (false: the PG keeps it and the seller bears it)",
    default: 'false',
    parse: bool,
  }),
  SETTLEMENT_TIMEZONE: entry({
    path: 'settlement.timeZone',
    doc: 'IANA time zone whose calendar days the daily settlement (`settlement.daily`) and its consistency check (`settlement.check`) settle',
    default: 'Asia/Seoul',
    parse: str((v) => (timeZoneKnown(v) ? undefined : `not an IANA time zone this runtime knows: "${v}"`)),
  }),
  SETTLEMENT_GRACE_MINUTES: entry({
    path: 'settlement.graceMinutes',
    doc: 'How long after a day closes the daily settlement and its consistency check act on it (events of its last minutes reach the ledger meanwhile; one that comes later is settled with the next day)',
    default: '10',
    parse: int(0, 24 * 60),
  }),
  SETTLEMENT_RUN_INTERVAL_SECONDS: entry({
    path: 'settlement.runIntervalSeconds',
    doc: 'How often the worker (one leader) checks whether yesterday is settled and settles it (`settlement.daily`)',
    default: '300',
    parse: int(1, 86_400),
  }),
  SETTLEMENT_CHECK_INTERVAL_SECONDS: entry({
    path: 'settlement.checkIntervalSeconds',
    doc: "How often the worker (one leader) compares yesterday's settlement ledger with the payments' records and alerts on a difference (`settlement.check`, `settlement-mismatch`, once per day)",
    default: '3600',
    parse: int(1, 86_400),
  }),
  COUPON_CONSUMER_BATCH: entry({
    path: 'coupons.consumerBatch',
    doc: 'Issue events the wallet consumer persists per pass',
    default: '200',
    parse: int(1, 10_000),
  }),
  COUPON_CONSUMER_IDLE_MS: entry({
    path: 'coupons.consumerIdleMs',
    doc: 'Pause of the wallet consumer when it found nothing to do',
    default: '100',
    parse: int(1, 60_000),
  }),
  COUPON_CONSUMER_STALE_MS: entry({
    path: 'coupons.consumerStaleMs',
    doc: 'How long an issue event may stay unacknowledged with a consumer before another takes it over',
    default: '15000',
    parse: int(10, 3_600_000),
  }),
  COUPON_CONSUMER_MAX_DELIVERIES: entry({
    path: 'coupons.consumerMaxDeliveries',
    doc: 'Deliveries after which a failing issue event is dead-lettered',
    default: '5',
    parse: int(1, 100),
  }),
  COUPON_FROZEN_RETRY_AFTER_SECONDS: entry({
    path: 'coupons.frozenRetryAfterSeconds',
    doc: "Retry-After of a claim refused (503) while its campaign's lost hot state awaits `mos coupons reconcile`",
    default: '60',
    parse: int(1, 86_400),
  }),
  OUTBOX_RELAY_INTERVAL_MS: entry({
    path: 'events.relayIntervalMs',
    doc: 'How often the outbox relay (one leader among all workers) publishes unpublished events to the bus',
    default: '200',
    parse: int(10, 60_000),
  }),
  OUTBOX_RELAY_BATCH: entry({
    path: 'events.relayBatch',
    doc: 'Outbox events the relay publishes per transaction (a run drains up to 20 batches)',
    default: '500',
    parse: int(1, 10_000),
  }),
  OUTBOX_RETENTION_HOURS: entry({
    path: 'events.retentionHours',
    doc: "How long published outbox events and consumers' processed-event records are kept before the purge job deletes them (unpublished events are never deleted); keep it well above EVENT_CONSUMER_STALE_MS, as a processed-event record is what makes a redelivery a no-op",
    default: '72',
    parse: int(1, 24 * 366),
  }),
  OUTBOX_PURGE_INTERVAL_SECONDS: entry({
    path: 'events.purgeIntervalSeconds',
    doc: 'How often the purge job (one leader among all workers) deletes outbox and processed-event rows past OUTBOX_RETENTION_HOURS',
    default: '600',
    parse: int(1, 86_400),
  }),
  OUTBOX_PURGE_BATCH: entry({
    path: 'events.purgeBatch',
    doc: 'Rows the purge job deletes per statement (a run deletes up to 50 batches of each table)',
    default: '1000',
    parse: int(1, 100_000),
  }),
  EVENT_STREAM_MAX_LEN: entry({
    path: 'events.streamMaxLen',
    doc: 'About how many entries each event stream (one per event type) and dead-letter stream keeps; the oldest go first (the outbox keeps every event)',
    default: '100000',
    parse: int(1000, 100_000_000),
  }),
  EVENT_CONSUMER_BATCH: entry({
    path: 'events.consumerBatch',
    doc: 'Events an event consumer reads per pass',
    default: '100',
    parse: int(1, 10_000),
  }),
  EVENT_CONSUMER_IDLE_MS: entry({
    path: 'events.consumerIdleMs',
    doc: 'Pause of an event consumer when it found nothing to do',
    default: '100',
    parse: int(1, 60_000),
  }),
  EVENT_CONSUMER_STALE_MS: entry({
    path: 'events.consumerStaleMs',
    doc: 'How long an event may stay unacknowledged (a failed or crashed delivery) before it is delivered again',
    default: '15000',
    parse: int(10, 3_600_000),
  }),
  EVENT_CONSUMER_MAX_DELIVERIES: entry({
    path: 'events.consumerMaxDeliveries',
    doc: "Failed deliveries after which an event goes to its consumer's dead-letter stream",
    default: '5',
    parse: int(1, 100),
  }),
  VENUE_MAX_SEATS: entry({ path: 'catalog.venueMaxSeats', doc: 'Largest venue a seller may create, in seats', default: '100000', parse: int(1, 1_000_000) }),
  SELLER_MAX_VENUES: entry({
    path: 'catalog.quotas.venuesPerSeller',
    doc: 'Venues one seller may create (admins are exempt from every catalog quota)',
    default: '50',
    parse: int(1, 1_000_000),
  }),
  SELLER_MAX_VENUE_SEATS: entry({
    path: 'catalog.quotas.venueSeatsPerSeller',
    doc: 'Seats one seller may create across all their venues',
    default: '500000',
    parse: int(1, 1_000_000_000),
  }),
  SELLER_MAX_PERFORMANCES: entry({
    path: 'catalog.quotas.performancesPerSeller',
    doc: 'Live (not deleted) performances one seller may have',
    default: '200',
    parse: int(1, 1_000_000),
  }),
  PERFORMANCE_MAX_SCHEDULES: entry({
    path: 'catalog.quotas.schedulesPerPerformance',
    doc: 'Live showtimes one performance may have',
    default: '100',
    parse: int(1, 100_000),
  }),
  SELLER_MAX_SCHEDULE_SEATS: entry({
    path: 'catalog.quotas.scheduleSeatsPerSeller',
    doc: "Seats across all live showtimes of one seller: each showtime copies its venue's seats into its inventory, so this bounds the rows a seller can make",
    default: '5000000',
    parse: int(1, 1_000_000_000),
  }),
  SCHEDULE_CACHE_MS: entry({
    path: 'catalog.scheduleCacheMs',
    doc: "How long a process reuses a showtime's sale window and waiting-room settings on the hot path (a deletion reaches other processes within it)",
    default: '2000',
    parse: int(0, 60_000),
  }),
  SEAT_MAP_CACHE_SEATS: entry({
    path: 'catalog.seatMapCacheSeats',
    doc: 'Seats of immutable seat-map data (labels, grades, prices) kept in memory per process',
    default: '1000000',
    parse: int(0, 50_000_000),
  }),
  SEAT_AVAILABILITY_REFRESH_MS: entry({
    path: 'catalog.availability.refreshMs',
    doc: "Longest a process serves a showtime's live availability (GET .../availability and its stream) without reading the hot state again: however many buyers read it, one hot-state read per showtime per interval per process",
    default: '1000',
    parse: int(0, 60_000),
  }),
  SEAT_AVAILABILITY_HISTORY_SEATS: entry({
    path: 'catalog.availability.historySeats',
    doc: 'Seat status changes a process keeps per showtime to answer `?since=` with a delta; a client further behind gets the whole state',
    default: '20000',
    parse: int(0, 10_000_000),
  }),
  SEAT_AVAILABILITY_MAX_STREAMS: entry({
    path: 'catalog.availability.maxStreams',
    doc: 'Open availability streams (GET .../availability/stream) one process serves; more are refused with 429 and Retry-After',
    default: '20000',
    parse: int(0, 1_000_000),
  }),
  TOSS_SANDBOX: entry({
    path: 'sandbox.enabled',
    doc: 'Mount the Toss-compatible sandbox PG at /sandbox/toss (a test PG: it keeps its ledger in memory, so a restart forgets it). Unset: on in embedded mode, off in production; refused with a `live_` TOSS_SECRET_KEY',
    parse: bool,
    unset: (mode, raw) => sandboxMounted(mode, raw),
  }),
  SANDBOX_PORT: entry({ path: 'sandbox.port', doc: 'HTTP port of `mos sandbox` (the sandbox PG as its own process)', default: '3100', parse: int(0, 65535) }),
  SANDBOX_LATENCY_MS: entry({
    path: 'sandbox.latencyMs',
    doc: 'Latency the sandbox PG adds to each Toss API call (a request may set its own with `X-Sandbox-Latency-Ms`)',
    default: '0',
    parse: int(0, 600_000),
  }),
  SANDBOX_FAULT_RATE: entry({
    path: 'sandbox.faultRate',
    doc: 'Share (0–1) of Toss API calls the sandbox PG answers with SANDBOX_FAULT_CODE, without doing the work',
    default: '0',
    parse: fraction,
  }),
  SANDBOX_FAULT_CODE: entry({
    path: 'sandbox.faultCode',
    doc: 'The documented Toss error code of the faults SANDBOX_FAULT_RATE injects',
    default: 'FAILED_INTERNAL_SYSTEM_PROCESSING',
    parse: str((v) => (/^[A-Z][A-Z_]*$/.test(v) ? undefined : 'expected a Toss error code such as FAILED_INTERNAL_SYSTEM_PROCESSING')),
  }),
  SANDBOX_DROP_RATE: entry({
    path: 'sandbox.dropRate',
    doc: 'Share (0–1) of Toss API calls the sandbox PG carries out and then drops the connection of, unanswered: the charge happens, the caller sees a reset socket',
    default: '0',
    parse: fraction,
  }),
  SANDBOX_TIMEOUT_RATE: entry({
    path: 'sandbox.timeoutRate',
    doc: 'Share (0–1) of Toss API calls the sandbox PG carries out and then never answers (the connection is held until the caller gives up): the charge happens, the caller sees a timeout',
    default: '0',
    parse: fraction,
  }),
  SANDBOX_SEED: entry({
    path: 'sandbox.seed',
    doc: "Seed of the sandbox PG's fault draws (the same seed, the same faults in the same order); unset = a random seed",
    parse: int(0, 4_294_967_295),
  }),
  SANDBOX_WEBHOOK_URL: entry({
    path: 'sandbox.webhookUrl',
    doc: "Where the sandbox PG POSTs Toss's PAYMENT_STATUS_CHANGED webhooks (e.g. MOS's `/v1/payments/webhooks/toss`); only a 200 counts, failures are retried after 1, 4, 16, 64, 256, 1024 and 4096 minutes; unset = no webhooks",
    parse: url('http:', 'https:'),
  }),
  SANDBOX_WEBHOOK_TIMEOUT_MS: entry({
    path: 'sandbox.webhookTimeoutMs',
    doc: 'How long one webhook delivery attempt of the sandbox PG may take before it counts as failed',
    default: '10000',
    parse: int(100, 120_000),
  }),
  SEED_DEMO: entry({ path: 'seedDemo', doc: 'Seed demo accounts and data at embedded start', default: 'true', parse: bool }),
} as const;

type Spec = typeof configSpec;
type Key = keyof Spec;
type Parsed<K extends Key> = Spec[K] extends { parse: Parser<infer T> } ? T : never;
/** A key with a default or an `unset` rule always has a value; any other may be undefined. */
type Value<K extends Key> = Spec[K] extends { default: string } | { unset: unknown } ? Parsed<K> : Parsed<K> | undefined;
/** Each key's parsed value by env name, before the mode-dependent `unset` rules. */
type Raw = { [K in Key]: Spec[K] extends { default: string } ? Parsed<K> : Parsed<K> | undefined };

/** `{ 'http.port': number, logLevel: string }` → `{ http: { port: number }, logLevel: string }`. */
type ByPath = { [K in Key as Spec[K]['path']]: Value<K> };
type Head<P> = P extends `${infer H}.${string}` ? H : P;
type Nest<M> = {
  readonly [H in Head<keyof M & string>]: H extends keyof M ? M[H] : Nest<{ [P in keyof M as P extends `${H}.${infer Rest}` ? Rest : never]: M[P] }>;
};

export interface Config extends Nest<ByPath> {
  readonly mode: Mode;
}

function parseAll(env: Record<string, string | undefined>): Raw {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(configSpec) as [Key, Entry<unknown>][]) {
    const given = env[key];
    const raw = given === undefined || given === '' ? spec.default : given;
    if (raw === undefined) {
      out[key] = undefined;
      continue;
    }
    try {
      out[key] = spec.parse(raw);
    } catch (err) {
      problems.push(`${key}: ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new ConfigError(`Invalid configuration — ${problems.join('; ')}`);
  return out as Raw;
}

/** Parses and validates the environment into a frozen config. Throws ConfigError naming the key. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const c = parseAll(env);
  if (c.REDIS_URL && c.REDIS_CLUSTER_NODES) {
    throw new ConfigError('Invalid configuration — REDIS_CLUSTER_NODES: set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
  }
  const hasRedis = Boolean(c.REDIS_URL || c.REDIS_CLUSTER_NODES);
  if (Boolean(c.DATABASE_URL) !== hasRedis) {
    const missing = c.DATABASE_URL ? 'REDIS_URL' : 'DATABASE_URL';
    throw new ConfigError(
      `Invalid configuration — ${missing}: production mode needs both DATABASE_URL and REDIS_URL (or REDIS_CLUSTER_NODES) (unset both for embedded mode)`,
    );
  }
  if (c.HTTP_HEADERS_TIMEOUT_MS > c.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('Invalid configuration — HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)');
  }
  if (c.PG_ATTEMPT_TIMEOUT_MS > c.PG_DEADLINE_MS) {
    throw new ConfigError('Invalid configuration — PG_ATTEMPT_TIMEOUT_MS: must not exceed PG_DEADLINE_MS (an attempt is part of the call)');
  }
  if (c.PAYMENT_RECONCILE_AFTER_SECONDS * 1000 <= c.PG_DEADLINE_MS) {
    throw new ConfigError(
      'Invalid configuration — PAYMENT_RECONCILE_AFTER_SECONDS: must exceed PG_DEADLINE_MS (a confirm still in flight must not be taken for one a crash left behind)',
    );
  }
  if (c.PG_BACKOFF_BASE_MS > c.PG_BACKOFF_MAX_MS) {
    throw new ConfigError('Invalid configuration — PG_BACKOFF_BASE_MS: must not exceed PG_BACKOFF_MAX_MS');
  }
  if (c.OUTBOX_RETENTION_HOURS * 3_600_000 <= c.EVENT_CONSUMER_STALE_MS) {
    throw new ConfigError(
      'Invalid configuration — OUTBOX_RETENTION_HOURS: must exceed EVENT_CONSUMER_STALE_MS (a processed-event record must outlive any redelivery of its event)',
    );
  }
  const mode: Mode = c.DATABASE_URL ? 'production' : 'embedded';
  if (mode === 'production' && !c.JWT_SECRET) {
    throw new ConfigError('Invalid configuration — JWT_SECRET: required in production mode');
  }
  // A fake PG beside a live key is one misrouted URL away from real charges being "confirmed" by
  // the fake, or from test codes meant for it reaching Toss: the two never run together.
  if (sandboxMounted(mode, c) && c.TOSS_SECRET_KEY.startsWith('live_')) {
    throw new ConfigError(
      'Invalid configuration — TOSS_SANDBOX: the sandbox PG never runs beside a live secret key (TOSS_SECRET_KEY starts with live_); set TOSS_SANDBOX=false',
    );
  }
  const config: Record<string, unknown> = { mode };
  for (const [key, spec] of Object.entries(configSpec) as [Key, Entry<unknown>][]) {
    const value = c[key] === undefined && spec.unset ? spec.unset(mode, c) : c[key];
    const names = spec.path.split('.');
    let node = config;
    for (const name of names.slice(0, -1)) node = (node[name] ??= {}) as Record<string, unknown>;
    node[names.at(-1)!] = value;
  }
  // The cast is what the types above describe: one value per entry, at its path.
  return deepFreeze(config as unknown as Config);
}

/** The README's configuration table, generated from the spec. */
export function configTableMarkdown(): string {
  const rows = (Object.entries(configSpec) as [Key, Entry<unknown>][]).map(
    ([key, e]) => `| \`${key}\` | ${e.default === undefined ? '—' : `\`${e.default === '' ? '""' : e.default}\``} | ${e.doc} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
