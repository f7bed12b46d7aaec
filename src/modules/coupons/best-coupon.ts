/**
 * Best-coupon selection for one order: which of the buyer's usable coupons to apply so that the
 * total discount is the largest possible — exactly, not greedily. Pure: no I/O, no clock, no
 * randomness. Money is integer KRW throughout.
 *
 * ## The rules (they define "the discount")
 * - At most one ORDER coupon per order, at most one TICKET coupon per seat, each coupon at most once.
 * - TICKET coupon j on seat i gives t_ij = clamp(floor(ticketDiscount(seat_i)), 0, price_i).
 * - ORDER coupon c: E_c = sum of the eligible seats' prices, F_c = clamp(floor(orderDiscount(E_c)), 0, E_c),
 *   spread over the eligible seats in proportion to price by the largest-remainder method (ties in
 *   remainder → earlier seat first): shares s_ci with sum_i s_ci = F_c, and s_ci <= price_i.
 * - Item discount d_i = min(price_i, t_i + s_ci); total = sum_i d_i. The ORDER coupon reports
 *   sum_i (d_i − t_i), each TICKET coupon reports its t_i.
 *
 * ## Why the search below is exact
 * Fix the ORDER-coupon choice c (or none). Then total = sum_i g_i(t_i) with g_i(t) = min(price_i, t + s_ci):
 * it is separable per seat, and the only coupling between seats is that a TICKET coupon can go to
 * one seat only. So the best TICKET choice for that c is exactly a maximum-weight bipartite
 * assignment (seats × TICKET coupons, plus "no coupon"), with weight
 *   w_ij = g_i(t_ij) − g_i(0) = min(price_i − s_ci, t_ij)   (>= 0, because s_ci <= price_i),
 * which the Hungarian algorithm solves exactly in O(n²·m). Enumerating every ORDER choice and
 * solving each one exactly therefore gives the global optimum.
 *
 * Which ORDER choices must be enumerated: the total depends on c only through its share vector
 * (s_c1..s_cn), so coupons with the same share vector are interchangeable and only the
 * earliest-expiring of them is evaluated. Coupons with different share vectors are all evaluated.
 * It is NOT safe to keep only the largest F_c per eligible-seat set: the largest-remainder method
 * has the Alabama paradox — raising F_c by 1 can take 1 KRW away from one seat and give it to seats
 * whose TICKET coupons already cover them in full, so a larger F_c can give a smaller total (e.g.
 * prices 50,000 / 70,000 / 70,000: F = 1,130 shares 298/416/416, F = 1,131 shares 297/417/417).
 * A candidate whose optimistic bound sum_i min(price_i, s_ci + max_j t_ij) (which ignores that a
 * coupon can be used once) is below the best total found so far can neither win nor tie, so it
 * is skipped without running the Hungarian algorithm.
 *
 * ## Ties (equal totals): coupons that expire first
 * - Between ORDER choices: the smaller expiresAt of the ORDER coupon actually used wins (an
 *   order that ends up using no ORDER coupon counts as expiresAt = +∞), then the TICKET
 *   tie-break weight below, then the earlier choice in evaluation order (none first, then input order).
 * - Between TICKET assignments: each TICKET coupon gets a bonus m − rank (rank 0 = earliest
 *   expiry, ties by input order), and the Hungarian algorithm maximizes w_ij·K + bonus_j with
 *   K = n·m + 1. The bonuses of a whole assignment sum to at most n·m < K, so they never outweigh
 *   1 KRW of discount; they only decide between assignments with the same total.
 * - A pair with w_ij = 0 (the coupon would add nothing on that seat) gets weight 0, like "no
 *   coupon", and is never reported: a coupon is not spent for nothing.
 *
 * All arithmetic stays in safe integers (< 2^53); prices so large that it could not (above
 * roughly 10^11 KRW per seat) are rejected with a RangeError.
 */

export interface SeatLine {
  seatId: string;
  grade: string;
  /** Integer KRW, >= 0. */
  price: number;
}

export interface CandidateCoupon {
  id: string;
  appliesTo: 'ORDER' | 'TICKET';
  /** ms; ties go to coupons that expire first. */
  expiresAt: number;
  /** TICKET coupons: the discount this coupon would give on this seat (already capped at the price by the caller); 0 = not applicable to that seat. */
  ticketDiscount?: (seat: SeatLine) => number;
  /** ORDER coupons: which seats it applies to (its scope; all seats when omitted), and its discount computed on the eligible subtotal at list prices (the sum of eligible seats' prices). 0 = not applicable. */
  eligible?: (seat: SeatLine) => boolean;
  orderDiscount?: (eligibleSubtotal: number) => number;
}

export interface Assignment {
  /** Sum of all item discounts. */
  total: number;
  /** Per seat, same order as the input seats; 0 <= discount <= price. */
  items: { seatId: string; discount: number }[];
  /** Applied coupons (seatId for TICKET), only those with discount > 0; the ORDER coupon first, then TICKET coupons in seat order. */
  coupons: { id: string; discount: number; seatId?: string }[];
}

/** clamp(floor(x), 0, hi); NaN counts as 0. */
function clampFloor(x: number, hi: number): number {
  const v = Math.floor(x);
  if (Number.isNaN(v) || v <= 0) return 0;
  return Math.min(v, hi);
}

/**
 * Largest-remainder split of `amount` over `weights` (sum = `total`, 0 <= amount <= total) in
 * proportion to the weights; equal remainders go to the earlier index. BigInt keeps
 * amount·weight exact whatever the magnitudes.
 */
function largestRemainder(amount: number, weights: readonly number[], total: number): number[] {
  const F = BigInt(amount);
  const E = BigInt(total);
  const shares: number[] = [];
  const remainders: bigint[] = [];
  let given = 0;
  for (const w of weights) {
    const q = F * BigInt(w);
    const share = Number(q / E);
    shares.push(share);
    remainders.push(q % E);
    given += share;
  }
  const order = weights.map((_, i) => i);
  order.sort((a, b) => {
    const ra = remainders[a]!;
    const rb = remainders[b]!;
    return ra === rb ? a - b : ra > rb ? -1 : 1;
  });
  // The fractional parts sum to exactly amount − given (< count of positive remainders), so the
  // extra units all land on seats with a positive remainder, whose share stays <= their price.
  for (let k = 0; k < amount - given; k++) shares[order[k]!]! += 1;
  return shares;
}

/**
 * Hungarian algorithm (shortest augmenting paths with potentials), minimizing the total cost of
 * assigning each of `rows` rows to a distinct column among `cols` (rows <= cols). `cost` is
 * row-major, rows × cols. Returns, per row, its column. Exact on integer costs.
 */
function hungarianMin(cost: Float64Array, rows: number, cols: number): Int32Array {
  const INF = Number.POSITIVE_INFINITY;
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const p = new Int32Array(cols + 1); // p[j] = row (1-based) matched to column j, 0 = free
  const way = new Int32Array(cols + 1);
  const minv = new Float64Array(cols + 1);
  const used = new Uint8Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(INF);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      const base = (i0 - 1) * cols;
      const ui0 = u[i0]!;
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const cur = cost[base + j - 1]! - ui0 - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else {
          minv[j]! -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const colOfRow = new Int32Array(rows).fill(-1);
  for (let j = 1; j <= cols; j++) if (p[j]! > 0) colOfRow[p[j]! - 1] = j - 1;
  return colOfRow;
}

interface Evaluated {
  total: number;
  /** Effective ORDER expiry: +∞ when no ORDER coupon ends up giving anything. */
  orderExpiry: number;
  ticketBonus: number;
  order: { coupon: CandidateCoupon; shares: number[] } | null;
  /** Per seat: index into the TICKET coupon list, or -1. */
  ticketOf: Int32Array;
}

function better(a: Evaluated, b: Evaluated): boolean {
  if (a.total !== b.total) return a.total > b.total;
  if (a.orderExpiry !== b.orderExpiry) return a.orderExpiry < b.orderExpiry;
  return a.ticketBonus > b.ticketBonus;
}

export function bestCoupons(seats: readonly SeatLine[], coupons: readonly CandidateCoupon[]): Assignment {
  const n = seats.length;
  let maxPrice = 0;
  for (const s of seats) {
    if (!Number.isSafeInteger(s.price) || s.price < 0) throw new RangeError(`seat ${s.seatId}: price must be a non-negative integer`);
    if (s.price > maxPrice) maxPrice = s.price;
  }
  const prices = seats.map((s) => s.price);

  // TICKET coupons: t_ij once per pair (the callbacks run n·m times in all). Coupons that give
  // nothing on any seat can never be used and are dropped.
  const tickets: { coupon: CandidateCoupon; t: number[] }[] = [];
  for (const c of coupons) {
    if (c.appliesTo !== 'TICKET' || !c.ticketDiscount) continue;
    const fn = c.ticketDiscount;
    const t = seats.map((s) => (s.price > 0 ? clampFloor(fn(s), s.price) : 0));
    if (t.some((x) => x > 0)) tickets.push({ coupon: c, t });
  }
  const m = tickets.length;

  // Tie-break bonus: m − rank by expiry (rank 0 = earliest; stable, so equal expiry → input order).
  const byExpiry = tickets.map((_, j) => j).sort((a, b) => tickets[a]!.coupon.expiresAt - tickets[b]!.coupon.expiresAt || a - b);
  const bonus = new Array<number>(m).fill(0);
  byExpiry.forEach((j, rank) => (bonus[j] = m - rank));
  const K = n * m + 1;
  // Hungarian potentials stay within a small multiple of rows × the largest weight.
  if (4 * (n + 1) * (K * maxPrice + m + 1) > Number.MAX_SAFE_INTEGER) throw new RangeError('prices too large for exact coupon selection');

  const bestTicket = prices.map((_, i) => tickets.reduce((best, tk) => Math.max(best, tk.t[i]!), 0));

  /** Exact best TICKET assignment given the ORDER shares (all zeros for "no ORDER coupon"). */
  const evaluate = (order: { coupon: CandidateCoupon; shares: number[] } | null): Evaluated => {
    const shares = order?.shares ?? new Array<number>(n).fill(0);
    const ticketOf = new Int32Array(n).fill(-1);
    // Only seats where some TICKET coupon can still add something take part.
    const rowSeats: number[] = [];
    for (let i = 0; i < n; i++) if (bestTicket[i]! > 0 && prices[i]! - shares[i]! > 0) rowSeats.push(i);
    const rows = rowSeats.length;
    if (rows > 0) {
      const cols = m + rows; // m coupons + one "no coupon" column per row (weight 0)
      const cost = new Float64Array(rows * cols); // minimize −weight; padding stays 0
      for (let r = 0; r < rows; r++) {
        const i = rowSeats[r]!;
        const room = prices[i]! - shares[i]!;
        for (let j = 0; j < m; j++) {
          const w = Math.min(room, tickets[j]!.t[i]!);
          if (w > 0) cost[r * cols + j] = -(w * K + bonus[j]!);
        }
      }
      const colOfRow = hungarianMin(cost, rows, cols);
      for (let r = 0; r < rows; r++) {
        const j = colOfRow[r]!;
        const i = rowSeats[r]!;
        if (j >= 0 && j < m && Math.min(prices[i]! - shares[i]!, tickets[j]!.t[i]!) > 0) ticketOf[i] = j;
      }
    }
    let total = 0;
    let orderPart = 0;
    let ticketBonus = 0;
    for (let i = 0; i < n; i++) {
      const j = ticketOf[i]!;
      const t = j >= 0 ? tickets[j]!.t[i]! : 0;
      if (j >= 0) ticketBonus += bonus[j]!;
      const d = Math.min(prices[i]!, t + shares[i]!);
      total += d;
      orderPart += d - t;
    }
    const used = order !== null && orderPart > 0;
    return { total, orderExpiry: used ? order.coupon.expiresAt : Number.POSITIVE_INFINITY, ticketBonus, order: used ? order : null, ticketOf };
  };

  let best = evaluate(null);

  // ORDER candidates, one per distinct share vector (the earliest-expiring coupon of each).
  const candidates = new Map<string, { coupon: CandidateCoupon; shares: number[] }>();
  for (const c of coupons) {
    if (c.appliesTo !== 'ORDER' || !c.orderDiscount) continue;
    const isEligible = c.eligible;
    const eligible = seats.map((s) => (isEligible ? isEligible(s) : true));
    let E = 0;
    for (let i = 0; i < n; i++) if (eligible[i]) E += prices[i]!;
    if (E === 0) continue;
    const F = clampFloor(c.orderDiscount(E), E);
    if (F === 0) continue;
    const weights = prices.map((p, i) => (eligible[i] ? p : 0));
    const shares = largestRemainder(F, weights, E);
    const key = shares.join(',');
    const seen = candidates.get(key);
    if (!seen || c.expiresAt < seen.coupon.expiresAt) candidates.set(key, { coupon: c, shares });
  }
  for (const cand of candidates.values()) {
    let bound = 0;
    for (let i = 0; i < n; i++) bound += Math.min(prices[i]!, cand.shares[i]! + bestTicket[i]!);
    if (bound < best.total) continue; // cannot win, cannot even tie
    const ev = evaluate(cand);
    if (better(ev, best)) best = ev;
  }

  const items: Assignment['items'] = [];
  const ticketLines: Assignment['coupons'] = [];
  let orderPart = 0;
  for (let i = 0; i < n; i++) {
    const seat = seats[i]!;
    const j = best.ticketOf[i]!;
    const t = j >= 0 ? tickets[j]!.t[i]! : 0;
    const d = Math.min(seat.price, t + (best.order?.shares[i] ?? 0));
    items.push({ seatId: seat.seatId, discount: d });
    orderPart += d - t;
    if (t > 0) ticketLines.push({ id: tickets[j]!.coupon.id, discount: t, seatId: seat.seatId });
  }
  const lines: Assignment['coupons'] = best.order && orderPart > 0 ? [{ id: best.order.coupon.id, discount: orderPart }, ...ticketLines] : ticketLines;
  return { total: best.total, items, coupons: lines };
}
