import { newEvent, type EventEnvelope } from '../../platform/events/envelope.js';

/**
 * The events payments publishes through the outbox (docs/architecture.md §5), each about one order (the
 * aggregate id is the order id, like booking's order events, so a consumer sees an order's events
 * in order). Payload shapes are version 1.
 */
export const PaymentEvents = {
  paymentCompleted: 'payment.completed',
  refundCompleted: 'refund.completed',
  paymentFailed: 'payment.failed',
} as const;

/** `payment.completed` v1: the order was paid — written by the paying statement. */
export interface PaymentCompletedV1 {
  paymentId: string;
  orderId: string;
  userId: string;
  scheduleId: string;
  seatIds: string[];
  couponIds: string[];
  ticketIds: string[];
  paymentKey: string;
  amount: number;
  /** As the PG says it (Korean: 카드, 간편결제, …). */
  method: string | null;
  /** ISO 8601, UTC. */
  approvedAt: string;
}

export function paymentCompleted(payload: PaymentCompletedV1, at: Date): EventEnvelope<PaymentCompletedV1> {
  return newEvent<PaymentCompletedV1>(PaymentEvents.paymentCompleted, payload.orderId, at, payload);
}

/** `refund.completed` v1: the paid order was refunded at the PG and in MOS — written in the refunding transaction. */
export interface RefundCompletedV1 {
  paymentId: string;
  orderId: string;
  userId: string;
  scheduleId: string;
  /** The seats returned to sale. */
  seatIds: string[];
  /** The tickets cancelled. */
  ticketIds: string[];
  /** Every coupon the order used. */
  couponIds: string[];
  /** Those given back to the buyer's wallet (still valid); the others stay USED. */
  restoredCouponIds: string[];
  paymentKey: string;
  /** KRW refunded: the whole charge. */
  amount: number;
  reason: string;
  /** ISO 8601, UTC: when MOS recorded the refund. */
  refundedAt: string;
}

export function refundCompleted(payload: RefundCompletedV1, at: Date): EventEnvelope<RefundCompletedV1> {
  return newEvent<RefundCompletedV1>(PaymentEvents.refundCompleted, payload.orderId, at, payload);
}

/**
 * `payment.failed` v1: an attempt to pay the order ended REJECTED — the PG refused it (confirm),
 * or the PG never approved it (reconciliation, webhook). The order stays payable; a new attempt
 * takes the next key. Written in the statement that rejects the attempt (`PaymentsRepository#reject`).
 */
export interface PaymentFailedV1 {
  paymentId: string;
  orderId: string;
  userId: string;
  paymentKey: string;
  amount: number;
  /** The confirm attempt that failed. */
  attempt: number;
  /** Toss's code (e.g. `REJECT_CARD_PAYMENT`), or MOS's (`NOT_CONFIRMED`, `NOT_FOUND_PAYMENT`, `ABORTED`, `EXPIRED`). */
  pgCode: string;
  pgMessage: string;
  /** ISO 8601, UTC. */
  failedAt: string;
}
