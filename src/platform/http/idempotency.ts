import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, onSendHookHandler, preHandlerHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { CommonErrors } from './errors.js';
import type { IdempotencyStore } from './idempotency.store.js';

export type IdempotencyMode = 'required' | 'optional';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Makes the route honour `Idempotency-Key` (docs/api.md, Idempotency). */
    idempotency?: IdempotencyMode;
  }
}

export interface IdempotencyOptions {
  store: IdempotencyStore;
  ttlSeconds: number;
  lockSeconds: number;
}

const HEADER = 'idempotency-key';
const kState = Symbol('mos.idempotency');

interface RequestState {
  key: string;
  fingerprint: string;
  owner: string;
}

/**
 * `Idempotency-Key` exactly as docs/api.md says: the same key from the same user with the same body
 * replays the first response (for `ttlSeconds`); another body → 422 IDEMPOTENCY_KEY_REUSED;
 * while the first is still running → 409 REQUEST_IN_PROGRESS. Responses below 500 are kept
 * (a refusal is an answer, too); a 5xx frees the key so the client can retry.
 *
 * A route opts in with `config: { idempotency: 'required' | 'optional' }`; the plugin adds the
 * header to the route's schema (so it is validated and documented) and its hooks run after
 * authentication and validation, so keys are scoped to the authenticated user.
 */
export const idempotencyPlugin = fp(
  async (app: FastifyInstance, opts: IdempotencyOptions) => {
    const preHandler: preHandlerHookHandler = async (request, reply) => {
      const key = request.headers[HEADER];
      if (typeof key !== 'string') return;
      const state: RequestState = {
        key: `${request.principal?.id ?? 'anonymous'}:${sha256(`${request.method} ${request.routeOptions.url} ${key}`)}`,
        fingerprint: sha256(canonicalJson({ params: request.params, query: request.query, body: request.body ?? null })),
        owner: randomUUID(),
      };
      const begun = await opts.store.begin(state.key, state.fingerprint, state.owner, opts.lockSeconds * 1000);
      if (begun.kind === 'started') {
        (request as unknown as Record<symbol, RequestState>)[kState] = state;
        return;
      }
      if (begun.fingerprint !== state.fingerprint) {
        throw CommonErrors.IDEMPOTENCY_KEY_REUSED('This Idempotency-Key was used with a different request body');
      }
      if (begun.kind === 'in-flight') {
        throw CommonErrors.REQUEST_IN_PROGRESS('The first request with this Idempotency-Key has not finished; retry later', {}, { 'retry-after': '1' });
      }
      const { response } = begun;
      reply.code(response.status).header('idempotent-replayed', 'true');
      if (response.contentType) reply.header('content-type', response.contentType);
      // Send the stored bytes untouched: no response schema runs on a replay.
      return reply.serializer((p: unknown) => p as string).send(response.body);
    };

    const onSend: onSendHookHandler = async (request, reply, payload) => {
      const state = (request as unknown as Record<symbol, RequestState | undefined>)[kState];
      if (!state) return payload;
      try {
        if (reply.statusCode >= 500 || (payload !== null && typeof payload !== 'string')) {
          await opts.store.abandon(state.key, state.owner);
          return payload;
        }
        const contentType = reply.getHeader('content-type');
        await opts.store.complete(
          state.key,
          state.owner,
          state.fingerprint,
          { status: reply.statusCode, contentType: typeof contentType === 'string' ? contentType : undefined, body: payload ?? '' },
          opts.ttlSeconds * 1000,
        );
      } catch (err) {
        // The work is done and the client should hear so; only the replay is lost. The key's lock
        // lapses after `lockSeconds`, and a retry then meets the route's own record of the work
        // (an order records its key) rather than doing it twice.
        request.log.warn({ reason: (err as Error).message }, 'idempotent response not stored');
      }
      return payload;
    };

    app.addHook('onRoute', (route) => {
      const mode = route.config?.idempotency;
      if (!mode) return;
      route.schema = { ...route.schema, headers: withKeyHeader(route.schema?.headers, mode) };
      route.preHandler = [...asArray(route.preHandler), preHandler];
      route.onSend = [...asArray(route.onSend), onSend];
    });
  },
  { name: 'mos-idempotency' },
);

function withKeyHeader(existing: unknown, mode: IdempotencyMode): Record<string, unknown> {
  const base = (existing ?? { type: 'object', properties: {} }) as { properties?: Record<string, unknown>; required?: string[] };
  return {
    ...base,
    type: 'object',
    properties: {
      ...base.properties,
      [HEADER]: {
        type: 'string',
        minLength: 1,
        maxLength: 255,
        description: 'Same key + same body replays the first response for IDEMPOTENCY_TTL_SECONDS (24 h by default)',
      },
    },
    required: mode === 'required' ? [...(base.required ?? []), HEADER] : (base.required ?? []),
  };
}

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('base64url');
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same body. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
