import { type TSchema, Type } from '@sinclair/typebox';
import { DateTime, StrictObject, Uuid } from '../../platform/http/schemas.js';

const Nullable = <T extends TSchema>(schema: T, description?: string) => Type.Union([schema, Type.Null()], description ? { description } : {});

const Krw = (description: string) => Type.Integer({ description: `KRW: ${description}` });

export const RunBody = StrictObject(
  {
    periodStart: { ...DateTime, description: 'Start of the half-open period [periodStart, periodEnd), to the second' },
    periodEnd: { ...DateTime, description: 'End of the period (excluded), to the second; must have passed' },
  },
  { title: 'SettlementRunBody' },
);

export const Settlement = Type.Object(
  {
    id: Uuid,
    sellerId: Uuid,
    periodStart: DateTime,
    periodEnd: DateTime,
    lineCount: Type.Integer({ description: 'Orders with activity in the settlement (one line each)' }),
    gross: Krw('list price total of the sales'),
    refunds: Krw('revenue given back by refunds (list price total − seller-funded discount of each refunded sale)'),
    sellerDiscounts: Krw('seller-funded discounts of the sales'),
    platformDiscounts: Krw("platform-funded discounts of the sales (the platform's cost: not deducted)"),
    platformFee: Krw('platform fee booked by the sales minus that given back by the refunds'),
    pgFee: Krw('PG fee booked by the sales minus that given back by the refunds (only if PG fees are refundable)'),
    subtotal: Krw('gross − sellerDiscounts − platformFee − pgFee − refunds: the sum of the lines'),
    carriedIn: Krw("deficit carried in from the seller's previous settlement"),
    carriedOut: Krw("deficit carried into the seller's next settlement"),
    net: Krw('paid out: subtotal − carriedIn + carriedOut, never negative'),
    status: Type.Union([Type.Literal('PENDING'), Type.Literal('PAID')]),
    paidAt: Nullable(DateTime),
    createdAt: DateTime,
  },
  { title: 'Settlement' },
);

export const SettlementLine = Type.Object(
  {
    orderId: Uuid,
    performanceId: Uuid,
    performanceTitle: Type.String(),
    scheduleId: Uuid,
    soldAt: Nullable(DateTime, 'When the sale occurred, if the sale is on this line'),
    refundedAt: Nullable(DateTime, 'When the refund occurred, if the refund is on this line'),
    seats: Type.Integer({ description: 'Tickets sold minus tickets refunded on this line' }),
    gross: Krw('list price total of the sale'),
    sellerDiscount: Krw('seller-funded discount of the sale'),
    platformDiscount: Krw('platform-funded discount of the sale'),
    charged: Krw('what the buyer was charged'),
    refunds: Krw('revenue given back by the refund'),
    platformFee: Krw('platform fee, net of the refund'),
    pgFee: Krw('PG fee, net of the refund'),
    net: Krw('gross − sellerDiscount − platformFee − pgFee − refunds'),
  },
  { title: 'SettlementLine' },
);

export const SettlementDetail = Type.Composite([Settlement, Type.Object({ lines: Type.Array(SettlementLine), nextCursor: Nullable(Type.String()) })], {
  title: 'SettlementDetail',
});

export const RunResult = Type.Object({ settlements: Type.Array(Settlement) }, { title: 'SettlementRunResult' });

export const LinesQuery = StrictObject({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 1000, description: 'Lines per page (the CSV has them all)' }),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
});

export const SalesQuery = StrictObject({
  from: { ...DateTime, description: 'Sales and refunds that occurred at or after this instant' },
  to: { ...DateTime, description: '… and before this one' },
});

export const SalesReport = Type.Object(
  {
    from: DateTime,
    to: DateTime,
    items: Type.Array(
      Type.Object({
        performanceId: Uuid,
        performanceTitle: Type.String(),
        scheduleId: Uuid,
        sold: Type.Integer({ description: 'Tickets sold' }),
        refundedTickets: Type.Integer({ description: 'Tickets refunded' }),
        gross: Krw('list price total of the sales'),
        refunded: Krw('revenue given back by the refunds'),
        discountsSellerFunded: Krw('seller-funded discounts of the sales'),
      }),
    ),
  },
  { title: 'SellerSales' },
);
