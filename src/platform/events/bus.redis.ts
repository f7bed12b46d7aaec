import type { RedisClient } from '../redis/client.js';
import { key, tag } from '../redis/keys.js';
import type { DeadLetter, Delivery, EventBus } from './bus.js';
import type { EventEnvelope } from './envelope.js';

/**
 * One stream for every event, and per group a dead-letter stream beside it (one hash tag: MULTI
 * stays legal on a cluster). One stream keeps every aggregate's events in outbox order whatever
 * their types (`order.created` before `order.cancelled`); a group reading per-type streams could
 * meet a later type first. Each group skips (acknowledges at once) the types it does not consume.
 */
const TAG = tag('evt', 'all');
const STREAM = key('evt', TAG, 'stream');
const deadOf = (group: string) => key('evt', TAG, 'dead', group);

type Entries = [string, string[] | null][];

/**
 * Production bus: RedisClient Streams with consumer groups. Every worker of a group reads with its own
 * consumer name; an entry a dead consumer left pending is taken over with XCLAIM once idle
 * (XPENDING first, for the delivery counts the dead-letter rule needs). Streams are capped at
 * about `maxLen` entries (XADD MAXLEN ~): the outbox, not the stream, is the record.
 */
export class RedisEventBus implements EventBus {
  constructor(
    private readonly redis: RedisClient,
    private readonly maxLen = 100_000,
  ) {}

  async publish(events: readonly EventEnvelope[]): Promise<void> {
    if (!events.length) return;
    // One pipeline on one connection: the entries land in the order given.
    const pipeline = this.redis.pipeline();
    for (const e of events) pipeline.xadd(STREAM, 'MAXLEN', '~', this.maxLen, '*', ...fieldsOf(e));
    for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
  }

  async subscribe(group: string, _types: readonly string[]): Promise<void> {
    // ioredis does not apply its key prefix to XGROUP's key: it is added here.
    const prefix = this.redis.options.keyPrefix ?? '';
    await this.redis.xgroup('CREATE', prefix + STREAM, group, '0', 'MKSTREAM').catch((err: Error) => {
      if (!err.message.includes('BUSYGROUP')) throw err;
    });
  }

  async read(group: string, consumer: string, types: readonly string[], count: number): Promise<Delivery[]> {
    const out: Delivery[] = [];
    // Other types' entries are stepped over: read on until `count` are the group's or the stream has no more.
    while (out.length < count) {
      const want = count - out.length;
      const res = (await this.redis.xreadgroup('GROUP', group, consumer, 'COUNT', want, 'STREAMS', STREAM, '>')) as [string, Entries][] | null;
      const entries = res?.[0]?.[1] ?? [];
      out.push(
        ...(await this.#mine(
          group,
          types,
          entries.map(([ref, fields]) => ({ ref, fields, deliveries: 1 })),
        )),
      );
      if (entries.length < want) break;
    }
    return out;
  }

  async claimStale(group: string, consumer: string, types: readonly string[], minIdleMs: number, count: number): Promise<Delivery[]> {
    const pending = (await this.redis.xpending(STREAM, group, 'IDLE', minIdleMs, '-', '+', count)) as [string, string, number, number][];
    if (!pending.length) return [];
    const deliveries = new Map(pending.map(([ref, , , n]) => [ref, Number(n)]));
    // XCLAIM checks the idle time again: of two consumers taking over one entry, one gets it.
    const claimed = (await this.redis.xclaim(STREAM, group, consumer, minIdleMs, ...pending.map(([ref]) => ref))) as Entries;
    return this.#mine(
      group,
      types,
      claimed.map(([ref, fields]) => ({ ref, fields, deliveries: (deliveries.get(ref) ?? 0) + 1 })),
    );
  }

  async ack(group: string, deliveries: readonly Delivery[]): Promise<void> {
    if (deliveries.length) await this.redis.xack(STREAM, group, ...deliveries.map((d) => d.ref));
  }

  /** The group's entries among those read, in stream order; entries of other types are acknowledged and skipped. */
  async #mine(group: string, types: readonly string[], read: { ref: string; fields: string[] | null; deliveries: number }[]): Promise<Delivery[]> {
    const out: Delivery[] = [];
    const foreign: string[] = [];
    for (const { ref, fields, deliveries } of read) {
      if (!fields) continue;
      const event = eventOf(fields);
      if (types.includes(event.type)) out.push({ ref, event, deliveries });
      else foreign.push(ref);
    }
    if (foreign.length) await this.redis.xack(STREAM, group, ...foreign);
    return out;
  }

  async deadLetter(group: string, delivery: Delivery, reason: string): Promise<void> {
    // Moved aside and acknowledged in one step: never in both places, never in neither.
    const res = await this.redis
      .multi()
      .xadd(deadOf(group), 'MAXLEN', '~', this.maxLen, '*', ...fieldsOf(delivery.event), 'reason', reason, 'deliveries', String(delivery.deliveries))
      .xack(STREAM, group, delivery.ref)
      .exec();
    for (const [err] of res ?? []) if (err) throw err;
  }

  async deadLetters(group: string, types: readonly string[]): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    for (const [, fields] of await this.redis.xrange(deadOf(group), '-', '+')) {
      const f = pairs(fields);
      const event = eventOf(fields);
      if (types.includes(event.type)) out.push({ event, reason: f.reason ?? '', deliveries: Number(f.deliveries) });
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
