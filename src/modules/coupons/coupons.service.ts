import { Value } from '@sinclair/typebox/value';
import type { Clock } from '../../platform/clock.js';
import type { Tx } from '../../platform/db/client.js';
import type { StatementPart } from '../../platform/db/statement.js';
import type { Principal } from '../../platform/http/auth.js';
import { CommonErrors, type FieldError } from '../../platform/http/errors.js';
import { newId } from '../../platform/ids.js';
import type { CatalogService } from '../catalog/index.js';
import { bestCoupons, type CandidateCoupon, type SeatLine } from './best-coupon.js';
import type { CouponClaimStore } from './coupon-claims.store.js';
import { couponKind, type AppliesTo } from './coupon-kinds/index.js';
import { CouponErrors } from './coupons.errors.js';
import type { CouponMetrics } from './coupons.metrics.js';
import type { CampaignRow, CouponsRepository, WalletRow } from './coupons.repository.js';

export interface CreateCampaignInput {
  name: string;
  kind: string;
  params: Record<string, unknown>;
  appliesTo: AppliesTo;
  minOrderAmount?: number;
  scope?: { performanceId?: string; grade?: string };
  quantity: number;
  perUserLimit?: number;
  claimOpensAt: string;
  claimClosesAt?: string;
  validUntil: string;
}

export interface CampaignView {
  id: string;
  name: string;
  kind: string;
  params: Record<string, unknown>;
  appliesTo: AppliesTo;
  minOrderAmount: number;
  scope: { performanceId: string | null; grade: string | null };
  quantity: number;
  perUserLimit: number;
  claimOpensAt: string;
  claimClosesAt: string | null;
  validUntil: string;
  fundedBy: 'SELLER' | 'PLATFORM';
  remaining: number;
}

/** An order's coupons as priced: per-seat discounts and the coupons applied. */
export interface CouponPlan {
  discountOf: (seatId: string) => number;
  coupons: { id: string; name: string; discount: number; seatId?: string }[];
}

export interface CouponsServiceDeps {
  repo: CouponsRepository;
  store: CouponClaimStore;
  catalog: CatalogService;
  clock: Clock;
  metrics: CouponMetrics;
}

/** Campaigns, first-come claims, wallets, and the coupon side of checkout. */
export class CouponsService {
  constructor(private readonly deps: CouponsServiceDeps) {}

  async createCampaign(actor: Principal, input: CreateCampaignInput): Promise<CampaignView> {
    const errors: FieldError[] = [];
    const kind = couponKind(input.kind);
    if (!kind) errors.push({ path: '/body/kind', message: `unknown kind "${input.kind}"` });
    else {
      if (!kind.appliesTo.includes(input.appliesTo)) errors.push({ path: '/body/appliesTo', message: `${kind.name} applies to ${kind.appliesTo.join(' or ')}` });
      for (const e of Value.Errors(kind.params, input.params)) errors.push({ path: `/body/params${e.path}`, message: e.message });
      if (!errors.length) for (const e of kind.validate?.(input.params as never) ?? []) errors.push({ ...e, path: `/body/params${e.path}` });
    }
    const opens = Date.parse(input.claimOpensAt);
    if (input.claimClosesAt && Date.parse(input.claimClosesAt) <= opens) errors.push({ path: '/body/claimClosesAt', message: 'must be after claimOpensAt' });
    if (Date.parse(input.validUntil) <= Math.max(opens, this.deps.clock.now().getTime())) errors.push({ path: '/body/validUntil', message: 'must be in the future and after claimOpensAt' });

    const performanceId = input.scope?.performanceId;
    if (actor.role === 'SELLER' && !performanceId) errors.push({ path: '/body/scope/performanceId', message: 'a seller\'s campaign is scoped to one of their performances' });
    if (errors.length) throw CommonErrors.VALIDATION_FAILED('Invalid campaign', { errors });
    if (performanceId) {
      const performance = await this.deps.catalog.getPerformance(performanceId).catch(() => undefined);
      if (!performance) throw CommonErrors.NOT_FOUND('No such performance');
      if (actor.role !== 'ADMIN' && performance.sellerId !== actor.id) throw CommonErrors.FORBIDDEN('A seller may only run campaigns for their own performances');
      const grade = input.scope?.grade;
      if (grade && !performance.grades.some((g) => g.name === grade)) {
        throw CommonErrors.VALIDATION_FAILED('Invalid campaign', { errors: [{ path: '/body/scope/grade', message: `the performance has no grade "${grade}"` }] });
      }
    }

    const row = await this.deps.repo.insertCampaign({
      id: newId(),
      name: input.name,
      kind: input.kind,
      params: input.params,
      appliesTo: input.appliesTo,
      minOrderAmount: input.minOrderAmount ?? 0,
      scopePerformanceId: performanceId ?? null,
      scopeGrade: input.scope?.grade ?? null,
      quantity: input.quantity,
      perUserLimit: input.perUserLimit ?? 1,
      claimOpensAt: new Date(input.claimOpensAt),
      claimClosesAt: input.claimClosesAt ? new Date(input.claimClosesAt) : null,
      validUntil: new Date(input.validUntil),
      // Who pays for the discount: the seller's own campaign comes out of their settlement.
      fundedBy: actor.role === 'ADMIN' ? 'PLATFORM' : 'SELLER',
      createdBy: actor.id,
      createdAt: this.deps.clock.now(),
    });
    await this.#load(row);
    return this.#view(row, row.quantity);
  }

  async getCampaign(id: string): Promise<CampaignView> {
    const row = await this.deps.repo.findCampaign(id);
    if (!row) throw CommonErrors.NOT_FOUND('No such campaign');
    return this.#view(row, await this.#remaining(row));
  }

  async claimable(performanceId?: string): Promise<CampaignView[]> {
    const rows = await this.deps.repo.claimableCampaigns(this.deps.clock.now(), performanceId);
    return Promise.all(rows.map(async (r) => this.#view(r, await this.#remaining(r))));
  }

  /**
   * The first-come path: one atomic step in the hot state (claim + event). A campaign the store
   * does not know yet (or lost) is loaded from PostgreSQL first.
   */
  async claim(userId: string, campaignId: string): Promise<void> {
    const now = this.deps.clock.now();
    const attempt = () => this.deps.store.claim(campaignId, userId, now.getTime(), { eventId: newId(), occurredAt: now.toISOString() });
    let result = await attempt();
    if (result.answer === 'NOT_LOADED') {
      const row = await this.deps.repo.findCampaign(campaignId);
      if (!row) throw CommonErrors.NOT_FOUND('No such campaign');
      await this.#load(row);
      result = await attempt();
    }
    this.deps.metrics.claims.inc({ answer: result.answer });
    switch (result.answer) {
      case 'ISSUED':
        return;
      case 'SOLD_OUT':
        throw CouponErrors.SOLD_OUT();
      case 'ALREADY_CLAIMED':
        throw CouponErrors.ALREADY_CLAIMED();
      case 'CLAIM_NOT_OPEN':
        throw CouponErrors.CLAIM_NOT_OPEN();
      default:
        throw new Error(`campaign ${campaignId} did not load`);
    }
  }

  async wallet(userId: string, limit: number, before?: string) {
    const now = this.deps.clock.now();
    const rows = await this.deps.repo.walletOf(userId, limit, before);
    return rows.map((r) => ({
      id: r.id,
      campaignId: r.campaignId,
      name: r.campaign.name,
      kind: r.campaign.kind,
      params: r.campaign.params,
      appliesTo: r.campaign.appliesTo,
      status: r.status === 'USED' ? ('USED' as const) : r.campaign.validUntil <= now ? ('EXPIRED' as const) : ('AVAILABLE' as const),
      validUntil: r.campaign.validUntil.toISOString(),
      reservedOrderId: r.reservedOrderId,
    }));
  }

  /**
   * The coupons for an order: the best assignment of the buyer's usable coupons when `couponIds`
   * is omitted, none for `[]`, or exactly the named ones (each must apply, else 409).
   */
  async plan(userId: string, order: { performanceId: string; seats: readonly SeatLine[] }, couponIds?: readonly string[]): Promise<CouponPlan> {
    if (couponIds && !couponIds.length) return { discountOf: () => 0, coupons: [] };
    const wallet = await this.deps.repo.usable(userId, order.performanceId, this.deps.clock.now(), couponIds);
    if (couponIds && wallet.length !== couponIds.length) {
      const found = new Set(wallet.map((w) => w.id));
      throw CouponErrors.COUPON_NOT_APPLICABLE('A named coupon is not yours, not usable now, or not for this performance', { couponIds: couponIds.filter((id) => !found.has(id)) });
    }
    const subtotal = order.seats.reduce((s, x) => s + x.price, 0);
    const candidates = wallet.filter((w) => subtotal >= w.campaign.minOrderAmount).map(toCandidate);
    const best = bestCoupons(order.seats, candidates);
    if (couponIds) {
      const used = new Set(best.coupons.map((c) => c.id));
      const unused = couponIds.filter((id) => !used.has(id));
      if (unused.length) throw CouponErrors.COUPON_NOT_APPLICABLE('A named coupon does not discount this order', { couponIds: unused });
    }
    const names = new Map(wallet.map((w) => [w.id, w.campaign.name]));
    const perSeat = new Map(best.items.map((i) => [i.seatId, i.discount]));
    return {
      discountOf: (seatId) => perSeat.get(seatId) ?? 0,
      coupons: best.coupons.map((c) => ({ id: c.id, name: names.get(c.id) ?? '', discount: c.discount, ...(c.seatId ? { seatId: c.seatId } : {}) })),
    };
  }

  /** The coupon part of an order's one-statement placement: see `CouponsRepository#couponReservation`. */
  couponReservation(placeholders: Parameters<CouponsRepository['couponReservation']>[0]): StatementPart {
    return this.deps.repo.couponReservation(placeholders);
  }

  /** The order expired or was cancelled: its coupons are AVAILABLE again. */
  release(orderId: string, tx: Tx): Promise<void> {
    return this.deps.repo.release(orderId, tx);
  }

  /** The order was paid: its coupons are USED. */
  markUsed(orderId: string, tx: Tx): Promise<void> {
    return this.deps.repo.markUsed(orderId, tx);
  }

  async #load(row: CampaignRow): Promise<void> {
    await this.deps.store.load(
      {
        campaignId: row.id,
        quantity: row.quantity,
        perUserLimit: row.perUserLimit,
        claimOpensAt: row.claimOpensAt.getTime(),
        claimClosesAt: row.claimClosesAt?.getTime() ?? null,
      },
      await this.deps.repo.issuedByUser(row.id),
    );
  }

  async #remaining(row: CampaignRow): Promise<number> {
    let left = await this.deps.store.remaining(row.id);
    if (left === null) {
      await this.#load(row);
      left = (await this.deps.store.remaining(row.id)) ?? 0;
    }
    return left;
  }

  #view(row: CampaignRow, remaining: number): CampaignView {
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      params: row.params,
      appliesTo: row.appliesTo,
      minOrderAmount: row.minOrderAmount,
      scope: { performanceId: row.scopePerformanceId, grade: row.scopeGrade },
      quantity: row.quantity,
      perUserLimit: row.perUserLimit,
      claimOpensAt: row.claimOpensAt.toISOString(),
      claimClosesAt: row.claimClosesAt?.toISOString() ?? null,
      validUntil: row.validUntil.toISOString(),
      fundedBy: row.fundedBy,
      remaining,
    };
  }
}

/** A wallet coupon as the optimizer sees it: its kind's discount, limited by the campaign's grade scope. */
function toCandidate(w: WalletRow): CandidateCoupon {
  const kind = couponKind(w.campaign.kind)!;
  const grade = w.campaign.scopeGrade;
  const inScope = (seat: SeatLine) => grade === null || seat.grade === grade;
  const base = { id: w.id, appliesTo: w.campaign.appliesTo, expiresAt: w.campaign.validUntil.getTime() };
  return w.campaign.appliesTo === 'TICKET'
    ? { ...base, ticketDiscount: (seat) => (inScope(seat) ? Math.min(seat.price, kind.discount(w.campaign.params, seat.price, seat)) : 0) }
    : { ...base, eligible: inScope, orderDiscount: (subtotal) => Math.min(subtotal, kind.discount(w.campaign.params, subtotal)) };
}
