import { Type } from '@sinclair/typebox';
import { defineKind } from './kind.js';

/** `PERCENT {percent 1–100, maxDiscount?}`: a share of the base, rounded down, optionally capped. */
export const percent = defineKind<{ percent: number; maxDiscount?: number }>({
  name: 'PERCENT',
  params: Type.Object(
    {
      percent: Type.Integer({ minimum: 1, maximum: 100 }),
      maxDiscount: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    },
    { additionalProperties: false },
  ),
  appliesTo: ['ORDER', 'TICKET'],
  discount: (p, base) => Math.min(Math.floor((base * p.percent) / 100), p.maxDiscount ?? Number.MAX_SAFE_INTEGER),
});
