import type { RedisClient } from '../redis/client.js';
import { loadLua, type LuaScript } from '../redis/scripts.js';
import { toResult } from './idempotency.memory.js';
import type { BeginResult, IdempotencyRecord, IdempotencyStore, StoredResponse } from './idempotency.store.js';

/** Redis adapter: shared by every API process, so a retry on another process still replays. */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #script: LuaScript;
  constructor(redis: RedisClient) {
    this.#script = loadLua(redis, 'idempotency', new URL('./idempotency.lua', import.meta.url));
  }

  async begin(key: string, fingerprint: string, owner: string, lockTtlMs: number): Promise<BeginResult> {
    const record: IdempotencyRecord = { state: 'in-flight', fingerprint, owner };
    const existing = (await this.#script([redisKey(key)], ['begin', JSON.stringify(record), lockTtlMs])) as string | null;
    return existing ? toResult(JSON.parse(existing) as IdempotencyRecord) : { kind: 'started' };
  }

  async complete(key: string, owner: string, fingerprint: string, response: StoredResponse, ttlMs: number): Promise<void> {
    const record: IdempotencyRecord = { state: 'completed', fingerprint, owner, response };
    await this.#script([redisKey(key)], ['complete', owner, JSON.stringify(record), ttlMs]);
  }

  async abandon(key: string, owner: string): Promise<void> {
    await this.#script([redisKey(key)], ['abandon', owner]);
  }
}

const redisKey = (key: string) => `idem:${key}`;
