/** PostgreSQL error classes the repositories translate into catalogue errors. */
interface PgError {
  code?: string;
  constraint?: string;
  cause?: unknown;
}

function pgError(err: unknown): PgError | undefined {
  // drizzle wraps driver errors; the driver error is the cause.
  let e: unknown = err;
  for (let i = 0; i < 3 && e && typeof e === 'object'; i++) {
    const candidate = e as PgError;
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) return candidate;
    e = candidate.cause;
  }
  return undefined;
}

/** True for a unique violation (23505), optionally of one named constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = pgError(err);
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/**
 * True when the database could not be reached or dropped the connection: the request did not
 * fail on its own terms, so it answers 503 with Retry-After (docs/api.md) and the pool reconnects on
 * its own. PostgreSQL's class 08 (connection exception), 57P01–57P03 (terminated by an
 * administrator, crash, still starting) and 53300 (too many connections); node-postgres's own
 * errors for a socket that closed or never opened.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = pgError(err);
  if (e?.code && (e.code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(e.code))) return true;
  return causes(err).some(
    (c) =>
      ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes((c as { code?: string }).code ?? '') ||
      /^Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable/.test(
        (c as Error).message ?? '',
      ),
  );
}

function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err, i = 0; i < 4 && e && typeof e === 'object'; i++, e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}
