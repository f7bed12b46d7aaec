import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { principalOf } from '../../platform/http/auth.js';
import { decodeCursor, Page, PageQuerySchema, toPage } from '../../platform/http/pagination.js';
import { IdParams, NoContent, problems } from '../../platform/http/schemas.js';
import type { SaleSchedule } from '../catalog/index.js';
import { AdmissionHeaders, type AdmissionGuard } from '../waiting-room/index.js';
import { HoldBody, HoldCreated, HoldSeatParams, MyHolds, Order, OrderBody, Quote, Ticket } from './booking.schemas.js';
import type { HoldsService } from './holds.service.js';
import type { OrdersService } from './orders.service.js';

export interface BookingRouteOptions {
  holds: HoldsService;
  orders: OrdersService;
  /** Reads a showtime for the sale side (the catalog's short-lived cache). */
  showtimes: (id: string) => Promise<SaleSchedule | undefined>;
  admission: AdmissionGuard;
  maxSeatsPerBuyer: number;
}

const security = [{ bearerAuth: [] }];
const kShowtime = Symbol('mos.showtime');
type WithShowtime = FastifyRequest & { [kShowtime]?: SaleSchedule | undefined };

export const bookingRoutes: FastifyPluginAsyncTypebox<BookingRouteOptions> = async (app, { holds, orders, showtimes, admission, maxSeatsPerBuyer }) => {
  const buyer = app.requireRole('BUYER');
  const tags = ['booking'];

  // A hold or an order reads its showtime once, here: the admission guard checks admission on
  // it, then the service checks the sale on it.
  const loadAndAdmit =
    (idOf: (request: FastifyRequest) => string): preHandlerAsyncHookHandler =>
    async (request) => {
      const showtime = await showtimes(idOf(request));
      (request as WithShowtime)[kShowtime] = showtime;
      await admission(request, showtime);
    };
  const showtimeOf = (request: FastifyRequest) => (request as WithShowtime)[kShowtime];

  app.post(
    '/v1/schedules/:id/holds',
    {
      onRequest: buyer,
      preHandler: loadAndAdmit((request) => (request.params as { id: string }).id),
      schema: {
        tags,
        security,
        params: IdParams,
        headers: AdmissionHeaders,
        body: HoldBody(maxSeatsPerBuyer),
        response: { 201: HoldCreated, ...problems(400, 401, 403, 404, 409) },
      },
    },
    // Hot path: the answer is returned for Fastify to send (an async handler's one send), not
    // sent from inside the handler and the reply handed back to be looked at again.
    async (request, reply) => {
      const held = await holds.hold(principalOf(request).id, showtimeOf(request), request.body.seatIds);
      reply.code(201);
      return held;
    },
  );

  app.get(
    '/v1/schedules/:id/holds',
    { onRequest: buyer, schema: { tags, security, params: IdParams, response: { 200: MyHolds, ...problems(401, 403, 404) } } },
    async (request) => holds.myHolds(principalOf(request).id, request.params.id),
  );

  app.delete(
    '/v1/schedules/:id/holds/:seatId',
    { onRequest: buyer, schema: { tags, security, params: HoldSeatParams, response: { 204: NoContent, ...problems(401, 403, 404, 409) } } },
    async (request, reply) => {
      await holds.release(principalOf(request).id, request.params.id, request.params.seatId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/orders/quote',
    { onRequest: buyer, schema: { tags, security, body: OrderBody(maxSeatsPerBuyer), response: { 200: Quote, ...problems(400, 401, 403, 404, 409) } } },
    async (request) => orders.quote(principalOf(request).id, request.body),
  );

  app.post(
    '/v1/orders',
    {
      onRequest: buyer,
      // The admission guard runs before the idempotency plugin's hook, so a refused request
      // takes no key.
      preHandler: loadAndAdmit((request) => (request.body as { scheduleId: string }).scheduleId),
      config: { idempotency: 'required' },
      schema: {
        tags,
        security,
        headers: AdmissionHeaders,
        body: OrderBody(maxSeatsPerBuyer),
        response: { 201: Order, ...problems(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const order = await orders.placeOrder(principalOf(request).id, showtimeOf(request), request.body, request.headers['idempotency-key'] as string);
      reply.code(201);
      return order;
    },
  );

  app.get(
    '/v1/orders/:id',
    { onRequest: app.authenticate, schema: { tags, security, params: IdParams, response: { 200: Order, ...problems(401, 404) } } },
    async (request) => orders.getOrder(principalOf(request).id, request.params.id),
  );

  app.get(
    '/v1/me/orders',
    { onRequest: buyer, schema: { tags, security, querystring: PageQuerySchema, response: { 200: Page(Order), ...problems(400, 401, 403) } } },
    async (request) => {
      const { limit, cursor } = request.query;
      const rows = await orders.myOrders(principalOf(request).id, limit + 1, decodeCursor(cursor));
      return toPage(rows, limit, (o) => o);
    },
  );

  app.get(
    '/v1/me/tickets',
    { onRequest: buyer, schema: { tags, security, querystring: PageQuerySchema, response: { 200: Page(Ticket), ...problems(400, 401, 403) } } },
    async (request) => {
      const { limit, cursor } = request.query;
      const rows = await orders.myTickets(principalOf(request).id, limit + 1, decodeCursor(cursor));
      return toPage(rows, limit, (t) => t);
    },
  );
};
