import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../../platform/http/auth.js';
import { CommonErrors } from '../../platform/http/errors.js';
import { IdParams, NoContent, problems } from '../../platform/http/schemas.js';
import { openEventStream } from '../../platform/http/event-stream.js';
import { StreamSlots, type QueueWatcher } from './queue-stream.js';
import { QueueStatus } from './waiting-room.schemas.js';
import type { QueueView, WaitingRoomService } from './waiting-room.service.js';

const tags = ['waiting-room'];
const security = [{ bearerAuth: [] }];
/**
 * The server's own timeouts bound receiving a request, never a response, so a stream outlives
 * them (test/http/timeouts.test.ts proves it); the heartbeat is for proxies and load balancers
 * in between, which close a response that stays silent for their read timeout (60 s in nginx).
 */
/** A buyer at the stream cap usually has a stream that just dropped and is not closed here yet. */
const STREAM_RETRY_AFTER_SECONDS = 5;

export interface WaitingRoomRouteOptions {
  service: WaitingRoomService;
  watcher: QueueWatcher;
  /** Open queue streams per buyer in this process. */
  maxStreamsPerUser: number;
}

export const waitingRoomRoutes: FastifyPluginAsyncTypebox<WaitingRoomRouteOptions> = async (app, { service, watcher, maxStreamsPerUser }) => {
  const buyer = app.requireRole('BUYER');
  const slots = new StreamSlots(maxStreamsPerUser);
  // Streams are long-lived: end them before the server waits for connections to finish.
  app.addHook('preClose', async () => watcher.close());

  app.post(
    '/v1/schedules/:id/queue',
    { onRequest: buyer, schema: { tags, security, params: IdParams, response: { 200: QueueStatus, ...problems(401, 403, 404, 409) } } },
    async (request) => service.enter(principalOf(request).id, request.params.id),
  );

  app.get(
    '/v1/schedules/:id/queue',
    { onRequest: buyer, schema: { tags, security, params: IdParams, response: { 200: QueueStatus, ...problems(401, 403, 404, 409) } } },
    async (request) => service.status(principalOf(request).id, request.params.id),
  );

  app.delete(
    '/v1/schedules/:id/queue',
    { onRequest: buyer, schema: { tags, security, params: IdParams, response: { 204: NoContent, ...problems(401, 403, 404, 409) } } },
    async (request, reply) => {
      await service.leave(principalOf(request).id, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/schedules/:id/queue/stream',
    {
      onRequest: buyer,
      schema: {
        tags,
        security,
        params: IdParams,
        description: 'Server-sent events (`event: position`, data = the queue status) on every change, until ADMITTED.',
        produces: ['text/event-stream'],
        response: { 200: QueueStatus, ...problems(401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const userId = principalOf(request).id;
      const scheduleId = request.params.id;
      // Taken before the first await, so concurrent opens cannot all pass the check.
      const release = slots.acquire(userId);
      if (!release) {
        throw CommonErrors.RATE_LIMITED(
          `At most ${maxStreamsPerUser} open queue streams per buyer`,
          {},
          {
            'retry-after': String(STREAM_RETRY_AFTER_SECONDS),
          },
        );
      }
      let first: QueueView;
      try {
        // Refusals (404 NOT_IN_QUEUE, …) happen here, as ordinary problem responses.
        first = await service.status(userId, scheduleId);
      } catch (err) {
        release();
        throw err;
      }

      const stream = openEventStream(request, reply);
      const send = (view: QueueView) => stream.write(`event: position\ndata: ${JSON.stringify(view)}\n\n`);
      stream.onClose(release);
      send(first);
      if (first.status === 'ADMITTED') return stream.close();
      stream.onClose(watcher.subscribe(scheduleId, userId, first, send, stream.close));
    },
  );
};
