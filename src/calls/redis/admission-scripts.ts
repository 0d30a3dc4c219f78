import { LUA_NOW_MS, LuaScript, type ScriptRunner } from './lua-script.ts';

/**
 * ADMIT, for one API key across every replica: requests per minute (GCRA, KEYS[1] holds the
 * key's theoretical arrival time in ms), then streams in flight (KEYS[2], a sorted set of leases
 * scored by when they expire, so a dead replica's slots free themselves). The same order and the
 * same arithmetic as AdmissionControl; a refused request consumes nothing.
 * ARGV: requests per minute (0: no limit), streams per key, lease id, lease ms.
 * Reply: {'ok', 0}, {'rate', retry-after seconds} or {'streams', 1}.
 */
const ADMIT = new LuaScript(`${LUA_NOW_MS}
local window = 60000
local limit = tonumber(ARGV[1])
local arrival = nil
if limit > 0 then
  local stored = tonumber(redis.call('GET', KEYS[1])) or now
  if stored < now then stored = now end
  arrival = stored + window / limit
  if arrival - now > window then return {'rate', math.max(1, math.ceil((arrival - now - window) / 1000))} end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return {'streams', 1} end
if arrival then redis.call('SET', KEYS[1], string.format('%.3f', arrival), 'PX', math.ceil(arrival - now)) end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {'ok', 0}`);

/** RENEW: a live lease (KEYS[1], ARGV[1]) is pushed ARGV[2] ms into the future; a reaped one stays gone. */
const RENEW = new LuaScript(`${LUA_NOW_MS}
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1`);

export interface AdmitKeys {
  readonly rate: string;
  readonly streams: string;
}

export interface AdmitArgs {
  requestsPerMinute: number;
  streamsPerKey: number;
  leaseId: string;
  leaseMs: number;
}

export type AdmitReply = { verdict: 'ok' } | { verdict: 'rate'; retryAfterSeconds: number } | { verdict: 'streams' };

export async function admitScript(redis: ScriptRunner, keys: AdmitKeys, args: AdmitArgs): Promise<AdmitReply> {
  const [verdict, seconds] = (await ADMIT.run(
    redis,
    [keys.rate, keys.streams],
    [args.requestsPerMinute, args.streamsPerKey, args.leaseId, args.leaseMs],
  )) as [string, number];
  if (verdict === 'rate') return { verdict, retryAfterSeconds: seconds };
  if (verdict === 'streams' || verdict === 'ok') return { verdict };
  throw new Error(`unexpected ADMIT reply ${verdict}`);
}

export function renewScript(redis: ScriptRunner, streamsKey: string, leaseId: string, leaseMs: number): Promise<unknown> {
  return RENEW.run(redis, [streamsKey], [leaseId, leaseMs]);
}
