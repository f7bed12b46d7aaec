/**
 * Toss Payments' wire format (API version 2022-11-16) as TypeBox schemas: what the sandbox PG
 * answers and validates, and what a Toss client can validate Toss's answers with. Facts from
 * Toss Payments' documented confirm, payment object, lookup and cancel shapes. Sub-objects Toss documents as nullable are `Optional` here as
 * well, so a client validating Toss's real answers does not break on one that leaves them out;
 * the sandbox always sends every field.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const TOSS_API_VERSION = '2022-11-16';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Loose = Type.Record(Type.String(), Type.Unknown());

/** `[A-Za-z0-9_-.]`, 6–64: the description names letters, digits, `-` and `_`; the spec's regex also allows `.`. */
export const TOSS_ORDER_ID_PATTERN = '^[A-Za-z0-9_.-]{6,64}$';

export const TossErrorBody = Type.Object({ code: Type.String(), message: Type.String() });
export type TossErrorBody = Static<typeof TossErrorBody>;

export const TossPaymentStatus = Type.Union([
  Type.Literal('READY'),
  Type.Literal('IN_PROGRESS'),
  Type.Literal('WAITING_FOR_DEPOSIT'),
  Type.Literal('DONE'),
  Type.Literal('CANCELED'),
  Type.Literal('PARTIAL_CANCELED'),
  Type.Literal('ABORTED'),
  Type.Literal('EXPIRED'),
]);
export type TossPaymentStatus = Static<typeof TossPaymentStatus>;

/** `POST /v1/payments/confirm` (B3): all three required. */
export const TossConfirmBody = Type.Object({
  paymentKey: Type.String({ minLength: 1, maxLength: 200 }),
  orderId: Type.String({ pattern: TOSS_ORDER_ID_PATTERN }),
  amount: Type.Number({ minimum: 1 }),
});
export type TossConfirmBody = Static<typeof TossConfirmBody>;

/** `POST /v1/payments/{paymentKey}/cancel` (B6): no `cancelAmount` = cancel the whole balance. */
export const TossCancelBody = Type.Object({
  cancelReason: Type.String({ minLength: 1, maxLength: 200 }),
  cancelAmount: Type.Optional(Type.Number({ minimum: 1 })),
  taxFreeAmount: Type.Optional(Type.Number({ minimum: 0 })),
  /** Deprecated by Toss in favour of Idempotency-Key; when sent it must equal the balance. */
  refundableAmount: Type.Optional(Type.Number({ minimum: 0 })),
  refundReceiveAccount: Type.Optional(
    Type.Object({
      bank: Type.String(),
      accountNumber: Type.String({ pattern: '^[0-9]{1,20}$' }),
      holderName: Type.String({ maxLength: 60 }),
    }),
  ),
  currency: Type.Optional(Type.String()),
});
export type TossCancelBody = Static<typeof TossCancelBody>;

export const TossCard = Type.Object({
  amount: Type.Number(),
  issuerCode: Type.String(),
  acquirerCode: Nullable(Type.String()),
  /** Masked, e.g. `43301234****123*`. */
  number: Type.String(),
  /** 0 = paid at once. */
  installmentPlanMonths: Type.Integer(),
  approveNo: Type.String(),
  useCardPoint: Type.Boolean(),
  /** 신용 | 체크 | 기프트 | 미확인 */
  cardType: Type.String(),
  /** 개인 | 법인 | 미확인 */
  ownerType: Type.String(),
  acquireStatus: Type.Union([
    Type.Literal('READY'),
    Type.Literal('REQUESTED'),
    Type.Literal('COMPLETED'),
    Type.Literal('CANCEL_REQUESTED'),
    Type.Literal('CANCELED'),
  ]),
  isInterestFree: Type.Boolean(),
  interestPayer: Nullable(Type.String()),
});
export type TossCard = Static<typeof TossCard>;

export const TossCancel = Type.Object({
  cancelAmount: Type.Number(),
  cancelReason: Type.String(),
  taxFreeAmount: Type.Number(),
  taxExemptionAmount: Type.Number(),
  /** The balance after this cancel. */
  refundableAmount: Type.Number(),
  easyPayDiscountAmount: Type.Number(),
  canceledAt: Type.String(),
  transactionKey: Type.String(),
  receiptKey: Nullable(Type.String()),
  cancelStatus: Type.String(),
  cancelRequestId: Nullable(Type.String()),
});
export type TossCancel = Static<typeof TossCancel>;

export const TossFailure = Type.Object({ code: Type.String(), message: Type.String() });

/** The Payment object (B4). Timestamps are ISO 8601 with `+09:00`. */
export const TossPayment = Type.Object({
  version: Type.String(),
  paymentKey: Type.String(),
  type: Type.Union([Type.Literal('NORMAL'), Type.Literal('BILLING'), Type.Literal('BRANDPAY')]),
  orderId: Type.String(),
  orderName: Type.String(),
  mId: Type.String(),
  currency: Type.String(),
  /** Korean: 카드, 가상계좌, 간편결제, 휴대폰, 계좌이체, 문화상품권, 도서문화상품권, 게임문화상품권 (null on an expired payment). */
  method: Nullable(Type.String()),
  /** Never changes. */
  totalAmount: Type.Number(),
  /** Goes down with each cancel. */
  balanceAmount: Type.Number(),
  status: TossPaymentStatus,
  requestedAt: Type.String(),
  approvedAt: Nullable(Type.String()),
  useEscrow: Nullable(Type.Boolean()),
  /** The most recent approval or cancel transaction. */
  lastTransactionKey: Nullable(Type.String()),
  suppliedAmount: Type.Number(),
  vat: Type.Number(),
  cultureExpense: Type.Boolean(),
  taxFreeAmount: Type.Number(),
  taxExemptionAmount: Type.Number(),
  isPartialCancelable: Type.Boolean(),
  country: Type.String(),
  card: Type.Optional(Nullable(TossCard)),
  virtualAccount: Type.Optional(Nullable(Loose)),
  mobilePhone: Type.Optional(Nullable(Loose)),
  giftCertificate: Type.Optional(Nullable(Loose)),
  transfer: Type.Optional(Nullable(Loose)),
  easyPay: Type.Optional(Nullable(Loose)),
  receipt: Type.Optional(Nullable(Type.Object({ url: Type.String() }))),
  checkout: Type.Optional(Nullable(Type.Object({ url: Type.String() }))),
  cashReceipt: Type.Optional(Nullable(Loose)),
  cashReceipts: Type.Optional(Nullable(Type.Array(Loose))),
  discount: Type.Optional(Nullable(Loose)),
  cancels: Type.Optional(Nullable(Type.Array(TossCancel))),
  failure: Type.Optional(Nullable(TossFailure)),
  secret: Type.Optional(Nullable(Type.String())),
  metadata: Type.Optional(Nullable(Type.Record(Type.String(), Type.String()))),
});
export type TossPayment = Static<typeof TossPayment>;
