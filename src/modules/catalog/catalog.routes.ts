import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { principalOf } from '../../platform/http/auth.js';
import { CommonErrors } from '../../platform/http/errors.js';
import { decodeCursor, toPage } from '../../platform/http/pagination.js';
import { IdParams, NoContent, problems } from '../../platform/http/schemas.js';
import { openEventStream } from '../../platform/http/event-stream.js';
import { availabilityEvent, type AvailabilityWatcher } from './availability-stream.js';
import {
  Availability,
  AvailabilityQuery,
  CreatePerformanceBody,
  CreateScheduleBody,
  CreateVenueBody,
  Layout,
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
import { etagOf, matchesEtag, negotiateEncoding } from './layout-view.js';
import { SeatMapGzip } from './seat-map.js';
import type { SeatViewsService } from './seat-views.service.js';

const tags = ['catalog'];
const security = [{ bearerAuth: [] }];
const STREAM_RETRY_AFTER_SECONDS = 5;
/** The layout never changes while its showtime exists, and its URL names the showtime. */
const LAYOUT_CACHE_CONTROL = 'public, max-age=31536000, immutable';

export interface CatalogRouteOptions {
  service: CatalogService;
  seatViews: SeatViewsService;
  watcher: AvailabilityWatcher;
  /** Open availability streams in this process (SEAT_AVAILABILITY_MAX_STREAMS). */
  maxAvailabilityStreams: number;
}

export const catalogRoutes: FastifyPluginAsyncTypebox<CatalogRouteOptions> = async (app, { service, seatViews, watcher, maxAvailabilityStreams }) => {
  const seatMapGzip = new SeatMapGzip();
  app.addHook('preClose', async () => watcher.close());
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
      schema: {
        tags,
        params: IdParams,
        description: 'The whole seat map with live statuses: the simple form for small venues. gzip when accepted.',
        response: { 200: SeatMap, ...problems(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const body = await service.seatMap(request.params.id, request.principal?.id);
      reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding');
      // The whole showtime, ~150 bytes a seat: gzip takes a 50,000-seat map from ~7.5 MB to under 1 MB.
      if (negotiateEncoding(request.headers['accept-encoding'], ['gzip']) === 'gzip') {
        reply.header('content-encoding', 'gzip');
        return reply.send((await seatMapGzip.gzip(request.params.id, body)) as unknown as Static<typeof SeatMap>);
      }
      // Already JSON bytes (see seat-map.ts); the schema above documents them.
      return reply.send(body as unknown as Static<typeof SeatMap>);
    },
  );

  app.get(
    '/v1/schedules/:id/layout',
    {
      schema: {
        tags,
        params: IdParams,
        response: { 200: Layout, 304: Type.Null({ description: 'Not modified (If-None-Match)' }), ...problems(400, 404) },
      },
    },
    async (request, reply) => {
      const view = await seatViews.layout(request.params.id);
      const coding = negotiateEncoding(request.headers['accept-encoding']);
      reply.header('etag', etagOf(view.body, coding)).header('cache-control', LAYOUT_CACHE_CONTROL).header('vary', 'accept-encoding');
      // No body, so no length or type of one (a client reading a 304 waits for none).
      if (matchesEtag(request.headers['if-none-match'], view.body))
        return reply
          .code(304)
          .removeHeader('content-type')
          .send(undefined as unknown as null);
      if (coding !== 'identity') reply.header('content-encoding', coding);
      // Prebuilt bytes (layout-view.ts); the schema above documents them.
      return reply.type('application/json; charset=utf-8').send(view.body[coding] as unknown as Static<typeof Layout>);
    },
  );

  app.get(
    '/v1/schedules/:id/availability',
    { schema: { tags, params: IdParams, querystring: AvailabilityQuery, response: { 200: Availability, ...problems(400, 404) } } },
    async (request, reply) => {
      const { message, snapshot } = await seatViews.availability(request.params.id, request.query.since);
      // A shared cache may keep it, but must ask again: it changes by the second.
      reply.header('cache-control', 'no-cache').header('vary', 'accept-encoding');
      if (!message.full) return message;
      const coding = negotiateEncoding(request.headers['accept-encoding']);
      if (coding !== 'identity') reply.header('content-encoding', coding);
      const body = await seatViews.fullBody(snapshot, coding);
      return reply.type('application/json; charset=utf-8').send(body as unknown as Static<typeof Availability>);
    },
  );

  app.get(
    '/v1/schedules/:id/availability/stream',
    {
      schema: {
        tags,
        params: IdParams,
        description:
          'Server-sent events (`event: availability`, `id` = version, data = an availability message): first the whole state (or, with Last-Event-ID, the changes since that version), then the changes as they happen; a comment line every 15 s keeps proxies from closing it.',
        produces: ['text/event-stream'],
        response: { 200: Availability, ...problems(400, 404, 429) },
      },
    },
    async (request, reply) => {
      const scheduleId = request.params.id;
      if (watcher.size >= maxAvailabilityStreams) {
        throw CommonErrors.RATE_LIMITED(
          `This process serves at most ${maxAvailabilityStreams} availability streams`,
          {},
          { 'retry-after': String(STREAM_RETRY_AFTER_SECONDS) },
        );
      }
      const lastEventId = request.headers['last-event-id'];
      const since = typeof lastEventId === 'string' && /^\d{1,16}$/.test(lastEventId.trim()) ? Number(lastEventId.trim()) : undefined;
      // Refusals (404) happen here, as ordinary problem responses.
      const first = await seatViews.availability(scheduleId, since);

      const stream = openEventStream(request, reply);
      stream.write(availabilityEvent(first.message));
      stream.onClose(watcher.subscribe(scheduleId, first.message.version, stream.write, stream.close));
    },
  );
};
