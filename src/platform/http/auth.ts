import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { CommonErrors } from './errors.js';

export type Role = 'BUYER' | 'SELLER' | 'ADMIN';

export interface Principal {
  readonly id: string;
  readonly role: Role;
}

/** Verifies a bearer token and returns who it names; throws for anything it does not trust. */
export type AccessTokenVerifier = (token: string) => Promise<Principal>;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** onRequest hook: 401 without a valid bearer token. */
    authenticate: onRequestHookHandler;
    /** onRequest hook for public routes that personalize: a valid token sets the principal, none leaves it null, a bad one is 401. */
    identify: onRequestHookHandler;
    /** onRequest hook: 401 without a valid token, 403 when the role is not one of `roles`. */
    requireRole(...roles: Role[]): onRequestHookHandler;
  }
}

/** The authenticated principal of a request whose route ran `authenticate` or `requireRole`. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw CommonErrors.UNAUTHENTICATED();
  return request.principal;
}

/**
 * Authentication runs as an onRequest hook — before the body is parsed or validated — so an
 * anonymous caller learns nothing about a route's input rules and costs no parsing.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, opts: { verify: AccessTokenVerifier }) => {
    app.decorateRequest('principal', null);

    const authenticate = async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
      const header = request.headers.authorization;
      const match = header ? /^Bearer ([A-Za-z0-9\-_.]+)$/.exec(header) : null;
      if (!match) throw CommonErrors.UNAUTHENTICATED('A Bearer access token is required');
      try {
        request.principal = await opts.verify(match[1]!);
      } catch {
        throw CommonErrors.UNAUTHENTICATED('The access token is invalid or expired');
      }
      // Every later line of this request, "request completed" included, names the user. The
      // request's logger is already its own child: adding a binding is cheaper than another child.
      (request.log as FastifyBaseLogger & { setBindings(b: Record<string, unknown>): void }).setBindings({ userId: request.principal.id });
    };

    app.decorate('authenticate', authenticate);
    app.decorate('identify', async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.headers.authorization !== undefined) await authenticate(request, reply);
    });
    app.decorate('requireRole', (...roles: Role[]) => async (request: FastifyRequest, reply: FastifyReply) => {
      await authenticate(request, reply);
      if (!roles.includes(request.principal!.role)) {
        throw CommonErrors.FORBIDDEN(`This action needs the role ${roles.join(' or ')}`);
      }
    });
  },
  { name: 'mos-auth' },
);
