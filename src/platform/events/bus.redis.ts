import type { Redis } from 'ioredis';
import { key, tag } from '../redis/keys.js';
import type { DeadLetter, Delivery, EventBus } from './bus.js';
import type { EventEnvelope } from './envelope.js';

/** One stream per event type, and per group a dead-letter stream beside it (one hash tag: MULTI stays legal on a cluster). */
const keysOf = (type: string) => {
  const t = tag('evt', type);
  return { stream: key('evt', t, 'stream'), dead: (group: string) => key('evt', t, 'dead', group) };
};

type Entries = [string, string[] | null][];

/**
 * Production bus: Redis Streams with consumer groups. Every worker of a group reads with its own
 * consumer name; an entry a dead consumer left pending is taken over with XCLAIM once idle
 * (XPENDING first, for the delivery counts the dead-letter rule needs). Streams are capped at
 * about `maxLen` entries (XADD MAXLEN ~): the outbox, not the stream, is the record.
 */
export class RedisEventBus implements EventBus {
  constructor(
    private readonly redis: Redis,
    private readonly maxLen = 100_000,
  ) {}

  async publish(events: readonly EventEnvelope[]): Promise<void> {
    if (!events.length) return;
    // One pipeline on one connection: the entries land in the order given.
    const pipeline = this.redis.pipeline();
    for (const e of events) pipeline.xadd(keysOf(e.type).stream, 'MAXLEN', '~', this.maxLen, '*', ...fieldsOf(e));
    for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
  }

  async subscribe(group: string, types: readonly string[]): Promise<void> {
    // ioredis does not apply its key prefix to XGROUP's key: it is added here.
    const prefix = this.redis.options.keyPrefix ?? '';
    for (const type of types) {
      await this.redis.xgroup('CREATE', prefix + keysOf(type).stream, group, '0', 'MKSTREAM').catch((err: Error) => {
        if (!err.message.includes('BUSYGROUP')) throw err;
      });
    }
  }

  async read(group: string, consumer: string, types: readonly string[], count: number): Promise<Delivery[]> {
    const out: Delivery[] = [];
    for (const type of types) {
      if (out.length >= count) break;
      const res = (await this.redis.xreadgroup('GROUP', group, consumer, 'COUNT', count - out.length, 'STREAMS', keysOf(type).stream, '>')) as
        | [string, Entries][]
        | null;
      for (const [, entries] of res ?? []) for (const [ref, fields] of entries) if (fields) out.push({ ref, event: eventOf(fields), deliveries: 1 });
    }
    return out;
  }

  async claimStale(group: string, consumer: string, types: readonly string[], minIdleMs: number, count: number): Promise<Delivery[]> {
    const out: Delivery[] = [];
    for (const type of types) {
      if (out.length >= count) break;
      const stream = keysOf(type).stream;
      const pending = (await this.redis.xpending(stream, group, 'IDLE', minIdleMs, '-', '+', count - out.length)) as [string, string, number, number][];
      if (!pending.length) continue;
      const deliveries = new Map(pending.map(([ref, , , n]) => [ref, Number(n)]));
      // XCLAIM checks the idle time again: of two consumers taking over one entry, one gets it.
      const claimed = (await this.redis.xclaim(stream, group, consumer, minIdleMs, ...pending.map(([ref]) => ref))) as Entries;
      for (const [ref, fields] of claimed) if (fields) out.push({ ref, event: eventOf(fields), deliveries: (deliveries.get(ref) ?? 0) + 1 });
    }
    return out;
  }

  async ack(group: string, deliveries: readonly Delivery[]): Promise<void> {
    const byType = new Map<string, string[]>();
    for (const d of deliveries) byType.set(d.event.type, [...(byType.get(d.event.type) ?? []), d.ref]);
    await Promise.all([...byType].map(([type, refs]) => this.redis.xack(keysOf(type).stream, group, ...refs)));
  }

  async deadLetter(group: string, delivery: Delivery, reason: string): Promise<void> {
    const k = keysOf(delivery.event.type);
    // Moved aside and acknowledged in one step: never in both places, never in neither.
    const res = await this.redis
      .multi()
      .xadd(k.dead(group), 'MAXLEN', '~', this.maxLen, '*', ...fieldsOf(delivery.event), 'reason', reason, 'deliveries', String(delivery.deliveries))
      .xack(k.stream, group, delivery.ref)
      .exec();
    for (const [err] of res ?? []) if (err) throw err;
  }

  async deadLetters(group: string, types: readonly string[]): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    for (const type of types) {
      for (const [, fields] of await this.redis.xrange(keysOf(type).dead(group), '-', '+')) {
        const f = pairs(fields);
        out.push({ event: eventOf(fields), reason: f.reason ?? '', deliveries: Number(f.deliveries) });
      }
    }
    return out;
  }
}

function fieldsOf(e: EventEnvelope): string[] {
  return ['id', e.id, 'type', e.type, 'aggregateId', e.aggregateId, 'occurredAt', e.occurredAt, 'v', String(e.version), 'payload', JSON.stringify(e.payload)];
}

function pairs(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
  return out;
}

function eventOf(fields: string[]): EventEnvelope {
  const f = pairs(fields);
  return {
    id: f.id ?? '',
    type: f.type ?? '',
    aggregateId: f.aggregateId ?? '',
    occurredAt: f.occurredAt ?? '',
    version: Number(f.v ?? 1),
    payload: parsePayload(f.payload ?? '{}'),
  };
}

/** An entry that does not parse still reaches the consumer, whose handler fails it into the dead letters. */
function parsePayload(raw: string): Record<string, unknown> {
  try {
    return JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return { unparseable: raw };
  }
}
