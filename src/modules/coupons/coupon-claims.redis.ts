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

/**
 * How many replicas must hold a write before it counts, and for how long to wait for them (Redis
 * WAIT). Zero replicas: no wait (one Redis without replicas, where there is nothing to wait for).
 */
export interface Durability {
  replicas: number;
  timeoutMs: number;
}

/**
 * Redis adapter: the claim Lua script (coupon-claims.lua) and a consumer group per campaign stream.
 *
 * Invariant 2 across a failover. Redis replicates asynchronously: a master that dies takes with
 * it the writes its replica had not received, and the promoted replica serves on without them.
 * With `durability.replicas` > 0 two writes wait for the replicas (WAIT, on the connection that
 * made them, so it covers them):
 * - a claim answers ISSUED only once its replicas have it — short of them it answers
 *   UNREPLICATED (503: not promised, yet it may reach the wallet); a master without a replica
 *   in step is found before the claim, which then takes nothing;
 * - the wallet consumer persists only events its replicas have (after the XREADGROUP that
 *   delivered them); the others stay pending and come back after the stale delay.
 * So a promoted replica has every claim a buyer was told ISSUED and every issue the wallet holds:
 * it never offers again a coupon already in a wallet, nor forgets one promised. Concurrent claims
 * share the wait: the first WAIT on a connection covers every write before it.
 */
export class RedisCouponStore implements CouponClaimStore, CouponEventLog {
  readonly #script: LuaScript;
  constructor(
    private readonly redis: RedisClient,
    private readonly durability: Durability = { replicas: 0, timeoutMs: 0 },
  ) {
    this.#script = loadLua(redis, 'coupon_claims', new URL('./coupon-claims.lua', import.meta.url));
  }

  /** True once the replicas have every write made so far on the connection of `key`'s slot. */
  async #replicated(key: string): Promise<boolean> {
    const { replicas, timeoutMs } = this.durability;
    if (replicas <= 0) return true;
    // WAIT names no key: a keyed read beside it in one pipeline sends it to that key's master.
    const res = await this.redis.pipeline().exists(key).wait(replicas, timeoutMs).exec();
    const [err, acked] = res?.[1] ?? [new Error('WAIT got no answer'), 0];
    if (err) throw err;
    return Number(acked) >= replicas;
  }

  async claim(campaignId: string, userId: string, now: number, event: { eventId: string; occurredAt: string }): Promise<ClaimResult> {
    const k = keysOf(campaignId);
    // First, whether a replica keeps up at all (at once when it does: nothing unacknowledged): a
    // master left without one (its replica died, or was just promoted from it) refuses here,
    // before the claim takes a coupon it could not promise.
    if (!(await this.#replicated(k.events))) return { answer: 'UNREPLICATED' };
    const res = (await this.#script([k.meta, k.stock, k.users, k.events], ['claim', now, userId, event.eventId, event.occurredAt, campaignId])) as number[];
    switch (res[0]) {
      case 1:
        // The replica went away between the two waits: issued, but not promised.
        if (!(await this.#replicated(k.events))) return { answer: 'UNREPLICATED' };
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
      const read = (res ?? []).flatMap(([, entries]) => entries.map(([id, fields]) => toEvent(campaignId, id, fields, 1)));
      // Not on the replicas yet: left pending with this consumer, taken again once stale.
      if (read.length && (await this.#replicated(keysOf(campaignId).events))) out.push(...read);
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
      if (!(await this.#replicated(stream))) continue;
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
