import type { AppContext } from './context.js';

/** Demo accounts of embedded mode. Their passwords are public on purpose: printed at start. */
export const demoAccounts = [
  { role: 'ADMIN', email: 'admin@mos.local', password: 'mos-admin-demo', name: 'Demo Admin' },
  { role: 'SELLER', email: 'seller@mos.local', password: 'mos-seller-demo', name: 'Demo Seller' },
  { role: 'BUYER', email: 'buyer@mos.local', password: 'mos-buyer-demo', name: 'Demo Buyer' },
] as const;

/** Seeds demo data; running it again adds nothing. Returns what a person needs to try MOS. */
export async function seedDemo(ctx: AppContext): Promise<{ accounts: typeof demoAccounts }> {
  for (const account of demoAccounts) {
    await ctx.identity.service.ensureUser({ ...account });
  }
  return { accounts: demoAccounts };
}
