import type { RedisClient } from '../redis/client.js';
import { key, tag } from '../redis/keys.js';
import { loadLua, type LuaScript } from '../redis/scripts.js';
import type { LeaseStore } from './lease.store.js';

/** Redis adapter: one leader per job across every worker process. */
export class RedisLeaseStore implements LeaseStore {
  readonly #script: LuaScript;
  constructor(redis: RedisClient) {
    this.#script = loadLua(redis, 'lease', new URL('./lease.lua', import.meta.url));
  }

  async acquire(name: string, owner: string, ttlMs: number): Promise<number | null> {
    const token = await this.#script(keys(name), ['acquire', owner, ttlMs]);
    return token === null ? null : Number(token);
  }

  async release(name: string, owner: string): Promise<void> {
    await this.#script(keys(name), ['release', owner, 0]);
  }
}

function keys(name: string): string[] {
  const t = tag('lease', name);
  return [key('lease', t, 'owner'), key('lease', t, 'fence')];
}
