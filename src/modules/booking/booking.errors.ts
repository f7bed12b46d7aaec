import { defineError } from '../../platform/http/errors.js';

export const BookingErrors = {
  SEAT_UNAVAILABLE: defineError<{ unavailableSeatIds: string[] }>('SEAT_UNAVAILABLE', 409, 'Some seats are held by someone else or sold'),
  HOLD_LIMIT_EXCEEDED: defineError<{ maxSeatsPerBuyer: number; holding: number }>('HOLD_LIMIT_EXCEEDED', 409, 'Too many seats held for this showtime'),
  SEATS_NOT_HELD: defineError<{ seatIds: string[] }>('SEATS_NOT_HELD', 409, 'Seats must be held by you to order them'),
  HOLD_IN_ORDER: defineError('HOLD_IN_ORDER', 409, 'The seat belongs to your pending order; cancel the order to release it'),
  NOT_CANCELLABLE: defineError('NOT_CANCELLABLE', 409, 'This order can no longer be cancelled'),
} as const;
