/**
 * The sale's setup, before any buyer arrives: accounts in bulk (one INSERT of N users; their
 * access tokens minted with the server's key, as bench/buyers.ts does, since an argon2 login per
 * buyer would measure the password hash, not the sale), then the seller's venue, performance,
 * showtime with a waiting room, and coupon campaign, made through the API like a seller would.
 */
import { createHmac, randomUUID } from 'node:crypto';
import pg from 'pg';
import { buyerId, newRunId } from '../buyers.js';
import type { Http } from './http.js';

export const GRADES = [
  { name: 'VIP', price: 154_000, share: 0.1 },
  { name: 'R', price: 132_000, share: 0.3 },
  { name: 'S', price: 110_000, share: 0.3 },
  { name: 'A', price: 88_000, share: 0.3 },
] as const;
export type Grade = (typeof GRADES)[number]['name'];

const SEATS_PER_ROW = 20;
/** No usable password: nobody logs in as a bench buyer; their tokens are minted. */
const NO_PASSWORD = '!bench-account-without-password';

const b64 = (s: string) => Buffer.from(s).toString('base64url');

/** An HS256 access token as AccessTokens#issue makes it (bench/buyer-requests.cjs's way, any role). */
export function mintToken(secret: string, sub: string, role: 'BUYER' | 'SELLER' | 'ADMIN', ttlSeconds = 4 * 3600): string {
  const iat = Math.floor(Date.now() / 1000);
  const header = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64(JSON.stringify({ role, sub, iss: 'mos', aud: 'mos-api', iat, exp: iat + ttlSeconds }));
  return `${header}.${payload}.${createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url')}`;
}

export interface Accounts {
  runId: string;
  buyerIds: string[];
  tokens: string[];
  sellerId: string;
  sellerToken: string;
  adminToken: string;
}

/** N buyers, a seller and an admin in the users table, in one statement; their tokens. */
export async function createAccounts(databaseUrl: string, secret: string, buyers: number): Promise<Accounts> {
  const runId = newRunId();
  const buyerIds = Array.from({ length: buyers }, (_, i) => buyerId(runId, i));
  const sellerId = randomUUID();
  const adminId = randomUUID();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `insert into users (id, email, name, role, password_hash, created_at)
       select id, 'buyer-' || ord || '@onsale.bench', 'Buyer ' || ord, 'BUYER', $2, now()
       from unnest($1::uuid[]) with ordinality as t(id, ord)`,
      [buyerIds, NO_PASSWORD],
    );
    await client.query(
      `insert into users (id, email, name, role, password_hash, created_at) values
       ($1, 'seller@onsale.bench', 'On-sale Seller', 'SELLER', $3, now()), ($2, 'admin@onsale.bench', 'On-sale Admin', 'ADMIN', $3, now())`,
      [sellerId, adminId, NO_PASSWORD],
    );
  } finally {
    await client.end();
  }
  return {
    runId,
    buyerIds,
    tokens: buyerIds.map((id) => mintToken(secret, id, 'BUYER')),
    sellerId,
    sellerToken: mintToken(secret, sellerId, 'SELLER'),
    adminToken: mintToken(secret, adminId, 'ADMIN'),
  };
}

export interface Sale {
  scheduleId: string;
  performanceId: string;
  campaignId: string;
  seats: number;
  coupons: number;
  saleOpensAt: number;
  /** Wall-clock ms of the request that created the showtime (the settlement period starts before it). */
  createdAt: number;
}

export interface SaleOptions {
  seats: number;
  coupons: number;
  /** When the sale (and the coupon claims) open, epoch ms. */
  opensAt: number;
  maxActive: number;
  admitPerTick: number;
}

/** Seats per grade: the shares of GRADES, rounding given to the last grade. */
export function seatsByGrade(seats: number): number[] {
  const counts = GRADES.map((g) => Math.max(1, Math.floor(seats * g.share)));
  counts[counts.length - 1]! += seats - counts.reduce((a, b) => a + b, 0);
  return counts;
}

/** The seller's venue (one section per grade), performance, showtime and campaign, through the API. */
export async function createSale(http: Http, sellerToken: string, o: SaleOptions): Promise<Sale> {
  const seller = { api: 0 };
  const expect = (a: { status: number; body: any }, status: number, what: string) => {
    if (a.status !== status) throw new Error(`setup: ${what} answered ${a.status}: ${JSON.stringify(a.body)}`);
    return a.body;
  };
  const sections = seatsByGrade(o.seats).map((n, g) => ({
    name: GRADES[g]!.name,
    rows: Array.from({ length: Math.ceil(n / SEATS_PER_ROW) }, (_, r) => ({
      label: String(r + 1),
      seats: Math.min(SEATS_PER_ROW, n - r * SEATS_PER_ROW),
    })),
  }));
  const createdAt = Date.now();
  const venue = expect(
    await http.call(seller, 'setup', 'POST', '/v1/venues', { token: sellerToken, body: { name: 'On-sale Arena', sections } }),
    201,
    'POST /v1/venues',
  );
  const performance = expect(
    await http.call(seller, 'setup', 'POST', '/v1/performances', {
      token: sellerToken,
      body: {
        title: 'On-sale Day Live',
        venueId: venue.id,
        runningMinutes: 150,
        grades: GRADES.map((g) => ({ name: g.name, price: g.price })),
        seatGrades: GRADES.map((g) => ({ grade: g.name, section: g.name })),
        defaultGrade: 'A',
      },
    }),
    201,
    'POST /v1/performances',
  );
  const schedule = expect(
    await http.call(seller, 'setup', 'POST', `/v1/performances/${performance.id}/schedules`, {
      token: sellerToken,
      body: {
        startsAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
        saleOpensAt: new Date(o.opensAt).toISOString(),
        waitingRoom: { enabled: true, maxActive: o.maxActive, admitPerTick: o.admitPerTick },
      },
    }),
    201,
    'POST schedules',
  );
  const campaign = expect(
    await http.call(seller, 'setup', 'POST', '/v1/coupons', {
      token: sellerToken,
      body: {
        name: 'Opening day 10,000 KRW off',
        kind: 'FIXED',
        params: { amount: 10_000 },
        appliesTo: 'ORDER',
        scope: { performanceId: performance.id },
        quantity: o.coupons,
        perUserLimit: 1,
        claimOpensAt: new Date(o.opensAt).toISOString(),
        validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      },
    }),
    201,
    'POST /v1/coupons',
  );
  return {
    scheduleId: schedule.id,
    performanceId: performance.id,
    campaignId: campaign.id,
    seats: o.seats,
    coupons: o.coupons,
    saleOpensAt: o.opensAt,
    createdAt,
  };
}
