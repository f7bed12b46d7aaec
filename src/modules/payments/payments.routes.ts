import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../../platform/http/auth.js';
import { problems } from '../../platform/http/schemas.js';
import { ConfirmBody, ConfirmResult, PendingConfirmation } from './payments.schemas.js';
import type { PaymentsService } from './payments.service.js';

export interface PaymentsRouteOptions {
  service: PaymentsService;
}

const security = [{ bearerAuth: [] }];

export const paymentsRoutes: FastifyPluginAsyncTypebox<PaymentsRouteOptions> = async (app, { service }) => {
  const tags = ['payments'];

  app.post(
    '/v1/payments/confirm',
    {
      onRequest: app.authenticate,
      config: { idempotency: 'optional' },
      schema: {
        tags,
        security,
        body: ConfirmBody,
        response: { 200: ConfirmResult, 202: PendingConfirmation, ...problems(400, 401, 402, 404, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      const outcome = await service.confirm(principalOf(request).id, request.body);
      if (outcome.kind === 'pending') return reply.code(202).send({ status: 'PENDING_CONFIRMATION' as const });
      return reply.code(200).send(outcome.result);
    },
  );
};
