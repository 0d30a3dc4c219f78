import type { FastifyInstance } from 'fastify';
import { AgentRegistry } from './agent/agent-registry.ts';
import { closeHttpToolDispatcher } from './agent/tools/http-tool.ts';
import { cancellation } from './calls/cancellation.ts';
import { openCallState } from './calls/open-call-state.ts';
import { LiveTurns } from './server/live-turns.ts';
import type { GatewayConfig } from './config/schema.ts';
import { resolveApiKeys, type ResolvedApiKeys } from './server/api-keys.ts';
import { BearerAuth } from './server/bearer-auth.ts';
import { ConnectionDrain } from './server/connection-drain.ts';
import { buildApp } from './server/build-app.ts';
import type { Readiness } from './server/routes/health.ts';
import { join, resolve } from 'node:path';
import { readOrCreateSecret } from './store/generated-secret.ts';
import { openRecordStore } from './store/open-store.ts';
import { PhoneLookup } from './store/phone-lookup.ts';
import { ensurePrivateDir, restrictFiles, sqliteFiles } from './store/private-files.ts';
import { startRetention } from './store/retention.ts';
import type { RecordStore } from './store/turn-record.ts';
import { createLogger, type Logger } from './telemetry/logger.ts';
import { GatewayMetrics } from './telemetry/metrics.ts';
import { startTracing } from './telemetry/tracing.ts';
import { TurnTelemetry } from './server/turn-telemetry.ts';
import { LiveFeed } from './server/console/live-feed.ts';
import { OperationsMetrics } from './telemetry/operations-metrics.ts';
import type { CircuitState } from './providers/circuit-breaker.ts';
import { maskPhoneNumber } from './store/mask-phone-number.ts';

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
  /** Where /admin, /metrics and /console are: `url` unless admin.listen is set. */
  readonly managementUrl: string;
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

/** Where the generated secret of the phone lookup hashes is kept, when privacy.lookupKey is unset. */
const LOOKUP_KEY_FILE = 'lookup-key';

/** Builds everything from a validated config and starts listening. */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: logLevel(config.server.logLevel) });
  const { dataDir } = config.server;
  const sqlitePath = resolve(dataDir, config.records.sqliteFile);
  // Keys and records are private: fix the modes of what an older version left readable.
  ensurePrivateDir(dataDir);
  restrictFiles([join(dataDir, 'api-key'), join(dataDir, 'admin-key'), join(dataDir, LOOKUP_KEY_FILE), ...sqliteFiles(sqlitePath)]);
  const apiKeys = resolveApiKeys(config.server.apiKeys, dataDir);
  const adminKeys = resolveApiKeys(config.admin.apiKeys, dataDir, { file: 'admin-key', prefix: 'vlga-' });
  const agents = new AgentRegistry(config);
  const {
    state: calls,
    local,
    shared,
  } = await openCallState({
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
  const phoneLookup = records
    ? new PhoneLookup(config.privacy.lookupKey?.trim() || readOrCreateSecret(dataDir, LOOKUP_KEY_FILE, 'vlgl-').value)
    : undefined;
  if (records) readiness.records = () => records.ready();
  const stopRetention = records ? startRetention(records, config.records.retentionDays, logger) : undefined;
  const metrics = config.metrics.enabled ? new GatewayMetrics() : undefined;
  metrics?.trackRecordQueue(records);
  metrics?.trackCalls(local.registry);
  metrics?.trackSharedState(shared);
  const tracing = startTracing();
  const { maskPhoneNumbers } = config.privacy;
  const live = new LiveFeed({ mask: (value) => (value === undefined ? null : maskPhoneNumbers ? maskPhoneNumber(value) : value) });
  const operations = metrics
    ? new OperationsMetrics(metrics.registry, { recordsWritten: () => records?.written ?? 0, breakers: () => breakerStates(agents) })
    : undefined;
  const telemetry = new TurnTelemetry({
    metrics,
    tracing,
    records,
    maskPhoneNumbers,
    phoneLookup,
    content: config.records.content,
    // Nobody can watch with the console off: turns then skip the live view entirely.
    ...(config.console.enabled ? { live } : {}),
    ...(operations ? { operations } : {}),
  });
  let chatUrl = '';
  const appDeps = {
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
    phoneLookup,
    ...(operations ? { operations } : {}),
    console: { live, adminKey: adminKeys.keys[0]!, chatKey: apiKeys.keys[0]!, chatUrl: () => chatUrl },
  };
  const { listen } = config.admin;
  const app = buildApp(listen ? { ...appDeps, plane: 'public' } : appDeps);
  const managementApp = listen ? buildApp({ ...appDeps, plane: 'management' }) : undefined;

  const connections = new ConnectionDrain(app.server);

  const host = options.host ?? config.server.host;
  await app.listen({ port: options.port ?? config.server.port, host });
  const port = portOf(app, options.port ?? config.server.port);
  const url = `http://${displayHost(host)}:${port}`;
  chatUrl = url;
  const managementUrl = listen && managementApp ? await listenManagement(managementApp, listen) : url;
  readiness.ready = true;

  return {
    url,
    managementUrl,
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
      await turns.drain(Math.max(0, deadline - performance.now()), () => cancellation('shutdown'));
      await calls.close(cancellation('shutdown'));
      await Promise.all([app.close(), managementApp?.close()]);
      stopRetention?.();
      await Promise.all([agents.close(), closeHttpToolDispatcher(), records?.close(), tracing.shutdown()]);
    },
  };
}

async function listenManagement(app: FastifyInstance, listen: { host: string; port: number }): Promise<string> {
  await app.listen(listen);
  return `http://${displayHost(listen.host)}:${portOf(app, listen.port)}`;
}

function portOf(app: FastifyInstance, fallback: number): number {
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : fallback;
}

function displayHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
}

/** Each provider's breaker state (the worst, should two agents hold separate breakers for it). */
function breakerStates(agents: AgentRegistry): { provider: string; state: CircuitState }[] {
  const rank: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };
  const states = new Map<string, CircuitState>();
  for (const id of agents.ids()) {
    for (const target of agents.resolve(id).targets) {
      const known = states.get(target.provider.name);
      if (known === undefined || rank[target.breaker.state] > rank[known]) states.set(target.provider.name, target.breaker.state);
    }
  }
  return [...states].map(([provider, state]) => ({ provider, state }));
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** LOG_LEVEL from the environment wins over server.logLevel (debugging without editing the config). */
function logLevel(configured: (typeof LOG_LEVELS)[number]): (typeof LOG_LEVELS)[number] {
  const fromEnv = process.env.LOG_LEVEL?.trim().toLowerCase();
  return LOG_LEVELS.find((level) => level === fromEnv) ?? configured;
}
