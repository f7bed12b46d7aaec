import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isDatabaseUnavailable } from '../db/errors.js';
import { newId } from '../ids.js';
import { isRedisUnavailable } from '../redis/errors.js';
import { AppError, CommonErrors, type FieldError } from './errors.js';

/** What a 503 tells the client to wait: a reconnect is a matter of seconds. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = '2';

export interface ProblemOptions {
  /**
   * An HTML page for a request no route matched, instead of the 404 problem (the web app's
   * index.html for its own paths, src/platform/http/web-app.ts); undefined = the problem.
   */
  pageFor?: (request: FastifyRequest) => Buffer | undefined;
}

/**
 * One error handler for the whole app: every error leaves as `application/problem+json`
 * (RFC 9457) with the catalogue's stable `code` and the request id. Unexpected errors are logged
 * with their stack and answered as a bare 500 — no message, no stack, nothing internal.
 */
export const problemPlugin = fp(
  async (app: FastifyInstance, opts: ProblemOptions) => {
    app.setErrorHandler(handleError);

    app.setNotFoundHandler((request, reply) => {
      const page = opts.pageFor?.(request);
      if (page) return reply.code(200).type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(page);
      return sendProblem(reply, request, CommonErrors.NOT_FOUND(`No route ${request.method} ${request.url.split('?')[0]}`));
    });
  },
  { name: 'mos-problem' },
);

function handleError(err: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const unavailable = dependencyUnavailable(err);
  const appError = unavailable
    ? CommonErrors.SERVICE_UNAVAILABLE(`The ${unavailable} is unavailable; retry shortly`, {}, { 'retry-after': UNAVAILABLE_RETRY_AFTER_SECONDS })
    : toAppError(err, request);
  if (unavailable) {
    // Expected during an outage, one line per refused request: no stack, and the driver's
    // message only (a query error's own message carries the statement's parameters).
    request.log.warn({ dependency: unavailable, reason: innermost(err).message }, 'dependency unavailable');
  } else if (appError.status >= 500) {
    request.log.error({ err }, 'unhandled error');
  } else if (!(err instanceof AppError)) {
    request.log.info({ code: appError.code, reason: err.message }, 'request refused');
  }
  return sendProblem(reply, request, appError);
}

/**
 * Fastify's `frameworkErrors`: what the router refuses before any route or error handler runs —
 * a path parameter longer than its limit (414), a path that is not valid percent-encoding (400).
 * Without it Fastify answers those in a JSON shape of its own.
 */
export const frameworkErrors = (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
  handleError(err, request, reply);
};

/**
 * Node's `clientError`, through Fastify's `clientErrorHandler`: a request refused before it is a
 * request — headers over the server's limit (431), a client too slow to send them (408), bytes
 * that are not HTTP (400). There is no request or reply object yet, so the answer is written to
 * the socket, with a request id of its own so the problem still points at a log line.
 */
export function clientErrorHandler(this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  // A reset or already-closed connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const problem =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? CommonErrors.HEADERS_TOO_LARGE()
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? CommonErrors.REQUEST_TIMEOUT()
        : CommonErrors.VALIDATION_FAILED('The request is not valid HTTP', { errors: [{ path: '/', message: 'malformed HTTP request' }] });
  const requestId = newId();
  this.log.info({ requestId, code: problem.code, reason: err.code ?? err.message }, 'connection refused');
  if (socket.writable) {
    const body = JSON.stringify(problemBody(requestId, problem));
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        `Content-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

export function problemBody(requestId: string, e: AppError): Record<string, unknown> {
  return {
    type: `/problems/${e.code.toLowerCase().replaceAll('_', '-')}`,
    title: e.title,
    status: e.status,
    code: e.code,
    detail: e.detail,
    requestId,
    ...e.extras,
  };
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, e: AppError): FastifyReply {
  for (const [name, value] of Object.entries(e.headers)) reply.header(name, value);
  // Also set by app.ts's onSend hook, but the router's refusals (frameworkErrors) run no hooks.
  reply.header('x-request-id', request.id);
  // The body is serialized here so no response schema can strip problem members.
  return reply
    .code(e.status)
    .type('application/problem+json; charset=utf-8')
    .serializer((payload: unknown) => JSON.stringify(payload))
    .send(problemBody(request.id, e));
}

function innermost(err: Error): Error {
  let e = err;
  for (let i = 0; i < 4 && e.cause instanceof Error; i++) e = e.cause;
  return e;
}

function dependencyUnavailable(err: unknown): 'database' | 'hot state' | undefined {
  if (err instanceof AppError) return undefined;
  if (isDatabaseUnavailable(err)) return 'database';
  if (isRedisUnavailable(err)) return 'hot state';
  return undefined;
}

function toAppError(err: FastifyError | AppError, request: FastifyRequest): AppError {
  if (err instanceof AppError) return err;
  const fe = err as FastifyError;
  if (fe.validation) {
    const errors: FieldError[] = fe.validation.map((v) => ({
      path: `/${fe.validationContext ?? 'body'}${v.instancePath ?? ''}${missingProperty(v.params)}`,
      message: describe(v.keyword, v.message),
    }));
    return CommonErrors.VALIDATION_FAILED('The request does not match the schema', { errors });
  }
  const status = fe.statusCode ?? 500;
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return CommonErrors.UNSUPPORTED_MEDIA_TYPE(`Unsupported Content-Type: ${request.headers['content-type'] ?? 'none'}`);
  }
  if (fe.code === 'FST_ERR_MAX_PARAM_LENGTH') return CommonErrors.URI_TOO_LONG('A path parameter is longer than the server accepts');
  if (fe.code === 'FST_ERR_BAD_URL') {
    return CommonErrors.VALIDATION_FAILED('The request path could not be read', {
      errors: [{ path: '/params', message: 'not valid percent-encoding' }],
    });
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    // The issue asks for 400 on oversized bodies so that every malformed request has one answer.
    return CommonErrors.VALIDATION_FAILED('The request body is too large', {
      errors: [{ path: '/body', message: 'body exceeds the size limit' }],
    });
  }
  if (status >= 400 && status < 500) {
    if (status === 404) return CommonErrors.NOT_FOUND();
    if (status === 429) return CommonErrors.RATE_LIMITED();
    // Malformed JSON, empty JSON body, bad Content-Length, other client-side protocol errors.
    return CommonErrors.VALIDATION_FAILED('The request body could not be read', {
      errors: [{ path: '/body', message: fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? 'malformed JSON' : fe.message }],
    });
  }
  if (status === 503) return CommonErrors.SERVICE_UNAVAILABLE();
  return CommonErrors.INTERNAL_ERROR();
}

function missingProperty(params: Record<string, unknown> | undefined): string {
  const p = params?.missingProperty ?? params?.additionalProperty;
  return typeof p === 'string' ? `/${p}` : '';
}

function describe(keyword: string, message: string | undefined): string {
  if (keyword === 'additionalProperties') return 'unknown field';
  if (keyword === 'required') return 'is required';
  return message ?? keyword;
}
