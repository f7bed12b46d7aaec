import { newEvent, type EventEnvelope } from '../../platform/events/envelope.js';
import type { OrderWithItems } from './orders.repository.js';

/**
 * The events booking publishes through the outbox (docs/architecture.md §5), each about one order (the
 * aggregate id is the order id). Payload shapes are version 1; a change that breaks a reader
 * comes with a new version.
 */
export const BookingEvents = {
  orderCreated: 'order.created',
  orderCancelled: 'order.cancelled',
  orderExpired: 'order.expired',
} as const;

/** `order.created` v1: written by the order placing statement itself (orders.repository.ts). */
export interface OrderCreatedV1 {
  orderId: string;
  userId: string;
  scheduleId: string;
  seatIds: string[];
  couponIds: string[];
  subtotal: number;
  discount: number;
  amount: number;
  orderName: string;
  /** End of the payment window (ISO 8601, UTC). */
  expiresAt: string;
}

/** `order.cancelled` v1 and `order.expired` v1: the order ended unpaid, its seats and coupons were released. */
export interface OrderEndedV1 {
  orderId: string;
  userId: string;
  scheduleId: string;
  seatIds: string[];
  couponIds: string[];
  /** The buyer's reason (cancelled only; null when none was given). */
  reason?: string | null;
}

export function orderEnded(
  type: typeof BookingEvents.orderCancelled | typeof BookingEvents.orderExpired,
  order: OrderWithItems,
  at: Date,
  reason?: string | null,
): EventEnvelope<OrderEndedV1> {
  return newEvent<OrderEndedV1>(type, order.id, at, {
    orderId: order.id,
    userId: order.userId,
    scheduleId: order.scheduleId,
    seatIds: order.items.map((i) => i.seatId),
    couponIds: order.coupons.map((c) => c.couponId),
    ...(type === BookingEvents.orderCancelled ? { reason: reason ?? null } : {}),
  });
}
