import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../protocol/gateway-error.ts';

export interface Readiness {
  /** False until the server listens, and again once shutdown begins. */
  ready: boolean;
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
      throw new GatewayError('Not ready for traffic.', { status: 503, type: 'server_error', code: 'not_ready' });
    }
    // Calls never wait on records, so a records outage is reported, not a reason to take traffic away.
    if (!readiness.records) return { status: 'ready' };
    return { status: 'ready', records: (await answers(readiness.records())) ? 'ok' : 'unavailable' };
  });
}

async function answers(check: Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, RECORDS_CHECK_MS, false)));
  try {
    return await Promise.race([check.then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
