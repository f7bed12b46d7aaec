import { newEvent, type EventEnvelope } from '../../platform/events/envelope.js';

/**
 * The events payments publishes through the outbox (DESIGN.md §5), each about one order (the
 * aggregate id is the order id, like booking's order events, so a consumer sees an order's events
 * in order). Payload shapes are version 1.
 */
export const PaymentEvents = {
  paymentCompleted: 'payment.completed',
} as const;

/** `payment.completed` v1: the order was paid — written in the paying transaction. */
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
