import { Redis } from 'ioredis';
import type { StateConfig } from '../config/schema.ts';
import { DEFAULT_REDIS_URL } from '../calls/open-call-state.ts';
import { diagnosis, type Diagnosis } from './diagnosis.ts';

/**
 * `doctor`: with state.store redis, whether the replicas' Redis answers, how fast against
 * state.timeoutMs, and its version. The URL is named by host and port only (it may hold a password).
 */
export async function probeRedis(state: StateConfig, redisUrl: string | undefined, timeoutMs: number): Promise<Diagnosis | undefined> {
  if (state.store !== 'redis') return undefined;
  const url = state.url ?? redisUrl ?? DEFAULT_REDIS_URL;
  let where: string;
  try {
    const parsed = new URL(url);
    where = `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return diagnosis('FAIL', 'state.url', 'not a URL: expected redis://[:password@]host:port[/db] or rediss://…');
  }
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const started = performance.now();
    await redis.ping();
    const ms = performance.now() - started;
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    const major = Number(version.split('.')[0]);
    const facts = `Redis ${version} at ${where} answers in ${ms.toFixed(1)} ms (state.timeoutMs ${state.timeoutMs})`;
    if (Number.isFinite(major) && major < 6) return diagnosis('WARN', 'state.url', `${facts}: Redis 6 or later is needed`);
    if (ms > state.timeoutMs / 2)
      return diagnosis(
        'WARN',
        'state.url',
        `${facts}: too slow for the budget, turns would run on local state; put Redis nearer or raise state.timeoutMs`,
      );
    return diagnosis('PASS', 'state.url', facts);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return diagnosis(
      'FAIL',
      'state.url',
      `Redis at ${where} does not answer (${reason}): the replicas would run degraded, each on its own call state`,
    );
  } finally {
    redis.disconnect();
  }
}
