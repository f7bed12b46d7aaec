import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Role } from '../../src/platform/http/auth.js';
import type { AppContext } from '../../src/context.js';

export interface GivenUser {
  id: string;
  email: string;
  password: string;
  role: Role;
  accessToken: string;
  refreshToken: string;
  /** `{ authorization: 'Bearer …' }` for app.inject. */
  auth: { authorization: string };
}

let counter = 0;
export const uniqueEmail = (label = 'user') => `${label}-${++counter}-${randomBytes(3).toString('hex')}@test.mos`;

async function login(app: FastifyInstance, email: string, password: string) {
  const res = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return res.json<{ accessToken: string; refreshToken: string }>();
}

/** A user made through the public API (BUYER or SELLER) and logged in. */
export async function givenUser(app: FastifyInstance, role: 'BUYER' | 'SELLER' = 'BUYER'): Promise<GivenUser> {
  const email = uniqueEmail(role.toLowerCase());
  const password = 'correct horse battery';
  const res = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: { email, password, name: `Test ${role}`, role } });
  if (res.statusCode !== 201) throw new Error(`signup failed: ${res.statusCode} ${res.body}`);
  const tokens = await login(app, email, password);
  return { id: res.json<{ id: string }>().id, email, password, role, ...tokens, auth: { authorization: `Bearer ${tokens.accessToken}` } };
}

export const givenBuyer = (app: FastifyInstance) => givenUser(app, 'BUYER');
export const givenSeller = (app: FastifyInstance) => givenUser(app, 'SELLER');

/** An ADMIN, made the way operators make one (the service behind `mos admin create`). */
export async function givenAdmin(app: FastifyInstance, ctx: AppContext): Promise<GivenUser> {
  const email = uniqueEmail('admin');
  const password = 'admin password 1';
  const user = await ctx.identity.service.upsertUser({ email, password, name: 'Test Admin', role: 'ADMIN' });
  const tokens = await login(app, email, password);
  return { id: user.id, email, password, role: 'ADMIN', ...tokens, auth: { authorization: `Bearer ${tokens.accessToken}` } };
}
