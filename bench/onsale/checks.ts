/**
 * The scene's proof: the invariants checked at the end in the stores themselves (PostgreSQL,
 * the Redis admission log, the sandbox PG's ledger) and against what the crowd was told. Each
 * check says what it compared; any failure makes `npm run bench:onsale` exit non-zero.
 */
import type pg from 'pg';
import type { BuyerRecord, Scene } from './crowd.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface CheckInput {
  db: pg.Client;
  scheduleId: string;
  campaignId: string;
  coupons: number;
  records: BuyerRecord[];
  scene: Scene;
  /** The Redis admission log: every admitted buyer id, in admission order. */
  audit: string[];
  /** The sandbox PG's GET /ledger. */
  ledger: { payments: { orderId: string; status: string; totalAmount: number; balanceAmount: number; approvedAt: string | null }[]; orders: LedgerOrder[] };
  /** The admin settlement run of the sale's period. */
  settlements: SettlementFigures[];
}

interface LedgerOrder {
  orderId: string;
  charges: number;
  chargedAmount: number;
  canceledAmount: number;
  balanceAmount: number;
}

export interface SettlementFigures {
  lineCount: number;
  gross: number;
  refunds: number;
  sellerDiscounts: number;
  platformDiscounts: number;
}

const rows = async <T>(db: pg.Client, text: string, values: unknown[] = []): Promise<T[]> => (await db.query(text, values)).rows as T[];
const fmt = (n: number) => n.toLocaleString('en-US');

export async function runChecks(c: CheckInput): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const sid = c.scheduleId;

  // 1. Every seat sold at most once.
  const twiceTickets = await rows<{ seat_id: string }>(
    c.db,
    `select seat_id from tickets where schedule_id = $1 and status = 'VALID' group by seat_id having count(*) > 1`,
    [sid],
  );
  const twiceOrders = await rows<{ seat_id: string }>(
    c.db,
    `select oi.seat_id from order_items oi join orders o on o.id = oi.order_id
     where o.schedule_id = $1 and o.status = 'PAID' group by oi.seat_id having count(*) > 1`,
    [sid],
  );
  add(
    'every seat sold at most once',
    twiceTickets.length === 0 && twiceOrders.length === 0,
    `${twiceTickets.length} seats with two valid tickets, ${twiceOrders.length} seats in two paid orders`,
  );

  // 2. Sold seats = valid tickets = items of paid orders, seat for seat and order for order.
  const [counts] = await rows<{ sold: number; tickets: number; items: number; mismatched: number }>(
    c.db,
    `with sold as (select seat_id, order_id from schedule_seats where schedule_id = $1 and status = 'SOLD'),
          tix as (select seat_id, order_id from tickets where schedule_id = $1 and status = 'VALID'),
          items as (select oi.seat_id, oi.order_id from order_items oi join orders o on o.id = oi.order_id where o.schedule_id = $1 and o.status = 'PAID'),
          every as (select * from sold union select * from tix union select * from items)
     select (select count(*) from sold)::int as sold, (select count(*) from tix)::int as tickets, (select count(*) from items)::int as items,
            (select count(*) from every e where not exists (select 1 from sold s where s.seat_id = e.seat_id and s.order_id = e.order_id)
               or not exists (select 1 from tix t where t.seat_id = e.seat_id and t.order_id = e.order_id)
               or not exists (select 1 from items i where i.seat_id = e.seat_id and i.order_id = e.order_id))::int as mismatched`,
    [sid],
  );
  add(
    'sold seats = valid tickets = items of paid orders',
    counts!.sold === counts!.tickets && counts!.tickets === counts!.items && counts!.mismatched === 0,
    `${fmt(counts!.sold)} sold, ${fmt(counts!.tickets)} valid tickets, ${fmt(counts!.items)} paid items; ${counts!.mismatched} (seat, order) pairs not in all three`,
  );

  // 3. The sandbox PG's ledger against MOS: no order charged twice; every charge a paid order
  //    (balance = its amount) or refunded in full (balance 0); every paid order charged.
  const orders = await rows<{ id: string; status: string; amount: number; subtotal: number; discount: number }>(
    c.db,
    `select id, status, amount, subtotal, discount from orders where schedule_id = $1`,
    [sid],
  );
  const byId = new Map(orders.map((o) => [o.id, o]));
  const problems: string[] = [];
  let charged = 0;
  let kept = 0;
  for (const l of c.ledger.orders) {
    if (!l.charges) continue;
    charged++;
    const o = byId.get(l.orderId);
    if (l.charges > 1) problems.push(`order ${l.orderId} charged ${l.charges} times`);
    if (!o) problems.push(`charge for unknown order ${l.orderId}`);
    else if (o.status === 'PAID') {
      kept++;
      if (l.balanceAmount !== o.amount || l.chargedAmount !== o.amount)
        problems.push(`paid order ${o.id}: charged ${l.chargedAmount}, balance ${l.balanceAmount}, amount ${o.amount}`);
    } else if (l.balanceAmount !== 0) problems.push(`order ${o.id} is ${o.status} but ${l.balanceAmount} KRW stays charged`);
  }
  const ledgerById = new Map(c.ledger.orders.map((l) => [l.orderId, l]));
  for (const o of orders) {
    if (o.status !== 'PAID' && o.status !== 'REFUNDED') continue;
    const l = ledgerById.get(o.id);
    if (l?.charges !== 1) problems.push(`${o.status} order ${o.id} has ${l?.charges ?? 0} charges at the PG`);
  }
  const [open] = await rows<{ n: number }>(c.db, `select count(*)::int as n from payments where status in ('CONFIRMING', 'UNKNOWN', 'REFUNDING')`);
  if (open!.n) problems.push(`${open!.n} payments still of unknown outcome`);
  add(
    "the sandbox PG's ledger matches MOS",
    problems.length === 0,
    problems.length
      ? problems.slice(0, 5).join('; ')
      : `${fmt(charged)} orders charged once each: ${fmt(kept)} paid, ${fmt(charged - kept)} refunded or voided in full`,
  );

  // 4. Coupons: issued ≤ C, one per buyer, each in at most one paid order, every ISSUED answer in a wallet.
  const [wallet] = await rows<{ issued: number; buyers: number }>(
    c.db,
    `select count(*)::int as issued, count(distinct user_id)::int as buyers from coupons where campaign_id = $1`,
    [c.campaignId],
  );
  const reused = await rows<{ coupon_id: string }>(
    c.db,
    `select oc.coupon_id from order_coupons oc join orders o on o.id = oc.order_id where o.status = 'PAID' group by oc.coupon_id having count(*) > 1`,
  );
  const walletUsers = new Set(
    (await rows<{ user_id: string }>(c.db, `select user_id from coupons where campaign_id = $1`, [c.campaignId])).map((r) => r.user_id),
  );
  const missing = [...c.scene.issued].filter((id) => !walletUsers.has(id));
  add(
    'coupons: issued ≤ C, one per buyer, each used at most once',
    wallet!.issued <= c.coupons && wallet!.buyers === wallet!.issued && reused.length === 0 && missing.length === 0,
    `${fmt(wallet!.issued)} issued of ${fmt(c.coupons)} to ${fmt(wallet!.buyers)} buyers; ${reused.length} coupons in two paid orders; ${missing.length} buyers told ISSUED without it in their wallet`,
  );

  // 5. Admission order after the opening = entry order. The crowd knows when each buyer's enter
  //    was sent and answered: if A's answer came before B's request left, A entered first and
  //    must be admitted first. Everyone who entered before the opening (shuffled) comes before
  //    everyone who entered after it.
  const position = new Map(c.audit.map((id, k) => [id, k]));
  const admitted = c.records.filter((r) => position.has(r.id) && r.enterSent !== null && r.enterRecv !== null);
  const post = admitted.filter((r) => r.pre === false).sort((a, b) => position.get(a.id)! - position.get(b.id)!);
  let inversions = 0;
  let example = '';
  // Walking admission order backwards, keep the earliest answer among buyers admitted later.
  let earliestLaterRecv = Number.POSITIVE_INFINITY;
  let earliestLater: BuyerRecord | null = null;
  for (let k = post.length - 1; k >= 0; k--) {
    const b = post[k]!;
    if (earliestLaterRecv < b.enterSent!) {
      inversions++;
      if (!example)
        example = `buyer ${earliestLater!.i} entered (answered at ${earliestLaterRecv.toFixed(0)} ms) before buyer ${b.i} asked (${b.enterSent!.toFixed(0)} ms) but was admitted after`;
    }
    if (b.enterRecv! < earliestLaterRecv) {
      earliestLaterRecv = b.enterRecv!;
      earliestLater = b;
    }
  }
  const lastPre = Math.max(-1, ...admitted.filter((r) => r.pre === true).map((r) => position.get(r.id)!));
  const firstPost = post.length ? position.get(post[0]!.id)! : Number.POSITIVE_INFINITY;
  const auditUnique = new Set(c.audit).size === c.audit.length;
  add(
    'post-opening admission order = entry order',
    inversions === 0 && lastPre < firstPost && auditUnique,
    `${fmt(post.length)} post-opening and ${fmt(admitted.length - post.length)} pre-queue buyers admitted; ${inversions} out of order${example ? ` (${example})` : ''}; pre-queue ${lastPre < firstPost ? 'all before' : 'NOT all before'} the first post-opening buyer; ${auditUnique ? 'nobody admitted twice' : 'someone admitted twice'}`,
  );

  // 6. No buyer held or ordered without admission: every order's buyer is in the admission log,
  //    and every hold tried without admission, or with another buyer's token, was refused.
  const orderBuyers = await rows<{ user_id: string }>(c.db, `select distinct user_id from orders where schedule_id = $1`, [sid]);
  const unadmitted = orderBuyers.filter((r) => !position.has(r.user_id));
  const p = c.scene.probes;
  const sentWithout = c.records.reduce((n, r) => n + r.sentWithoutAdmission, 0);
  add(
    'no buyer held or ordered without admission',
    unadmitted.length === 0 && p.noToken.unexpected.length === 0 && p.otherToken.unexpected.length === 0 && sentWithout === 0 && p.noToken.sent > 0,
    `${fmt(orderBuyers.length)} buyers with orders, ${unadmitted.length} never admitted; holds without a token refused ${p.noToken.refused}/${p.noToken.sent}, with another buyer's token ${p.otherToken.refused}/${p.otherToken.sent}${
      p.noToken.unexpected.length + p.otherToken.unexpected.length
        ? ` (unexpected: ${[...p.noToken.unexpected, ...p.otherToken.unexpected].slice(0, 2).join('; ')})`
        : ''
    }`,
  );

  // 7. Settlement of the sale's period = the payments: one line per order ever paid, its gross
  //    and discounts as the orders say, its charges and refunds as the PG's ledger says.
  const sold = orders.filter((o) => o.status === 'PAID' || o.status === 'REFUNDED');
  const refunded = orders.filter((o) => o.status === 'REFUNDED');
  const [sellerDiscountRow] = await rows<{ seller: number }>(
    c.db,
    `select coalesce(sum(oc.discount), 0)::int as seller from order_coupons oc join orders o on o.id = oc.order_id
     join coupon_campaigns cc on cc.id = (select campaign_id from coupons where id = oc.coupon_id)
     where o.schedule_id = $1 and o.status = 'REFUNDED' and cc.funded_by = 'SELLER'`,
    [sid],
  );
  const s = c.settlements.reduce(
    (a, x) => ({
      lineCount: a.lineCount + x.lineCount,
      gross: a.gross + x.gross,
      refunds: a.refunds + x.refunds,
      sellerDiscounts: a.sellerDiscounts + x.sellerDiscounts,
      platformDiscounts: a.platformDiscounts + x.platformDiscounts,
    }),
    { lineCount: 0, gross: 0, refunds: 0, sellerDiscounts: 0, platformDiscounts: 0 },
  );
  const expectGross = sold.reduce((n, o) => n + o.subtotal, 0);
  const expectDiscounts = sold.reduce((n, o) => n + o.discount, 0);
  const expectRefunds = refunded.reduce((n, o) => n + o.subtotal, 0) - sellerDiscountRow!.seller;
  const pgCharged = sold.reduce((n, o) => n + (ledgerById.get(o.id)?.chargedAmount ?? 0), 0);
  const pgRefunded = refunded.reduce((n, o) => n + (ledgerById.get(o.id)?.canceledAmount ?? 0), 0);
  const settledCharged = s.gross - s.sellerDiscounts - s.platformDiscounts;
  const refundedCharged = refunded.reduce((n, o) => n + o.amount, 0);
  add(
    'settlement for the period = the payments and the PG ledger',
    s.lineCount === sold.length &&
      s.gross === expectGross &&
      s.sellerDiscounts + s.platformDiscounts === expectDiscounts &&
      s.refunds === expectRefunds &&
      settledCharged === pgCharged &&
      pgRefunded === refundedCharged,
    `${fmt(s.lineCount)} lines for ${fmt(sold.length)} orders ever paid; gross ${fmt(s.gross)} vs ${fmt(expectGross)} KRW; discounts ${fmt(s.sellerDiscounts + s.platformDiscounts)} vs ${fmt(expectDiscounts)}; charged ${fmt(settledCharged)} vs the PG's ${fmt(pgCharged)}; refunds ${fmt(s.refunds)} vs ${fmt(expectRefunds)} (the PG refunded ${fmt(pgRefunded)} of ${fmt(refundedCharged)} KRW)`,
  );

  // 8. Every answer the crowd got was one the contract allows.
  const errors = c.records.filter((r) => r.outcome === 'error');
  add(
    'no unexpected answers',
    errors.length === 0,
    errors.length
      ? `${errors.length} buyers stopped on an unexpected answer, e.g. ${errors
          .slice(0, 3)
          .map((r) => r.error)
          .join(' | ')}`
      : 'every answer was one the contract allows',
  );
  return checks;
}
