import { and, asc, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import { queryRows, type Db, type Tx } from '../../platform/db/client.js';
import type { StatementPart } from '../../platform/db/statement.js';
import { couponCampaigns, coupons } from './coupons.tables.js';

export type CampaignRow = typeof couponCampaigns.$inferSelect;
export type WalletRow = typeof coupons.$inferSelect & { campaign: CampaignRow };

/** Every SQL statement of the coupons module. */
export class CouponsRepository {
  readonly #usable;

  constructor(private readonly db: Db) {
    this.#usable = db
      .select({ coupon: coupons, campaign: couponCampaigns })
      .from(coupons)
      .innerJoin(couponCampaigns, eq(couponCampaigns.id, coupons.campaignId))
      .where(
        and(
          eq(coupons.userId, sql.placeholder('userId')),
          eq(coupons.status, 'AVAILABLE'),
          isNull(coupons.reservedOrderId),
          sql`${couponCampaigns.validUntil} > ${sql.placeholder('now')}::timestamptz`,
          or(isNull(couponCampaigns.scopePerformanceId), eq(couponCampaigns.scopePerformanceId, sql.placeholder('performanceId'))),
          sql`(${sql.placeholder('ids')}::uuid[] is null or ${coupons.id} = any(${sql.placeholder('ids')}::uuid[]))`,
        ),
      )
      .orderBy(asc(couponCampaigns.validUntil), asc(coupons.id))
      .limit(100)
      .prepare('coupons_usable');
  }

  async insertCampaign(row: typeof couponCampaigns.$inferInsert): Promise<CampaignRow> {
    const [created] = await this.db.insert(couponCampaigns).values(row).returning();
    return created!;
  }

  async findCampaign(id: string): Promise<CampaignRow | undefined> {
    const [row] = await this.db.select().from(couponCampaigns).where(eq(couponCampaigns.id, id)).limit(1);
    return row;
  }

  /** Campaigns one can still claim from (or soon): claim window not closed, coupons still valid. */
  async claimableCampaigns(now: Date, performanceId?: string): Promise<CampaignRow[]> {
    return this.db
      .select()
      .from(couponCampaigns)
      .where(
        and(
          or(isNull(couponCampaigns.claimClosesAt), gt(couponCampaigns.claimClosesAt, now)),
          gt(couponCampaigns.validUntil, now),
          performanceId ? or(eq(couponCampaigns.scopePerformanceId, performanceId), isNull(couponCampaigns.scopePerformanceId)) : undefined,
        ),
      )
      .orderBy(desc(couponCampaigns.id))
      .limit(100);
  }

  /** Coupons issued so far per buyer (from the wallet), to rebuild a campaign's hot state. */
  async issuedByUser(campaignId: string, tx: Db | Tx = this.db): Promise<Map<string, number>> {
    const rows = await queryRows<{ user_id: string; n: number }>(
      tx,
      sql`select user_id, max(seq)::int as n from coupons where campaign_id = ${campaignId} group by user_id`,
    );
    return new Map(rows.map((r) => [r.user_id, r.n]));
  }

  /**
   * Runs `fn` holding the campaign's row lock (`for update`), or with `undefined` if there is no
   * such campaign. Whoever decides what a missing hot state means (first load, loss, safe
   * rebuild) and acts on it holds this lock, so two processes never decide it differently: the
   * second one waits, then finds what the first did.
   */
  async withCampaignLocked<T>(id: string, fn: (row: CampaignRow | undefined, tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.select().from(couponCampaigns).where(eq(couponCampaigns.id, id)).for('update');
      return fn(row, tx);
    });
  }

  /** Records what the campaign's hot state is now (see `coupon_campaigns.hot_status`). */
  async setHotState(id: string, state: { epoch: number; status: 'LIVE' | 'LOST'; lostAt: Date | null }, tx: Tx): Promise<void> {
    await tx.update(couponCampaigns).set({ hotEpoch: state.epoch, hotStatus: state.status, hotLostAt: state.lostAt }).where(eq(couponCampaigns.id, id));
  }

  /**
   * The hot states of these campaigns ended with every event they appended persisted: a rebuild
   * from the wallet is exact. Only where PostgreSQL still has that epoch LIVE — a campaign
   * reloaded or found lost meanwhile keeps what it says.
   */
  async seal(held: readonly { campaignId: string; epoch: number }[]): Promise<number> {
    let sealed = 0;
    for (const { campaignId, epoch } of held) {
      const rows = await this.db
        .update(couponCampaigns)
        .set({ hotStatus: 'SEALED' })
        .where(and(eq(couponCampaigns.id, campaignId), eq(couponCampaigns.hotEpoch, epoch), eq(couponCampaigns.hotStatus, 'LIVE')))
        .returning({ id: couponCampaigns.id });
      sealed += rows.length;
    }
    return sealed;
  }

  /**
   * Persists issued coupons; an event seen before changes nothing (ON CONFLICT on the natural
   * key), so redelivery after a consumer crash is harmless.
   */
  async insertIssued(rows: (typeof coupons.$inferInsert)[]): Promise<number> {
    if (!rows.length) return 0;
    const inserted = await this.db.insert(coupons).values(rows).onConflictDoNothing().returning({ id: coupons.id });
    return inserted.length;
  }

  async walletOf(userId: string, limit: number, before?: string): Promise<WalletRow[]> {
    const rows = await this.db
      .select({ coupon: coupons, campaign: couponCampaigns })
      .from(coupons)
      .innerJoin(couponCampaigns, eq(couponCampaigns.id, coupons.campaignId))
      .where(and(eq(coupons.userId, userId), before ? lt(coupons.id, before) : undefined))
      .orderBy(desc(coupons.id))
      .limit(limit);
    return rows.map((r) => ({ ...r.coupon, campaign: r.campaign }));
  }

  /**
   * The buyer's coupons that can go on a new order for this performance now (only the named
   * ones, if `ids` is given). It runs on every order, so it is a prepared query: built once,
   * parsed and planned once per connection.
   */
  async usable(userId: string, performanceId: string, now: Date, ids?: readonly string[]): Promise<WalletRow[]> {
    const rows = await this.#usable.execute({ userId, performanceId, now: now.toISOString(), ids: ids ? [...ids] : null });
    return rows.map((r) => ({ ...r.coupon, campaign: r.campaign }));
  }

  async release(orderId: string, tx: Tx): Promise<void> {
    await tx
      .update(coupons)
      .set({ reservedOrderId: null })
      .where(and(eq(coupons.reservedOrderId, orderId), eq(coupons.status, 'AVAILABLE')));
  }

  /**
   * The paid order was refunded, in its refunding transaction: its USED coupons are AVAILABLE
   * again (and on no order) while their campaign is still valid at `at`; expired ones stay USED,
   * spent. Only coupons this very order used are touched, so none is given back twice.
   */
  async restore(orderId: string, at: Date, tx: Tx): Promise<string[]> {
    const restored = await tx
      .update(coupons)
      .set({ status: 'AVAILABLE', usedOrderId: null, reservedOrderId: null })
      .where(
        and(
          eq(coupons.usedOrderId, orderId),
          eq(coupons.status, 'USED'),
          sql`exists (select 1 from ${couponCampaigns} where ${couponCampaigns.id} = ${coupons.campaignId} and ${couponCampaigns.validUntil} > ${at.toISOString()}::timestamptz)`,
        ),
      )
      .returning({ id: coupons.id });
    return restored.map((r) => r.id);
  }
}

/** The placeholders the coupon part is written with (`$n::type` text), named. */
export interface CouponReservationPlaceholders {
  userId: string;
  couponIds: string;
  orderId: string;
  onlyIfNoCoupons: string;
}

/**
 * The coupon part of a pending order's one-statement placement (booking composes it; see
 * `StatementPart`): `lock` takes the named coupons that are the buyer's, unused and not on
 * another pending order; `apply` reserves them for the order. They come back if it expires or
 * is cancelled (`release`). With `onlyIfNoCoupons` true, the part also requires that the buyer
 * owns no coupon that could go on an order — a wider test than `usable`, so an order priced
 * without reading the wallet goes ahead only when reading it would have found nothing.
 * Placeholders: `userId` uuid, `couponIds` uuid[], `orderId` uuid, `onlyIfNoCoupons` boolean.
 */
export function couponReservationPart(p: CouponReservationPlaceholders): StatementPart {
  return {
    lock: `select id from coupons
            where id = any(${p.couponIds}) and user_id = ${p.userId} and status = 'AVAILABLE' and reserved_order_id is null
            order by id
            for update`,
    check: `(not ${p.onlyIfNoCoupons}
             or not exists (select 1 from coupons where user_id = ${p.userId} and status = 'AVAILABLE' and reserved_order_id is null))`,
    apply: (locked, go) => `update coupons set reserved_order_id = ${p.orderId} where id in (select id from ${locked}) and ${go}`,
  };
}

/**
 * The coupon part of an order's one-statement paying write (booking composes it): the coupons
 * reserved for this very order turn USED, as a data-modifying statement standing as one CTE of
 * booking's write, effective only where the composer's `go` holds. Only coupons still reserved
 * for the order change (the placing statement reserved them under their row lock, and only this
 * order's end releases them — after taking the order's row lock, which the paying statement
 * holds), so none is spent twice. Placeholder: `orderId` uuid.
 */
export function couponUsePart(p: { orderId: string }, go: string): string {
  return `update coupons set status = 'USED', used_order_id = ${p.orderId} where reserved_order_id = ${p.orderId} and status = 'AVAILABLE' and ${go}`;
}

/**
 * The coupons' part in the events of a sale (payments composes it into the statement that
 * writes `payment.completed` / `refund.completed`): one row, `seller_funded` — how much of the
 * order's discounts its sellers fund (campaigns `fundedBy: SELLER`); the rest is the platform's.
 * Placeholders: `couponIds` uuid[] and `discounts` int[] — the order's coupons with the discount
 * each gave, as priced at placement.
 */
export function discountFundingPart(p: { couponIds: string; discounts: string }): string {
  return `select coalesce(sum(a.discount) filter (where cc.funded_by = 'SELLER'), 0)::int as seller_funded
             from unnest(${p.couponIds}, ${p.discounts}) as a(coupon_id, discount)
             join coupons c on c.id = a.coupon_id join coupon_campaigns cc on cc.id = c.campaign_id`;
}
