import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { principalOf } from '../../platform/http/auth.js';
import { CommonErrors } from '../../platform/http/errors.js';
import { IdParams, NoContent, problems } from '../../platform/http/schemas.js';
import { openEventStream } from '../../platform/http/event-stream.js';
import { StreamSlots, type QueueWatcher } from './queue-stream.js';
import { QueueStatus } from './waiting-room.schemas.js';
import { type PollPace, type QueueView, type WaitingRoomService, pollAfterSeconds } from './waiting-room.service.js';

const tags = ['waiting-room'];
const security = [{ bearerAuth: [] }];
/**
 * The server's own timeouts bound receiving a request, never a response, so a stream outlives
 * them (test/http/timeouts.test.ts proves it); the heartbeat is for proxies and load balancers
 * in between, which close a response that stays silent for their read timeout (60 s in nginx).
 */
/** A buyer at the stream cap usually has a stream that just dropped and is not closed here yet. */
const STREAM_RETRY_AFTER_SECONDS = 5;
/** The response header of enter and poll that paces a waiting buyer's polls. */
export const POLL_AFTER_HEADER = 'x-poll-after';

export interface WaitingRoomRouteOptions {
  service: WaitingRoomService;
  watcher: QueueWatcher;
  /** Open queue streams per buyer in this process. */
  maxStreamsPerUser: number;
}

export const waitingRoomRoutes: FastifyPluginAsyncTypebox<WaitingRoomRouteOptions> = async (app, { service, watcher, maxStreamsPerUser }) => {
  const buyer = app.requireRole('BUYER');
  const slots = new StreamSlots(maxStreamsPerUser);
  /** Tells a waiting buyer when to ask again (`X-Poll-After`, seconds): see `pollAfterSeconds`. */
  const paced = async (reply: FastifyReply, scheduleId: string, view: QueueView): Promise<QueueView> => {
    if (view.status === 'WAITING') {
      const pace = await service.pace(scheduleId);
      if (pace) reply.header(POLL_AFTER_HEADER, String(pollAfterSeconds(view, pace)));
    }
    return view;
  };
  // Streams are long-lived: end them before the server waits for connections to finish.
  app.addHook('preClose', async () => watcher.close());

  app.post(
    '/v1/schedules/:id/queue',
    { onRequest: buyer, schema: { tags, security, params: IdParams, response: { 200: QueueStatus, ...problems(401, 403, 404, 409) } } },
    async (request, reply) => paced(reply, request.params.id, await service.enter(principalOf(request).id, request.params.id)),
  );

  app.get(
    '/v1/schedules/:id/queue',
    { onRequest: buyer, schema: { tags, security, params: IdParams, response: { 200: QueueStatus, ...problems(401, 403, 404, 409) } } },
    async (request, reply) => paced(reply, request.params.id, await service.status(principalOf(request).id, request.params.id)),
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
      let pace: PollPace | null;
      try {
        // Refusals (404 NOT_IN_QUEUE, …) happen here, as ordinary problem responses.
        first = await service.status(userId, scheduleId);
        pace = await service.pace(scheduleId);
      } catch (err) {
        release();
        throw err;
      }

      const stream = openEventStream(request, reply);
      const send = (view: QueueView) => stream.write(`event: position\ndata: ${JSON.stringify(view)}\n\n`);
      stream.onClose(release);
      send(first);
      if (first.status === 'ADMITTED') return stream.close();
      const dueAt = pace ? pace.now + pollAfterSeconds(first, pace) * 1000 : 0;
      stream.onClose(watcher.subscribe(scheduleId, userId, first, send, stream.close, dueAt));
    },
  );
};
