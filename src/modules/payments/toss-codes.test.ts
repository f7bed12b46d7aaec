import { describe, expect, it } from 'vitest';
import { classifyTossError, type TossCodeClass, tossCodes } from './toss-codes.js';

/**
 * Every code of Toss's published error tables (summarised in docs/toss.md), copied with the class MOS gives it: B8
 * (confirm), B6 (cancel), and the codes of B2, B5 and B7 and the unverified community ones. A
 * code missing from `tossCodes` fails; so does a code in `tossCodes` that is not listed here.
 */
const confirmB8: Record<string, TossCodeClass> = {
  // 400
  ALREADY_PROCESSED_PAYMENT: 'already-done',
  INVALID_CARD_NUMBER: 'final',
  INVALID_STOPPED_CARD: 'final',
  INVALID_CARD_EXPIRATION: 'final',
  INVALID_REJECT_CARD: 'final',
  INVALID_CARD_LOST_OR_STOLEN: 'final',
  EXCEED_MAX_AMOUNT: 'final',
  EXCEED_MAX_DAILY_PAYMENT_COUNT: 'final',
  EXCEED_MAX_PAYMENT_AMOUNT: 'final',
  EXCEED_MAX_ONE_DAY_WITHDRAW_AMOUNT: 'final',
  EXCEED_MAX_ONE_TIME_WITHDRAW_AMOUNT: 'final',
  EXCEED_MAX_MONTHLY_PAYMENT_AMOUNT: 'final',
  EXCEED_MAX_CARD_INSTALLMENT_PLAN: 'final',
  INVALID_CARD_INSTALLMENT_PLAN: 'final',
  NOT_SUPPORTED_INSTALLMENT_PLAN_CARD_OR_MERCHANT: 'final',
  NOT_SUPPORTED_MONTHLY_INSTALLMENT_PLAN: 'final',
  UNAPPROVED_ORDER_ID: 'final',
  INVALID_REQUEST: 'final',
  INVALID_API_KEY: 'misconfigured',
  NOT_ALLOWED_POINT_USE: 'final',
  BELOW_MINIMUM_AMOUNT: 'final',
  NOT_FOUND_TERMINAL_ID: 'misconfigured',
  INVALID_AUTHORIZE_AUTH: 'final',
  RESTRICTED_TRANSFER_ACCOUNT: 'final',
  INVALID_UNREGISTERED_SUBMALL: 'misconfigured',
  NOT_REGISTERED_BUSINESS: 'misconfigured',
  INVALID_ACCOUNT_INFO_RE_REGISTER: 'final',
  NOT_AVAILABLE_PAYMENT: 'final',
  PROVIDER_ERROR: 'retryable',
  CARD_PROCESSING_ERROR: 'retryable',
  // 401
  UNAUTHORIZED_KEY: 'misconfigured',
  // 403
  REJECT_CARD_PAYMENT: 'final',
  REJECT_CARD_COMPANY: 'final',
  FORBIDDEN_REQUEST: 'final',
  REJECT_ACCOUNT_PAYMENT: 'final',
  REJECT_TOSSPAY_INVALID_ACCOUNT: 'final',
  EXCEED_MAX_AUTH_COUNT: 'final',
  EXCEED_MAX_ONE_DAY_AMOUNT: 'final',
  NOT_AVAILABLE_BANK: 'final',
  INVALID_PASSWORD: 'final',
  INCORRECT_BASIC_AUTH_FORMAT: 'misconfigured',
  FDS_ERROR: 'final',
  // 404
  NOT_FOUND_PAYMENT: 'not-found',
  NOT_FOUND_PAYMENT_SESSION: 'final',
  // 500
  FAILED_INTERNAL_SYSTEM_PROCESSING: 'retryable',
  FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING: 'retryable',
  UNKNOWN_PAYMENT_ERROR: 'outcome-unknown',
};

const cancelB6: Record<string, TossCodeClass> = {
  // 400
  INVALID_REFUND_ACCOUNT_INFO: 'final',
  EXCEED_CANCEL_AMOUNT_DISCOUNT_AMOUNT: 'final',
  INVALID_REQUEST: 'final',
  INVALID_REFUND_ACCOUNT_NUMBER: 'final',
  INVALID_BANK: 'final',
  NOT_MATCHES_REFUNDABLE_AMOUNT: 'final',
  PROVIDER_ERROR: 'retryable',
  REFUND_REJECTED: 'final',
  ALREADY_REFUND_PAYMENT: 'already-done',
  FORBIDDEN_BANK_REFUND_REQUEST: 'final',
  // 403
  NOT_CANCELABLE_AMOUNT: 'final',
  NOT_CANCELABLE_PAYMENT: 'final',
  FORBIDDEN_CONSECUTIVE_REQUEST: 'retryable',
  FORBIDDEN_REQUEST: 'final',
  EXCEED_MAX_REFUND_DUE: 'final',
  NOT_ALLOWED_PARTIAL_REFUND_WAITING_DEPOSIT: 'final',
  NOT_ALLOWED_PARTIAL_REFUND: 'final',
  NOT_AVAILABLE_BANK: 'final',
  INCORRECT_BASIC_AUTH_FORMAT: 'misconfigured',
  NOT_CANCELABLE_PAYMENT_FOR_DORMANT_USER: 'final',
  EXCEED_CANCEL_LIMIT: 'final',
  // 500
  FAILED_REFUND_PROCESS: 'outcome-unknown',
  FAILED_PARTIAL_REFUND: 'outcome-unknown',
  FAILED_METHOD_HANDLING_CANCEL: 'retryable',
  COMMON_ERROR: 'retryable',
  FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING: 'retryable',
};

const otherSections: Record<string, TossCodeClass> = {
  // B2
  INCORRECT_BASIC_AUTH_FORMAT: 'misconfigured',
  UNAUTHORIZED_KEY: 'misconfigured',
  INVALID_API_KEY: 'misconfigured',
  // B5
  FORBIDDEN_CONSECUTIVE_REQUEST: 'retryable',
  NOT_FOUND: 'not-found',
  NOT_FOUND_PAYMENT: 'not-found',
  // B7
  INVALID_IDEMPOTENCY_KEY: 'misconfigured',
  IDEMPOTENT_REQUEST_PROCESSING: 'retryable',
  // B1 (an EXPIRED payment's failure code) and B6's unverified community code
  EXPIRED_PAYMENT: 'final',
  ALREADY_CANCELED_PAYMENT: 'already-done',
};

const listed = [
  ...Object.entries(confirmB8).map(([code, cls]) => ['B8 confirm', code, cls] as const),
  ...Object.entries(cancelB6).map(([code, cls]) => ['B6 cancel', code, cls] as const),
  ...Object.entries(otherSections).map(([code, cls]) => ['B2/B5/B7', code, cls] as const),
];

describe('the Toss error-code table', () => {
  it.each(listed)('%s: %s is %s', (_section, code, cls) => {
    expect(Object.hasOwn(tossCodes, code), `${code} is missing from tossCodes`).toBe(true);
    expect(tossCodes[code as keyof typeof tossCodes].class).toBe(cls);
    expect(tossCodes[code as keyof typeof tossCodes].why.length).toBeGreaterThan(0);
  });

  it("holds no code that Toss's tables do not list", () => {
    const documented = new Set(listed.map(([, code]) => code));
    expect(Object.keys(tossCodes).filter((code) => !documented.has(code))).toEqual([]);
  });

  it('classes a code by the table whatever the status it came with', () => {
    expect(classifyTossError(400, 'PROVIDER_ERROR')).toBe('retryable');
    expect(classifyTossError(500, 'UNKNOWN_PAYMENT_ERROR')).toBe('outcome-unknown');
    expect(classifyTossError(403, 'REJECT_CARD_PAYMENT')).toBe('final');
  });

  it.each([
    [502, 'SOME_NEW_CODE', 'retryable'],
    [503, undefined, 'retryable'],
    [429, undefined, 'retryable'],
    [408, 'SOME_NEW_CODE', 'retryable'],
    [401, 'SOME_NEW_CODE', 'misconfigured'],
    [400, 'SOME_NEW_CODE', 'final'],
    [403, 'SOME_NEW_CODE', 'final'],
    [404, 'SOME_NEW_CODE', 'final'],
    [400, undefined, 'final'],
    // Not Toss speaking (a proxy, a wrong URL): never read as "no such payment".
    [404, undefined, 'misconfigured'],
    [403, undefined, 'misconfigured'],
    [301, undefined, 'misconfigured'],
    [302, 'SOME_NEW_CODE', 'outcome-unknown'],
  ] as const)('classes an unknown code by its status: %i %s is %s', (status, code, cls) => {
    expect(classifyTossError(status, code)).toBe(cls);
  });
});
