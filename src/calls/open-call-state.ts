import { Redis, type RedisOptions } from 'ioredis';
import type { GatewayConfig } from '../config/schema.ts';
import { AdmissionControl } from './admission.ts';
import type { Logger } from 'pino';
import { CallRegistry } from './call-registry.ts';
import type { CallState } from './call-state.ts';
import { LocalCallState } from './local-call-state.ts';
import type { SharedStateMetricsSource } from './shared-state-metrics.ts';
import { RedisCallState } from './redis/redis-call-state.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface OpenCallStateOptions {
  config: GatewayConfig;
  logger: Logger;
  /** state.url when unset (default: the REDIS_URL variable). */
  redisUrl?: string | undefined;
  /** How long startup waits for Redis before serving degraded (default 2 s). */
  connectWaitMs?: number;
}

export interface OpenedCallState {
  state: CallState;
  /** This replica's own state (calls in memory, admission): the fallback, and its metrics. */
  local: LocalCallState;
  /** Set with state.store redis. */
  shared: SharedStateMetricsSource | undefined;
}

/**
 * Commands fail at once while a connection is down (no offline queue, no retry of a command):
 * a turn then goes on with local state instead of waiting. The connections themselves reconnect
 * forever, backing off to 2 s.
 */
const CONNECTION: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2000,
  retryStrategy: (attempt: number) => Math.min(100 * attempt, 2000),
  connectionName: 'voice-llm-gateway',
};

/** The call state of state.store: this process's memory (default), or Redis shared by the replicas. */
export async function openCallState(options: OpenCallStateOptions): Promise<OpenedCallState> {
  const { config, logger } = options;
  const local = new LocalCallState(new CallRegistry(config.calls), new AdmissionControl(config.server.limits));
  if (config.state.store === 'memory') return { state: local, local, shared: undefined };
  const url = config.state.url ?? options.redisUrl ?? DEFAULT_REDIS_URL;
  const shared = new RedisCallState({
    redis: new Redis(url, CONNECTION),
    // Its SUBSCRIBE may wait for the first connection; it carries no turn's command.
    subscriber: new Redis(url, { ...CONNECTION, enableOfflineQueue: true }),
    local,
    limits: config.server.limits,
    keyPrefix: config.state.keyPrefix,
    timeoutMs: config.state.timeoutMs,
    leaseMs: config.state.leaseSeconds * 1000,
    newCallAfterMs: config.calls.newCallAfterIdleSeconds * 1000,
    maxMemoryBytesPerCall: config.calls.maxMemoryBytesPerCall,
    logger,
  });
  await shared.start(options.connectWaitMs ?? 2000);
  const fields = { store: 'redis', keyPrefix: config.state.keyPrefix, sharedState: shared.sharedState };
  if (shared.sharedState === 'up') logger.info(fields, 'call state shared through Redis');
  else logger.warn(fields, "Redis does not answer: serving on this replica's own call state until it does (state.url, REDIS_URL)");
  return { state: shared, local, shared };
}
