import { hash, randomUUID } from 'node:crypto';
import type { FastifyInstance, onSendHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { CommonErrors } from './errors.js';
import type { IdempotencyStore } from './idempotency.store.js';
import { withHook } from './route-hooks.js';

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
    /** The hook of one route: its URL pattern, part of every key, taken once when the route is registered. */
    const preHandlerFor =
      (url: string): preHandlerAsyncHookHandler =>
      async (request, reply) => {
        const key = request.headers[HEADER];
        if (typeof key !== 'string') return;
        const state: RequestState = {
          key: `${request.principal?.id ?? 'anonymous'}:${sha256(`${request.method} ${url} ${key}`)}`,
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
      // The same pattern `request.routeOptions.url` gives (with ignoreTrailingSlash there is one per route).
      route.preHandler = withHook(route.preHandler, preHandlerFor(route.url));
      route.onSend = withHook(route.onSend, onSend);
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

/** One-shot `crypto.hash` (Node 20.12+): the same digest as createHash().update().digest() without the Hash object. */
function sha256(s: string): string {
  return hash('sha256', s, 'base64url');
}

/**
 * JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same body — in one pass, and byte
 * for byte what its first form printed, since stored fingerprints are digests of it. That form
 * was JSON.stringify with a replacer rebuilding every object from its entries sorted by UTF-16
 * code units (Object.fromEntries); the rebuilt object, as every JavaScript object, listed its
 * array-index keys ("0" … "4294967294") first in ascending numeric order, and only the other
 * keys in sorted order. Object.keys gives an object's keys in that same order save the sort of
 * the non-index ones, so only those are sorted here. For JSON values (a parsed body, params,
 * a query): no cycles, no BigInt.
 */
export function canonicalJson(value: unknown): string {
  return serialize('', value) as string;
}

/** JSON.stringify's rules for one value (toJSON honoured; undefined, functions and symbols skipped), objects with keys in canonical order. */
function serialize(key: string, value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += `${i ? ',' : ''}${serialize(String(i), value[i]) ?? 'null'}`;
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  let indexKeys = 0;
  while (indexKeys < keys.length && isArrayIndex(keys[indexKeys]!)) indexKeys++;
  const sorted = indexKeys === 0 ? keys.sort() : [...keys.slice(0, indexKeys), ...keys.slice(indexKeys).sort()];
  let out = '{';
  for (const k of sorted) {
    const v = serialize(k, object[k]);
    if (v === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${v}`;
  }
  return `${out}}`;
}

/** "0", "7", "4294967294": a key JavaScript lists before the others, in numeric order. */
function isArrayIndex(k: string): boolean {
  const first = k.charCodeAt(0);
  if (first < 48 || first > 57) return false; // not a digit: the common case, decided at once
  if (k.length > 10 || (first === 48 && k.length > 1)) return false;
  for (let i = 1; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return Number(k) <= 4_294_967_294;
}
