import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../core/gateway-error.ts';

export interface Readiness {
  /** False until the server listens, and again once shutdown begins. */
  ready: boolean;
  /** state.store redis: whether the replicas share call state right now (undefined: memory). */
  sharedState?: () => 'up' | 'degraded' | undefined;
}

/** `GET /healthz` (the process is alive) and `GET /readyz` (ready for traffic). No key needed. */
export function registerHealth(app: FastifyInstance, readiness: Readiness): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    if (!readiness.ready) {
      throw new GatewayError('Not ready for traffic.', { status: 503, type: 'server_error', code: 'not_ready' });
    }
    // Still 200 when degraded: every replica sees the same Redis, and turns still answer on local state.
    const sharedState = readiness.sharedState?.();
    return sharedState === undefined ? { status: 'ready' } : { status: 'ready', sharedState };
  });
}
