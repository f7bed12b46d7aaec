/**
 * Floor servers: for each hot route, the least any server on this stack must do to answer it —
 * bare Fastify (no logger, no hooks, no rate limiter, no metrics, no schemas), the same bearer
 * token verification as MOS (`identity.verifyAccessToken`: jose's HS256 check), and the same
 * single Redis script call through the same store adapter (for an order, the same one prepared
 * statement through the same repository), and nothing else. MOS's figures divided by these say
 * what MOS's own layers cost on top of what the work itself costs.
 *
 * The floors skip what MOS must do and a floor need not: the showtime read, the sale window and
 * admission checks, validation, idempotency, logging, metrics and the rate limit. That gap is
 * what the bench's targets bound (2× the floor's app CPU, 1.5× for orders).
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AppContext } from '../src/context.js';
import { seatHoldStore, ordersRepository } from '../src/modules/booking/testing.js';
import { couponStore } from '../src/modules/coupons/testing.js';
import { waitingRoomStore } from '../src/modules/waiting-room/testing.js';
import { newId } from '../src/platform/ids.js';

const BEARER = /^Bearer ([A-Za-z0-9\-_.]+)$/;

/** The room a floor's queue requests go to (the showtime's id and sale opening, read once at setup). */
export interface FloorRoom {
  scheduleId: string;
  saleOpensAt: number;
}

export async function buildFloors(ctx: AppContext, rooms: readonly FloorRoom[]): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const verify = ctx.identity.verifyAccessToken;
  const queue = waitingRoomStore(ctx.waitingRoom);
  const holds = seatHoldStore(ctx.booking);
  const orders = ordersRepository(ctx.booking);
  const coupons = couponStore(ctx.coupons);
  const { holdTtlSeconds, maxSeatsPerBuyer, paymentWindowSeconds } = ctx.config.booking;
  const roomOf = new Map(rooms.map((r) => [r.scheduleId, r]));

  /** The buyer a request's token names, or a 401/403 already sent. */
  const buyer = async (request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> => {
    const match = BEARER.exec(request.headers.authorization ?? '');
    try {
      if (!match) throw new Error('no token');
      const principal = await verify(match[1]!);
      if (principal.role === 'BUYER') return principal.id;
      void reply.code(403).send({ code: 'FORBIDDEN' });
    } catch {
      void reply.code(401).send({ code: 'UNAUTHENTICATED' });
    }
    return undefined;
  };
  const seed = () => 1 + Math.floor(Math.random() * 2147483645);

  app.post<{ Params: { id: string } }>('/floor/queue/:id', async (request, reply) => {
    const userId = await buyer(request, reply);
    if (!userId) return reply;
    const { standing } = await queue.enter(roomOf.get(request.params.id)!, userId, Date.now(), seed());
    return { status: standing.state, position: standing.state === 'WAITING' ? standing.rank + 1 : null };
  });

  app.get<{ Params: { id: string } }>('/floor/queue/:id', async (request, reply) => {
    const userId = await buyer(request, reply);
    if (!userId) return reply;
    const { standings } = await queue.standings(roomOf.get(request.params.id)!, [userId], Date.now(), seed());
    const standing = standings[0]!;
    if (standing.state === 'ABSENT') return reply.code(404).send({ code: 'NOT_IN_QUEUE' });
    return { status: standing.state, position: standing.state === 'WAITING' ? standing.rank + 1 : null };
  });

  app.post<{ Params: { id: string }; Body: { seatIds: string[] } }>('/floor/holds/:id', async (request, reply) => {
    const userId = await buyer(request, reply);
    if (!userId) return reply;
    const { seatIds } = request.body;
    const res = await holds.hold(request.params.id, userId, seatIds, Date.now(), holdTtlSeconds * 1000, maxSeatsPerBuyer);
    if (res.kind === 'held') return reply.code(201).send({ scheduleId: request.params.id, seatIds, expiresAt: new Date(res.expiresAt).toISOString() });
    return reply.code(409).send({ code: res.kind });
  });

  app.post<{ Params: { id: string } }>('/floor/coupons/:id/claims', async (request, reply) => {
    const userId = await buyer(request, reply);
    if (!userId) return reply;
    const now = new Date();
    const res = await coupons.claim(request.params.id, userId, now.getTime(), { eventId: newId(), occurredAt: now.toISOString() });
    if (res.answer === 'ISSUED') return reply.code(201).send({ status: 'ISSUED' });
    return reply.code(409).send({ code: res.answer });
  });

  app.post<{ Body: { scheduleId: string; seatIds: string[] } }>('/floor/orders', async (request, reply) => {
    const userId = await buyer(request, reply);
    if (!userId) return reply;
    const { scheduleId, seatIds } = request.body;
    const now = new Date();
    // Priced as the bench's one-grade showtimes are (R, 110,000 a seat), without reading anything.
    const items = seatIds.map((seatId) => ({ seatId, label: 'A-1', grade: 'R', price: 110_000, discount: 0 }));
    const amount = 110_000 * items.length;
    const order = {
      id: newId(),
      userId,
      scheduleId,
      subtotal: amount,
      discount: 0,
      amount,
      orderName: 'Bench Live',
      expiresAt: new Date(now.getTime() + paymentWindowSeconds * 1000),
      createdAt: now,
      idempotencyKey: (request.headers['idempotency-key'] as string | undefined) ?? null,
    };
    const res = await orders.placeOrder(order, items, [], { onlyIfNoCoupons: true, maxSeatsPerBuyer });
    if (!res.placed) return reply.code(409).send({ code: 'NOT_PLACED' });
    return reply.code(201).send({ orderId: order.id, amount, orderName: order.orderName });
  });

  return app;
}
