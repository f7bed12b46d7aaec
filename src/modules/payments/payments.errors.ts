import { defineError } from '../../platform/http/errors.js';

export const PaymentErrors = {
  AMOUNT_MISMATCH: defineError<{ amount: number }>('AMOUNT_MISMATCH', 400, "The amount is not the order's amount"),
  PAYMENT_REJECTED: defineError<{ pgCode: string }>('PAYMENT_REJECTED', 402, 'The payment was refused'),
  ORDER_EXPIRED: defineError('ORDER_EXPIRED', 409, 'The order can no longer be paid'),
} as const;
