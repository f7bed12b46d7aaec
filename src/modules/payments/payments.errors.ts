import { defineError } from '../../platform/http/errors.js';

export const PaymentErrors = {
  AMOUNT_MISMATCH: defineError<{ amount: number }>('AMOUNT_MISMATCH', 400, "The amount is not the order's amount"),
  PAYMENT_REJECTED: defineError<{ pgCode: string }>('PAYMENT_REJECTED', 402, 'The payment was refused'),
  ORDER_EXPIRED: defineError('ORDER_EXPIRED', 409, 'The order can no longer be paid'),
  /** The PG refused to cancel the charge (a final refusal, `pgCode`): the order stays PAID, and operators are alerted. */
  REFUND_REJECTED: defineError<{ pgCode: string }>('REFUND_REJECTED', 409, 'The payment gateway refused the refund'),
} as const;
