import type { FastifyRequest } from 'fastify';
import { principalOf } from '../../platform/http/auth.js';
import type { ScheduleView } from '../catalog/index.js';
import type { WaitingRoomService } from './waiting-room.service.js';

/**
 * The reusable guard of invariant 5 for routes that touch a showtime's seats (holds, orders):
 * for a showtime with a waiting room, 403 ADMISSION_REQUIRED unless the request carries a valid
 * X-Admission-Token of this buyer for this showtime and the buyer is in its active set.
 * The route calls it from its preHandler, after authentication and validation, with the
 * showtime it already read for the request (undefined when there is none — the route answers
 * 404), so a hold or an order reads its showtime once.
 */
export function admissionGuard(service: WaitingRoomService) {
  return async (request: FastifyRequest, showtime: ScheduleView | undefined): Promise<void> => {
    const token = request.headers['x-admission-token'];
    await service.requireAdmission(principalOf(request).id, showtime, typeof token === 'string' ? token : undefined);
  };
}

export type AdmissionGuard = ReturnType<typeof admissionGuard>;
