/**
 * The error catalogue. Each module declares its entries once with `defineError` (code, status,
 * title); services throw the resulting errors; `problem.ts` turns every error into an RFC 9457
 * problem+json body. Codes are part of the API contract (docs/api.md, Error codes) and never change.
 */

export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: string,
    readonly status: number,
    readonly title: string,
    detail?: string,
    /** Extra members of the problem body (e.g. `unavailableSeatIds`, `pgCode`). */
    readonly extras: Record<string, unknown> = {},
    /** Response headers that belong to the problem (e.g. `Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
  get detail(): string {
    return this.message;
  }
}

export interface ErrorFactory<X extends Record<string, unknown> = Record<string, unknown>> {
  (detail?: string, extras?: X, headers?: Record<string, string>): AppError;
  readonly code: string;
  readonly status: number;
  readonly title: string;
  /** True when `err` was made by this factory. */
  is(err: unknown): err is AppError;
}

export function defineError<X extends Record<string, unknown> = Record<string, unknown>>(code: string, status: number, title: string): ErrorFactory<X> {
  const make = (detail?: string, extras?: X, headers?: Record<string, string>) => new AppError(code, status, title, detail, extras ?? {}, headers ?? {});
  return Object.assign(make, {
    code,
    status,
    title,
    is: (err: unknown): err is AppError => err instanceof AppError && err.code === code,
  });
}

/** Errors of the platform itself; modules add theirs in `<module>.errors.ts`. */
export const CommonErrors = {
  VALIDATION_FAILED: defineError<{ errors: FieldError[] }>('VALIDATION_FAILED', 400, 'Invalid request'),
  UNAUTHENTICATED: defineError('UNAUTHENTICATED', 401, 'Authentication required'),
  FORBIDDEN: defineError('FORBIDDEN', 403, 'Forbidden'),
  NOT_FOUND: defineError('NOT_FOUND', 404, 'Not found'),
  REQUEST_TIMEOUT: defineError('REQUEST_TIMEOUT', 408, 'Request timeout'),
  URI_TOO_LONG: defineError('URI_TOO_LONG', 414, 'URI too long'),
  UNSUPPORTED_MEDIA_TYPE: defineError('UNSUPPORTED_MEDIA_TYPE', 415, 'Unsupported media type'),
  IDEMPOTENCY_KEY_REUSED: defineError('IDEMPOTENCY_KEY_REUSED', 422, 'Idempotency-Key reused with another request'),
  REQUEST_IN_PROGRESS: defineError('REQUEST_IN_PROGRESS', 409, 'A request with this Idempotency-Key is in progress'),
  RATE_LIMITED: defineError('RATE_LIMITED', 429, 'Too many requests'),
  HEADERS_TOO_LARGE: defineError('HEADERS_TOO_LARGE', 431, 'Request header fields too large'),
  INTERNAL_ERROR: defineError('INTERNAL_ERROR', 500, 'Internal server error'),
  SERVICE_UNAVAILABLE: defineError('SERVICE_UNAVAILABLE', 503, 'Service unavailable'),
} as const;
