import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import { principalOf } from '../../platform/http/auth.js';
import { decodeCursor, toPage } from '../../platform/http/pagination.js';
import { IdParams, NoContent, problems } from '../../platform/http/schemas.js';
import {
  CreatePerformanceBody,
  CreateScheduleBody,
  CreateVenueBody,
  Performance,
  PerformanceDetail,
  PerformanceList,
  PerformanceListQuery,
  Schedule,
  ScheduleWithCounts,
  SeatMap,
  UpdatePerformanceBody,
  Venue,
  VenueIdParams,
  VenueSummary,
} from './catalog.schemas.js';
import type { CatalogService } from './catalog.service.js';

const tags = ['catalog'];
const security = [{ bearerAuth: [] }];

export const catalogRoutes: FastifyPluginAsyncTypebox<{ service: CatalogService }> = async (app, { service }) => {
  app.post(
    '/v1/venues',
    {
      onRequest: app.requireRole('SELLER', 'ADMIN'),
      schema: { tags, security, body: CreateVenueBody, response: { 201: VenueSummary, ...problems(400, 401, 403, 409) } },
    },
    async (request, reply) => reply.code(201).send(await service.createVenue(principalOf(request), request.body)),
  );

  app.get('/v1/venues/:venueId', { schema: { tags, params: VenueIdParams, response: { 200: Venue, ...problems(400, 404) } } }, async (request) =>
    service.getVenue(request.params.venueId),
  );

  app.post(
    '/v1/performances',
    {
      onRequest: app.requireRole('SELLER'),
      schema: { tags, security, body: CreatePerformanceBody, response: { 201: Performance, ...problems(400, 401, 403, 404, 409) } },
    },
    async (request, reply) => reply.code(201).send(await service.createPerformance(principalOf(request), request.body)),
  );

  app.get(
    '/v1/performances',
    { schema: { tags, querystring: PerformanceListQuery, response: { 200: PerformanceList, ...problems(400) } } },
    async (request) => {
      const { q, limit, cursor } = request.query;
      const rows = await service.listPerformances({ q, limit, after: decodeCursor(cursor) });
      return toPage(rows, limit, (r) => r);
    },
  );

  app.get('/v1/performances/:id', { schema: { tags, params: IdParams, response: { 200: PerformanceDetail, ...problems(400, 404) } } }, async (request) =>
    service.getPerformance(request.params.id),
  );

  app.patch(
    '/v1/performances/:id',
    {
      onRequest: app.requireRole('SELLER', 'ADMIN'),
      schema: { tags, security, params: IdParams, body: UpdatePerformanceBody, response: { 200: Performance, ...problems(400, 401, 403, 404) } },
    },
    async (request) => service.updatePerformance(principalOf(request), request.params.id, request.body),
  );

  app.delete(
    '/v1/performances/:id',
    {
      onRequest: app.requireRole('SELLER', 'ADMIN'),
      schema: { tags, security, params: IdParams, response: { 204: NoContent, ...problems(401, 403, 404, 409) } },
    },
    async (request, reply) => {
      await service.deletePerformance(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/performances/:id/schedules',
    {
      onRequest: app.requireRole('SELLER', 'ADMIN'),
      schema: { tags, security, params: IdParams, body: CreateScheduleBody, response: { 201: Schedule, ...problems(400, 401, 403, 404, 409) } },
    },
    async (request, reply) => reply.code(201).send(await service.createSchedule(principalOf(request), request.params.id, request.body)),
  );

  app.get('/v1/schedules/:id', { schema: { tags, params: IdParams, response: { 200: ScheduleWithCounts, ...problems(400, 404) } } }, async (request) =>
    service.getSchedule(request.params.id),
  );

  app.delete(
    '/v1/schedules/:id',
    {
      onRequest: app.requireRole('SELLER', 'ADMIN'),
      schema: { tags, security, params: IdParams, response: { 204: NoContent, ...problems(401, 403, 404, 409) } },
    },
    async (request, reply) => {
      await service.deleteSchedule(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/schedules/:id/seats',
    {
      // Public, but a signed-in buyer sees `heldByMe` on their own holds.
      onRequest: app.identify,
      schema: { tags, params: IdParams, response: { 200: SeatMap, ...problems(400, 401, 404) } },
    },
    async (request, reply) => {
      const body = await service.seatMap(request.params.id, request.principal?.id);
      // Already JSON bytes (see seat-map.ts); the schema above documents them.
      return reply.type('application/json; charset=utf-8').send(body as unknown as Static<typeof SeatMap>);
    },
  );
};
