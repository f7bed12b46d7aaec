/**
 * The settlement rules, all in integer KRW: pure functions, no I/O, no clock. The run's SQL
 * (settlement.repository.ts) aggregates the same way, and a property test holds the two together.
 *
 * - A sale's seller revenue = list price total − seller-funded discount. A platform-funded
 *   discount is the platform's cost: the platform pays it to the seller, so it does not lower
 *   the seller's revenue.
 * - Platform fee = PLATFORM_FEE_RATE × seller revenue; PG fee = PG_FEE_RATE × amount charged
 *   (what the buyer paid), borne by the seller.
 * - **Rounding: each fee is rounded half up to the won, once, on its ledger entry** (one per sale,
 *   one per refund), when the entry is written. Lines and settlements only add those integers, so
 *   every total is exactly the sum of its lines.
 * - A refund reverses its sale: the revenue comes back off (`refunds` = list total − seller
 *   discount), and the platform fee the sale booked is given back, to the won. The PG fee is
 *   given back only if PG_FEE_REFUNDABLE (default false: the PG keeps it, the seller bears it).
 * - A line (one order in one settlement): net = gross − seller discount − platform fee − PG fee −
 *   refunds, where the fees are the sale's minus the refund's (a refund-only line is negative).
 * - A settlement: subtotal = Σ line nets. Paid out: net = max(0, subtotal − carried in); a
 *   shortfall is carried out (carried out = max(0, carried in − subtotal)) into the seller's
 *   next settlement, so gross − seller discounts − fees − refunds − carried in + carried out = net.
 */

/** Rates are held as integer parts per million, so fees are integer arithmetic (no float rounding). */
export const PPM = 1_000_000;

export interface Rates {
  platformFeePpm: number;
  pgFeePpm: number;
  /** Whether a refund gives the sale's PG fee back (PG_FEE_REFUNDABLE). */
  pgFeeRefundable: boolean;
}

/** A rate in [0, 1] (e.g. 0.035) as parts per million, exactly as written to 6 decimals. */
export function ratePpm(rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`a rate is in [0, 1], got ${rate}`);
  return Math.round(rate * PPM);
}

/** `base × ppm / 1,000,000`, rounded half up to the won. `base` is a non-negative integer. */
export function fee(base: number, ppm: number): number {
  if (!Number.isSafeInteger(base) || base < 0) throw new RangeError(`a fee's base is a non-negative integer, got ${base}`);
  return Number((BigInt(base) * BigInt(ppm) + BigInt(PPM / 2)) / BigInt(PPM));
}

/** What a sale (and its refund, which repeats them) is, from the events. */
export interface SaleFigures {
  listTotal: number;
  sellerDiscount: number;
  platformDiscount: number;
  /** The amount the buyer was charged: listTotal − sellerDiscount − platformDiscount. */
  charged: number;
}

export interface Fees {
  platformFee: number;
  pgFee: number;
}

export const revenueOf = (f: Pick<SaleFigures, 'listTotal' | 'sellerDiscount'>): number => f.listTotal - f.sellerDiscount;

/** The fees a sale books. */
export function saleFees(f: SaleFigures, rates: Pick<Rates, 'platformFeePpm' | 'pgFeePpm'>): Fees {
  return { platformFee: fee(revenueOf(f), rates.platformFeePpm), pgFee: fee(f.charged, rates.pgFeePpm) };
}

/** The fees a refund gives back: exactly what its sale booked (the PG fee only if refundable). */
export function refundFees(booked: Fees, pgFeeRefundable: boolean): Fees {
  return { platformFee: booked.platformFee, pgFee: pgFeeRefundable ? booked.pgFee : 0 };
}

export type EntryKind = 'SALE' | 'REFUND';

/** A ledger entry as the rules see it. Fees: booked (SALE) or given back (REFUND), both ≥ 0. */
export interface Entry extends SaleFigures, Fees {
  id: string;
  kind: EntryKind;
  sellerId: string;
  orderId: string;
  /** Epoch ms. */
  occurredAt: number;
  seats: number;
}

export interface Line {
  orderId: string;
  sold: boolean;
  refunded: boolean;
  seats: number;
  gross: number;
  sellerDiscount: number;
  platformDiscount: number;
  charged: number;
  refunds: number;
  platformFee: number;
  pgFee: number;
  net: number;
}

/** The line of one order in one settlement, from its entries there (a sale, a refund, or both). */
export function lineOf(orderId: string, entries: readonly Entry[]): Line {
  const sale = entries.find((e) => e.kind === 'SALE');
  const refund = entries.find((e) => e.kind === 'REFUND');
  const gross = sale?.listTotal ?? 0;
  const sellerDiscount = sale?.sellerDiscount ?? 0;
  const refunds = refund ? revenueOf(refund) : 0;
  const platformFee = (sale?.platformFee ?? 0) - (refund?.platformFee ?? 0);
  const pgFee = (sale?.pgFee ?? 0) - (refund?.pgFee ?? 0);
  return {
    orderId,
    sold: Boolean(sale),
    refunded: Boolean(refund),
    seats: (sale?.seats ?? 0) - (refund?.seats ?? 0),
    gross,
    sellerDiscount,
    platformDiscount: sale?.platformDiscount ?? 0,
    charged: sale?.charged ?? 0,
    refunds,
    platformFee,
    pgFee,
    net: gross - sellerDiscount - platformFee - pgFee - refunds,
  };
}

export interface Totals {
  lineCount: number;
  gross: number;
  sellerDiscounts: number;
  platformDiscounts: number;
  refunds: number;
  platformFee: number;
  pgFee: number;
  /** Σ line nets. */
  subtotal: number;
  carriedIn: number;
  carriedOut: number;
  net: number;
}

/** A seller's settlement from its lines and the deficit carried in (≥ 0) from their previous one. */
export function settle(lines: readonly Line[], carriedIn: number): Totals {
  const sum = (pick: (l: Line) => number) => lines.reduce((n, l) => n + pick(l), 0);
  const subtotal = sum((l) => l.net);
  const after = subtotal - carriedIn;
  return {
    lineCount: lines.length,
    gross: sum((l) => l.gross),
    sellerDiscounts: sum((l) => l.sellerDiscount),
    platformDiscounts: sum((l) => l.platformDiscount),
    refunds: sum((l) => l.refunds),
    platformFee: sum((l) => l.platformFee),
    pgFee: sum((l) => l.pgFee),
    subtotal,
    carriedIn,
    carriedOut: Math.max(0, -after),
    net: Math.max(0, after),
  };
}

export interface SellerSettlement extends Totals {
  sellerId: string;
  lines: Line[];
}

/**
 * One run, as the database does it: every pending entry that occurred before `periodEnd` (its
 * period's, and late ones of periods settled before they arrived) is taken; one settlement per
 * seller with any, one line per order, carrying in the deficit of the seller's previous
 * settlement (`carried`, updated). Returns the settlements and the entries left pending.
 */
export function runPeriod(pending: readonly Entry[], periodEnd: number, carried: Map<string, number>): { settlements: SellerSettlement[]; left: Entry[] } {
  const taken = pending.filter((e) => e.occurredAt < periodEnd);
  const left = pending.filter((e) => e.occurredAt >= periodEnd);
  const bySeller = new Map<string, Map<string, Entry[]>>();
  for (const e of taken) {
    const orders = bySeller.get(e.sellerId) ?? new Map<string, Entry[]>();
    bySeller.set(e.sellerId, orders);
    orders.set(e.orderId, [...(orders.get(e.orderId) ?? []), e]);
  }
  const settlements = [...bySeller].map(([sellerId, orders]) => {
    const lines = [...orders].map(([orderId, entries]) => lineOf(orderId, entries));
    const totals = settle(lines, carried.get(sellerId) ?? 0);
    carried.set(sellerId, totals.carriedOut);
    return { sellerId, lines, ...totals };
  });
  return { settlements, left };
}
