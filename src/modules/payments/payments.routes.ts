import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../../platform/http/auth.js';
import { IdParams, problems } from '../../platform/http/schemas.js';
import { CancelBody, OrderSchema } from '../booking/index.js';
import { ConfirmBody, ConfirmResult, PendingConfirmation, PendingRefund, TossWebhookBody, WebhookAck } from './payments.schemas.js';
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

  // The PG's webhook: no auth header (Toss signs no PAYMENT_STATUS_CHANGED), so the body is only a
  // hint — the payment is fetched from the PG and that answer is acted on. 200 only once the change
  // is committed; anything else (a lookup without an answer: 503) and Toss delivers it again. The
  // global per-IP rate limit applies (a 429 is delivered again too).
  app.post(
    '/v1/payments/webhooks/toss',
    {
      schema: {
        tags,
        summary: "Toss's PAYMENT_STATUS_CHANGED webhook",
        description:
          "Called by the PG, not by clients. Verified by fetching the payment from the PG; the body's other fields are ignored. The order's payment follows the PG: DONE → the order PAID; CANCELED at the PG for a paid order → the order REFUNDED; ABORTED/EXPIRED → the attempt REJECTED. Idempotent: a repeated delivery changes nothing. 200 also for a payment MOS does not know (nothing to do); 503 when the PG could not be asked (the PG delivers it again).",
        body: TossWebhookBody,
        response: { 200: WebhookAck, ...problems(400, 503) },
      },
    },
    async (request, reply) => {
      const { eventType, data } = request.body;
      if (eventType === 'PAYMENT_STATUS_CHANGED') {
        const outcome = await service.paymentStatusChanged(data.paymentKey);
        request.log.info({ paymentKey: data.paymentKey, outcome }, 'payment webhook handled');
      } else {
        request.log.info({ eventType }, 'webhook of an event type MOS does not use: acknowledged');
      }
      return reply.code(200).send({ received: true as const });
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
