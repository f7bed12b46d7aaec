/**
 * CPU µs per step of a purchase, by part — the bench's split (API, worker, sandbox PG,
 * PostgreSQL, Redis, load generator) per request of each step. In the sale itself every step
 * runs at once, so its CPU cannot be told apart by step; once the checks are done, on the same
 * cluster, `n` buyers go through a second showtime step by step, each step alone, with the CPU
 * of every part read before and after it:
 *
 *   enter    POST …/queue before the opening (the pre-queue)
 *   poll     GET …/queue while waiting, before the opening (the same script as a ranked
 *            buyer's poll; a place is only drawn at the opening, when all are admitted at once)
 *   hold     POST …/holds, one seat each, with the admission token
 *   order    POST /v1/orders with an Idempotency-Key (the best coupon applied: none here)
 *   confirm  the sandbox's checkout (the payment widget's part) + POST /v1/payments/confirm
 *
 * The workers' CPU in a step's window counts as that step's (the admission tick, the outbox
 * relay and the consumers a confirm sets off). The admission of the buyers between poll and hold
 * is not a step and is not measured.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Answer, Http } from './http.js';
import type { CpuParts } from './scene.js';
import { createSale } from './setup.js';

export const STEPS = ['enter', 'poll', 'hold', 'order', 'confirm'] as const;
export type StepName = (typeof STEPS)[number];

export interface StepCost {
  step: StepName;
  requests: number;
  /** Answers by status. */
  statuses: Record<string, number>;
  seconds: number;
  /** CPU µs per request by part, and their total. */
  perRequestUs: CpuParts & { total: number };
}

export interface StepsContext {
  http: Http;
  sellerToken: string;
  tokens: string[];
  readCpu: () => Promise<CpuParts>;
  sandbox: { request(path: string, body: unknown): Promise<Answer> };
  /** Buyers to take through the steps (and seats of the showtime). */
  n: number;
  /** Requests in flight at once. */
  concurrency?: number;
}

export async function measureSteps(c: StepsContext): Promise<StepCost[]> {
  const n = Math.min(c.n, c.tokens.length);
  const concurrency = c.concurrency ?? 64;
  const tokens = c.tokens.slice(0, n);
  // Long enough for the enter and poll steps to end before the opening (the check below says if not).
  const opensIn = 10_000 + n * 10;
  const sale = await createSale(c.http, c.sellerToken, { seats: n, coupons: 1, opensAt: Date.now() + opensIn, maxActive: n, admitPerTick: n });
  const sid = sale.scheduleId;
  const costs: StepCost[] = [];

  /** Runs `work(i)` for every buyer, `concurrency` at a time, and books the CPU of every part to `step`. */
  const step = async (name: StepName, work: (i: number) => Promise<number>): Promise<void> => {
    const statuses: Record<string, number> = {};
    const before = await c.readCpu();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++;
          const status = await work(i);
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const after = await c.readCpu();
    const per = {} as CpuParts & { total: number };
    let total = 0;
    for (const part of Object.keys(before) as (keyof CpuParts)[]) {
      per[part] = (after[part] - before[part]) / 1000 / n;
      total += per[part];
    }
    per.total = total;
    costs.push({ step: name, requests: n, statuses, seconds, perRequestUs: per });
  };

  const me = (i: number) => ({ api: i % c.http.pools.length });
  const admission: string[] = [];
  const seatIds: string[] = [];
  const orders: { id: string; amount: number; orderName: string }[] = [];

  await step('enter', async (i) => (await c.http.call(me(i), 'steps', 'POST', `/v1/schedules/${sid}/queue`, { token: tokens[i] })).status);
  await step('poll', async (i) => (await c.http.call(me(i), 'steps', 'GET', `/v1/schedules/${sid}/queue`, { token: tokens[i] })).status);
  if (Date.now() >= sale.saleOpensAt) throw new Error(`steps: enter and poll of ${n} buyers took longer than the ${opensIn / 1000} s before the opening`);
  // The opening: every buyer admitted at the first tick.
  await sleep(sale.saleOpensAt - Date.now() + 300);
  // Everyone admitted (not measured): poll until ADMITTED, keeping the admission token.
  for (let i = 0; i < n; i++) {
    for (let k = 0; ; k++) {
      const a = await c.http.call(me(i), 'steps', 'GET', `/v1/schedules/${sid}/queue`, { token: tokens[i] });
      if (a.status === 200 && a.body.status === 'ADMITTED') {
        admission[i] = a.body.admissionToken;
        break;
      }
      if (k > 100) throw new Error(`steps: buyer ${i} not admitted: ${a.status} ${JSON.stringify(a.body)}`);
      await sleep(100);
    }
  }
  const layout = await c.http.call({ api: 0 }, 'steps', 'GET', `/v1/schedules/${sid}/layout`);
  if (layout.status !== 200) throw new Error(`steps: layout answered ${layout.status}`);
  const allSeats: string[] = layout.body.seats.map((s: { seatId: string }) => s.seatId);
  await step('hold', async (i) => {
    seatIds[i] = allSeats[i]!;
    return (
      await c.http.call(me(i), 'steps', 'POST', `/v1/schedules/${sid}/holds`, { token: tokens[i], admission: admission[i], body: { seatIds: [seatIds[i]] } })
    ).status;
  });
  await step('order', async (i) => {
    const a = await c.http.call(me(i), 'steps', 'POST', '/v1/orders', {
      token: tokens[i],
      admission: admission[i],
      key: `steps-${sid}-${i}`,
      body: { scheduleId: sid, seatIds: [seatIds[i]] },
    });
    if (a.status === 201) orders[i] = { id: a.body.id, amount: a.body.amount, orderName: a.body.orderName };
    return a.status;
  });
  await step('confirm', async (i) => {
    const o = orders[i];
    if (!o) return 0;
    const checkout = await c.sandbox.request('/checkout', { orderId: o.id, amount: o.amount, orderName: o.orderName });
    if (checkout.status !== 200) return checkout.status;
    const body = { paymentKey: checkout.body.paymentKey, orderId: o.id, amount: o.amount };
    return (await c.http.call(me(i), 'steps', 'POST', '/v1/payments/confirm', { token: tokens[i], key: `steps-pay-${o.id}`, body }, 20_000)).status;
  });
  return costs;
}
