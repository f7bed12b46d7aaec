import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../../platform/http/auth.js';
import { decodeCursor, Page, PageQuerySchema, toPage } from '../../platform/http/pagination.js';
import { IdParams, problems } from '../../platform/http/schemas.js';
import { Campaign, CampaignList, CampaignListQuery, Claimed, CreateCampaignBody, Reconciled, WalletCoupon } from './coupons.schemas.js';
import type { CouponsService } from './coupons.service.js';

const tags = ['coupons'];
const security = [{ bearerAuth: [] }];

export const couponsRoutes: FastifyPluginAsyncTypebox<{ service: CouponsService }> = async (app, { service }) => {
  app.post(
    '/v1/coupons',
    {
      onRequest: app.requireRole('SELLER', 'ADMIN'),
      schema: { tags, security, body: CreateCampaignBody, response: { 201: Campaign, ...problems(400, 401, 403, 404) } },
    },
    async (request, reply) => reply.code(201).send(await service.createCampaign(principalOf(request), request.body)),
  );

  app.get('/v1/coupons', { schema: { tags, querystring: CampaignListQuery, response: { 200: CampaignList, ...problems(400) } } }, async (request) => ({
    items: await service.claimable(request.query.performanceId),
    nextCursor: null,
  }));

  app.get('/v1/coupons/:id', { schema: { tags, params: IdParams, response: { 200: Campaign, ...problems(400, 404) } } }, async (request) =>
    service.getCampaign(request.params.id),
  );

  app.post(
    '/v1/coupons/:id/claims',
    {
      onRequest: app.requireRole('BUYER'),
      // 503 (with Retry-After) while the campaign's lost hot state awaits reconciliation.
      schema: { tags, security, params: IdParams, response: { 201: Claimed, ...problems(401, 403, 404, 409, 503) } },
    },
    async (request, reply) => {
      await service.claim(principalOf(request).id, request.params.id);
      return reply.code(201).send({ status: 'ISSUED' as const });
    },
  );

  app.post(
    '/v1/admin/coupons/:id/reconcile',
    {
      onRequest: app.requireRole('ADMIN'),
      schema: {
        tags,
        security,
        summary: "Rebuild a campaign's lost hot state from the wallet and resume its claims (operator action; also `mos coupons reconcile <id>`)",
        params: IdParams,
        response: { 200: Reconciled, ...problems(401, 403, 404, 409) },
      },
    },
    async (request) => service.reconcile(request.params.id),
  );

  app.get(
    '/v1/me/coupons',
    {
      onRequest: app.requireRole('BUYER'),
      schema: { tags, security, querystring: PageQuerySchema, response: { 200: Page(WalletCoupon), ...problems(400, 401, 403) } },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const rows = await service.wallet(principalOf(request).id, limit + 1, decodeCursor(cursor));
      return toPage(rows, limit, (r) => r);
    },
  );
};
