import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import type { EventBus } from '../../src/platform/events/bus.js';
import { MemoryEventBus } from '../../src/platform/events/bus.memory.js';
import { RedisEventBus } from '../../src/platform/events/bus.redis.js';
import { newEvent, type EventEnvelope } from '../../src/platform/events/envelope.js';
import { newId } from '../../src/platform/ids.js';
import { isolatedRedis } from '../support/redis.js';

const redis = isolatedRedis();
afterAll(() => redis.cleanup());

/** `idle(ms)` lets deliveries sit unacknowledged for `ms`: the memory bus on its clock, Redis in real time. */
const adapters: [string, () => { bus: EventBus; idle: (ms: number) => Promise<void> }][] = [
  [
    'memory',
    () => {
      const clock = new ManualClock();
      return { bus: new MemoryEventBus(clock), idle: async (ms) => clock.advance(ms) };
    },
  ],
  ['redis', () => ({ bus: new RedisEventBus(redis.redis), idle: (ms) => new Promise((r) => setTimeout(r, ms)) })],
];

let n = 0;
/** A type of its own per test: the Redis adapter's streams are shared by the whole file. */
const freshType = () => `test.kind${++n}x${Math.random().toString(36).slice(2, 8)}`;
const event = (type: string, aggregateId = newId(), payload: Record<string, unknown> = {}) =>
  newEvent(type, aggregateId, new Date('2030-01-01T00:00:00.000Z'), { ...payload, n: ++n });
const ids = (events: readonly { id: string }[]) => events.map((e) => e.id);

describe.each(adapters)('EventBus contract (%s)', (_name, make) => {
  it('delivers what was published, in order and intact, to a group that subscribed before or after', async () => {
    const { bus } = make();
    const type = freshType();
    const early = [event(type, newId(), { nested: { a: [1, 'two'] } }), event(type)];
    await bus.subscribe('g', [type]);
    await bus.publish(early);
    const late = [event(type)];
    await bus.publish(late);
    await bus.subscribe('late-group', [type]);

    const got = await bus.read('g', 'c1', [type], 10);
    expect(got.map((d) => d.event)).toEqual([...early, ...late]);
    expect(got.every((d) => d.deliveries === 1)).toBe(true);
    expect(ids((await bus.read('late-group', 'c1', [type], 10)).map((d) => d.event))).toEqual(ids([...early, ...late]));
  });

  it('gives each entry to one consumer of a group, and every entry to each group', async () => {
    const { bus } = make();
    const type = freshType();
    await bus.subscribe('a', [type]);
    await bus.subscribe('b', [type]);
    const events = Array.from({ length: 5 }, () => event(type));
    await bus.publish(events);

    const first = await bus.read('a', 'c1', [type], 3);
    const second = await bus.read('a', 'c2', [type], 10);
    expect([...ids(first.map((d) => d.event)), ...ids(second.map((d) => d.event))]).toEqual(ids(events));
    expect(await bus.read('a', 'c3', [type], 10)).toEqual([]);
    expect(ids((await bus.read('b', 'c1', [type], 10)).map((d) => d.event))).toEqual(ids(events));
  });

  it('subscribing again is harmless and does not replay', async () => {
    const { bus } = make();
    const type = freshType();
    await bus.subscribe('g', [type]);
    await bus.publish([event(type)]);
    expect(await bus.read('g', 'c1', [type], 10)).toHaveLength(1);
    await bus.subscribe('g', [type]);
    expect(await bus.read('g', 'c1', [type], 10)).toEqual([]);
  });

  it('hands an unacknowledged entry to another consumer once idle, counting deliveries; an acknowledged one never', async () => {
    const { bus, idle } = make();
    const type = freshType();
    await bus.subscribe('g', [type]);
    const [kept, acked] = [event(type), event(type)];
    await bus.publish([kept, acked]);
    const got = await bus.read('g', 'dead-consumer', [type], 10);
    await bus.ack('g', [got[1]!]);

    expect(await bus.claimStale('g', 'c2', [type], 60_000, 10)).toEqual([]); // not idle long enough
    await idle(80);
    const taken = await bus.claimStale('g', 'c2', [type], 50, 10);
    expect(taken.map((d) => [d.event.id, d.deliveries])).toEqual([[kept.id, 2]]);
    expect(await bus.claimStale('g', 'c3', [type], 50, 10)).toEqual([]); // just taken: not idle
    await idle(80);
    expect((await bus.claimStale('g', 'c3', [type], 50, 10)).map((d) => d.deliveries)).toEqual([3]);
  });

  it('moves a dead letter aside: acknowledged, listed with its reason, never delivered again', async () => {
    const { bus, idle } = make();
    const type = freshType();
    await bus.subscribe('g', [type]);
    await bus.subscribe('other', [type]);
    const poison = event(type, newId(), { bad: true });
    await bus.publish([poison]);
    const [d] = await bus.read('g', 'c1', [type], 10);
    await bus.deadLetter('g', d!, 'failed 5 times');

    await idle(80);
    expect(await bus.claimStale('g', 'c2', [type], 50, 10)).toEqual([]);
    expect(await bus.deadLetters('g', [type])).toEqual([{ event: poison, reason: 'failed 5 times', deliveries: 1 }]);
    expect(await bus.deadLetters('other', [type])).toEqual([]);
    // Another group is not affected.
    expect(ids((await bus.read('other', 'c1', [type], 10)).map((x) => x.event))).toEqual([poison.id]);
  });

  it("keeps an aggregate's events in publish order across types, whatever order the group names them in", async () => {
    const { bus } = make();
    const [created, cancelled] = [freshType(), freshType()];
    await bus.subscribe('g', [cancelled, created]);
    const aggregate = newId();
    const first = event(created, aggregate);
    const second = event(cancelled, aggregate);
    await bus.publish([first, second]);
    expect(ids((await bus.read('g', 'c1', [cancelled, created], 10)).map((d) => d.event))).toEqual(ids([first, second]));
  });

  it('reads several types, each in its own order', async () => {
    const { bus } = make();
    const [t1, t2] = [freshType(), freshType()];
    await bus.subscribe('g', [t1, t2]);
    const a = [event(t1), event(t1)];
    const b = [event(t2)];
    await bus.publish([a[0]!, b[0]!, a[1]!]);
    const got: EventEnvelope[] = (await bus.read('g', 'c1', [t1, t2], 10)).map((d) => d.event);
    expect(ids(got.filter((e) => e.type === t1))).toEqual(ids(a));
    expect(ids(got.filter((e) => e.type === t2))).toEqual(ids(b));
  });
});
