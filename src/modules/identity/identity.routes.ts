import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { principalOf } from '../../platform/http/auth.js';
import { NoContent, problems } from '../../platform/http/schemas.js';
import { LoginBody, RefreshBody, SignupBody, TokenPair, User } from './identity.schemas.js';
import type { IdentityService } from './identity.service.js';

export interface IdentityRouteOptions {
  service: IdentityService;
  login: { maxPerEmail: number; maxPerIp: number; windowSeconds: number };
}

const tags = ['identity'];

export const identityRoutes: FastifyPluginAsyncTypebox<IdentityRouteOptions> = async (app, { service, login }) => {
  app.post(
    '/v1/auth/signup',
    { schema: { tags, body: SignupBody, response: { 201: User, ...problems(400, 409, 429) } } },
    async (request, reply) => reply.code(201).send(await service.signup(request.body)),
  );

  // Login is the one route worth guessing at: limited per address (slow credential stuffing
  // against one account) and per client (one client spraying many accounts).
  const perIp = app.rateLimit({
    max: login.maxPerIp,
    timeWindow: login.windowSeconds * 1000,
    keyGenerator: (request) => `login-ip:${request.ip}`,
  });
  const perEmail = app.rateLimit({
    max: login.maxPerEmail,
    timeWindow: login.windowSeconds * 1000,
    keyGenerator: (request) => `login-email:${String((request.body as { email?: string }).email).trim().toLowerCase()}`,
  });
  app.post(
    '/v1/auth/login',
    {
      preHandler: [perIp, perEmail],
      schema: { tags, body: LoginBody, response: { 200: TokenPair, ...problems(400, 401, 429) } },
    },
    async (request) => service.login(request.body),
  );

  app.post(
    '/v1/auth/refresh',
    { schema: { tags, body: RefreshBody, response: { 200: TokenPair, ...problems(400, 401, 429) } } },
    async (request) => service.refresh(request.body.refreshToken),
  );

  app.post(
    '/v1/auth/logout',
    { schema: { tags, body: RefreshBody, response: { 204: NoContent, ...problems(400, 429) } } },
    async (request, reply) => {
      await service.logout(request.body.refreshToken);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/me',
    {
      onRequest: app.authenticate,
      schema: { tags, security: [{ bearerAuth: [] }], response: { 200: User, ...problems(401) } },
    },
    async (request) => service.me(principalOf(request).id),
  );
};
