import type { RedisClient } from '../../platform/redis/client.js';
import { key, tag } from '../../platform/redis/keys.js';
import { loadLua, type LuaScript } from '../../platform/redis/scripts.js';
import type { CampaignRules, ClaimResult, CouponClaimStore, CouponEventLog, HotState, IssuedEvent } from './coupon-claims.store.js';

const GROUP = 'wallet';
/** Campaigns whose event streams the consumer group reads (outside any campaign's hash slot). */
const STREAMS = 'cpn:streams';

const keysOf = (campaignId: string) => {
  const t = tag('cpn', campaignId);
  return {
    meta: key('cpn', t, 'meta'),
    stock: key('cpn', t, 'stock'),
    users: key('cpn', t, 'users'),
    events: key('cpn', t, 'events'),
    dead: key('cpn', t, 'dead'),
  };
};

/** Redis adapter: the claim Lua script (coupon-claims.lua) and a consumer group per campaign stream. */
export class RedisCouponStore implements CouponClaimStore, CouponEventLog {
  readonly #script: LuaScript;
  constructor(private readonly redis: RedisClient) {
    this.#script = loadLua(redis, 'coupon_claims', new URL('./coupon-claims.lua', import.meta.url));
  }

  async claim(campaignId: string, userId: string, now: number, event: { eventId: string; occurredAt: string }): Promise<ClaimResult> {
    const k = keysOf(campaignId);
    const res = (await this.#script([k.meta, k.stock, k.users, k.events], ['claim', now, userId, event.eventId, event.occurredAt, campaignId])) as number[];
    switch (res[0]) {
      case 1:
        return { answer: 'ISSUED', seq: res[1]!, remaining: res[2]! };
      case 0:
        return { answer: 'CLAIM_NOT_OPEN' };
      case 2:
        return { answer: 'ALREADY_CLAIMED' };
      case 3:
        return { answer: 'SOLD_OUT' };
      case 5:
        return { answer: 'FROZEN' };
      default:
        return { answer: 'NOT_LOADED' };
    }
  }

  async load(rules: CampaignRules, issuedByUser: ReadonlyMap<string, number>): Promise<void> {
    const k = keysOf(rules.campaignId);
    await this.redis.sadd(STREAMS, rules.campaignId);
    const issued = [...issuedByUser.values()].reduce((a, b) => a + b, 0);
    await this.#script(
      [k.meta, k.stock, k.users, k.events],
      ['load', rules.epoch ?? 1, rules.perUserLimit, rules.claimOpensAt, rules.claimClosesAt ?? 0, rules.quantity, issued, ...[...issuedByUser].flat()],
    );
  }

  async remaining(campaignId: string): Promise<number | null> {
    const k = keysOf(campaignId);
    const left = (await this.#script([k.meta, k.stock, k.users, k.events], ['remaining'])) as number;
    return left < 0 ? null : left;
  }

  async status(campaignId: string): Promise<HotState> {
    const k = keysOf(campaignId);
    const res = (await this.#script([k.meta, k.stock, k.users, k.events], ['status'])) as number[];
    if (res[0] === 1) return { state: 'LIVE', epoch: res[1]!, remaining: res[2]! };
    if (res[0] === 2) return { state: 'FROZEN', epoch: res[1]! };
    return { state: 'MISSING' };
  }

  async freeze(campaignId: string, epoch: number): Promise<void> {
    const k = keysOf(campaignId);
    await this.#script([k.meta, k.stock, k.users, k.events], ['freeze', epoch]);
  }

  /** Redis outlives every MOS process: nothing to hand over. */
  async handOver(): Promise<null> {
    return null;
  }

  async unconsumed(campaignId: string): Promise<number> {
    const k = keysOf(campaignId);
    return Number(await this.#script([k.meta, k.stock, k.users, k.events], ['unconsumed']));
  }

  async read(consumer: string, count: number): Promise<IssuedEvent[]> {
    const out: IssuedEvent[] = [];
    for (const campaignId of await this.redis.smembers(STREAMS)) {
      if (out.length >= count) break;
      const res = (await this.redis
        .xreadgroup('GROUP', GROUP, consumer, 'COUNT', count - out.length, 'STREAMS', keysOf(campaignId).events, '>')
        .catch(skipMissingGroup)) as [string, [string, string[]][]][] | null;
      for (const [, entries] of res ?? []) for (const [id, fields] of entries) out.push(toEvent(campaignId, id, fields, 1));
    }
    return out;
  }

  async claimStale(consumer: string, minIdleMs: number, count: number): Promise<IssuedEvent[]> {
    const out: IssuedEvent[] = [];
    for (const campaignId of await this.redis.smembers(STREAMS)) {
      if (out.length >= count) break;
      const stream = keysOf(campaignId).events;
      const pending = ((await this.redis.xpending(stream, GROUP, 'IDLE', minIdleMs, '-', '+', count - out.length).catch(skipMissingGroup)) ?? []) as [
        string,
        string,
        number,
        number,
      ][];
      if (!pending.length) continue;
      const deliveries = new Map(pending.map(([id, , , n]) => [id, n]));
      const claimed = (await this.redis.xclaim(stream, GROUP, consumer, minIdleMs, ...pending.map(([id]) => id))) as [string, string[]][];
      for (const [id, fields] of claimed) if (fields) out.push(toEvent(campaignId, id, fields, (deliveries.get(id) ?? 0) + 1));
    }
    return out;
  }

  async ack(events: readonly IssuedEvent[]): Promise<void> {
    const byCampaign = new Map<string, string[]>();
    for (const e of events) byCampaign.set(e.campaignId, [...(byCampaign.get(e.campaignId) ?? []), e.ref]);
    await Promise.all([...byCampaign].map(([campaignId, refs]) => this.redis.xack(keysOf(campaignId).events, GROUP, ...refs)));
  }

  async deadLetter(event: IssuedEvent, reason: string): Promise<void> {
    const k = keysOf(event.campaignId);
    await this.redis.xadd(
      k.dead,
      '*',
      'eventId',
      event.eventId,
      'userId',
      event.userId,
      'seq',
      String(event.seq),
      'reason',
      reason,
      'deliveries',
      String(event.deliveries),
    );
    await this.redis.xack(k.events, GROUP, event.ref);
  }

  async deadLetters(): Promise<{ eventId: string; reason: string }[]> {
    const out: { eventId: string; reason: string }[] = [];
    for (const campaignId of await this.redis.smembers(STREAMS)) {
      for (const [, fields] of await this.redis.xrange(keysOf(campaignId).dead, '-', '+')) {
        const f = pairs(fields);
        out.push({ eventId: f.eventId ?? '', reason: f.reason ?? '' });
      }
    }
    return out;
  }
}

/**
 * A campaign listed for consumption whose stream has no group: its hot state was lost and not
 * rebuilt yet (the next claim or read of it reloads it). Nothing to read there meanwhile.
 */
function skipMissingGroup(err: Error): null {
  if (err.message.includes('NOGROUP')) return null;
  throw err;
}

function pairs(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
  return out;
}

function toEvent(campaignId: string, ref: string, fields: string[], deliveries: number): IssuedEvent {
  const f = pairs(fields);
  return {
    ref,
    eventId: f.eventId ?? '',
    campaignId: f.campaignId ?? campaignId,
    userId: f.userId ?? '',
    seq: Number(f.seq),
    occurredAt: f.occurredAt ?? '',
    deliveries,
  };
}
