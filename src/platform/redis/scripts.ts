import { readFileSync } from 'node:fs';
import type { RedisClient } from './client.js';

export type LuaArg = string | number;
export type LuaScript = (keys: readonly string[], args: readonly LuaArg[]) => Promise<unknown>;

/**
 * Loads a Lua script kept in a `.lua` file beside its adapter and registers it on the client:
 * sent by EVALSHA, falling back to EVAL when the server lost its script cache (restart,
 * failover). Keys go through the client's key prefix like any other command.
 */
export function loadLua(redis: RedisClient, name: string, file: URL): LuaScript {
  const lua = readFileSync(file, 'utf8');
  const command = `mos_${name}`;
  if (!(command in redis)) redis.defineCommand(command, { lua });
  const run = (redis as unknown as Record<string, (...a: LuaArg[]) => Promise<unknown>>)[command]!;
  return (keys, args) => run.call(redis, keys.length, ...keys, ...args);
}
