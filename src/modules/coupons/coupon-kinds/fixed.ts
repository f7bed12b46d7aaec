import { Type } from '@sinclair/typebox';
import { defineKind } from './kind.js';

/** `FIXED {amount}`: a fixed KRW amount off the order or the ticket. */
export const fixed = defineKind<{ amount: number }>({
  name: 'FIXED',
  params: Type.Object({ amount: Type.Integer({ minimum: 1, maximum: 10_000_000 }) }, { additionalProperties: false }),
  appliesTo: ['ORDER', 'TICKET'],
  discount: (p, base) => Math.min(p.amount, base),
});
