import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';

/**
 * helmet's security headers, computed once at start. The headers do not depend on the request,
 * yet helmet (and @fastify/helmet around it) rebuilds them — CSP directives parsed again — on
 * every request, which showed up as a fifth of a poll's CPU. Routes that need their own
 * Content-Security-Policy (Swagger UI) still set it and win.
 */
export const securityHeadersPlugin = fp(
  async (app: FastifyInstance) => {
    const headers: Record<string, string> = {};
    const res = {
      setHeader: (name: string, value: string | number | readonly string[]) => {
        headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
      },
      removeHeader: (name: string) => {
        delete headers[name.toLowerCase()];
      },
    } as unknown as ServerResponse;
    helmet()({} as IncomingMessage, res, () => {});
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });
  },
  { name: 'mos-security-headers' },
);
