import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** The Redis commands a script runs with: a connection, or a pipeline's equivalent. */
export type ScriptRunner = Pick<Redis, 'evalsha' | 'eval'>;

/**
 * A Lua script run atomically by Redis: by its SHA1 (EVALSHA, a few bytes on the wire), loaded
 * with EVAL the first time a server does not know it (after a restart or a flush).
 */
export class LuaScript {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: ScriptRunner, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Redis's clock in milliseconds, the same for every replica (the scripts never use a replica's clock). */
export const LUA_NOW_MS = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;
