import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import type { Alerts } from '../../platform/observability/alerts.js';
import type { Tx } from '../../platform/db/client.js';
import type { Principal } from '../../platform/http/auth.js';
import { CommonErrors, type FieldError } from '../../platform/http/errors.js';
import { newId } from '../../platform/ids.js';
import type { FindPerformance } from '../catalog/index.js';
import { bestCoupons, type CandidateCoupon, type SeatLine } from './best-coupon.js';
import type { CouponClaimStore, CouponEventLog } from './coupon-claims.store.js';
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
  store: CouponClaimStore & Pick<CouponEventLog, 'unconsumed'>;
  findPerformance: FindPerformance;
  clock: Clock;
  metrics: CouponMetrics;
  logger: Logger;
  alerts: Alerts;
  /** Retry-After of a claim refused while its campaign awaits reconciliation. */
  frozenRetryAfterSeconds: number;
}

/** What `reconcile` did. */
export interface Reconciled {
  campaignId: string;
  /** The hot state's new epoch. */
  epoch: number;
  /** Coupons in wallets, which the rebuilt stock subtracts. */
  issued: number;
  remaining: number;
}

/** Campaigns, first-come claims, wallets, and the coupon side of checkout. */
export class CouponsService {
  constructor(private readonly deps: CouponsServiceDeps) {}

  async createCampaign(actor: Principal, input: CreateCampaignInput): Promise<CampaignView> {
    const errors: FieldError[] = [];
    const kind = couponKind(input.kind);
    if (!kind) errors.push({ path: '/body/kind', message: `unknown kind "${input.kind}"` });
    else {
      if (!kind.appliesTo.includes(input.appliesTo))
        errors.push({ path: '/body/appliesTo', message: `${kind.name} applies to ${kind.appliesTo.join(' or ')}` });
      for (const e of Value.Errors(kind.params, input.params)) errors.push({ path: `/body/params${e.path}`, message: e.message });
      if (!errors.length) for (const e of kind.validate?.(input.params as never) ?? []) errors.push({ ...e, path: `/body/params${e.path}` });
    }
    const opens = Date.parse(input.claimOpensAt);
    if (input.claimClosesAt && Date.parse(input.claimClosesAt) <= opens) errors.push({ path: '/body/claimClosesAt', message: 'must be after claimOpensAt' });
    if (Date.parse(input.validUntil) <= Math.max(opens, this.deps.clock.now().getTime()))
      errors.push({ path: '/body/validUntil', message: 'must be in the future and after claimOpensAt' });

    const performanceId = input.scope?.performanceId;
    if (actor.role === 'SELLER' && !performanceId)
      errors.push({ path: '/body/scope/performanceId', message: "a seller's campaign is scoped to one of their performances" });
    if (errors.length) throw CommonErrors.VALIDATION_FAILED('Invalid campaign', { errors });
    if (performanceId) {
      const performance = await this.deps.findPerformance(performanceId);
      if (!performance) throw CommonErrors.NOT_FOUND('No such performance');
      if (actor.role !== 'ADMIN' && performance.sellerId !== actor.id)
        throw CommonErrors.FORBIDDEN('A seller may only run campaigns for their own performances');
      const grade = input.scope?.grade;
      if (grade && !performance.grades.some((g) => g.name === grade)) {
        throw CommonErrors.VALIDATION_FAILED('Invalid campaign', {
          errors: [{ path: '/body/scope/grade', message: `the performance has no grade "${grade}"` }],
        });
      }
    }

    // The hot state is loaded before the row exists, so that PostgreSQL never has a campaign whose
    // stock was not loaded: a campaign found without hot state is then a loss, never a first load
    // (invariant 2). No buyer can claim before the row is committed (its id is unknown, and the
    // claim path finds no campaign); if the insert fails, the loaded state is unreachable garbage.
    const values = {
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
      fundedBy: actor.role === 'ADMIN' ? ('PLATFORM' as const) : ('SELLER' as const),
      createdBy: actor.id,
      createdAt: this.deps.clock.now(),
      hotEpoch: 1,
      hotStatus: 'LIVE' as const,
    };
    await this.#load(values, new Map());
    const row = await this.deps.repo.insertCampaign(values);
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
   * does not know goes through `#recover` (a safe rebuild, or a loss found and frozen) first.
   */
  async claim(userId: string, campaignId: string): Promise<void> {
    const now = this.deps.clock.now();
    const attempt = () => this.deps.store.claim(campaignId, userId, now.getTime(), { eventId: newId(), occurredAt: now.toISOString() });
    let result = await attempt();
    if (result.answer === 'NOT_LOADED') {
      await this.#recover(campaignId);
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
      case 'FROZEN':
      // Lost again between the rebuild and the claim: the next claim finds what it is.
      case 'NOT_LOADED':
        throw this.#unavailable();
      case 'UNREPLICATED':
        // Not promised (a failover could still lose it); if it survives, it reaches the wallet
        // and a retry answers ALREADY_CLAIMED.
        throw CommonErrors.SERVICE_UNAVAILABLE('The claim could not be confirmed; check your coupons before claiming again', {}, { 'Retry-After': '2' });
    }
  }

  /**
   * The operator's answer to a lost hot state (`mos coupons reconcile`, the admin endpoint):
   * rebuilds the campaign's stock and per-buyer counts from the wallet and lifts the freeze. The
   * coupons the lost state issued without persisting them cannot be recovered from MOS's data
   * (the buyers were told ISSUED; their 201s are in the request logs); the rebuilt stock offers
   * them again. Refused while the hot state is live (there is nothing to rebuild, and replacing
   * it would drop its unconsumed events) or while a surviving stream still holds unconsumed
   * events (the wallet is not complete yet: rebuilding now would over-issue). A stream lost
   * whole cannot say what a consumer had read from it just before: a batch in flight then lands
   * within a pass (milliseconds), long before an operator acts on the alert.
   */
  async reconcile(campaignId: string): Promise<Reconciled> {
    const out = await this.deps.repo.withCampaignLocked(campaignId, async (row, tx) => {
      if (!row) throw CommonErrors.NOT_FOUND('No such campaign');
      const hot = await this.deps.store.status(campaignId);
      if (hot.state === 'LIVE') throw CouponErrors.NOT_RECONCILABLE("The campaign's hot state is live: there is nothing to reconcile");
      const pending = await this.deps.store.unconsumed(campaignId);
      if (pending > 0) {
        throw CouponErrors.NOT_RECONCILABLE(
          `${pending} issue events of this campaign are not persisted yet; run the worker and retry once they are`,
          {},
          {
            'Retry-After': String(this.deps.frozenRetryAfterSeconds),
          },
        );
      }
      const epoch = Math.max(row.hotEpoch, hot.state === 'FROZEN' ? hot.epoch : 0) + 1;
      const issuedByUser = await this.deps.repo.issuedByUser(campaignId, tx);
      await this.#load({ ...row, hotEpoch: epoch }, issuedByUser);
      await this.deps.repo.setHotState(campaignId, { epoch, status: 'LIVE', lostAt: null }, tx);
      const issued = sum(issuedByUser);
      return { campaignId, epoch, issued, remaining: row.quantity - issued, was: row.hotStatus };
    });
    const { was, ...reconciled } = out;
    this.deps.metrics.hotStateRebuilt.inc({ reason: 'reconciled' });
    this.deps.logger.warn({ ...reconciled, was }, 'coupon campaign reconciled: stock rebuilt from the wallet, claims resumed');
    return reconciled;
  }

  /**
   * The process is ending. A hot state that dies with it (memory, embedded mode) stops issuing,
   * its events are persisted by `drain`, and the campaigns whose events all reached the wallet are
   * sealed: the next process rebuilds them without a reconcile (see `#recover`). A campaign with
   * an event left unpersisted stays LIVE and is found lost next time, as it should be.
   */
  async handOver(drain: () => Promise<void>): Promise<void> {
    const held = await this.deps.store.handOver();
    if (!held?.length) return;
    await drain();
    const done = [];
    for (const h of held) if ((await this.deps.store.unconsumed(h.campaignId)) === 0) done.push(h);
    await this.deps.repo.seal(done);
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
      throw CouponErrors.COUPON_NOT_APPLICABLE('A named coupon is not yours, not usable now, or not for this performance', {
        couponIds: couponIds.filter((id) => !found.has(id)),
      });
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

  /** The order expired or was cancelled: its coupons are AVAILABLE again. */
  release(orderId: string, tx: Tx): Promise<void> {
    return this.deps.repo.release(orderId, tx);
  }

  /**
   * The paid order was refunded: its coupons still valid at `at` are AVAILABLE again, in the
   * refunding transaction; expired ones stay USED. Returns the ids given back.
   */
  restore(orderId: string, at: Date, tx: Tx): Promise<string[]> {
    return this.deps.repo.restore(orderId, at, tx);
  }

  async #load(
    row: Pick<CampaignRow, 'id' | 'quantity' | 'perUserLimit' | 'claimOpensAt' | 'claimClosesAt' | 'hotEpoch'>,
    issuedByUser: ReadonlyMap<string, number>,
  ): Promise<void> {
    await this.deps.store.load(
      {
        campaignId: row.id,
        quantity: row.quantity,
        perUserLimit: row.perUserLimit,
        claimOpensAt: row.claimOpensAt.getTime(),
        claimClosesAt: row.claimClosesAt?.getTime() ?? null,
        epoch: row.hotEpoch,
      },
      issuedByUser,
    );
  }

  async #remaining(row: CampaignRow): Promise<number> {
    let left = await this.deps.store.remaining(row.id);
    if (left === null) {
      await this.#recover(row.id).catch((err: unknown) => {
        if (!CommonErrors.SERVICE_UNAVAILABLE.is(err)) throw err;
      });
      left = (await this.deps.store.remaining(row.id)) ?? 0;
    }
    return left;
  }

  /**
   * A campaign with no hot state here. PostgreSQL has it loaded (a row exists only once its
   * stock was loaded: `createCampaign`), so this is a loss of the hot state — with, perhaps,
   * issue events the wallet consumer had not persisted yet: buyers told ISSUED whose coupons are
   * nowhere but in the lost stream. Rebuilding the stock from the wallet would offer their coupons
   * again, and they would never get theirs (invariant 2). So, under the campaign's row lock:
   *
   * - the hot state is back (another process got here first): nothing to do;
   * - the campaign was already found lost: freeze again (the tombstone may have gone too);
   * - rebuild automatically only when provably safe —
   *   SEALED: the last hot state stopped issuing and all its events were in the wallet before
   *   it went (`handOver`), so the wallet is exactly what it issued;
   *   every coupon of the quantity is in the wallet: no hot state ever issues more than
   *   quantity − wallet-at-its-load, so the lost one cannot have issued a coupon that is not
   *   there (it was sold out and fully persisted; the rebuild has stock 0);
   * - otherwise: a loss. Mark it in PostgreSQL, freeze the hot state (claims answer 503 in the
   *   one Lua call, no PostgreSQL read per claim), log an error naming the campaign and count
   *   `mos_coupon_hot_state_lost_total`, until an operator reconciles.
   *
   * Throws NOT_FOUND for no such campaign and SERVICE_UNAVAILABLE for a frozen one.
   */
  async #recover(campaignId: string): Promise<void> {
    const outcome = await this.deps.repo.withCampaignLocked(campaignId, async (row, tx) => {
      if (!row) return { kind: 'NOT_FOUND' as const };
      const hot = await this.deps.store.status(campaignId);
      if (hot.state === 'LIVE') return { kind: 'LIVE' as const };
      if (hot.state === 'FROZEN') return { kind: 'FROZEN' as const };
      if (row.hotStatus === 'LOST') {
        await this.deps.store.freeze(campaignId, row.hotEpoch);
        return { kind: 'FROZEN' as const };
      }
      const issuedByUser = await this.deps.repo.issuedByUser(campaignId, tx);
      const issued = sum(issuedByUser);
      const safe = row.hotStatus === 'SEALED' ? 'sealed' : issued >= row.quantity ? 'sold-out' : null;
      if (safe) {
        const epoch = row.hotEpoch + 1;
        // Loaded before the row says so: a crash in between leaves PostgreSQL at the older
        // epoch, which a later loss still finds (as LIVE, hence frozen): the safe side.
        await this.#load({ ...row, hotEpoch: epoch }, issuedByUser);
        await this.deps.repo.setHotState(campaignId, { epoch, status: 'LIVE', lostAt: null }, tx);
        return { kind: 'REBUILT' as const, reason: safe, epoch, issued, was: row.hotStatus };
      }
      const lostAt = this.deps.clock.now();
      await this.deps.repo.setHotState(campaignId, { epoch: row.hotEpoch, status: 'LOST', lostAt }, tx);
      await this.deps.store.freeze(campaignId, row.hotEpoch);
      return { kind: 'LOST' as const, epoch: row.hotEpoch, issued, quantity: row.quantity, lostAt };
    });
    switch (outcome.kind) {
      case 'NOT_FOUND':
        throw CommonErrors.NOT_FOUND('No such campaign');
      case 'LIVE':
        return;
      case 'FROZEN':
        throw this.#unavailable();
      case 'REBUILT':
        this.deps.metrics.hotStateRebuilt.inc({ reason: outcome.reason });
        if (outcome.was !== 'SEALED') {
          this.deps.logger.warn(
            { campaignId, epoch: outcome.epoch, issued: outcome.issued },
            'coupon hot state lost after the campaign was fully persisted; rebuilt from the wallet',
          );
        }
        return;
      case 'LOST':
        this.deps.metrics.hotStateLost.inc();
        this.deps.logger.error(
          { campaignId, epoch: outcome.epoch, walletCoupons: outcome.issued, quantity: outcome.quantity, lostAt: outcome.lostAt.toISOString() },
          `coupon hot state of campaign ${campaignId} lost with possibly unpersisted issues: claims refused until \`mos coupons reconcile ${campaignId}\``,
        );
        await this.deps.alerts.notify(
          'coupon-hot-state-lost',
          campaignId,
          `Coupon campaign ${campaignId}: its hot state was lost with possibly unpersisted issues; claims are refused until \`mos coupons reconcile ${campaignId}\`.`,
        );
        throw this.#unavailable();
    }
  }

  #unavailable() {
    return CommonErrors.SERVICE_UNAVAILABLE(
      'Claims of this campaign are paused while its stock is reconciled',
      {},
      { 'Retry-After': String(this.deps.frozenRetryAfterSeconds) },
    );
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

const sum = (byUser: ReadonlyMap<string, number>) => [...byUser.values()].reduce((a, b) => a + b, 0);

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
