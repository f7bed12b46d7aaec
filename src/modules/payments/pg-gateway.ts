import { AppError } from '../../platform/http/errors.js';

/**
 * The port between the payments service and a payment gateway (PG): confirm a payment the buyer
 * authenticated, look a payment up, cancel it. The adapter is `toss.client.ts` (Toss Payments'
 * REST API, or the Toss-compatible sandbox in embedded mode). The service acts on the result's
 * `kind` alone; it never needs a Toss error code to decide (the codes are classified once, in
 * `toss-codes.ts`).
 *
 * Invariant 3 (docs/architecture.md §1) — an order is charged at most once:
 * - every POST carries an Idempotency-Key **chosen by the caller and derived from the order**
 *   (`pgIdempotencyKeys`), so a retry — by the client, or by the service after a crash — resends
 *   the same key and the PG answers the first request's result instead of acting again;
 * - an outcome the client cannot know is reported as `unknown`, never as a failure: the caller
 *   parks the order and reconciles by asking the PG (`getByOrderId`), and never confirms with a
 *   new key before that lookup says the payment was not confirmed (Toss replays the first answer
 *   of a key for 15 days, so a second try after a known failure needs the next key).
 */
export interface PgGateway {
  /** `POST /v1/payments/confirm`: approve the payment the buyer authenticated, for `amount` (the order's, computed by the server). */
  confirm(request: ConfirmRequest): Promise<PgResult>;
  /** `GET /v1/payments/{paymentKey}`. */
  getByPaymentKey(paymentKey: string): Promise<PgLookup>;
  /** `GET /v1/payments/orders/{orderId}`: how reconciliation finds a payment whose confirm had an unknown outcome. */
  getByOrderId(orderId: string): Promise<PgLookup>;
  /** `POST /v1/payments/{paymentKey}/cancel`: a full cancel, or a partial one with `cancelAmount`. */
  cancel(request: CancelRequest): Promise<PgResult>;
}

export interface ConfirmRequest {
  paymentKey: string;
  orderId: string;
  amount: number;
  /** At most 300 characters; e.g. `pgIdempotencyKeys.confirm(orderId)`. */
  idempotencyKey: string;
}

export interface CancelRequest {
  paymentKey: string;
  cancelReason: string;
  /** Omitted: a full cancel. */
  cancelAmount?: number;
  /** At most 300 characters; e.g. `pgIdempotencyKeys.cancel(orderId, n)`. */
  idempotencyKey: string;
}

/**
 * Idempotency keys derived from the order, so a retry after a crash finds the same key. Toss
 * matches a key per (key, API key, URL, method) and replays the first answer for 15 days (docs/toss.md
 * B7): a key must never be shared by two orders, and a new attempt after a *known* failure takes
 * the next `attempt`.
 */
export const pgIdempotencyKeys = {
  confirm: (orderId: string, attempt = 1): string => (attempt === 1 ? `confirm:${orderId}` : `confirm:${orderId}:${attempt}`),
  cancel: (orderId: string, n: number): string => `cancel:${orderId}:${n}`,
};

/** Why an outcome is not known. */
export type PgUnknownReason =
  /** Every attempt failed (timeouts, dropped connections, 5xx, retryable codes) after at least one may have reached the PG. */
  | 'retries-exhausted'
  /** The call's deadline (`PG_DEADLINE_MS`) passed with an attempt in flight or after one that may have reached the PG. */
  | 'deadline'
  /** The breaker opened during the call, after an attempt that may have reached the PG. */
  | 'circuit-open'
  /** The PG answered that it does not know the outcome (an `outcome-unknown` code). */
  | 'pg-unknown'
  /** The PG said it was done already, but the lookup of the payment failed. */
  | 'lookup-failed'
  /** A 2xx that is not a payment, or a payment of another order or amount than asked. */
  | 'bad-response';

/** The result of a confirm or a cancel. */
export type PgResult =
  /** The PG did it (or had done it: an idempotent replay, ALREADY_PROCESSED_PAYMENT): `payment` is as the PG returned it. */
  | { kind: 'done'; payment: TossPayment }
  /** Refused for good (the buyer's card, a limit, a cancel the payment does not allow): the order is not paid, or not refunded. */
  | { kind: 'rejected'; code: string; message: string }
  /** Maybe done, maybe not: park it and reconcile with `getByOrderId`; never charge again without that lookup. */
  | { kind: 'unknown'; reason: PgUnknownReason; detail: string }
  /** Nothing reached the PG (circuit open, connection refused): fail fast, answer 503 with `Retry-After`. */
  | PgUnavailable;

/** The result of a lookup. A lookup changes nothing, so `unknown` here only means "no answer". */
export type PgLookup =
  | { kind: 'found'; payment: TossPayment }
  | { kind: 'not-found' }
  | { kind: 'rejected'; code: string; message: string }
  | { kind: 'unknown'; reason: PgUnknownReason; detail: string }
  | PgUnavailable;

export interface PgUnavailable {
  kind: 'unavailable';
  /** Seconds until the breaker lets a call through again: the 503's `Retry-After`. */
  retryAfterSeconds: number;
}

/**
 * MOS's own PG setup is wrong (UNAUTHORIZED_KEY, INVALID_API_KEY, INCORRECT_BASIC_AUTH_FORMAT, an
 * unregistered merchant or terminal, a `TOSS_API_URL` that answers 404): no request can succeed
 * until an operator fixes it. It is thrown, not returned, so it cannot be mistaken for a buyer's
 * problem: it reaches the error handler (`problem.ts`) as a 503 AppError, which is logged at
 * error level with these fields, and the buyer gets a plain 503 `SERVICE_UNAVAILABLE` whose body
 * carries none of them.
 */
export class PgMisconfiguredError extends AppError {
  override name = 'PgMisconfiguredError';
  constructor(
    /** Toss's code, or `HTTP <status>` when the answer had none. */
    readonly pgCode: string,
    readonly pgStatus: number,
    readonly pgMessage: string,
  ) {
    super('SERVICE_UNAVAILABLE', 503, 'Service unavailable', 'Payments are unavailable; try again later');
  }
}

/**
 * What the client reads of Toss's Payment object (docs/toss.md B4); the PG returns more, and every
 * field is kept as it came. The sandbox's full wire schema is written separately.
 */
export interface TossPayment {
  paymentKey: string;
  orderId: string;
  orderName: string;
  status: TossPaymentStatus;
  /** Korean strings: 카드, 가상계좌, 간편결제, 휴대폰, 계좌이체, … */
  method: string | null;
  /** Never changes. */
  totalAmount: number;
  /** Goes down with each cancel. */
  balanceAmount: number;
  /** ISO 8601 with an offset (`+09:00`). */
  requestedAt: string;
  approvedAt: string | null;
  /** The key of the latest approval or cancel transaction. */
  lastTransactionKey: string | null;
  cancels: TossCancel[] | null;
  failure?: { code: string; message: string } | null;
  [field: string]: unknown;
}

export type TossPaymentStatus = 'READY' | 'IN_PROGRESS' | 'WAITING_FOR_DEPOSIT' | 'DONE' | 'CANCELED' | 'PARTIAL_CANCELED' | 'ABORTED' | 'EXPIRED';

export interface TossCancel {
  cancelAmount: number;
  cancelReason: string;
  canceledAt: string;
  transactionKey: string;
  /** The balance after this cancel. */
  refundableAmount?: number;
  [field: string]: unknown;
}
