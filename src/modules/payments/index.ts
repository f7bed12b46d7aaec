/**
 * The payments module, as far as it is built: the PG gateway port and its Toss client. Other code
 * reaches payments only through this file.
 */
export type {
  CancelRequest,
  ConfirmRequest,
  PgGateway,
  PgLookup,
  PgResult,
  PgUnavailable,
  PgUnknownReason,
  TossCancel,
  TossPayment,
  TossPaymentStatus,
} from './pg-gateway.js';
export { PgMisconfiguredError, pgIdempotencyKeys } from './pg-gateway.js';
export { classifyTossError, type TossCode, type TossCodeClass, tossCodes } from './toss-codes.js';
export { createTossClient, type TossClientOptions } from './toss.client.js';
