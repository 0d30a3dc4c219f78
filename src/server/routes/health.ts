import type { FastifyInstance } from 'fastify';
import { gatewayError } from '../../core/error-catalog.ts';

export interface Readiness {
  /** False until the server listens, and again once shutdown begins. */
  ready: boolean;
  /** state.store redis: whether the replicas share call state right now (undefined: memory). */
  sharedState?: () => 'up' | 'degraded' | undefined;
  /** Whether the records database answers (absent: records are off). */
  records?: () => Promise<void>;
}

const RECORDS_CHECK_MS = 1000;

/**
 * `GET /healthz` (the process is alive) and `GET /readyz` (ready for traffic, and whether the
 * records database answers). No key needed.
 */
export function registerHealth(app: FastifyInstance, readiness: Readiness): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    if (!readiness.ready) {
      throw gatewayError('not_ready');
    }
    // Still 200 when degraded: every replica sees the same Redis, and turns still answer on local state.
    // Calls never wait on records either, so a records outage is reported, not a reason to take traffic away.
    const sharedState = readiness.sharedState?.();
    const records = readiness.records ? ((await answers(readiness.records())) ? 'ok' : 'unavailable') : undefined;
    return { status: 'ready', ...(sharedState === undefined ? {} : { sharedState }), ...(records === undefined ? {} : { records }) };
  });
}

async function answers(check: Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, RECORDS_CHECK_MS, false)));
  try {
    return await Promise.race([
      check.then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
