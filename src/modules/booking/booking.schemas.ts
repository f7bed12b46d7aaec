import { Type } from '@sinclair/typebox';
import { DateTime, StrictObject, Uuid } from '../../platform/http/schemas.js';

/** The hold body's size limit comes from configuration (MAX_SEATS_PER_BUYER). */
export const HoldBody = (maxSeats: number) => StrictObject({ seatIds: Type.Array(Uuid, { minItems: 1, maxItems: maxSeats, uniqueItems: true }) });

export const HoldCreated = Type.Object({ scheduleId: Uuid, seatIds: Type.Array(Uuid), expiresAt: DateTime });
export const MyHolds = Type.Object({ seatIds: Type.Array(Uuid), expiresAt: Type.Union([DateTime, Type.Null()]) });
export const HoldSeatParams = StrictObject({ id: Uuid, seatId: Uuid });

export const OrderBody = (maxSeats: number) =>
  StrictObject({
    scheduleId: Uuid,
    seatIds: Type.Array(Uuid, { minItems: 1, maxItems: maxSeats, uniqueItems: true }),
    couponIds: Type.Optional(Type.Array(Uuid, { maxItems: 20, uniqueItems: true, description: 'Omitted: the best coupons are applied; []: none' })),
  });

const AppliedCoupon = Type.Object({ id: Uuid, name: Type.String(), discount: Type.Integer(), seatId: Type.Optional(Uuid) });

export const Quote = Type.Object({
  subtotal: Type.Integer(),
  discount: Type.Integer(),
  amount: Type.Integer(),
  coupons: Type.Array(AppliedCoupon),
});

export const Order = Type.Object({
  id: Uuid,
  status: Type.Union(['PENDING_PAYMENT', 'PAID', 'EXPIRED', 'CANCELLED', 'REFUNDED'].map((s) => Type.Literal(s))),
  scheduleId: Uuid,
  items: Type.Array(Type.Object({ seatId: Uuid, label: Type.String(), grade: Type.String(), price: Type.Integer(), discount: Type.Integer() })),
  subtotal: Type.Integer(),
  discount: Type.Integer(),
  amount: Type.Integer({ description: 'KRW to pay; computed by the server' }),
  coupons: Type.Array(AppliedCoupon),
  orderName: Type.String(),
  expiresAt: DateTime,
  createdAt: DateTime,
  paidAt: Type.Union([DateTime, Type.Null()]),
  cancelledAt: Type.Union([DateTime, Type.Null()]),
});

export const CancelBody = StrictObject({ reason: Type.Optional(Type.String({ maxLength: 500 })) });

export const Ticket = Type.Object({
  id: Uuid,
  orderId: Uuid,
  scheduleId: Uuid,
  seatId: Uuid,
  seatLabel: Type.String(),
  code: Type.String(),
  status: Type.Union([Type.Literal('VALID'), Type.Literal('CANCELLED')]),
});
