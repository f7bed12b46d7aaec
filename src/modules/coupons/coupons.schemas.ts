import { Type } from '@sinclair/typebox';
import { DateTime, Name, StrictObject, Uuid } from '../../platform/http/schemas.js';
import { couponKinds } from './coupon-kinds/index.js';

const AppliesTo = Type.Union([Type.Literal('ORDER'), Type.Literal('TICKET')]);

export const CreateCampaignBody = StrictObject({
  name: Name(100),
  kind: Type.Union(
    couponKinds.map((k) => Type.Literal(k.name)),
    { description: 'A coupon kind of the registry' },
  ),
  params: Type.Object({}, { additionalProperties: true, description: couponKinds.map((k) => `${k.name}: ${JSON.stringify(k.params)}`).join('; ') }),
  appliesTo: AppliesTo,
  minOrderAmount: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
  scope: Type.Optional(StrictObject({ performanceId: Type.Optional(Uuid), grade: Type.Optional(Name(20)) })),
  quantity: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
  perUserLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 1 })),
  claimOpensAt: DateTime,
  claimClosesAt: Type.Optional(DateTime),
  validUntil: DateTime,
});

export const Campaign = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown()),
  appliesTo: AppliesTo,
  minOrderAmount: Type.Integer(),
  scope: Type.Object({ performanceId: Type.Union([Uuid, Type.Null()]), grade: Type.Union([Type.String(), Type.Null()]) }),
  quantity: Type.Integer(),
  perUserLimit: Type.Integer(),
  claimOpensAt: DateTime,
  claimClosesAt: Type.Union([DateTime, Type.Null()]),
  validUntil: DateTime,
  fundedBy: Type.Union([Type.Literal('SELLER'), Type.Literal('PLATFORM')]),
  remaining: Type.Integer({ description: 'Coupons left, read from the hot state' }),
});

export const CampaignListQuery = StrictObject({ performanceId: Type.Optional(Uuid) });
export const CampaignList = Type.Object({ items: Type.Array(Campaign), nextCursor: Type.Null() });

export const Claimed = Type.Object({ status: Type.Literal('ISSUED') });

export const Reconciled = Type.Object({
  campaignId: Uuid,
  epoch: Type.Integer({ description: "The rebuilt hot state's epoch (loads of the campaign's stock so far)" }),
  issued: Type.Integer({ description: 'Coupons in wallets, subtracted from the rebuilt stock' }),
  remaining: Type.Integer(),
});

export const WalletCoupon = Type.Object({
  id: Uuid,
  campaignId: Uuid,
  name: Type.String(),
  kind: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown()),
  appliesTo: AppliesTo,
  status: Type.Union([Type.Literal('AVAILABLE'), Type.Literal('USED'), Type.Literal('EXPIRED')]),
  validUntil: DateTime,
  reservedOrderId: Type.Union([Uuid, Type.Null()], { description: 'The pending order this coupon is reserved for' }),
});
