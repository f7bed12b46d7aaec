/**
 * The crowd: every buyer is an async function in this one process, sharing the keep-alive
 * pools of http.ts (no browser, no client per buyer). A buyer arrives at its planned instant,
 * enters the waiting room, follows its place (the event stream for some, polling for the rest,
 * paced by the estimated wait), is admitted, reads the seat map (the layout, revalidated against
 * the copy every buyer shares, and the live availability), holds 1–4 seats of a preferred grade
 * (another choice on SEAT_UNAVAILABLE, a few tries at most), claims the coupon (some), orders with
 * the best coupon applied by the server, checks out at the sandbox PG and confirms, and leaves the
 * room. A few cancel their paid order (a refund); a share walk away at every step and leave their
 * hold, order or checkout to lapse.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { availabilityCodec } from '../../src/modules/catalog/index.js';

const { AvailabilityState } = availabilityCodec;
type AvailabilityMessage = availabilityCodec.AvailabilityMessage;
type AvailabilityState = availabilityCodec.AvailabilityState;
import type { Answer, Caller, Http } from './http.js';
import { GRADES, type Grade } from './setup.js';

export type Step = 'queue' | 'admitted' | 'hold' | 'order' | 'checkout';

export interface CrowdPlan {
  buyers: number;
  /** Epoch ms of the opening; buyers arrive from `opensAt - preOpenMs` to `opensAt + burstMs`. */
  opensAt: number;
  preOpenMs: number;
  burstMs: number;
  preQueueShare: number;
  sseShare: number;
  claimShare: number;
  cancelShare: number;
  /** Share of buyers walking away after each step. */
  abandon: Record<Step, number>;
  /** Lost races (SEAT_UNAVAILABLE) after which a buyer who never had to wait for seats leaves. */
  maxHoldTries: number;
  /**
   * How long an admitted buyer keeps refreshing the map, and racing for the seats that come
   * back, after it first found every free seat held by others.
   */
  heldWaitSeconds: number;
  /** Buyers (waiting, never admitted yet) who try to hold without admission, and with another buyer's token. */
  probes: number;
}

export const defaultPlan = (buyers: number, opensAt: number, preOpenMs: number, burstMs: number): CrowdPlan => ({
  buyers,
  opensAt,
  preOpenMs,
  burstMs,
  preQueueShare: 0.4,
  sseShare: 0.4,
  claimShare: 0.4,
  cancelShare: 0.03,
  abandon: { queue: 0.04, admitted: 0.03, hold: 0.03, order: 0.04, checkout: 0.03 },
  maxHoldTries: 3,
  // Longer than the longest a walked-away or stalled buyer ties a seat up in the scene — an unpaid
  // order's 30 s payment window, a payment parked for the reconciliation — with room for a loaded
  // machine. Waiting costs nothing once all are sold.
  heldWaitSeconds: 90,
  probes: Math.min(50, Math.ceil(buyers / 100)),
});

export type Outcome =
  | 'paid'
  | 'refunded'
  | `abandoned-${Step}`
  | 'sold-out-waiting'
  | 'sold-out'
  | 'gave-up'
  | 'rejected'
  | 'lost-order'
  | 'still-waiting'
  | 'dropped-by-room'
  | 'error';

/**
 * Why an admitted buyer left without a paid order: lost `maxHoldTries` races without ever having
 * had to wait; waited `heldWaitSeconds` for seats to come back; a lost hold answer had kept seats
 * (HOLD_LIMIT_EXCEEDED); the admission lapsed and a poll could not renew it; the order could not
 * be placed in three tries; the scene's time ran out.
 */
export type GaveUp = 'lost-races' | 'waited-too-long' | 'hold-limit' | 'admission-lapsed' | 'order-not-placed' | 'time-up';

export interface BuyerRecord {
  i: number;
  id: string;
  sse: boolean;
  arriveAt: number;
  /** Scene ms: first enter attempt sent, answer received. */
  enterSent: number | null;
  enterRecv: number | null;
  /** Entered before the opening (the server answered from the pre-queue). */
  pre: boolean | null;
  admittedAt: number | null;
  heldAt: number | null;
  orderedAt: number | null;
  paidAt: number | null;
  seats: number;
  orderId: string | null;
  amount: number | null;
  couponIssued: boolean;
  outcome: Outcome | null;
  /** Why a buyer ended `gave-up` (see `GaveUp`). */
  gaveUp: GaveUp | null;
  error: string | null;
  /** Holds or orders sent by this buyer, and those sent with an admission token (all must be). */
  sentWithoutAdmission: number;
}

/** Buyers by outcome; those who gave up by why (`gave-up: lost-races`). */
export function outcomesOf(records: readonly BuyerRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) {
    const key = r.outcome === 'gave-up' ? `gave-up: ${r.gaveUp}` : (r.outcome ?? 'none');
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

export interface Scene {
  http: Http;
  scheduleId: string;
  campaignId: string;
  sandboxBasicAuth: string;
  /** The sandbox PG's checkout, `http://…/sandbox/toss`. */
  sandboxPath: string;
  sandboxApi: { request(path: string, body: unknown): Promise<Answer> };
  tokens: string[];
  ids: string[];
  layout: Layout;
  /** Set once every seat is sold: waiting buyers stop (the site says "sold out"). */
  soldOut: boolean;
  /** Set when the scene's time is up: every buyer stops at its next step. */
  stop: boolean;
  /** ms since the scene's origin (performance.now()-based). */
  now(): number;
  /** Epoch ms of the scene's origin. */
  epochOrigin: number;
  probes: { noToken: ProbeCount; otherToken: ProbeCount };
  /** Admission tokens of admitted buyers, for the probes with another buyer's token. */
  admittedTokens: string[];
  confirmAnswers: Map<number, number>;
  /** A buyer told ISSUED, by id. */
  issued: Set<string>;
}

export interface ProbeCount {
  sent: number;
  refused: number;
  /** Answers other than 403 ADMISSION_REQUIRED (must stay 0). */
  unexpected: string[];
}

export interface Layout {
  etag: string;
  seats: { index: number; seatId: string; section: string; row: string; grade: string }[];
  /** Seat indexes per grade, rows together, in layout order. */
  byGrade: Map<string, number[]>;
  /** Row key per index. */
  rowOf: string[];
}

export function layoutFrom(body: any, etag: string): Layout {
  const seats = (body.seats as Layout['seats']).slice().sort((a, b) => a.index - b.index);
  const byGrade = new Map<string, number[]>();
  const rowOf: string[] = [];
  for (const s of seats) {
    rowOf[s.index] = `${s.section}|${s.row}`;
    const list = byGrade.get(s.grade) ?? [];
    list.push(s.index);
    byGrade.set(s.grade, list);
  }
  return { etag, seats, byGrade, rowOf };
}

const pick = <T>(items: readonly T[], weights: readonly number[]): T => {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = Math.random() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i]!;
    if (r <= 0) return items[i]!;
  }
  return items[items.length - 1]!;
};

/** The arrival instants (scene ms) of every buyer: a share before the opening, the rest in a burst after it. */
export function arrivals(plan: CrowdPlan, openAtSceneMs: number): number[] {
  return Array.from({ length: plan.buyers }, () => {
    if (Math.random() < plan.preQueueShare) return openAtSceneMs - Math.random() * plan.preOpenMs;
    // Density falling linearly from the opening to the burst's end: most come at once.
    return openAtSceneMs + plan.burstMs * (1 - Math.sqrt(1 - Math.random()));
  });
}

class Stop extends Error {}

const pollAfterOf = (a: Answer): number => {
  const s = Number(a.headers['x-poll-after']);
  return s > 0 ? s : 2;
};

/**
 * Seats to ask for: `n` adjacent AVAILABLE seats of one row of the grade (a window chosen at
 * random, so two buyers rarely reach for the same one), else any `n` of the grade; another
 * grade when this one has fewer than `n`; fewer seats when no grade has `n`. Empty: none left.
 */
export function chooseSeats(layout: Layout, state: AvailabilityState, grade: Grade, n: number): number[] {
  const order = [grade, ...GRADES.map((g) => g.name).filter((g) => g !== grade)];
  for (let want = n; want >= 1; want--) {
    for (const g of order) {
      const indexes = layout.byGrade.get(g) ?? [];
      const free = indexes.filter((i) => state.codes[i] === 0);
      if (free.length < want) continue;
      const windows: number[] = [];
      for (let k = 0; k + want <= free.length; k++) {
        const first = free[k]!;
        const last = free[k + want - 1]!;
        if (last - first === want - 1 && layout.rowOf[first] === layout.rowOf[last]) windows.push(k);
      }
      if (windows.length) {
        const k = windows[Math.floor(Math.random() * windows.length)]!;
        return free.slice(k, k + want);
      }
      const chosen: number[] = [];
      const pool = free.slice();
      for (let j = 0; j < want; j++) chosen.push(pool.splice(Math.floor(Math.random() * pool.length), 1)[0]!);
      return chosen.sort((a, b) => a - b);
    }
  }
  return [];
}

export async function runBuyer(scene: Scene, plan: CrowdPlan, rec: BuyerRecord): Promise<void> {
  const { http } = scene;
  const me: Caller = { api: rec.i % http.pools.length };
  const token = scene.tokens[rec.i]!;
  const sid = scene.scheduleId;
  const abandonAt: Step | null = (() => {
    let r = Math.random();
    for (const step of Object.keys(plan.abandon) as Step[]) {
      r -= plan.abandon[step];
      if (r < 0) return step;
    }
    return null;
  })();
  const check = () => {
    if (scene.stop) throw new Stop();
  };
  const finish = (o: Outcome) => {
    rec.outcome = o;
    throw new Stop();
  };
  const giveUp = (why: GaveUp) => {
    rec.gaveUp = why;
    finish('gave-up');
  };

  try {
    const wait = rec.arriveAt - scene.now();
    if (wait > 0) await sleep(wait);
    check();

    // ---- enter ----
    rec.enterSent = scene.now();
    const entered = await http.call(me, 'enter', 'POST', `/v1/schedules/${sid}/queue`, { token });
    if (entered.status !== 200) throw new Error(`enter answered ${entered.status}: ${JSON.stringify(entered.body)}`);
    rec.enterRecv = scene.now();
    rec.pre = entered.body.status === 'WAITING' && entered.body.position === null;
    if (abandonAt === 'queue') finish('abandoned-queue');

    // ---- follow the queue until admitted ----
    let view = entered.body;
    let pollAfter = pollAfterOf(entered);
    let probed = false;
    let streamFailed = false;
    while (view.status !== 'ADMITTED') {
      check();
      if (scene.soldOut) finish('sold-out-waiting');
      if (!probed && view.position !== null && view.position > 50) {
        probed = true;
        await probe(scene, me, token, plan);
      }
      if (rec.sse && !streamFailed) {
        const streamed = await follow(scene, me, token);
        if (streamed) view = streamed;
        else streamFailed = true; // a broken stream: poll from here on
        continue;
      }
      // As the buyer's page does: when the server says (X-Poll-After, seconds), else every 2 s.
      await sleep(pollAfter * 1000);
      check();
      if (scene.soldOut) finish('sold-out-waiting');
      const polled = await http.call(me, 'poll', 'GET', `/v1/schedules/${sid}/queue`, { token });
      // Dropped as abandoned: the room heard no poll within WAITING_ROOM_ABANDON_AFTER_SECONDS
      // (on an overloaded machine a poll can take longer than that to be answered).
      if (polled.status === 404 && polled.body?.code === 'NOT_IN_QUEUE') finish('dropped-by-room');
      if (polled.status !== 200) throw new Error(`poll answered ${polled.status}: ${JSON.stringify(polled.body)}`);
      view = polled.body;
      pollAfter = pollAfterOf(polled);
    }
    rec.admittedAt = scene.now();
    me.admitted = true;
    let admission: string = view.admissionToken;
    scene.admittedTokens.push(admission);
    if (abandonAt === 'admitted') finish('abandoned-admitted');

    // ---- the seat map ----
    await http.call(me, 'layout', 'GET', `/v1/schedules/${sid}/layout`, { headers: { 'if-none-match': scene.layout.etag } });
    const avail = await http.call(me, 'availability', 'GET', `/v1/schedules/${sid}/availability`);
    if (avail.status !== 200) throw new Error(`availability answered ${avail.status}`);
    const state = new AvailabilityState(scene.layout.seats.length, avail.body as AvailabilityMessage);
    const refresh = async () => {
      const delta = await http.call(me, 'availability', 'GET', `/v1/schedules/${sid}/availability?since=${state.version}`);
      if (delta.status === 200 && !state.apply(delta.body as AvailabilityMessage)) {
        const full = await http.call(me, 'availability', 'GET', `/v1/schedules/${sid}/availability`);
        if (full.status === 200) state.apply(full.body as AvailabilityMessage);
      }
    };

    const grade = pick(
      GRADES.map((g) => g.name),
      [0.25, 0.3, 0.25, 0.2],
    );
    const want = pick([1, 2, 3, 4], [0.2, 0.45, 0.15, 0.2]);
    const allSold = () => state.codes.every((c) => c === 2);
    // Nothing free right now, but seats are held: they come back when a hold lapses, an order
    // expires or a buyer is refunded. A buyer who met such a map keeps refreshing it, and racing
    // the others for each seat that comes back, until `heldWaitSeconds` after it first had to
    // wait; a buyer who never had to wait leaves after `maxHoldTries` lost races. Counting the
    // lost races of a waiting buyer too let CI runs end at 197 of 200 seats: every remaining buyer
    // lost three races for the first seats to come back and left before the last ones did.
    let waitingSince: number | null = null;
    const stillWaiting = () => waitingSince !== null && scene.now() < waitingSince + plan.heldWaitSeconds * 1000;
    /** `hold` found no seats to hold: it lost its races, or waited for seats to come back in vain. */
    const noSeats = () => giveUp(waitingSince === null ? 'lost-races' : 'waited-too-long');
    const hold = async (): Promise<string[]> => {
      let lost = 0;
      let renewed = 0;
      for (;;) {
        check();
        let indexes = chooseSeats(scene.layout, state, grade, want);
        while (!indexes.length && !allSold()) {
          waitingSince ??= scene.now();
          if (!stillWaiting()) break;
          check();
          await sleep(1500 + Math.random() * 1000);
          await refresh();
          indexes = chooseSeats(scene.layout, state, grade, want);
        }
        if (!indexes.length) return [];
        const seatIds = indexes.map((i) => scene.layout.seats[i]!.seatId);
        if (!admission) rec.sentWithoutAdmission++;
        const held = await holdOnce(scene, me, token, admission, seatIds);
        if (held.status === 201) return seatIds;
        if (held.status === 409 && held.body?.code === 'SEAT_UNAVAILABLE') {
          lost++;
          if (lost >= plan.maxHoldTries && !stillWaiting()) return [];
          await refresh();
          continue;
        }
        // A hold whose answer was lost kept other seats: this buyer stops rather than hold more.
        if (held.status === 409 && held.body?.code === 'HOLD_LIMIT_EXCEEDED') giveUp('hold-limit');
        if (held.status === 403 && renewed++ < plan.maxHoldTries) {
          // The admission lapsed or the token went stale: a poll renews it while admitted.
          const again = await http.call(me, 'poll', 'GET', `/v1/schedules/${sid}/queue`, { token });
          if (again.status === 200 && again.body.status === 'ADMITTED') {
            admission = again.body.admissionToken;
            continue;
          }
        }
        if (held.status === 403) giveUp('admission-lapsed');
        throw new Error(`hold answered ${held.status}: ${JSON.stringify(held.body)}`);
      }
    };

    let seatIds = await hold();
    if (!seatIds.length) {
      await leave(scene, me, token);
      if (allSold()) finish('sold-out');
      noSeats();
    }
    rec.heldAt = scene.now();
    rec.seats = seatIds.length;
    if (abandonAt === 'hold') finish('abandoned-hold');

    // ---- the coupon ----
    if (Math.random() < plan.claimShare) {
      const claim = await http.call(me, 'claim', 'POST', `/v1/coupons/${scene.campaignId}/claims`, { token });
      if (claim.status === 201 && claim.body.status === 'ISSUED') {
        rec.couponIssued = true;
        scene.issued.add(rec.id);
        // The wallet is written by a consumer: the buyer's page waits for it to show, briefly.
        for (let k = 0; k < 15; k++) {
          const wallet = await http.call(me, 'wallet', 'GET', '/v1/me/coupons', { token });
          if (wallet.status === 200 && wallet.body.items?.some((c: { campaignId: string }) => c.campaignId === scene.campaignId)) break;
          await sleep(200);
        }
      } else if (claim.status !== 409) {
        throw new Error(`claim answered ${claim.status}: ${JSON.stringify(claim.body)}`);
      }
    }

    // ---- the order (the server applies the best coupon) ----
    let order: any = null;
    let inProgress = 0;
    for (let tries = 0; tries < 3 && !order; tries++) {
      check();
      if (!admission) rec.sentWithoutAdmission++;
      const placed = await http.call(me, 'order', 'POST', '/v1/orders', {
        token,
        admission,
        key: `onsale-${rec.id}-${tries}-${seatIds.join(',')}`.slice(0, 255),
        body: { scheduleId: sid, seatIds },
      });
      if (placed.status === 201) order = placed.body;
      else if (placed.status === 409 && placed.body?.code === 'REQUEST_IN_PROGRESS') {
        // The first try's process died holding the key's lock (IDEMPOTENCY_LOCK_SECONDS): the
        // same key again, later, gets the first try's answer or runs it anew.
        await sleep(1000 + Math.random() * 1000);
        tries--;
        if (++inProgress > 20) throw new Error(`order: the Idempotency-Key stayed in progress for ${inProgress} tries`);
      } else if (placed.status === 409 && (placed.body?.code === 'SEATS_NOT_HELD' || placed.body?.code === 'SEAT_UNAVAILABLE')) {
        // The hot state lost the holds (a flush) — and another buyer may have taken a seat
        // meanwhile, which the database refuses: hold again, maybe other seats.
        await refresh();
        seatIds = await hold();
        if (!seatIds.length) noSeats();
      } else if (placed.status === 403) {
        const again = await http.call(me, 'poll', 'GET', `/v1/schedules/${sid}/queue`, { token });
        if (again.status === 200 && again.body.status === 'ADMITTED') admission = again.body.admissionToken;
        else giveUp('admission-lapsed');
      } else throw new Error(`order answered ${placed.status}: ${JSON.stringify(placed.body)}`);
    }
    if (!order) giveUp('order-not-placed');
    rec.orderedAt = scene.now();
    rec.orderId = order.id;
    rec.amount = order.amount;
    rec.seats = seatIds.length;
    if (abandonAt === 'order') finish('abandoned-order');

    // ---- checkout at the PG (the payment widget's part), then confirm ----
    const checkout = await scene.sandboxApi.request('/checkout', { orderId: order.id, amount: order.amount, orderName: order.orderName });
    if (checkout.status !== 200) throw new Error(`checkout answered ${checkout.status}: ${JSON.stringify(checkout.body)}`);
    if (abandonAt === 'checkout') finish('abandoned-checkout');
    const paid = await confirm(scene, me, token, { paymentKey: checkout.body.paymentKey, orderId: order.id, amount: order.amount });
    if (paid === 'PAID') {
      rec.paidAt = scene.now();
      rec.outcome = 'paid';
    } else rec.outcome = paid === 'REJECTED' ? 'rejected' : 'lost-order';
    await leave(scene, me, token);

    // ---- a few change their mind ----
    if (rec.outcome === 'paid' && Math.random() < plan.cancelShare / (1 - plan.abandon.order - plan.abandon.checkout)) {
      await sleep(500 + Math.random() * 1500);
      const cancelled = await http.call(me, 'cancel', 'POST', `/v1/orders/${order.id}/cancel`, { token, body: { reason: 'changed my mind' } });
      if (cancelled.status === 200 || cancelled.status === 202) rec.outcome = 'refunded';
      else if (cancelled.status === 409 && cancelled.body?.code === 'NOT_CANCELLABLE') {
        // A cancel whose answer was lost (its API died) and was sent again: the first one refunded
        // the order, and the contract answers a cancel of a REFUNDED order with 409. The order says which.
        const now = await http.call(me, 'order-status', 'GET', `/v1/orders/${order.id}`, { token });
        if (now.status === 200 && now.body?.status === 'REFUNDED') rec.outcome = 'refunded';
        else throw new Error(`cancel answered 409 for an order that is ${now.body?.status}: ${JSON.stringify(cancelled.body)}`);
      } else throw new Error(`cancel answered ${cancelled.status}: ${JSON.stringify(cancelled.body)}`);
    }
  } catch (err) {
    if (err instanceof Stop) {
      if (rec.outcome === null) {
        rec.outcome = rec.admittedAt === null ? 'still-waiting' : 'gave-up';
        if (rec.outcome === 'gave-up') rec.gaveUp = 'time-up';
      }
      return;
    }
    rec.outcome = 'error';
    rec.error = (err as Error).message;
  }
}

/** Holding seats one already holds is a no-op, so a hold retried after a lost answer is safe. */
function holdOnce(scene: Scene, me: { api: number }, token: string, admission: string, seatIds: string[]): Promise<Answer> {
  return scene.http.call(me, 'hold', 'POST', `/v1/schedules/${scene.scheduleId}/holds`, { token, admission, body: { seatIds } });
}

/** The event stream until ADMITTED; null if it broke (the API died) or ended early. */
async function follow(scene: Scene, me: { api: number }, token: string): Promise<any | null> {
  const pool = scene.http.streamPools[me.api % scene.http.streamPools.length]!;
  const started = performance.now();
  let last: any = null;
  try {
    const res = await pool.request({
      method: 'GET',
      path: `/v1/schedules/${scene.scheduleId}/queue/stream`,
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    });
    scene.http.seriesOf('stream').add(performance.now() - started, scene.now(), res.statusCode);
    if (res.statusCode !== 200) {
      await res.body.text();
      return null;
    }
    let buffer = '';
    // The stream is silent while nothing changes: a sold-out showtime must still end the wait.
    const watch = setInterval(() => {
      if (scene.soldOut || scene.stop) res.body.destroy();
    }, 250);
    watch.unref();
    try {
      for await (const chunk of res.body) {
        buffer += chunk.toString();
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event.split('\n').find((l) => l.startsWith('data: '));
          if (data) last = JSON.parse(data.slice(6));
          if (last?.status === 'ADMITTED') {
            res.body.destroy();
            return last;
          }
          end = buffer.indexOf('\n\n');
        }
      }
    } finally {
      clearInterval(watch);
    }
    return last?.status === 'ADMITTED' ? last : null;
  } catch {
    if (scene.soldOut || scene.stop) return last;
    scene.http.networkErrors++;
    me.api = (me.api + 1) % scene.http.pools.length;
    return null;
  }
}

/** Confirms until the outcome is known: PAID, REJECTED (the PG refused) or LOST (expired, or never settled). */
async function confirm(
  scene: Scene,
  me: { api: number },
  token: string,
  body: { paymentKey: string; orderId: string; amount: number },
): Promise<'PAID' | 'REJECTED' | 'LOST'> {
  for (let tries = 0; tries < 6; tries++) {
    const a = await scene.http.call(me, 'confirm', 'POST', '/v1/payments/confirm', { token, key: `onsale-pay-${body.orderId}`, body }, 20_000);
    scene.confirmAnswers.set(a.status, (scene.confirmAnswers.get(a.status) ?? 0) + 1);
    if (a.status === 200) return 'PAID';
    if (a.status === 402) return 'REJECTED';
    if (a.status === 409 && a.body?.code === 'REQUEST_IN_PROGRESS') {
      await sleep(500);
      continue;
    }
    if (a.status === 409) return 'LOST';
    if (a.status === 202) {
      // Outcome unknown at the PG: reconciliation settles it; the buyer's page polls the order.
      for (let k = 0; k < 60; k++) {
        await sleep(500);
        const o = await scene.http.call(me, 'order-status', 'GET', `/v1/orders/${body.orderId}`, { token });
        if (o.status === 200 && o.body.status === 'PAID') return 'PAID';
        if (o.status === 200 && o.body.status !== 'PENDING_PAYMENT') return 'LOST';
      }
      return 'LOST';
    }
    if (a.status === 503) continue;
    throw new Error(`confirm answered ${a.status}: ${JSON.stringify(a.body)}`);
  }
  return 'LOST';
}

async function leave(scene: Scene, me: { api: number }, token: string): Promise<void> {
  await scene.http.call(me, 'leave', 'DELETE', `/v1/schedules/${scene.scheduleId}/queue`, { token }).catch(() => {});
}

/**
 * Invariant 5 from outside: a buyer still waiting tries to hold a seat with no admission token,
 * and with a token another buyer was admitted with. Both must be refused with 403.
 */
async function probe(scene: Scene, me: { api: number }, token: string, plan: CrowdPlan): Promise<void> {
  const seat = scene.layout.seats[Math.floor(Math.random() * scene.layout.seats.length)]!.seatId;
  const path = `/v1/schedules/${scene.scheduleId}/holds`;
  // Counted when sent, not when answered: thousands of buyers reach this at once, and counting
  // answers let a 100,000-buyer run send 128,000 probes instead of 100.
  const record = (count: ProbeCount, a: Answer) => {
    if (a.status === 403 && a.body?.code === 'ADMISSION_REQUIRED') count.refused++;
    else count.unexpected.push(`${a.status} ${JSON.stringify(a.body)}`);
  };
  if (scene.probes.noToken.sent < plan.probes) {
    scene.probes.noToken.sent++;
    record(scene.probes.noToken, await scene.http.call(me, 'probe', 'POST', path, { token, body: { seatIds: [seat] } }));
  }
  const other = scene.admittedTokens[Math.floor(Math.random() * scene.admittedTokens.length)];
  if (other && scene.probes.otherToken.sent < plan.probes) {
    scene.probes.otherToken.sent++;
    record(scene.probes.otherToken, await scene.http.call(me, 'probe', 'POST', path, { token, admission: other, body: { seatIds: [seat] } }));
  }
}
