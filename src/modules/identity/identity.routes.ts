import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { principalOf } from '../../platform/http/auth.js';
import { CommonErrors } from '../../platform/http/errors.js';
import { NoContent, problems } from '../../platform/http/schemas.js';
import { LoginBody, RefreshBody, SignupBody, TokenPair, User } from './identity.schemas.js';
import type { IdentityService } from './identity.service.js';

export interface IdentityRouteOptions {
  service: IdentityService;
  login: { maxPerEmailIp: number; maxPerEmail: number; maxPerIp: number; windowSeconds: number };
}

const tags = ['identity'];

export const identityRoutes: FastifyPluginAsyncTypebox<IdentityRouteOptions> = async (app, { service, login }) => {
  app.post('/v1/auth/signup', { schema: { tags, body: SignupBody, response: { 201: User, ...problems(400, 409, 429) } } }, async (request, reply) =>
    reply.code(201).send(await service.signup(request.body)),
  );

  // Login is the one route worth guessing at. Limits, checked in this order, each counting only
  // the attempts the ones before let through:
  // - per client address: one client spraying many accounts;
  // - per (email, address): one client guessing one account — low, and it locks nobody else out,
  //   so the owner signing in from their own address is not refused because of a guesser;
  // - per email, higher: guessers spread over many addresses still meet a ceiling, at the cost
  //   of locking the account for the rest of the window once they reach it.
  // The counters live in the rate-limit store (Redis in production), on top of the global limit.
  const timeWindow = login.windowSeconds * 1000;
  const emailOf = (request: FastifyRequest) => (request.body as { email: string }).email.trim().toLowerCase();
  const limits = [
    app.createRateLimit({ timeWindow, max: login.maxPerIp, keyGenerator: (request) => `login-ip:${request.ip}` }),
    app.createRateLimit({ timeWindow, max: login.maxPerEmailIp, keyGenerator: (request) => `login-email-ip:${request.ip}:${emailOf(request)}` }),
    app.createRateLimit({ timeWindow, max: login.maxPerEmail, keyGenerator: (request) => `login-email:${emailOf(request)}` }),
  ];
  const limitLogin: preHandlerAsyncHookHandler = async (request) => {
    for (const limit of limits) {
      const result = await limit(request);
      if (!result.isAllowed && result.isExceeded) {
        throw CommonErrors.RATE_LIMITED('Too many login attempts; try again later', {}, { 'retry-after': String(result.ttlInSeconds) });
      }
    }
  };

  app.post(
    '/v1/auth/login',
    {
      preHandler: limitLogin,
      schema: { tags, body: LoginBody, response: { 200: TokenPair, ...problems(400, 401, 429) } },
    },
    async (request) => service.login(request.body),
  );

  app.post('/v1/auth/refresh', { schema: { tags, body: RefreshBody, response: { 200: TokenPair, ...problems(400, 401, 429) } } }, async (request) =>
    service.refresh(request.body.refreshToken),
  );

  app.post('/v1/auth/logout', { schema: { tags, body: RefreshBody, response: { 204: NoContent, ...problems(400, 429) } } }, async (request, reply) => {
    await service.logout(request.body.refreshToken);
    return reply.code(204).send(null);
  });

  app.get(
    '/v1/me',
    {
      onRequest: app.authenticate,
      schema: { tags, security: [{ bearerAuth: [] }], response: { 200: User, ...problems(401) } },
    },
    async (request) => service.me(principalOf(request).id),
  );
};
