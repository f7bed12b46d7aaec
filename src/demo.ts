import { randomBytes } from 'node:crypto';
import type { AppContext } from './context.js';
import { keptInDataDir } from './platform/data-dir.js';

/**
 * Demo accounts of embedded mode. Their passwords are random per data directory: a fixed,
 * published password would open the ADMIN account of every demo reachable from a network.
 */
export const demoAccounts = [
  { role: 'ADMIN', email: 'admin@mos.local', name: 'Demo Admin' },
  { role: 'SELLER', email: 'seller@mos.local', name: 'Demo Seller' },
  { role: 'BUYER', email: 'buyer@mos.local', name: 'Demo Buyer' },
] as const;

export interface DemoAccount {
  role: (typeof demoAccounts)[number]['role'];
  email: string;
  password: string;
}

export interface DemoCredentials {
  accounts: DemoAccount[];
  /** True on the first start of the data directory (always with `memory://`): the passwords were just made. */
  created: boolean;
  /** The file that keeps them (mode 0600); undefined with `memory://`. */
  file: string | undefined;
}

/** The demo passwords of a data directory: made on its first start, read back afterwards. */
export function demoCredentials(dataDir: string): DemoCredentials {
  const kept = keptInDataDir(dataDir, 'demo-accounts.json', () =>
    JSON.stringify(Object.fromEntries(demoAccounts.map((a) => [a.email, randomBytes(12).toString('base64url')]))),
  );
  const passwords = JSON.parse(kept.value) as Record<string, string>;
  const accounts = demoAccounts.map((a) => {
    const password = passwords[a.email];
    if (!password) throw new Error(`${kept.path} has no password for ${a.email}; delete it to make new ones`);
    return { role: a.role, email: a.email, password };
  });
  return { accounts, created: kept.created, file: kept.path };
}

const DEMO_TITLE = 'MOS Demo Concert';
const rows = (count: number, seats: number, label: (i: number) => string = (i) => String(i + 1)) =>
  Array.from({ length: count }, (_, i) => ({ label: label(i), seats }));

export interface DemoData {
  credentials: DemoCredentials;
  venueId: string;
  performanceId: string;
  scheduleId: string;
  campaignId: string;
}

const DEMO_CAMPAIGN = 'MOS Demo Welcome 10%';

/** Seeds demo data; running it again adds nothing. Returns what a person needs to try MOS. */
export async function seedDemo(ctx: AppContext): Promise<DemoData> {
  const credentials = demoCredentials(ctx.config.db.dataDir);
  const users = [];
  for (const account of demoAccounts) {
    const password = credentials.accounts.find((a) => a.email === account.email)!.password;
    // Fresh passwords overwrite whatever the accounts had: a data directory seeded before the
    // passwords were random still holds the published ones.
    const user = credentials.created
      ? await ctx.identity.service.upsertUser({ ...account, password })
      : await ctx.identity.service.ensureUser({ ...account, password });
    users.push(user);
  }
  const seller = users.find((u) => u.role === 'SELLER')!;
  const admin = users.find((u) => u.role === 'ADMIN')!;
  const catalog = ctx.catalog.service;

  const campaign =
    (await ctx.coupons.service.claimable()).find((c) => c.name === DEMO_CAMPAIGN) ??
    (await ctx.coupons.service.createCampaign(admin, {
      name: DEMO_CAMPAIGN,
      kind: 'PERCENT',
      params: { percent: 10, maxDiscount: 20_000 },
      appliesTo: 'ORDER',
      quantity: 1000,
      claimOpensAt: new Date(ctx.clock.now().getTime() - 60_000).toISOString(),
      validUntil: new Date(ctx.clock.now().getTime() + 90 * 86_400_000).toISOString(),
    }));

  const existing = (await catalog.listPerformances({ q: DEMO_TITLE, limit: 10 })).find((p) => p.sellerId === seller.id);
  if (existing) {
    const detail = await catalog.getPerformance(existing.id);
    return { credentials, venueId: detail.venueId, performanceId: detail.id, scheduleId: detail.schedules[0]?.id ?? '', campaignId: campaign.id };
  }

  // 3,300 seats in five sections.
  const venue = await catalog.createVenue(seller, {
    name: 'MOS Demo Hall',
    address: '1 Demo-ro, Seoul',
    sections: [
      { name: 'VIP', rows: rows(5, 20, (i) => String.fromCharCode(65 + i)) },
      { name: 'FLOOR', rows: rows(20, 40) },
      { name: 'BALCONY_L', rows: rows(15, 30) },
      { name: 'BALCONY_R', rows: rows(15, 30) },
      { name: 'UPPER', rows: rows(25, 60) },
    ],
  });
  const performance = await catalog.createPerformance(seller, {
    title: DEMO_TITLE,
    description: 'A demo showtime whose sale is open: hold seats, order, pay in the sandbox.',
    venueId: venue.id,
    runningMinutes: 120,
    grades: [
      { name: 'VIP', price: 165_000 },
      { name: 'R', price: 132_000 },
      { name: 'S', price: 99_000 },
    ],
    seatGrades: [
      { grade: 'VIP', section: 'VIP' },
      { grade: 'R', section: 'FLOOR', rows: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'] },
      { grade: 'R', section: 'BALCONY_L', rows: ['1', '2', '3'] },
      { grade: 'R', section: 'BALCONY_R', rows: ['1', '2', '3'] },
    ],
    defaultGrade: 'S',
  });
  const now = ctx.clock.now().getTime();
  const day = 86_400_000;
  const schedule = await catalog.createSchedule(seller, performance.id, {
    startsAt: new Date(now + 30 * day).toISOString(),
    saleOpensAt: new Date(now - 60_000).toISOString(),
  });
  return { credentials, venueId: venue.id, performanceId: performance.id, scheduleId: schedule.id, campaignId: campaign.id };
}
