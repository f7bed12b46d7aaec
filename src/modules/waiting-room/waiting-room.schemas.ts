import { Type } from '@sinclair/typebox';
import { DateTime } from '../../platform/http/schemas.js';

export const QueueStatus = Type.Object({
  status: Type.Union([Type.Literal('WAITING'), Type.Literal('ADMITTED')]),
  position: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
    description: '1-based place in line; null before the sale opens (the early arrivals are shuffled at the opening) and once admitted',
  }),
  ahead: Type.Integer({ minimum: 0 }),
  estimatedWaitSeconds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
    description: 'Buyers ahead ÷ admissions per second over the last minute; null before any admission',
  }),
  admissionToken: Type.Optional(Type.String({ description: 'Send as X-Admission-Token on holds and orders of this showtime' })),
  admissionExpiresAt: Type.Optional(DateTime),
});

export const AdmissionHeaders = Type.Object({
  'x-admission-token': Type.Optional(Type.String({ maxLength: 2048, description: 'From the waiting room, for showtimes that have one' })),
});
