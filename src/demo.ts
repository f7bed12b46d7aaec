import type { AppContext } from './context.js';

/** Demo accounts of embedded mode. Their passwords are public on purpose: printed at start. */
export const demoAccounts = [
  { role: 'ADMIN', email: 'admin@mos.local', password: 'mos-admin-demo', name: 'Demo Admin' },
  { role: 'SELLER', email: 'seller@mos.local', password: 'mos-seller-demo', name: 'Demo Seller' },
  { role: 'BUYER', email: 'buyer@mos.local', password: 'mos-buyer-demo', name: 'Demo Buyer' },
] as const;

const DEMO_TITLE = 'MOS Demo Concert';
const rows = (count: number, seats: number, label: (i: number) => string = (i) => String(i + 1)) =>
  Array.from({ length: count }, (_, i) => ({ label: label(i), seats }));

export interface DemoData {
  accounts: typeof demoAccounts;
  venueId: string;
  performanceId: string;
  scheduleId: string;
  campaignId: string;
}

const DEMO_CAMPAIGN = 'MOS Demo Welcome 10%';

/** Seeds demo data; running it again adds nothing. Returns what a person needs to try MOS. */
export async function seedDemo(ctx: AppContext): Promise<DemoData> {
  const users = [];
  for (const account of demoAccounts) users.push(await ctx.identity.service.ensureUser({ ...account }));
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
    return { accounts: demoAccounts, venueId: detail.venueId, performanceId: detail.id, scheduleId: detail.schedules[0]?.id ?? '', campaignId: campaign.id };
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
  return { accounts: demoAccounts, venueId: venue.id, performanceId: performance.id, scheduleId: schedule.id, campaignId: campaign.id };
}
