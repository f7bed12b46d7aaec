import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { AppContext } from './context.js';
import { SANDBOX_PREFIX, sandboxPlugin } from './modules/payments/sandbox/index.js';
import { authPlugin } from './platform/http/auth.js';
import { CommonErrors } from './platform/http/errors.js';
import { idempotencyPlugin } from './platform/http/idempotency.js';
import { metricsPlugin, operationsRoutes } from './platform/http/operations.js';
import { clientErrorHandler, frameworkErrors, problemPlugin } from './platform/http/problem.js';
import { syncedRedisLimit } from './platform/http/rate-limit-store.js';
import { securityHeadersPlugin } from './platform/http/security-headers.js';
import { Problem } from './platform/http/schemas.js';
import { installValidators } from './platform/http/validation.js';
import { appPageFor, loadWebApp, webAppPlugin, webRoot } from './platform/http/web-app.js';
import { AccessLogController, lazyRequestLogger } from './platform/observability/logger.js';

export const API_VERSION = '0.1.0';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * A load balancer's request id ties our logs to its own, so a client's `X-Request-Id` is kept —
 * but it lands in every log line, in response headers and in problem bodies, so only a short
 * id of plain characters is: anything else (line breaks, quotes, kilobytes) gets an id of ours.
 */
export function requestIdOf(given: string | string[] | undefined): string {
  // A random UUID: an id of ours needs no time order, and Node's own costs a fraction of a UUIDv7.
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Builds the whole HTTP app from a context without listening: `main.ts` listens, tests use
 * `app.inject`. Plugin order matters: errors and validation first, then the cross-cutting
 * hooks (rate limit, auth, idempotency), then routes.
 */
export async function buildApp(ctx: AppContext): Promise<FastifyInstance> {
  const { config } = ctx;
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit: config.http.bodyLimit,
    // Fastify leaves the request timeout off: a client trickling its headers or body would hold
    // its connection (and a slot of the process) for as long as it likes.
    requestTimeout: config.http.requestTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.http.headersTimeoutMs,
      // Node enforces both timeouts by sweeping connections at this interval (30 s by default),
      // so a sweep a few times per timeout keeps a configured timeout close to what happens.
      connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(config.http.headersTimeoutMs / 4))),
    },
    trustProxy: config.http.trustProxy,
    // Off: Fastify would take the header as is. `requestIdOf` takes it only in a safe form.
    requestIdHeader: false,
    logController: new AccessLogController({ requestIdLogLabel: 'requestId' }),
    // A request's logger becomes a pino child only when the request writes a line.
    childLoggerFactory: lazyRequestLogger as unknown as FastifyServerOptions['childLoggerFactory'],
    genReqId: (request) => requestIdOf(request.headers['x-request-id']),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  installValidators(app);
  // The box office web app (web/dist of the checkout or image, or WEB_DIR): its paths are the not-found handler's.
  const web = config.http.webDir === 'off' ? undefined : loadWebApp(webRoot(config.http.webDir));
  if (!web && config.http.webDir !== 'off') ctx.logger.warn({ root: webRoot(config.http.webDir) }, 'web app not built (npm run web:build): / serves nothing');
  await app.register(problemPlugin, web ? { pageFor: appPageFor(web) } : {});
  app.addSchema(Problem);
  await app.register(metricsPlugin, { metrics: ctx.metrics });
  // A plain callback, as every hook on the hot path: an async hook costs a promise per request.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });

  await app.register(securityHeadersPlugin);
  if (config.http.corsOrigins.length) {
    await app.register(cors, {
      origin: config.http.corsOrigins.includes('*') ? true : [...config.http.corsOrigins],
      exposedHeaders: ['x-request-id', 'retry-after', 'idempotent-replayed'],
    });
  }
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowSeconds * 1000,
    // Shared across API processes in production — counted in each process and added to Redis's
    // counts every RATE_LIMIT_SYNC_MS, not a Redis round trip per request (each process's own
    // while Redis is down); one process's memory in embedded mode.
    ...(ctx.redis
      ? { store: syncedRedisLimit(ctx.redis, 'ratelimit:', { syncMs: config.rateLimit.syncMs, onFallback: () => ctx.metrics.rateLimitFallbacks.inc() }) }
      : {}),
    errorResponseBuilder: (_request, context) =>
      CommonErrors.RATE_LIMITED(
        `Rate limit exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`,
        {},
        {
          'retry-after': String(Math.ceil(context.ttl / 1000)),
        },
      ),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'MOS API',
        version: API_VERSION,
        description: 'Reserved-seat ticketing: waiting room, seat holds, orders, first-come coupons.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  await app.register(authPlugin, { verify: ctx.identity.verifyAccessToken });
  await app.register(idempotencyPlugin, {
    store: ctx.idempotency,
    ttlSeconds: config.idempotency.ttlSeconds,
    lockSeconds: config.idempotency.lockSeconds,
  });

  await app.register(operationsRoutes, { metrics: ctx.metrics, readiness: ctx.readiness, metricsToken: config.metricsToken });
  await app.register(ctx.identity.routes, {
    service: ctx.identity.service,
    login: {
      maxPerEmailIp: config.rateLimit.loginMaxPerEmailIp,
      maxPerEmail: config.rateLimit.loginMaxPerEmail,
      maxPerIp: config.rateLimit.loginMaxPerIp,
      windowSeconds: config.rateLimit.loginWindowSeconds,
    },
  });

  await app.register(ctx.catalog.routes, {
    service: ctx.catalog.service,
    seatViews: ctx.catalog.seatViews,
    watcher: ctx.catalog.watcher,
    maxAvailabilityStreams: ctx.catalog.maxAvailabilityStreams,
  });
  await app.register(ctx.waitingRoom.routes, {
    service: ctx.waitingRoom.service,
    watcher: ctx.waitingRoom.watcher,
    maxStreamsPerUser: config.waitingRoom.maxStreamsPerUser,
  });
  await app.register(ctx.coupons.routes, { service: ctx.coupons.service });
  await app.register(ctx.booking.routes, {
    holds: ctx.booking.holds,
    orders: ctx.booking.orders,
    showtimes: (id: string) => ctx.catalog.inventory.scheduleForSale(id),
    admission: ctx.waitingRoom.guard,
    maxSeatsPerBuyer: config.booking.maxSeatsPerBuyer,
  });

  await app.register(ctx.payments.routes, { service: ctx.payments.service });
  await app.register(ctx.settlement.routes, { service: ctx.settlement.service });

  // Toss's contract, not MOS's: Basic auth with the secret key instead of MOS's bearer tokens,
  // Toss's error bodies, and hidden from MOS's OpenAPI document.
  if (ctx.sandbox) await app.register(sandboxPlugin(ctx.sandbox), { prefix: SANDBOX_PREFIX });

  if (web) await app.register(webAppPlugin, { web });

  return app;
}
