import type { FastifyInstance } from 'fastify';
import { AgentRegistry } from './agent/agent-registry.ts';
import { closeHttpToolDispatcher } from './agent/tools/http-tool.ts';
import { shutdownError } from './calls/cancellation.ts';
import { openCallState } from './calls/open-call-state.ts';
import { LiveTurns } from './server/live-turns.ts';
import type { GatewayConfig } from './config/schema.ts';
import { resolveApiKeys, type ResolvedApiKeys } from './server/api-keys.ts';
import { BearerAuth } from './server/bearer-auth.ts';
import { ConnectionDrain } from './server/connection-drain.ts';
import { buildApp } from './server/build-app.ts';
import type { Readiness } from './server/routes/health.ts';
import { join, resolve } from 'node:path';
import { openRecordStore } from './store/open-store.ts';
import { ensurePrivateDir, restrictFiles, sqliteFiles } from './store/private-files.ts';
import { startRetention } from './store/retention.ts';
import type { RecordStore } from './store/turn-record.ts';
import { createLogger, type Logger } from './telemetry/logger.ts';
import { GatewayMetrics } from './telemetry/metrics.ts';
import { startTracing } from './telemetry/tracing.ts';
import { TurnTelemetry } from './telemetry/turn-telemetry.ts';

export interface StartGatewayOptions {
  config: GatewayConfig;
  /** PostgreSQL for records instead of SQLite (default: the DATABASE_URL variable). */
  databaseUrl?: string | undefined;
  /** Redis for state.store redis when state.url is unset (default: the REDIS_URL variable). */
  redisUrl?: string | undefined;
  /** Overrides config.server.port / host (0 picks a free port). */
  port?: number;
  host?: string;
  logger?: Logger;
}

export interface RunningGateway {
  /** e.g. http://127.0.0.1:8083 */
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  readonly apiKeys: ResolvedApiKeys;
  readonly adminKeys: ResolvedApiKeys;
  readonly logger: Logger;
  /** Where turn records go (undefined when records are off). */
  readonly records: RecordStore | undefined;
  /** Graceful: refuses new turns, lets running ones finish within the drain timeout, ends the rest cleanly. */
  close(drainTimeoutMs?: number): Promise<void>;
}

/** Builds everything from a validated config and starts listening. */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.server.logLevel });
  const { dataDir } = config.server;
  const sqlitePath = resolve(dataDir, config.records.sqliteFile);
  // Keys and records are private: fix the modes of what an older version left readable.
  ensurePrivateDir(dataDir);
  restrictFiles([join(dataDir, 'api-key'), join(dataDir, 'admin-key'), ...sqliteFiles(sqlitePath)]);
  const apiKeys = resolveApiKeys(config.server.apiKeys, dataDir);
  const adminKeys = resolveApiKeys(config.admin.apiKeys, dataDir, { file: 'admin-key', prefix: 'vlga-' });
  const agents = new AgentRegistry(config);
  const { state: calls, local, shared } = await openCallState({
    config,
    logger,
    redisUrl: 'redisUrl' in options ? options.redisUrl : process.env.REDIS_URL,
  });
  const turns = new LiveTurns(local.admission);
  const readiness: Readiness = { ready: false, sharedState: () => calls.sharedState };
  const records = config.records.enabled
    ? await openRecordStore({
        databaseUrl: 'databaseUrl' in options ? options.databaseUrl : process.env.DATABASE_URL,
        sqlitePath,
        queueSize: config.records.queueSize,
        batchSize: config.records.batchSize,
        flushIntervalMs: config.records.flushIntervalMs,
        limits: { maxTextChars: config.records.maxTextChars, maxToolRunsChars: config.records.maxToolRunsChars },
        logger,
      })
    : undefined;
  const stopRetention = records ? startRetention(records, config.records.retentionDays, logger) : undefined;
  const metrics = config.metrics.enabled ? new GatewayMetrics() : undefined;
  metrics?.trackRecordQueue(records);
  metrics?.trackCalls(local.registry);
  metrics?.trackSharedState(shared);
  const tracing = startTracing();
  const telemetry = new TurnTelemetry({ metrics, tracing, records, maskPhoneNumbers: config.privacy.maskPhoneNumbers });
  const app = buildApp({
    config,
    agents,
    calls,
    turns,
    auth: new BearerAuth(apiKeys.keys),
    adminAuth: new BearerAuth(adminKeys.keys),
    logger,
    readiness,
    telemetry,
    metrics,
    records,
  });

  const connections = new ConnectionDrain(app.server);

  const host = options.host ?? config.server.host;
  await app.listen({ port: options.port ?? config.server.port, host });
  readiness.ready = true;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? config.server.port);
  const displayHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${displayHost}:${port}`,
    port,
    app,
    apiKeys,
    adminKeys,
    logger,
    records,
    async close(drainTimeoutMs = config.server.drainTimeoutMs) {
      // Not ready at once, no new connections (load balancers move on); turns that still arrive on
      // open connections and running ones may finish within the drain.
      readiness.ready = false;
      const deadline = performance.now() + drainTimeoutMs;
      await connections.drain(drainTimeoutMs);
      await turns.drain(Math.max(0, deadline - performance.now()), shutdownError);
      await calls.close(shutdownError());
      await app.close();
      stopRetention?.();
      await Promise.all([agents.close(), closeHttpToolDispatcher(), records?.close(), tracing.shutdown()]);
    },
  };
}
