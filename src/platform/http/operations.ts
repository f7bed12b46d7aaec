import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, onResponseHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from '../observability/metrics.js';
import { CommonErrors } from './errors.js';
import { withHook } from './route-hooks.js';

export interface OperationsOptions {
  metrics: Metrics;
  readiness: Record<string, () => Promise<void>>;
  /** A dependency check slower than this counts as down. */
  readinessTimeoutMs?: number;
  /** When set, /metrics answers only `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string | undefined;
}

const tags = ['operations'];
const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Optional(Type.Record(Type.String(), Type.Union([Type.Literal('ok'), Type.Literal('down')]))),
});

/**
 * Times every response of the app under its route pattern (never the raw URL: ids would
 * explode the label set); unknown routes share one label. Registered at the root, before
 * the routes, so it sees them all.
 *
 * Each route gets a hook of its own with its pattern taken when it is registered
 * (`request.routeOptions` builds and freezes an object on every read), and the hooks are plain
 * callbacks (an async hook costs a promise per request). A request no route matched runs only
 * the root hook, which labels it `unmatched`.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, opts: { metrics: Metrics }) => {
    const { httpDuration } = opts.metrics;
    app.addHook('onRoute', (route) => {
      const url = route.url;
      const timed: onResponseHookHandler = (request, reply, done) => {
        httpDuration.observe({ method: request.method, route: url, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
        done();
      };
      route.onResponse = withHook(route.onResponse, timed);
    });
    app.addHook('onResponse', (request, reply, done) => {
      if (request.is404) httpDuration.observe({ method: request.method, route: 'unmatched', status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
      done();
    });
  },
  { name: 'mos-metrics' },
);

/**
 * Liveness, readiness and Prometheus metrics. These routes skip the rate limiter: a load
 * balancer or scraper polling them must never be refused.
 */
export const operationsRoutes: FastifyPluginAsyncTypebox<OperationsOptions> = async (app, opts) => {
  const timeoutMs = opts.readinessTimeoutMs ?? 2000;

  app.get('/health/live', { config: { rateLimit: false }, logLevel: 'warn', schema: { tags, response: { 200: Health } } }, async () => ({
    status: 'ok' as const,
  }));

  app.get(
    '/health/ready',
    { config: { rateLimit: false }, logLevel: 'warn', schema: { tags, response: { 200: Health, 503: Health } } },
    async (_request, reply) => {
      const entries = await Promise.all(
        Object.entries(opts.readiness).map(async ([name, check]) => {
          try {
            await withTimeout(check(), timeoutMs);
            return [name, 'ok'] as const;
          } catch {
            return [name, 'down'] as const;
          }
        }),
      );
      const ok = entries.every(([, s]) => s === 'ok');
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: Object.fromEntries(entries) });
    },
  );

  // Metrics name every route and showtime and tell load and failures: not for the public.
  const expected = opts.metricsToken === undefined ? undefined : digest(opts.metricsToken);
  const metricsAuth = async (request: { headers: { authorization?: string | undefined } }) => {
    if (!expected) return;
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
    // Digests have one length, so the comparison takes the same time whatever was sent.
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      throw CommonErrors.UNAUTHENTICATED('GET /metrics needs the metrics token', {}, { 'www-authenticate': 'Bearer' });
    }
  };

  app.get('/metrics', { config: { rateLimit: false }, logLevel: 'warn', onRequest: metricsAuth, schema: { tags, hide: true } }, async (_request, reply) =>
    reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics()),
  );
};

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e as Error);
      },
    );
  });
}
