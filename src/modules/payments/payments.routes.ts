import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../../platform/http/auth.js';
import { IdParams, problems } from '../../platform/http/schemas.js';
import { CancelBody, OrderSchema } from '../booking/index.js';
import { ConfirmBody, ConfirmResult, PendingConfirmation, PendingRefund } from './payments.schemas.js';
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

  // Booking's resource, served here: cancelling a paid order is a refund, which payments
  // orchestrates (the PG's cancel, then booking's part in the refunding transaction). A pending
  // order is cancelled by booking alone.
  app.post(
    '/v1/orders/:id/cancel',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['booking'],
        security,
        params: IdParams,
        body: CancelBody,
        response: { 200: OrderSchema, 202: PendingRefund, ...problems(400, 401, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const outcome = await service.cancelOrder(principalOf(request).id, request.params.id, request.body.reason);
      if (outcome.kind === 'pending') return reply.code(202).send({ status: 'PENDING_REFUND' as const });
      return reply.code(200).send(outcome.order);
    },
  );
};
