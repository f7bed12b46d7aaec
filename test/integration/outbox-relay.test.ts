import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { queryRows, type Tx } from '../../src/platform/db/client.js';
import type { EventBus } from '../../src/platform/events/bus.js';
import { EventConsumer, type ConsumerSettings, type EventHandlerSpec } from '../../src/platform/events/consumer.js';
import { newEvent, type EventEnvelope } from '../../src/platform/events/envelope.js';
import { createEvents } from '../../src/platform/events/events.js';
import { appendOutbox } from '../../src/platform/events/outbox.js';
import { OutboxPurge } from '../../src/platform/events/purge.js';
import { OutboxRelay } from '../../src/platform/events/relay.js';
import type { Alerts } from '../../src/platform/observability/alerts.js';
import { newId } from '../../src/platform/ids.js';
import { createTestEnv, type TestEnv } from '../support/harness.js';

const silent = pino({ level: 'silent' });

/** Polls until `check` holds: the test waits for a behaviour, never for a guessed duration. */
async function until(check: () => Promise<boolean>, what: string, deadlineMs = 15_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(['embedded', 'production'] as const)('outbox relay and consumers (%s)', (mode) => {
  let t: TestEnv;
  let n = 0;
  /** Each test its own event types: the bus and the outbox are shared by the file. */
  const freshType = () => `relay-test.kind${++n}`;

  beforeAll(async () => {
    t = await createTestEnv(mode);
    // What handlers write: the effects a redelivery must not repeat.
    await t.ctx.database.db.execute(sql`create table handler_effects (consumer text not null, event_id uuid not null)`);
  });
  afterAll(() => t?.cleanup());

  const db = () => t.ctx.database.db;
  const relay = (bus: EventBus = t.ctx.events.bus, batch = 100) => new OutboxRelay(db(), bus, t.ctx.clock, t.ctx.events.metrics, { intervalMs: 1000, batch });
  const append = (events: EventEnvelope[]) => db().transaction((tx) => appendOutbox(tx, events));
  const consumer = (spec: EventHandlerSpec, settings: Partial<ConsumerSettings> = {}) =>
    new EventConsumer(
      t.ctx.events.bus,
      db(),
      t.ctx.clock,
      spec,
      { consumerName: `c-${newId()}`, batch: 50, staleAfterMs: 30, maxDeliveries: 3, idleMs: 10, ...settings },
      t.ctx.events.metrics,
      silent,
    );
  const recordEffect = (name: string) => async (event: EventEnvelope, tx: Tx) => {
    await tx.execute(sql`insert into handler_effects (consumer, event_id) values (${name}, ${event.id}::uuid)`);
  };
  const effects = async (name: string) =>
    (await queryRows<{ event_id: string }>(db(), sql`select event_id from handler_effects where consumer = ${name}`)).map((r) => r.event_id);
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = await t.ctx.metrics.registry.getSingleMetric(name)!.get();
    return m.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((sum, v) => sum + v.value, 0);
  };
  /** Everything on the bus for these types, read by a fresh group (from the start of each log). */
  const onTheBus = async (types: string[]) => {
    const group = `inspect-${newId()}`;
    await t.ctx.events.bus.subscribe(group, types);
    return (await t.ctx.events.bus.read(group, 'inspector', types, 1000)).map((d) => d.event);
  };

  it('publishes every outbox event once, each aggregate in outbox order, and drains the backlog to 0', async () => {
    const type = freshType();
    const [a, b] = [newId(), newId()];
    const written: EventEnvelope[] = [];
    // One transaction per event, interleaving two aggregates, as their state changes would.
    for (let i = 0; i < 4; i++) {
      for (const aggregate of [a, b]) {
        const e = newEvent(type, aggregate, t.ctx.clock.now(), { step: i });
        written.push(e);
        await append([e]);
      }
    }
    expect(await metric('mos_outbox_backlog')).toBe(8);

    // Batches of 3: the order must hold across batch boundaries too.
    await relay(t.ctx.events.bus, 3).run();

    const published = await onTheBus([type]);
    expect(published.map((e) => e.id)).toEqual(written.map((e) => e.id));
    expect(published.filter((e) => e.aggregateId === a).map((e) => e.payload.step)).toEqual([0, 1, 2, 3]);
    expect(published[0]).toEqual(written[0]);
    expect(await metric('mos_outbox_backlog')).toBe(0);
    expect(await metric('mos_events_published_total', { type })).toBe(8);

    // A second run finds nothing: nothing is published twice by a relay that committed.
    await relay().run();
    expect(await onTheBus([type])).toHaveLength(8);
  });

  it('after a relay dies between publishing and marking, publishes again, and the consumer handles the event once', async () => {
    const type = freshType();
    const event = newEvent(type, newId(), t.ctx.clock.now(), { what: 'crash' });
    await append([event]);
    const dying: EventBus = {
      ...t.ctx.events.bus,
      subscribe: (g, ts) => t.ctx.events.bus.subscribe(g, ts),
      publish: async (events) => {
        await t.ctx.events.bus.publish(events);
        throw new Error('relay process killed after publishing');
      },
    };
    await expect(relay(dying).relayBatch()).rejects.toThrow('killed');
    expect(await metric('mos_outbox_backlog')).toBe(1); // its transaction rolled back: still unpublished

    expect(await relay().relayBatch()).toBe(1);
    expect((await onTheBus([type])).map((e) => e.id)).toEqual([event.id, event.id]); // at least once: twice

    const name = `dedupe-${n}`;
    const c = consumer({ name, types: [type], handle: recordEffect(name) });
    await until(async () => (await c.drainOnce()) === 0, 'the consumer has nothing left');
    expect(await effects(name)).toEqual([event.id]);
    expect(await metric('mos_events_consumed_total', { consumer: name, type })).toBe(1);
  });

  it('does not repeat a handled event whose acknowledgement was lost (a consumer killed after its commit)', async () => {
    const type = freshType();
    const event = newEvent(type, newId(), t.ctx.clock.now(), {});
    await append([event]);
    await relay().run();
    const name = `lost-ack-${n}`;
    let acks = 0;
    const killedBeforeAck = new EventConsumer(
      {
        ...t.ctx.events.bus,
        subscribe: (g, ts) => t.ctx.events.bus.subscribe(g, ts),
        read: (...args) => t.ctx.events.bus.read(...args),
        claimStale: (...args) => t.ctx.events.bus.claimStale(...args),
        ack: async () => {
          acks++;
          throw new Error('consumer process killed before acknowledging');
        },
      },
      db(),
      t.ctx.clock,
      { name, types: [type], handle: recordEffect(name) },
      { consumerName: 'doomed', batch: 10, staleAfterMs: 30, maxDeliveries: 3, idleMs: 10 },
      t.ctx.events.metrics,
      silent,
    );
    await expect(killedBeforeAck.drainOnce()).rejects.toThrow('killed');
    expect(acks).toBe(1);
    expect(await effects(name)).toEqual([event.id]);

    // Another consumer of the group takes the entry over once stale; the dedupe row makes it a no-op.
    const survivor = consumer({ name, types: [type], handle: recordEffect(name) });
    await until(async () => (await survivor.drainOnce()) > 0, 'the stale entry is taken over');
    expect(await effects(name)).toEqual([event.id]);
    expect(await metric('mos_events_consumed_total', { consumer: name, type })).toBe(1);
    expect(await survivor.drainOnce()).toBe(0);
  });

  it('rolls back a failed handler with its dedupe row, retries it, and dead-letters it after N failed deliveries', async () => {
    const type = freshType();
    const [poison, flaky] = [newEvent(type, newId(), t.ctx.clock.now(), { poison: true }), newEvent(type, newId(), t.ctx.clock.now(), { poison: false })];
    await append([poison, flaky]);
    await relay().run();
    const name = `failing-${n}`;
    const calls = new Map<string, number>();
    const c = consumer(
      {
        name,
        types: [type],
        handle: async (event, tx) => {
          calls.set(event.id, (calls.get(event.id) ?? 0) + 1);
          await recordEffect(name)(event, tx); // written, then rolled back with the failure
          if (event.payload.poison || calls.get(event.id) === 1) throw new Error(`handler failed on ${event.id}`);
        },
      },
      { maxDeliveries: 3 },
    );
    await until(async () => {
      await c.drainOnce();
      return (await t.ctx.events.bus.deadLetters(name, [type])).length > 0;
    }, 'the poison event is dead-lettered');

    expect(calls.get(poison.id)).toBe(3);
    expect(calls.get(flaky.id)).toBe(2); // failed once, then handled on its retry
    expect(await effects(name)).toEqual([flaky.id]);
    const processed = await queryRows<{ event_id: string }>(db(), sql`select event_id from processed_events where consumer = ${name}`);
    expect(processed.map((r) => r.event_id)).toEqual([flaky.id]);
    const [dead] = await t.ctx.events.bus.deadLetters(name, [type]);
    expect(dead).toMatchObject({ event: { id: poison.id, payload: { poison: true } }, deliveries: 3 });
    expect(dead!.reason).toMatch(/failed 3 times/);
    expect(await metric('mos_events_dead_lettered_total', { consumer: name })).toBe(1);
    expect(await metric('mos_events_failed_total', { consumer: name })).toBe(4);

    // Dead-lettered means gone from the group: nothing comes back.
    await new Promise((r) => setTimeout(r, 60));
    expect(await c.drainOnce()).toBe(0);
    expect(calls.get(poison.id)).toBe(3);
  });

  it('lets two overlapping relays take disjoint batches (SKIP LOCKED): every event is published once', async () => {
    const type = freshType();
    const events = Array.from({ length: 40 }, (_, i) => newEvent(type, newId(), t.ctx.clock.now(), { i }));
    await append(events);
    await Promise.all([relay(t.ctx.events.bus, 5).run(), relay(t.ctx.events.bus, 5).run()]);
    const published = (await onTheBus([type])).map((e) => e.id);
    expect(published).toHaveLength(40);
    expect(new Set(published)).toEqual(new Set(events.map((e) => e.id)));
    expect(await metric('mos_outbox_backlog')).toBe(0);
  });
  describe('housekeeping', () => {
    const HOUR = 3_600_000;
    const RETENTION = 72 * HOUR;
    const ids = async (table: 'outbox' | 'processed_events', column: 'id' | 'event_id', among: string[]) =>
      (
        await queryRows<{ id: string }>(
          db(),
          sql.raw(`select ${column}::text as id from ${table} where ${column} in (${among.map((id) => `'${id}'`).join(',')})`),
        )
      )
        .map((r) => r.id)
        .sort();

    it('purges only published outbox rows and processed_events rows older than the retention, in bounded batches', async () => {
      // The purge's own clock, at the real now: the rows other tests of this file wrote are recent.
      const clock = new ManualClock(new Date());
      const ago = (ms: number) => new Date(clock.now().getTime() - ms);
      const type = freshType();
      const rows = {
        oldPublished: Array.from({ length: 5 }, () => newEvent(type, newId(), ago(RETENTION + 2 * HOUR), {})),
        recentPublished: newEvent(type, newId(), ago(RETENTION), {}),
        oldUnpublished: newEvent(type, newId(), ago(10 * RETENTION), {}),
      };
      await append([...rows.oldPublished, rows.recentPublished, rows.oldUnpublished]);
      const publishedAt = async (e: EventEnvelope, at: Date) =>
        db().execute(sql`update outbox set published_at = ${at.toISOString()}::timestamptz where id = ${e.id}::uuid`);
      for (const e of rows.oldPublished) await publishedAt(e, ago(RETENTION + 1000));
      await publishedAt(rows.recentPublished, ago(RETENTION - 1000));

      const consumerName = `purge-test-${n}`;
      const processed = { old: [newId(), newId(), newId()], recent: newId() };
      const processedAt = async (eventId: string, at: Date) =>
        db().execute(
          sql`insert into processed_events (consumer, event_id, processed_at) values (${consumerName}, ${eventId}::uuid, ${at.toISOString()}::timestamptz)`,
        );
      for (const id of processed.old) await processedAt(id, ago(RETENTION + 1000));
      await processedAt(processed.recent, ago(RETENTION - 1000));

      // Batches of 2: 5 old outbox rows take three statements, and all go.
      const purge = new OutboxPurge(db(), clock, { intervalMs: 60_000, retentionMs: RETENTION, batch: 2 });
      expect(await purge.purge()).toEqual({ outbox: 5, processedEvents: 3 });

      const allOutbox = [...rows.oldPublished, rows.recentPublished, rows.oldUnpublished].map((e) => e.id);
      expect(await ids('outbox', 'id', allOutbox)).toEqual([rows.recentPublished.id, rows.oldUnpublished.id].sort());
      expect(await ids('processed_events', 'event_id', [...processed.old, processed.recent])).toEqual([processed.recent]);
      expect(await purge.purge()).toEqual({ outbox: 0, processedEvents: 0 });

      // Two seconds on, the recent ones are past the retention too; the unpublished row stays, however old.
      clock.advance(2000);
      expect(await purge.purge()).toEqual({ outbox: 1, processedEvents: 1 });
      expect(await ids('outbox', 'id', allOutbox)).toEqual([rows.oldUnpublished.id]);
      await relay().run(); // leaves the shared outbox with no backlog for the next tests
    });

    it('is a leader-elected job of the context', () => {
      expect(t.ctx.jobs.map((j) => j.name)).toEqual(expect.arrayContaining(['events.relay', 'events.purge']));
    });

    it('backs the relay off while its runs fail, logs the first failure and every tenth with the count, and resumes', async () => {
      const type = freshType();
      await append([newEvent(type, newId(), t.ctx.clock.now(), {})]);
      let down = true;
      let attempts = 0;
      const flaky: EventBus = {
        ...t.ctx.events.bus,
        subscribe: (g, ts) => t.ctx.events.bus.subscribe(g, ts),
        publish: async (events) => {
          attempts++;
          if (down) throw new Error('bus unavailable');
          await t.ctx.events.bus.publish(events);
        },
      };
      const logs: { msg: string; failures?: number }[] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
      const failuresBefore = await metric('mos_outbox_relay_failures_total');
      // A 1 s interval and at most 5 s of backoff: after the n-th failure it sits out min(2ⁿ−1, 4) runs.
      const r = new OutboxRelay(db(), flaky, t.ctx.clock, t.ctx.events.metrics, { intervalMs: 1000, batch: 100 }, logger);
      const attemptedAt: number[] = [];
      for (let run = 1; run <= 60; run++) {
        const before = attempts;
        await r.run(); // never throws: the relay handles its own failures
        if (attempts > before) attemptedAt.push(run);
      }
      // Runs 1, 3 (after 1 skipped), 7 (3 skipped), then every 5th (4 skipped: the 5 s cap).
      expect(attemptedAt.slice(0, 5)).toEqual([1, 3, 7, 12, 17]);
      expect(attemptedAt).toHaveLength(13); // 60 runs: 1, 3, 7, 12, 17, …, 57
      expect(r.failures).toBe(13);
      expect(await metric('mos_outbox_relay_failures_total')).toBe(failuresBefore + 13);
      const failed = logs.filter((l) => l.msg === 'outbox relay run failed; backing off');
      expect(failed.map((l) => l.failures)).toEqual([1, 10]);

      down = false;
      for (let run = 0; run < 5 && r.failures; run++) await r.run();
      expect(r.failures).toBe(0);
      expect(logs.filter((l) => l.msg === 'outbox relay runs again after failed runs').map((l) => l.failures)).toEqual([13]);
      expect(await onTheBus([type])).toHaveLength(1);
    });

    it('tells the alerts of each dead-lettered event once, keyed by its event id', async () => {
      const type = freshType();
      const [poison, fine] = [newEvent(type, newId(), t.ctx.clock.now(), { poison: true }), newEvent(type, newId(), t.ctx.clock.now(), {})];
      await append([poison, fine]);
      await relay().run();
      const told: { kind: string; key: string; text: string }[] = [];
      const alerts: Alerts = { notify: async (kind, key, text) => void told.push({ kind, key, text }) };
      // Through createEvents, as the context registers a module's consumer.
      const events = createEvents({
        db: db(),
        bus: t.ctx.events.bus,
        clock: t.ctx.clock,
        registry: new Registry(),
        logger: silent,
        relay: { intervalMs: 1000, batch: 100 },
        purge: { intervalMs: 60_000, retentionMs: RETENTION, batch: 100 },
        consumer: { consumerName: `c-${newId()}`, batch: 50, staleAfterMs: 30, maxDeliveries: 2, idleMs: 10 },
        alerts,
      });
      const name = `alerting-${n}`;
      const c = events.consume({
        name,
        types: [type],
        handle: async (event) => {
          if (event.payload.poison) throw new Error('cannot handle this one');
        },
      });
      await until(async () => {
        await c.drainOnce();
        return (await t.ctx.events.bus.deadLetters(name, [type])).length > 0;
      }, 'the poison event is dead-lettered');
      await new Promise((r) => setTimeout(r, 60));
      expect(await c.drainOnce()).toBe(0);
      expect(told).toEqual([{ kind: 'dead-letter', key: poison.id, text: expect.stringContaining(`consumer ${name}`) }]);
      expect(told[0]!.text).toContain(type);
    });
  });
});
