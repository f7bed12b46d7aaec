import { Type } from '@sinclair/typebox';
import { defineKind } from './kind.js';

/** `GRADE_FIXED {grade, amount}`: a fixed amount off each ticket of one grade, and no other. */
export const gradeFixed = defineKind<{ grade: string; amount: number }>({
  name: 'GRADE_FIXED',
  params: Type.Object(
    { grade: Type.String({ minLength: 1, maxLength: 20 }), amount: Type.Integer({ minimum: 1, maximum: 10_000_000 }) },
    { additionalProperties: false },
  ),
  appliesTo: ['TICKET'],
  discount: (p, base, seat) => (seat?.grade === p.grade ? Math.min(p.amount, base) : 0),
});
