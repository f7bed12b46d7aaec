import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type LoggerOptions } from 'pino';

/**
 * JSON logs for an ELK/Loki shipper. Credentials and tokens never reach a log line: the paths
 * below are censored wherever a request, a reply or a body is logged, and a failed query's
 * values are cut from every logged error (`errSerializer`).
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-admission-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.accessToken',
  '*.refreshToken',
  '*.admissionToken',
  '*.secretKey',
  '*.paymentKey',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: { service: 'mos' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    redact: { paths: redactPaths, censor: '[redacted]' },
    serializers: { err: errSerializer },
    hooks: {
      // Logged with no message, an error's own message becomes the line's — the scrubbed one.
      logMethod(args, method) {
        const [first] = args;
        const err = first instanceof Error ? first : (first as { err?: unknown } | null)?.err;
        if (args.length === 1 && isErrorLike(err)) return method.call(this, first, scrubText(err.message, paramsTails(err, new Set())));
        return method.apply(this, args);
      },
    },
    formatters: { level: (label) => ({ level: label }) },
  };
}

const REDACTED = '[redacted]';
const PARAMS_LINE = '\nparams: ';

/**
 * pino's err serializer without the values of a failed query. drizzle's DrizzleQueryError holds
 * every SQL parameter — a password hash, an email — in `params` and at the end of its message
 * ("params: …"), which pino copies into the logged message and stack along with the causes'; the
 * database's own error repeats the row in `detail` ("Failing row contains (…)") and a bad
 * parameter in `where`. The statement text, the SQLSTATE, the constraint and the database's
 * message stay: they are what a failure is debugged from.
 */
export function errSerializer(err: unknown): unknown {
  const serialized: unknown = pino.stdSerializers.err(err as Error);
  if (serialized === err || serialized === null || typeof serialized !== 'object') return serialized;
  const leaks = paramsTails(err, new Set());
  scrub(serialized as Record<string, unknown>, leaks, new Set());
  return serialized;
}

const isErrorLike = (v: unknown): v is Record<string, unknown> & { message: string } =>
  v !== null && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string';

/** The "\nparams: …" tail of the message of every error with `params` in the chain (causes, aggregated errors, error-valued fields). */
function paramsTails(err: unknown, seen: Set<unknown>): string[] {
  if (!isErrorLike(err) || seen.has(err)) return [];
  seen.add(err);
  const own = 'params' in err && err.message.includes(PARAMS_LINE) ? [err.message.slice(err.message.indexOf(PARAMS_LINE))] : [];
  const nested = [err.cause, ...(Array.isArray(err.errors) ? err.errors : []), ...Object.values(err)];
  return [...own, ...nested.flatMap((e) => paramsTails(e, seen))];
}

const scrubText = (text: string, leaks: string[]) => leaks.reduce((t, leak) => t.replaceAll(leak, `${PARAMS_LINE}${REDACTED}`), text);

function scrub(out: Record<string, unknown>, leaks: string[], seen: Set<unknown>): void {
  if (seen.has(out)) return;
  seen.add(out);
  for (const field of ['message', 'stack'] as const) {
    const text = out[field];
    if (typeof text === 'string') out[field] = scrubText(text, leaks);
  }
  if ('params' in out) out.params = REDACTED;
  // A database error (pg's and PGlite's carry `severity`) quotes values in these two.
  if (typeof out.severity === 'string') {
    if (typeof out.detail === 'string') out.detail = REDACTED;
    if (typeof out.where === 'string') out.where = REDACTED;
  }
  for (const value of Object.values(out)) {
    for (const nested of Array.isArray(value) ? value : [value]) {
      if (isErrorLike(nested)) scrub(nested, leaks, seen);
    }
  }
}

/**
 * Where the process logs: stdout, written in batches of about 4 KB (at least once a second)
 * rather than one write per line. A request's log line costs a system call otherwise, and under
 * load that is a measurable share of the request. pino flushes what is buffered when the process
 * exits, crash included; only a SIGKILL loses the last second.
 */
export function logDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 1000 });
}

/**
 * One access-log line per request — "request completed", with the request (method, URL, client),
 * the status and the time — instead of Fastify's two ("incoming request" first): half the
 * serializing and writing, and nothing lost, since the completed line says what the incoming
 * one did. The request id and, once authenticated, the user id ride on every line (auth.ts).
 */
export class AccessLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

type Bindings = Record<string, unknown>;
type LevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
const LEVEL_NAMES: readonly LevelName[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/**
 * A request's logger that becomes pino's child of the process logger only when it writes a line.
 * pino's `child()` serializes (and redacts) the bindings the moment it is called, and so does
 * `setBindings()`; Fastify makes a child for every request and auth.ts adds the user to it. With
 * LOG_LEVEL above `info` (no access-log line) most requests never log a line, and that work was
 * a few per cent of a hold's CPU. The lines written are the same: the bindings given before the
 * first line (request id, user id) are the child's.
 */
export class LazyRequestLogger {
  #child: pino.Logger | undefined;
  #bindings: Bindings;
  /** Bindings added before the first line (auth.ts's user id), merged only when a line is written: a spread per request was a slow path in V8. */
  #more: Bindings[] | undefined;
  readonly #levelValues: Record<string, number>;
  #level: string;

  constructor(
    private readonly parent: pino.Logger,
    bindings: Bindings,
    private readonly opts: pino.ChildLoggerOptions,
  ) {
    this.#bindings = bindings;
    this.#levelValues = parent.levels.values;
    this.#level = opts.level ?? parent.level;
  }

  #real(): pino.Logger {
    this.#child ??= this.parent.child(this.#more ? Object.assign({}, this.#bindings, ...this.#more) : this.#bindings, this.opts);
    return this.#child;
  }

  get level(): string {
    return this.#level;
  }

  set level(level: string) {
    this.#level = level;
    if (this.#child) this.#child.level = level;
    else (this.opts as { level?: string }).level = level;
  }

  isLevelEnabled(level: string): boolean {
    const value = this.#levelValues[level];
    const threshold = this.#levelValues[this.#level];
    return value !== undefined && (threshold === undefined ? this.#level !== 'silent' : value >= threshold);
  }

  setBindings(bindings: Bindings): void {
    if (this.#child) this.#child.setBindings(bindings);
    else (this.#more ??= []).push(bindings);
  }

  bindings(): Bindings {
    return this.#child ? this.#child.bindings() : Object.assign({}, this.parent.bindings(), this.#bindings, ...(this.#more ?? []));
  }

  child(bindings: Bindings, opts?: pino.ChildLoggerOptions): pino.Logger {
    return this.#real().child(bindings, opts);
  }

  silent(): void {}

  declare fatal: pino.LogFn;
  declare error: pino.LogFn;
  declare warn: pino.LogFn;
  declare info: pino.LogFn;
  declare debug: pino.LogFn;
  declare trace: pino.LogFn;

  static {
    for (const name of LEVEL_NAMES) {
      Object.defineProperty(LazyRequestLogger.prototype, name, {
        value(this: LazyRequestLogger, ...args: unknown[]) {
          if (!this.isLevelEnabled(name)) return;
          (this.#real()[name] as (...a: unknown[]) => void)(...args);
        },
      });
    }
  }
}

/** Fastify's `childLoggerFactory`: each request's logger, made lazily (see LazyRequestLogger). */
export function lazyRequestLogger(logger: pino.Logger, bindings: Bindings, opts: pino.ChildLoggerOptions): LazyRequestLogger {
  return new LazyRequestLogger(logger, bindings, opts);
}
