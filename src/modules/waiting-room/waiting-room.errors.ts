import { defineError } from '../../platform/http/errors.js';

export const WaitingRoomErrors = {
  NOT_IN_QUEUE: defineError('NOT_IN_QUEUE', 404, "Not in this showtime's queue"),
  WAITING_ROOM_DISABLED: defineError('WAITING_ROOM_DISABLED', 409, 'This showtime has no waiting room'),
  ADMISSION_REQUIRED: defineError('ADMISSION_REQUIRED', 403, 'Admission through the waiting room is required'),
} as const;
