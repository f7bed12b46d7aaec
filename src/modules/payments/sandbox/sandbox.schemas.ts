/** The sandbox's own endpoints (not Toss's): checkout, ledger and the fault script. */
import { Type, type Static } from '@sinclair/typebox';
import { TOSS_ORDER_ID_PATTERN } from './toss.wire.js';

const Code = Type.String({ pattern: '^[A-Z][A-Z_]*$', maxLength: 100 });

export const CheckoutBody = Type.Object(
  {
    orderId: Type.String({ pattern: TOSS_ORDER_ID_PATTERN }),
    amount: Type.Integer({ minimum: 1 }),
    orderName: Type.String({ minLength: 1, maxLength: 100 }),
    /** This payment fails at confirm with this documented Toss error (a buyer whose card is refused). */
    testCode: Type.Optional(Code),
  },
  { additionalProperties: false },
);
export type CheckoutBody = Static<typeof CheckoutBody>;

export const CheckoutResponse = Type.Object({ paymentKey: Type.String(), orderId: Type.String(), amount: Type.Number() });

export const LedgerQuery = Type.Object({ orderId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });

export const LedgerResponse = Type.Object({
  payments: Type.Array(
    Type.Object({
      paymentKey: Type.String(),
      orderId: Type.String(),
      orderName: Type.String(),
      status: Type.String(),
      totalAmount: Type.Number(),
      balanceAmount: Type.Number(),
      requestedAt: Type.String(),
      approvedAt: Type.Union([Type.String(), Type.Null()]),
      failure: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
      cancels: Type.Array(Type.Object({ cancelAmount: Type.Number(), cancelReason: Type.String(), canceledAt: Type.String(), transactionKey: Type.String() })),
    }),
  ),
  orders: Type.Array(
    Type.Object({
      orderId: Type.String(),
      charges: Type.Integer(),
      chargedAmount: Type.Number(),
      canceledAmount: Type.Number(),
      balanceAmount: Type.Number(),
    }),
  ),
});

export const FaultsBody = Type.Object(
  {
    next: Type.Array(
      Type.Object(
        {
          on: Type.Optional(Type.Union([Type.Literal('confirm'), Type.Literal('cancel'), Type.Literal('lookup')])),
          latencyMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
          code: Type.Optional(Code),
          fault: Type.Optional(Type.Union([Type.Literal('drop'), Type.Literal('timeout'), Type.Literal('5xx')])),
        },
        { additionalProperties: false },
      ),
      { maxItems: 1000 },
    ),
  },
  { additionalProperties: false },
);
export type FaultsBody = Static<typeof FaultsBody>;

export const FaultsResponse = Type.Object({ pending: Type.Integer() });

/** `GET /webhooks`: each PAYMENT_STATUS_CHANGED event and every attempt to deliver it (times in Korean time, no offset). */
export const WebhooksResponse = Type.Object({
  deliveries: Type.Array(
    Type.Object({
      id: Type.String(),
      url: Type.String(),
      paymentKey: Type.String(),
      orderId: Type.String(),
      status: Type.String(),
      /** pending (a retry is due at `nextAttemptAt`), delivered (a 200), failed (the 7th retry failed too). */
      state: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
      createdAt: Type.String(),
      nextAttemptAt: Type.Union([Type.String(), Type.Null()]),
      attempts: Type.Array(
        Type.Object({
          at: Type.String(),
          retriedCount: Type.Integer(),
          httpStatus: Type.Union([Type.Integer(), Type.Null()]),
          error: Type.Union([Type.String(), Type.Null()]),
        }),
      ),
    }),
  ),
});
