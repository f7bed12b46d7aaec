import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { principalOf } from '../../platform/http/auth.js';
import type { WaitingRoomService } from './waiting-room.service.js';

/**
 * The reusable guard of invariant 5 for routes that touch a showtime's seats (holds, orders):
 * for a showtime with a waiting room, 403 ADMISSION_REQUIRED unless the request carries a valid
 * X-Admission-Token of this buyer for this showtime and the buyer is in its active set.
 * Runs as a preHandler, after authentication and validation, so the showtime id may come from
 * the params or the body.
 */
export function admissionGuard(service: WaitingRoomService) {
  return (scheduleIdOf: (request: FastifyRequest) => string): preHandlerAsyncHookHandler =>
    async (request) => {
      const token = request.headers['x-admission-token'];
      await service.requireAdmission(principalOf(request).id, scheduleIdOf(request), typeof token === 'string' ? token : undefined);
    };
}

export type AdmissionGuard = ReturnType<typeof admissionGuard>;
