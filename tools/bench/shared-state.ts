/**
 * The bench's Redis: a check that a Redis-state gateway
 * really runs on Redis (a replica that cannot reach it serves degraded, on its own state, which
 * would measure the wrong thing), and the keys deleted at the end.
 */

import { Redis } from 'ioredis';
import { deleteKeys } from '../../src/calls/redis/delete-keys.ts';
import { BenchError } from './settings.ts';

/** Throws unless the gateway at `baseUrl` (ending in /v1) says its shared state is up. */
export async function assertSharedStateUp(baseUrl: string): Promise<void> {
  const response = await fetch(`${baseUrl.replace(/\/v1$/, '')}/readyz`);
  const body = (await response.json()) as { sharedState?: string };
  if (body.sharedState !== 'up') {
    throw new BenchError(
      `the Redis-state gateway at ${baseUrl} is not on Redis (sharedState: ${body.sharedState ?? 'none'}): is Redis running (--redis)?`,
    );
  }
}

/** Deletes every key of the run. */
export async function deleteBenchKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await deleteKeys(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
