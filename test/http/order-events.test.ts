import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import type { EventConsumer } from '../../src/platform/events/consumer.js';
import type { EventEnvelope } from '../../src/platform/events/envelope.js';
import { JobRunner } from '../../src/platform/jobs/runner.js';
import { newId } from '../../src/platform/ids.js';
import { givenOpenSchedule, mintBuyer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/harness.js';

const ORDER_EVENTS = ['order.created', 'order.cancelled', 'order.expired'];

/** Polls until `check` holds: the test waits for a behaviour, never for a guessed duration. */
async function until(check: () => boolean | Promise<boolean>, what: string, deadlineMs = 15_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('order events: statement → outbox → leader-elected relay → bus → consumer', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date());
  const heard: EventEnvelope[] = [];
  let consumer: EventConsumer;
  let keyN = 0;

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_MAX: '100000', EVENT_CONSUMER_IDLE_MS: '10' }, context: { clock } });
    // A module would register this at start; the test registers its own listener the same way.
    consumer = t.ctx.events.consume({
      name: 'test.order-listener',
      types: ORDER_EVENTS,
      handle: async (event) => {
        heard.push(event);
      },
    });
    consumer.start();
  });
  afterAll(async () => {
    await consumer?.stop();
    await worker?.stop(t.ctx.jobs);
    await t?.cleanup();
  });

  // One worker's runner for the whole file: it takes each job's lease at its first tick and keeps it.
  let worker: JobRunner;
  const runner = () => (worker ??= new JobRunner({ leases: t.ctx.leases, leaseMs: 15_000, logger: t.ctx.logger }));
  /** One tick of the relay job through the job runner, as a worker runs it (it takes the lease first). */
  const relay = async () => {
    const job = t.ctx.jobs.find((j) => j.name === 'events.relay');
    expect(job).toBeDefined();
    expect(await runner().tick(job!)).toBe(true);
  };
  const heardAbout = (orderId: string) => heard.filter((e) => e.aggregateId === orderId);
  /** What the bus holds for an order, read by a fresh group from the start of each log. */
  const onTheBus = async (orderId: string) => {
    const group = `inspect-${newId()}`;
    await t.ctx.events.bus.subscribe(group, ORDER_EVENTS);
    return (await t.ctx.events.bus.read(group, 'inspector', ORDER_EVENTS, 10_000)).map((d) => d.event).filter((e) => e.aggregateId === orderId);
  };
  const backlog = async () => {
    const body = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    return Number(/^mos_outbox_backlog (\d+)$/m.exec(body)?.[1]);
  };
  const placeOrder = async (seats = 2) => {
    const { schedule, seatIds } = await givenOpenSchedule(t.app, { seats: 10, price: 50_000, now: clock.now() });
    const buyer = await mintBuyer(clock.now());
    const chosen = seatIds.slice(0, seats);
    const held = await t.app.inject({ method: 'POST', url: `/v1/schedules/${schedule.id}/holds`, headers: buyer.auth, payload: { seatIds: chosen } });
    expect(held.statusCode).toBe(201);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { ...buyer.auth, 'idempotency-key': `events-${++keyN}` },
      payload: { scheduleId: schedule.id, seatIds: chosen },
    });
    expect(res.statusCode).toBe(201);
    return { buyer, schedule, seatIds, chosen, order: res.json() };
  };

  it('placing an order puts exactly one order.created with its payload on the bus, and the backlog drains to 0', async () => {
    const { buyer, schedule, chosen, order } = await placeOrder(2);
    expect(await backlog()).toBeGreaterThanOrEqual(1);
    await relay();
    expect(await backlog()).toBe(0);

    const published = await onTheBus(order.id);
    expect(published).toHaveLength(1);
    expect(published[0]).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/), // UUIDv7
      type: 'order.created',
      aggregateId: order.id,
      occurredAt: order.createdAt,
      version: 1,
      payload: {
        orderId: order.id,
        userId: buyer.id,
        scheduleId: schedule.id,
        seatIds: expect.arrayContaining(chosen),
        couponIds: [],
        subtotal: 100_000,
        discount: 0,
        amount: 100_000,
        orderName: order.orderName,
        expiresAt: order.expiresAt,
      },
    });
    expect((published[0]!.payload.seatIds as string[]).sort()).toEqual([...chosen].sort());

    // The consumer runner hears it once.
    await until(() => heardAbout(order.id).length > 0, 'the consumer heard order.created');
    expect(heardAbout(order.id).map((e) => e.id)).toEqual([published[0]!.id]);
  });

  it('writes no event for a placement that was refused', async () => {
    const { schedule, chosen } = await placeOrder(1);
    await relay();
    const rival = await mintBuyer(clock.now());
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { ...rival.auth, 'idempotency-key': `events-${++keyN}` },
      payload: { scheduleId: schedule.id, seatIds: chosen },
    });
    expect(res.statusCode).toBe(409);
    expect(await backlog()).toBe(0);
  });

  it('cancelling publishes order.cancelled after order.created', async () => {
    const { buyer, schedule, chosen, order } = await placeOrder(1);
    const res = await t.app.inject({ method: 'POST', url: `/v1/orders/${order.id}/cancel`, headers: buyer.auth, payload: { reason: 'changed my mind' } });
    expect(res.statusCode).toBe(200);
    await relay();
    expect(await backlog()).toBe(0);

    const published = await onTheBus(order.id);
    expect(published.map((e) => e.type)).toEqual(['order.created', 'order.cancelled']);
    expect(published[1]).toMatchObject({
      aggregateId: order.id,
      occurredAt: clock.now().toISOString(),
      version: 1,
      payload: { orderId: order.id, userId: buyer.id, scheduleId: schedule.id, seatIds: chosen, couponIds: [], reason: 'changed my mind' },
    });
    await until(() => heardAbout(order.id).length === 2, 'the consumer heard both');
    expect(heardAbout(order.id).map((e) => e.type)).toEqual(['order.created', 'order.cancelled']);
  });

  it('expiring publishes order.expired', async () => {
    const { chosen, order } = await placeOrder(1);
    clock.advance(t.config.booking.paymentWindowSeconds * 1000);
    const expiry = t.ctx.jobs.find((j) => j.name === 'booking.expire-orders')!;
    await runner().tick(expiry);
    await relay();
    expect(await backlog()).toBe(0);

    const published = await onTheBus(order.id);
    expect(published.map((e) => e.type)).toEqual(['order.created', 'order.expired']);
    expect(published[1]).toMatchObject({ occurredAt: clock.now().toISOString(), payload: { orderId: order.id, seatIds: chosen } });
    expect(published[1]!.payload).not.toHaveProperty('reason');
    await until(() => heardAbout(order.id).length === 2, 'the consumer heard both');
  });
});
