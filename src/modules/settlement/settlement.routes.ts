import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { principalOf } from '../../platform/http/auth.js';
import { decodeCursor, encodeCursor, Page, PageQuerySchema, toPage } from '../../platform/http/pagination.js';
import { IdParams, problems } from '../../platform/http/schemas.js';
import { LinesQuery, RunBody, RunResult, SalesQuery, SalesReport, Settlement, SettlementDetail } from './settlement.schemas.js';
import type { SettlementService } from './settlement.service.js';

export interface SettlementRouteOptions {
  service: SettlementService;
}

const security = [{ bearerAuth: [] }];

export const settlementRoutes: FastifyPluginAsyncTypebox<SettlementRouteOptions> = async (app, { service }) => {
  const tags = ['settlement'];
  const seller = app.requireRole('SELLER');
  const admin = app.requireRole('ADMIN');

  app.get(
    '/v1/seller/sales',
    {
      onRequest: seller,
      schema: {
        tags,
        security,
        summary: "The seller's sales per performance and showtime, live from the settlement ledger",
        querystring: SalesQuery,
        response: { 200: SalesReport, ...problems(400, 401, 403) },
      },
    },
    async (request) => service.sales(principalOf(request).id, new Date(request.query.from), new Date(request.query.to)),
  );

  app.get(
    '/v1/seller/settlements',
    {
      onRequest: seller,
      schema: {
        tags,
        security,
        summary: "The seller's settlements, newest first",
        querystring: PageQuerySchema,
        response: { 200: Page(Settlement), ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const rows = await service.settlementsOf(principalOf(request).id, limit + 1, decodeCursor(cursor));
      return toPage(rows, limit, (r) => r);
    },
  );

  app.get(
    '/v1/seller/settlements/:id',
    {
      onRequest: seller,
      schema: {
        tags,
        security,
        summary: 'A settlement of the seller, with its lines (one per order), a page at a time',
        params: IdParams,
        querystring: LinesQuery,
        response: { 200: SettlementDetail, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const settlement = await service.settlementOf(principalOf(request).id, request.params.id);
      const { limit, cursor } = request.query;
      const lines = await service.lines(settlement.id, limit + 1, decodeCursor(cursor));
      const more = lines.length > limit;
      const kept = more ? lines.slice(0, limit) : lines;
      return { ...settlement, lines: kept, nextCursor: more ? encodeCursor(kept.at(-1)!.orderId) : null };
    },
  );

  app.get(
    '/v1/seller/settlements/:id/csv',
    {
      onRequest: seller,
      schema: {
        tags,
        security,
        summary: "A settlement's lines as CSV (RFC 4180, UTF-8 with a byte order mark), streamed",
        params: IdParams,
        produces: ['text/csv'],
        response: { 200: { description: 'text/csv; charset=utf-8', content: { 'text/csv': { schema: Type.String() } } }, ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      // Ownership is checked before the first byte: another seller's settlement is a 404, not a broken stream.
      const settlement = await service.settlementOf(principalOf(request).id, request.params.id);
      return (
        reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="settlement-${settlement.id}.csv"`)
          // The schema documents the body as a string for OpenAPI; Fastify sends a stream as it comes, unserialized.
          .send(Readable.from(service.csv(settlement.id)) as unknown as string)
      );
    },
  );

  app.post(
    '/v1/admin/settlements/run',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Settle a closed half-open period [periodStart, periodEnd): one settlement per seller with activity',
        description:
          'Running a period again changes nothing and answers the same settlements. 400 PERIOD_NOT_CLOSED when periodEnd has not passed; 409 PERIOD_OVERLAPS when another settled period overlaps it.',
        body: RunBody,
        response: { 200: RunResult, ...problems(400, 401, 403, 409) },
      },
    },
    async (request) => {
      const { settlements } = await service.run(new Date(request.body.periodStart), new Date(request.body.periodEnd));
      return { settlements };
    },
  );

  app.post(
    '/v1/admin/settlements/:id/paid',
    {
      onRequest: admin,
      schema: {
        tags,
        security,
        summary: 'Mark a settlement paid out (a paid settlement never changes again)',
        params: IdParams,
        response: { 200: Settlement, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => service.markPaid(request.params.id),
  );
};
