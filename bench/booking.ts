/**
 * The `booking` scenario, in production mode (PostgreSQL + Redis) through real HTTP, on
 * 50,000-seat showtimes on sale without a waiting room:
 *
 *   a. seat holds (POST /v1/schedules/:id/holds) from 200 connections, every request a new
 *      buyer asking for 2 random seats. As the showtime fills, more and more are refused with
 *      409 SEAT_UNAVAILABLE: a correct answer, counted apart from the 201s, not a failure;
 *   b. orders (POST /v1/orders, a fresh Idempotency-Key each) from 100 connections by 20,000
 *      buyers who each already hold 2 adjacent seats of a fresh showtime (held in-process
 *      through `booking.holds.hold` before the run: setup, not measurement).
 *
 * The hold warm-up runs on a showtime of its own, so the measured run starts on an empty one;
 * the order warm-up is 2,000 further prepared buyers. Holds and payment windows last an hour,
 * so nothing lapses mid-run.
 */
import { sql } from 'drizzle-orm';
import { performance as perf } from 'node:perf_hooks';
import type { AppContext } from '../src/context.js';
import { queryRows } from '../src/platform/db/client.js';
import { bareRow, buyerId, buyerPlan, buyersUsed, buyerToken, fireBuyers, loadJson, loadRow, newRunId, type LoadFigures } from './buyers.js';
import { CPU_HEADER, cpuJson, cpuRow, withCpu, type CpuPerRequest } from './cpu.js';
import { duration, fmtInt, printTable, round, warmupSeconds, workers, type Figures } from './lib.js';
import {
  ADMIN_URL,
  atLeast,
  createShowtimes,
  printTargets,
  REDIS_URL,
  shareOfBare,
  targetsJson,
  tokenSettings,
  under,
  withProduction,
  type BenchTarget,
} from './production.js';

const HOLD_CONNECTIONS = 200;
export const ORDER_CONNECTIONS = 100;
const ORDER_BUYERS = 20_000;
const ORDER_WARMUP_BUYERS = 2_000;
/** In-flight `holds.hold` calls while preparing the order buyers. */
const PREPARE_CONCURRENCY = 200;
const SEATS = { sections: 20, rows: 50, seatsPerRow: 50 }; // 50,000

const TARGETS = { holdShareOfBare: 0.35, holdP99Ms: 50, ordersPerSecond: 1500 } as const;

/**
 * Setup, not measurement: buyers 0 … count − 1 of `runId` each hold seats 2i and 2i + 1 of the
 * showtime, held in-process through `booking.holds.hold` — what an order run
 * (buyer-requests.cjs, kind `order`) expects them to hold. Returns the seconds it took.
 */
export async function holdSeatsForBuyers(ctx: AppContext, runId: string, scheduleId: string, seatIds: readonly string[], count: number): Promise<number> {
  if (2 * count > seatIds.length) throw new Error(`${count} buyers × 2 seats do not fit ${seatIds.length} seats`);
  const started = perf.now();
  let next = 0;
  const showtime = await ctx.catalog.inventory.scheduleForSale(scheduleId);
  const prepareOne = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      await ctx.booking.holds.hold(buyerId(runId, i), showtime, [seatIds[2 * i]!, seatIds[2 * i + 1]!]);
    }
  };
  // Any refusal throws: the figures would mean nothing with buyers who hold nothing.
  await Promise.all(Array.from({ length: PREPARE_CONCURRENCY }, prepareOne));
  return (perf.now() - started) / 1000;
}

export interface BookingResult {
  database: string;
  postgres: string;
  redis: string;
  redisPrefix: string;
  seats: number;
  holds: LoadFigures & { heldPerSecond: number; seatsHeld: number; cpu: CpuPerRequest };
  prepare: { buyers: number; seconds: number };
  orders: LoadFigures & { createdPerSecond: number; rowsInDatabase: number; buyers: number; cpu: CpuPerRequest };
  bareRps: number;
  targets: BenchTarget[];
}

export async function benchBooking(bare: Figures): Promise<BookingResult> {
  const env = {
    // An hour: no hold lapses between its preparation and its order, no order mid-run.
    HOLD_TTL_SECONDS: '3600',
    PAYMENT_WINDOW_SECONDS: '3600',
  };
  return withProduction(env, async ({ ctx, base, ...where }) => {
    const jwt = tokenSettings(ctx);
    const {
      scheduleIds: [warmupId, holdId, orderId],
      seatIds,
    } = await createShowtimes(ctx, { ...SEATS, count: 3 });
    const preparedBuyers = ORDER_BUYERS + (warmupSeconds > 0 ? ORDER_WARMUP_BUYERS : 0);
    if (2 * preparedBuyers > seatIds.length) throw new Error(`${preparedBuyers} buyers × 2 seats do not fit ${seatIds.length} seats`);
    await ctx.identity.verifyAccessToken(buyerToken({ ...jwt, runId: newRunId() }, 0)); // setup check

    // (a) holds: a new buyer per request, two random seats each.
    const holdUrl = (id: string) => `${base}/v1/schedules/${id}/holds`;
    const holdRun = (id: string, seconds: number) =>
      fireBuyers({
        url: holdUrl(id),
        method: 'POST',
        connections: HOLD_CONNECTIONS,
        plan: buyerPlan({ kind: 'hold', ...jwt, runId: newRunId(), scheduleId: id, seatIds }),
        ok: [201, 409],
        seconds,
      });
    if (warmupSeconds > 0) await holdRun(warmupId!, warmupSeconds);
    const held = await withCpu(ADMIN_URL, REDIS_URL, () => holdRun(holdId!, duration));
    const holds201 = held.statusCodes['201'] ?? 0;
    const heldPerSecond = held.requests ? held.rps * (holds201 / held.requests) : 0;

    // (b) orders. Buyer i of this run holds seats 2i and 2i+1; buyer-requests.cjs orders exactly those.
    const runId = newRunId();
    const prepareSeconds = await holdSeatsForBuyers(ctx, runId, orderId!, seatIds, preparedBuyers);

    const orderPlan = buyerPlan({ kind: 'order', ...jwt, runId, scheduleId: orderId!, seatIds });
    const orderRun = (amount: number) =>
      fireBuyers({ url: `${base}/v1/orders`, method: 'POST', connections: ORDER_CONNECTIONS, plan: orderPlan, ok: [201], amount });
    if (warmupSeconds > 0) await orderRun(ORDER_WARMUP_BUYERS);
    const ordersFrom = buyersUsed(orderPlan);
    const ordered = await withCpu(ADMIN_URL, REDIS_URL, () => orderRun(ORDER_BUYERS));
    const orders201 = ordered.statusCodes['201'] ?? 0;
    const [count] = await queryRows<{ n: number }>(ctx.database.db, sql`select count(*)::int as n from orders where schedule_id = ${orderId!}`);

    return {
      ...where,
      seats: seatIds.length,
      holds: { ...held, heldPerSecond, seatsHeld: 2 * holds201 },
      prepare: { buyers: preparedBuyers, seconds: prepareSeconds },
      orders: {
        ...ordered,
        createdPerSecond: ordered.requests ? ordered.rps * (orders201 / ordered.requests) : 0,
        rowsInDatabase: count?.n ?? 0,
        buyers: buyersUsed(orderPlan) - ordersFrom,
      },
      bareRps: bare.rps,
      targets: [
        shareOfBare(`holds answered/s (${HOLD_CONNECTIONS} conn.)`, held.rps, TARGETS.holdShareOfBare, bare.rps, held.failures),
        under(`holds p99 (${HOLD_CONNECTIONS} conn.)`, held.p99, TARGETS.holdP99Ms, held.failures),
        atLeast(
          `orders created/s (${ORDER_CONNECTIONS} conn.)`,
          ordered.requests ? ordered.rps * (orders201 / ordered.requests) : 0,
          TARGETS.ordersPerSecond,
          'orders/s',
          ordered.failures,
        ),
      ],
    };
  });
}

export function printBooking(r: BookingResult, bare: Figures): void {
  console.log('');
  console.log(`Booking — production mode: PostgreSQL ${r.postgres} (throwaway database ${r.database}), Redis ${r.redis} (prefix ${r.redisPrefix})`);
  console.log(`${fmtInt(r.seats)}-seat showtimes on sale, no waiting room; a new buyer (own token) per request; ${workers || 'no'} load worker(s)`);
  printTable([
    ['route', 'run', 'conns', 'requests', 'answered/s', '201/s', 'p50 ms', 'p99 ms', 'statuses', 'failures', 'answered/s ÷ bare'],
    loadRow('POST /v1/schedules/:id/holds (2 random seats)', `${duration} s`, r.holds, bare, { afterRate: [fmtInt(r.holds.heldPerSecond)] }),
    loadRow('POST /v1/orders (2 held seats)', `${fmtInt(r.orders.buyers)} buyers, ${r.orders.seconds.toFixed(1)} s`, r.orders, bare, {
      afterRate: [fmtInt(r.orders.createdPerSecond)],
    }),
    bareRow(bare, { afterRate: 1 }),
  ]);
  console.log(
    `holds: a 409 (seat taken) is an answer, not a failure; ${fmtInt(r.holds.seatsHeld)} of ${fmtInt(r.seats)} seats held by the end. ` +
      `orders: ${fmtInt(r.orders.rowsInDatabase)} order rows in the database (warm-up included)`,
  );
  console.log('');
  printTable([CPU_HEADER, cpuRow('POST /v1/schedules/:id/holds', r.holds.cpu), cpuRow('POST /v1/orders', r.orders.cpu)]);
  console.log(
    `setup: ${fmtInt(r.prepare.buyers)} order buyers given 2 seats each in-process in ${r.prepare.seconds.toFixed(1)} s; ` +
      `warm-ups discarded: holds ${warmupSeconds} s on a showtime of their own, orders ${warmupSeconds > 0 ? fmtInt(ORDER_WARMUP_BUYERS) : 0} buyers`,
  );
  printTargets(r.targets);
}

/** The booking part of the final JSON line. */
export function bookingJson(r: BookingResult) {
  const load = (f: LoadFigures) => loadJson(f, r.bareRps);
  return {
    mode: 'production',
    seats: r.seats,
    holds: { ...load(r.holds), placedPerSecond: round(r.holds.heldPerSecond, 0), seatsHeld: r.holds.seatsHeld, cpuMicrosPerRequest: cpuJson(r.holds.cpu) },
    orders: {
      ...load(r.orders),
      buyers: r.orders.buyers,
      createdPerSecond: round(r.orders.createdPerSecond, 0),
      rowsInDatabase: r.orders.rowsInDatabase,
      cpuMicrosPerRequest: cpuJson(r.orders.cpu),
    },
    prepare: { buyers: r.prepare.buyers, seconds: round(r.prepare.seconds, 2) },
    targets: targetsJson(r.targets),
  };
}
