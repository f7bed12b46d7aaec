/**
 * Every Toss Payments error code MOS knows, in one table, each with what the client does with it
 * (docs/toss.md B2, B5–B8 are the sources; the codes of the confirm table B8 and the cancel
 * table B6 are all here, and `toss-codes.test.ts` fails if one goes missing).
 *
 * Toss publishes no retryable flag (B8): the classes below are judgments from the code names,
 * their messages ("잠시 후 다시 시도해주세요" = try again later) and their HTTP status. Where a
 * fact is unverified the safer class wins: a class that can end in `unknown` (the caller asks the
 * PG by orderId) never loses a payment or charges twice; a wrong `final` could tell a buyer who
 * was charged that they were not.
 *
 * - `retryable` — the PG did not complete the request and sending it again **with the same
 *   Idempotency-Key** is safe and may succeed. The client resends with backoff within its attempt
 *   and deadline budget; when the budget runs out the outcome is `unknown` (the PG may still have
 *   acted on an earlier attempt). Toss may replay the first answer of a key (B7), so a resend can
 *   just repeat the error: harmless, and bounded.
 * - `outcome-unknown` — the PG answered, but says it does not know whether the charge or refund
 *   happened. Resending with the same key would replay this answer (B7) and a new key could act
 *   twice, so the client does not resend: the outcome is `unknown` at once and the caller
 *   reconciles by looking the payment up.
 * - `already-done` — an earlier request already did it (a confirm, a cancel). The client looks
 *   the payment up and reports it as it stands now.
 * - `not-found` — no such payment: a lookup answers `not-found`; for a confirm or a cancel it is
 *   final.
 * - `final` — refused for good: the buyer's card, a limit, a bad request, a cancel the payment
 *   does not allow. Resending changes nothing; the order is not paid (or not refunded).
 * - `misconfigured` — MOS's own setup is wrong (keys, merchant contract): no request can succeed
 *   until an operator fixes it, so the client throws `PgMisconfiguredError` (loud: logged at
 *   error level, answered 503).
 *
 * A code not in the table is classed by its HTTP status (`classifyTossError`): 5xx, 408 and 429
 * are `retryable`, 401 is `misconfigured`, any other 4xx is `final`, and anything else (a 3xx, a
 * status with no meaning here) is `outcome-unknown`. An answer with no Toss `code` at all is not
 * Toss speaking (a proxy, a wrong `TOSS_API_URL`): 5xx, 408 and 429 are still `retryable`, but a
 * redirect (an `http://` URL) or a 401, 403, 404 or 405 is `misconfigured` — loud, and never
 * `not-found`, which a reconciliation would read as "this payment does not exist".
 */

export type TossCodeClass = 'retryable' | 'outcome-unknown' | 'already-done' | 'not-found' | 'final' | 'misconfigured';

export interface TossCodeRow {
  readonly class: TossCodeClass;
  /** Why this class, in one line. */
  readonly why: string;
}

const row = (cls: TossCodeClass, why: string): TossCodeRow => ({ class: cls, why });

const buyer = 'the buyer’s card, account or limits refused it; another attempt needs the buyer to act';

export const tossCodes = {
  // --- B8 confirm, 400 ---
  ALREADY_PROCESSED_PAYMENT: row('already-done', 'confirmed before (a replay after a lost answer): look the payment up and report it'),
  INVALID_CARD_NUMBER: row('final', buyer),
  INVALID_STOPPED_CARD: row('final', buyer),
  INVALID_CARD_EXPIRATION: row('final', buyer),
  INVALID_REJECT_CARD: row('final', buyer),
  INVALID_CARD_LOST_OR_STOLEN: row('final', buyer),
  EXCEED_MAX_AMOUNT: row('final', buyer),
  EXCEED_MAX_DAILY_PAYMENT_COUNT: row('final', buyer),
  EXCEED_MAX_PAYMENT_AMOUNT: row('final', buyer),
  EXCEED_MAX_ONE_DAY_WITHDRAW_AMOUNT: row('final', buyer),
  EXCEED_MAX_ONE_TIME_WITHDRAW_AMOUNT: row('final', buyer),
  EXCEED_MAX_MONTHLY_PAYMENT_AMOUNT: row('final', buyer),
  EXCEED_MAX_CARD_INSTALLMENT_PLAN: row('final', 'the installment plan the buyer chose is not allowed'),
  INVALID_CARD_INSTALLMENT_PLAN: row('final', 'the installment plan the buyer chose is not allowed'),
  NOT_SUPPORTED_INSTALLMENT_PLAN_CARD_OR_MERCHANT: row('final', 'the installment plan the buyer chose is not allowed'),
  NOT_SUPPORTED_MONTHLY_INSTALLMENT_PLAN: row('final', 'the installment plan the buyer chose is not allowed'),
  UNAPPROVED_ORDER_ID: row('final', 'the orderId was not approved for this payment: this confirm cannot succeed'),
  INVALID_REQUEST: row('final', 'the request itself is invalid; the same body fails again'),
  INVALID_API_KEY: row('misconfigured', 'the API key is not valid: every request fails until the key is fixed'),
  NOT_ALLOWED_POINT_USE: row('final', buyer),
  BELOW_MINIMUM_AMOUNT: row('final', 'the amount is under the method’s minimum (card 100, account 200 KRW)'),
  NOT_FOUND_TERMINAL_ID: row('misconfigured', 'the merchant has no terminal for this method: a contract setting, not this order'),
  INVALID_AUTHORIZE_AUTH: row('final', 'the buyer’s authentication is not valid for this confirm'),
  RESTRICTED_TRANSFER_ACCOUNT: row('final', 'the buyer’s account was registered under 12 h ago'),
  INVALID_UNREGISTERED_SUBMALL: row('misconfigured', 'the merchant’s sub-mall is not registered: a contract setting'),
  NOT_REGISTERED_BUSINESS: row('misconfigured', 'the merchant’s business is not registered: a contract setting'),
  INVALID_ACCOUNT_INFO_RE_REGISTER: row('final', 'the buyer must register their account again'),
  NOT_AVAILABLE_PAYMENT: row('final', 'the method is not available now (e.g. the issuer’s maintenance hours): the buyer tries again later'),
  PROVIDER_ERROR: row('retryable', 'a temporary error at the card company or bank ("try again later"); confirm and cancel alike'),
  CARD_PROCESSING_ERROR: row('retryable', 'the card company failed to process it; community integrators resend'),
  // --- B8 confirm, 401 ---
  UNAUTHORIZED_KEY: row('misconfigured', 'the secret key is unknown: every request fails until the key is fixed'),
  // --- B8 confirm, 403 ---
  REJECT_CARD_PAYMENT: row('final', 'the card refused it (limit exceeded or insufficient balance)'),
  REJECT_CARD_COMPANY: row('final', buyer),
  FORBIDDEN_REQUEST: row('final', 'the API key or orderId differs from the original request: this request cannot succeed'),
  REJECT_ACCOUNT_PAYMENT: row('final', buyer),
  REJECT_TOSSPAY_INVALID_ACCOUNT: row('final', buyer),
  EXCEED_MAX_AUTH_COUNT: row('final', 'the buyer exceeded the authentication attempts'),
  EXCEED_MAX_ONE_DAY_AMOUNT: row('final', buyer),
  NOT_AVAILABLE_BANK: row('final', 'the bank is not available now (maintenance): the buyer or operator tries later'),
  INVALID_PASSWORD: row('final', 'the buyer’s payment password is wrong'),
  INCORRECT_BASIC_AUTH_FORMAT: row('misconfigured', 'the Authorization header is malformed (the colon after the key): a client bug'),
  FDS_ERROR: row('final', 'the fraud detection system refused it'),
  // --- B8 confirm, 404 ---
  NOT_FOUND_PAYMENT: row('not-found', 'no payment with this paymentKey'),
  NOT_FOUND_PAYMENT_SESSION: row('final', 'the 10-minute confirm window passed: the buyer must pay again'),
  // --- B8 confirm, 500 ---
  FAILED_INTERNAL_SYSTEM_PROCESSING: row('retryable', 'an internal failure at Toss ("try again later"); the same key makes a resend safe'),
  FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING: row('retryable', '"the payment was not completed, try again"; confirm and cancel alike'),
  UNKNOWN_PAYMENT_ERROR: row('outcome-unknown', 'the PG itself does not know how the payment ended: look it up, do not resend'),
  // --- B6 cancel, 400 ---
  INVALID_REFUND_ACCOUNT_INFO: row('final', 'the refund account is wrong: the request must change'),
  EXCEED_CANCEL_AMOUNT_DISCOUNT_AMOUNT: row('final', 'the cancel amount exceeds what the discount allows: the request must change'),
  INVALID_REFUND_ACCOUNT_NUMBER: row('final', 'the refund account is wrong: the request must change'),
  INVALID_BANK: row('final', 'the refund bank is wrong: the request must change'),
  NOT_MATCHES_REFUNDABLE_AMOUNT: row('final', 'the refundable amount sent does not match: the request must change'),
  REFUND_REJECTED: row('final', 'the card company or bank refused the refund: an operator must act'),
  ALREADY_REFUND_PAYMENT: row('already-done', 'refunded before (a replay after a lost answer): look the payment up and report it'),
  FORBIDDEN_BANK_REFUND_REQUEST: row('final', 'the bank does not allow this refund: an operator must act'),
  // --- B6 cancel, 403 ---
  NOT_CANCELABLE_AMOUNT: row('final', 'more than the balance: this cancel cannot succeed'),
  NOT_CANCELABLE_PAYMENT: row('final', 'the payment cannot be cancelled (its status does not allow it)'),
  FORBIDDEN_CONSECUTIVE_REQUEST: row('retryable', 'repeated requests too close together: a resend after a backoff is what is asked'),
  EXCEED_MAX_REFUND_DUE: row('final', 'past the refund period: an operator must act'),
  NOT_ALLOWED_PARTIAL_REFUND_WAITING_DEPOSIT: row('final', 'no partial refund while a virtual account awaits its deposit'),
  NOT_ALLOWED_PARTIAL_REFUND: row('final', 'this payment (escrow, cash card) allows only a full cancel'),
  NOT_CANCELABLE_PAYMENT_FOR_DORMANT_USER: row('final', 'the buyer’s account is dormant: an operator must act'),
  EXCEED_CANCEL_LIMIT: row('final', 'over the cancel limit: an operator must act'),
  // --- B6 cancel, 500 ---
  FAILED_REFUND_PROCESS: row('outcome-unknown', 'the refund failed at the bank or card company after it was sent: look it up (cancels[]), do not resend'),
  FAILED_PARTIAL_REFUND: row('outcome-unknown', 'a partial refund failed on the PG’s side after it began: look it up (cancels[]), do not resend'),
  FAILED_METHOD_HANDLING_CANCEL: row('retryable', 'a temporary failure of the payment method while cancelling: resend with the same key'),
  COMMON_ERROR: row('retryable', 'a generic temporary error ("try again later")'),
  // --- B2, B5, B7 and unverified community codes ---
  NOT_FOUND: row('not-found', 'no such payment (lookups)'),
  INVALID_IDEMPOTENCY_KEY: row('misconfigured', 'the client built an invalid Idempotency-Key (over 300 chars): a bug, loud'),
  IDEMPOTENT_REQUEST_PROCESSING: row('retryable', 'the first request with this key is still running: resend to get its result'),
  EXPIRED_PAYMENT: row('final', 'the payment expired (30 min without a confirm): the buyer must pay again'),
  ALREADY_CANCELED_PAYMENT: row('already-done', 'unverified (community mocks): cancelled before; look the payment up and report it'),
} as const satisfies Record<string, TossCodeRow>;

export type TossCode = keyof typeof tossCodes;

const isKnown = (code: string): code is TossCode => Object.hasOwn(tossCodes, code);

/** The class of a Toss error answer: the table for a known code, else the HTTP status (see the file's doc). */
export function classifyTossError(status: number, code: string | undefined): TossCodeClass {
  if (code !== undefined && isKnown(code)) return tossCodes[code].class;
  if (status >= 500 || status === 408 || status === 429) return 'retryable';
  if (status === 401) return 'misconfigured';
  if (code === undefined && ((status >= 300 && status < 400) || [403, 404, 405].includes(status))) return 'misconfigured';
  if (status >= 400 && status < 500) return 'final';
  return 'outcome-unknown';
}
