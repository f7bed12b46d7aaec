import { newEvent, type EventEnvelope } from '../../platform/events/envelope.js';

/**
 * The events payments publishes through the outbox (docs/architecture.md §5), each about one order (the
 * aggregate id is the order id, like booking's order events, so a consumer sees an order's events
 * in order). `payment.completed` and `refund.completed` are version 2 (v1's fields and the sale's
 * facts settlement needs: `SaleFacts`); `payment.failed` is version 1.
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

/**
 * What a sale is, for settlement (which never reads another module's tables): added to
 * `payment.completed` and `refund.completed` in version 2. The seller and performance come from
 * the catalog, the split of the discount from the coupons' campaigns (`fundedBy`), all read in
 * the statement that writes the event (`PaymentsRepository`), so they cost no extra round trip.
 * `listTotal − sellerDiscount − platformDiscount` is the amount the buyer was charged.
 */
export interface SaleFacts {
  /** The performance's owner: who is settled for the sale. */
  sellerId: string;
  performanceId: string;
  performanceTitle: string;
  /** KRW: the seats' list prices (the order's subtotal). */
  listTotal: number;
  /** KRW of the discount funded by the seller (campaigns `fundedBy: SELLER`). */
  sellerDiscount: number;
  /** KRW of the discount funded by the platform (paid to the seller by the platform). */
  platformDiscount: number;
}

/** `payment.completed` v2: v1 and the sale's facts. `approvedAt` (the PG's) is when the sale occurred. */
export type PaymentCompletedV2 = PaymentCompletedV1 & SaleFacts;

export const PAYMENT_COMPLETED_VERSION = 2;
export const REFUND_COMPLETED_VERSION = 2;

/** The part of the payload known before the statement runs; the statement adds the rest of `SaleFacts`. */
export function paymentCompleted(payload: PaymentCompletedV1 & Pick<SaleFacts, 'listTotal'>, at: Date): EventEnvelope<PaymentCompletedV1> {
  return newEvent<PaymentCompletedV1>(PaymentEvents.paymentCompleted, payload.orderId, at, payload, PAYMENT_COMPLETED_VERSION);
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

/**
 * `refund.completed` v2: v1, the refunded sale's facts, and its times. `canceledAt` (the PG's
 * cancel time, else when MOS recorded the refund) is when the refund occurred.
 */
export type RefundCompletedV2 = RefundCompletedV1 &
  SaleFacts & {
    /** KRW the sale charged (`amount` is what was refunded: the whole charge). */
    chargedAmount: number;
    /** ISO 8601, UTC: the PG's approval of the refunded sale. */
    approvedAt: string | null;
    /** ISO 8601, UTC: the PG's cancel. */
    canceledAt: string;
  };

/** The part of the payload known before the statement runs; the statement adds the rest of `SaleFacts`. */
export function refundCompleted(
  payload: RefundCompletedV1 & Pick<RefundCompletedV2, 'listTotal' | 'chargedAmount' | 'approvedAt' | 'canceledAt'>,
  at: Date,
): EventEnvelope<RefundCompletedV1> {
  return newEvent<RefundCompletedV1>(PaymentEvents.refundCompleted, payload.orderId, at, payload, REFUND_COMPLETED_VERSION);
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
