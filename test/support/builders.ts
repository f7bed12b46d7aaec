import { randomBytes } from 'node:crypto';
import { newId } from '../../src/platform/ids.js';
import { SignJWT } from 'jose';
import { TEST_JWT_SECRET } from './harness.js';
import type { FastifyInstance } from 'fastify';
import type { Role } from '../../src/platform/http/auth.js';
import type { AppContext } from '../../src/context.js';
import type { CreateCampaignInput } from '../../src/modules/coupons/index.js';

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

/** Each builder user logs in from an address of their own, as real buyers do (the per-IP login limit). */
const clientAddress = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${1 + (randomBytes(1)[0]! % 254)}`;

async function login(app: FastifyInstance, email: string, password: string) {
  const res = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password }, remoteAddress: clientAddress() });
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

// ---- catalog ----

export interface SectionSpec {
  name: string;
  rows: { label: string; seats: number }[];
}

/** `n` rows labelled 1..n of `seats` seats each. */
export const rowsOf = (n: number, seats: number) => Array.from({ length: n }, (_, i) => ({ label: String(i + 1), seats }));

async function ok<T>(res: { statusCode: number; body: string; json: () => T }, status: number, what: string): Promise<T> {
  if (res.statusCode !== status) throw new Error(`${what} failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

export async function givenVenue(app: FastifyInstance, seller: GivenUser, sections: SectionSpec[] = [{ name: 'A', rows: rowsOf(2, 10) }]) {
  const res = await app.inject({ method: 'POST', url: '/v1/venues', headers: seller.auth, payload: { name: 'Test Hall', sections } });
  return ok<{ id: string; seatCount: number }>(res, 201, 'venue');
}

export interface PerformanceSpec {
  grades?: { name: string; price: number }[];
  seatGrades?: { grade: string; section: string; rows?: string[] }[];
  defaultGrade?: string;
  title?: string;
}

export async function givenPerformance(app: FastifyInstance, seller: GivenUser, venueId: string, spec: PerformanceSpec = {}) {
  const payload = {
    title: spec.title ?? 'Test Concert',
    venueId,
    runningMinutes: 120,
    grades: spec.grades ?? [{ name: 'R', price: 100_000 }],
    seatGrades: spec.seatGrades ?? [],
    defaultGrade: spec.defaultGrade ?? 'R',
  };
  const res = await app.inject({ method: 'POST', url: '/v1/performances', headers: seller.auth, payload });
  return ok<{ id: string; sellerId: string }>(res, 201, 'performance');
}

export interface ScheduleSpec {
  startsAt?: Date;
  saleOpensAt?: Date;
  saleClosesAt?: Date;
  waitingRoom?: { enabled: boolean; maxActive?: number; admitPerTick?: number };
}

export async function givenSchedule(app: FastifyInstance, seller: GivenUser, performanceId: string, times: ScheduleSpec = {}, now: Date = new Date()) {
  const startsAt = times.startsAt ?? new Date(now.getTime() + 7 * 86_400_000);
  const saleOpensAt = times.saleOpensAt ?? new Date(now.getTime() - 60_000);
  const payload: Record<string, unknown> = { startsAt: startsAt.toISOString(), saleOpensAt: saleOpensAt.toISOString() };
  if (times.saleClosesAt) payload.saleClosesAt = times.saleClosesAt.toISOString();
  if (times.waitingRoom) payload.waitingRoom = times.waitingRoom;
  const res = await app.inject({ method: 'POST', url: `/v1/performances/${performanceId}/schedules`, headers: seller.auth, payload });
  return ok<{ id: string; seatCount: number }>(res, 201, 'schedule');
}

/**
 * A seller, a venue of `seats` seats (rows of 10, one section), a one-grade performance and a
 * showtime — on sale since a minute ago unless `schedule` says otherwise.
 */
export async function givenOpenSchedule(
  app: FastifyInstance,
  opts: { seats?: number; seller?: GivenUser; now?: Date; price?: number; schedule?: ScheduleSpec } = {},
) {
  const seller = opts.seller ?? (await givenSeller(app));
  const seats = opts.seats ?? 40;
  const rows = Array.from({ length: Math.ceil(seats / 10) }, (_, i) => ({ label: String(i + 1), seats: Math.min(10, seats - i * 10) }));
  const venue = await givenVenue(app, seller, [{ name: 'A', rows }]);
  const performance = await givenPerformance(app, seller, venue.id, { grades: [{ name: 'R', price: opts.price ?? 100_000 }] });
  const schedule = await givenSchedule(app, seller, performance.id, opts.schedule ?? {}, opts.now);
  const map = await app.inject({ method: 'GET', url: `/v1/schedules/${schedule.id}/seats` });
  const seatIds = map.json<{ seats: { seatId: string }[] }>().seats.map((s) => s.seatId);
  return { seller, venue, performance, schedule, seatIds };
}

/**
 * A buyer known only by a token signed with the test key: for races with hundreds of buyers,
 * where signing each up (argon2) would cost the test its time. Routes see an ordinary BUYER.
 */
export async function mintBuyer(now: Date = new Date()): Promise<{ id: string; auth: { authorization: string } }> {
  const id = newId();
  const iat = Math.floor(now.getTime() / 1000);
  const token = await new SignJWT({ role: 'BUYER' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(id)
    .setIssuer('mos')
    .setAudience('mos-api')
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
  return { id, auth: { authorization: `Bearer ${token}` } };
}

/**
 * A first-come coupon campaign as POST /v1/coupons (or the service) takes it: FIXED 1,000 KRW off
 * an order, claimable from a second before `now` for 30 days. `over` replaces any field.
 */
export function campaignBody(now: Date = new Date(), over: Partial<CreateCampaignInput> = {}): CreateCampaignInput {
  return {
    name: 'Test campaign',
    kind: 'FIXED',
    params: { amount: 1000 },
    appliesTo: 'ORDER',
    quantity: 10,
    claimOpensAt: new Date(now.getTime() - 1000).toISOString(),
    validUntil: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
    ...over,
  };
}
