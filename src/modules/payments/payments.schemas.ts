import { Type } from '@sinclair/typebox';
import { DateTime, StrictObject, Uuid } from '../../platform/http/schemas.js';
import { OrderSchema, TicketSchema } from '../booking/index.js';

/** What the PG's success redirect hands the client (docs/toss.md B1), passed on as is. */
export const ConfirmBody = StrictObject(
  {
    paymentKey: Type.String({ minLength: 1, maxLength: 200, description: "The PG's key of the payment the buyer authenticated" }),
    orderId: Uuid,
    amount: Type.Integer({ minimum: 0, description: "Must be the order's amount (KRW); checked before anything is sent to the PG" }),
  },
  { title: 'ConfirmBody' },
);

export const ConfirmResult = Type.Object(
  {
    order: OrderSchema,
    payment: Type.Object({
      paymentKey: Type.String(),
      status: Type.Literal('DONE'),
      method: Type.Union([Type.String(), Type.Null()], { description: 'As the PG says it (Korean: 카드, 간편결제, …)' }),
      approvedAt: DateTime,
      totalAmount: Type.Integer(),
    }),
    tickets: Type.Array(TicketSchema),
  },
  { title: 'ConfirmResult' },
);

export const PendingConfirmation = Type.Object(
  { status: Type.Literal('PENDING_CONFIRMATION') },
  { title: 'PendingConfirmation', description: 'The PG outcome is not known yet; it is reconciled (read the order again later)' },
);

export const PendingRefund = Type.Object(
  { status: Type.Literal('PENDING_REFUND') },
  {
    title: 'PendingRefund',
    description: "The PG's answer to the refund was not seen; it is reconciled and the order becomes REFUNDED (read the order again later)",
  },
);

/**
 * Toss's webhook body (docs/toss.md B9), read loosely: Toss adds fields over time, and a body refused
 * with a 400 would be delivered again for days. Only `data.paymentKey` is used — to fetch the
 * payment from the PG; the rest is never trusted.
 */
export const TossWebhookBody = Type.Object(
  {
    eventType: Type.String({ maxLength: 100, description: '`PAYMENT_STATUS_CHANGED`; any other event type is acknowledged and ignored' }),
    createdAt: Type.Optional(Type.String({ maxLength: 100, description: 'Korean time without an offset, as Toss writes it' })),
    data: Type.Object(
      {
        paymentKey: Type.String({
          minLength: 1,
          maxLength: 200,
          description: 'The payment MOS fetches from the PG (`GET /v1/payments/{paymentKey}`) and acts on',
        }),
        orderId: Type.Optional(Type.String({ maxLength: 100, description: "Not trusted: the PG's answer names the order" })),
        status: Type.Optional(Type.String({ maxLength: 50, description: "Not trusted: the PG's answer is what MOS acts on" })),
      },
      { additionalProperties: true, description: "Toss's Payment object; every field besides `paymentKey` is ignored" },
    ),
  },
  { title: 'TossWebhookBody', additionalProperties: true },
);

export const WebhookAck = Type.Object(
  { received: Type.Literal(true) },
  { title: 'WebhookAck', description: 'The change is recorded (or there was nothing to record): the PG stops delivering it' },
);
