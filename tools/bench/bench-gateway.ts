/**
 * The real gateway as the measuring runs start it, on 127.0.0.1 with a fresh data folder (removed
 * on close). The bench's (`startBenchGateway`) runs as users run it: one openai-compatible provider
 * in front of the upstream, one agent (`bench`) with the defaults a deployment gets (speech shaping,
 * history, call memory, cancellation on barge-in), call records on in the default SQLite store in
 * the data folder (never PostgreSQL, whatever DATABASE_URL says), metrics on, and the log at info
 * (one line per turn) written to a file in the data folder by pino's own asynchronous destination,
 * as pino writes stdout in production. Only a fixed API key and admission limits above any
 * concurrency the bench asks for differ from the defaults. Tracing stays off unless the OTEL_*
 * variables turn it on, as for a user. The soak's sets its own providers, agents and log
 * (tools/soak/soak.ts).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayConfigSchema } from '../../src/config/schema.ts';
import { startGateway } from '../../src/gateway.ts';
import { pino } from 'pino';
import { createLogger, type LoggerSettings } from '../../src/telemetry/logger.ts';
import { BENCH_KEY, BENCH_MODEL } from './ipc.ts';

/** Streams in flight the bench gateway admits (the defaults would answer 429 above 500 per key). */
const BENCH_STREAM_LIMIT = 1 << 20;

export interface LocalGatewaySetup {
  /** The one key clients use. */
  apiKey: string;
  /** `server` settings besides the key, the data folder and the log level. */
  server?: Record<string, unknown>;
  /** The config's `providers` and `agents` (validated like a config file). */
  providers: Record<string, unknown>;
  agents: Record<string, unknown>;
  /** The config's `state` (call state shared through Redis); absent: in memory. */
  state?: Record<string, unknown>;
  logLevel: string;
  /** Where the log lines go; `file`: LOG_FILE in the data folder, written asynchronously. */
  log: NonNullable<LoggerSettings['destination']> | 'file';
  /** How long `close` lets running answers finish. */
  drainTimeoutMs: number;
}

export interface BenchGateway {
  /** Base URL ending in /v1. */
  readonly url: string;
  /** The HTTP server, for watching its connections. */
  readonly server: Server;
  /** What is on, in words (records, metrics, log), for the bench's header. */
  readonly setup: string;
  close(): Promise<void>;
}

const LOG_FILE = 'gateway.log';

export async function startLocalGateway(setup: LocalGatewaySetup): Promise<BenchGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vlg-bench-'));
  try {
    const config = gatewayConfigSchema.parse({
      server: { ...setup.server, apiKeys: [setup.apiKey], dataDir, logLevel: setup.logLevel },
      providers: setup.providers,
      agents: setup.agents,
      ...(setup.state ? { state: setup.state } : {}),
    });
    const logFile = setup.log === 'file' ? pino.destination({ dest: join(dataDir, LOG_FILE), sync: false }) : undefined;
    const logger = createLogger({
      level: setup.logLevel,
      destination: logFile ?? (setup.log as NonNullable<LoggerSettings['destination']>),
    });
    // databaseUrl given (as undefined): records stay in SQLite here even where DATABASE_URL is set.
    const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logger, databaseUrl: undefined });
    const words = [
      config.records.enabled ? `records on (SQLite ${config.records.sqliteFile} in a temporary data folder)` : 'records off',
      `metrics ${config.metrics.enabled ? 'on' : 'off'}`,
      `log at ${config.server.logLevel} ${logFile ? `to ${LOG_FILE} in the data folder (pino, asynchronous)` : 'to the caller'}`,
    ];
    return {
      url: `${gateway.url}/v1`,
      server: gateway.app.server,
      setup: words.join(', '),
      async close() {
        try {
          await gateway.close(setup.drainTimeoutMs);
          logFile?.end();
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** state.store redis: the Redis and the key prefix the bench's replicas share. */
export interface BenchSharedState {
  url: string;
  keyPrefix: string;
}

export function startBenchGateway(upstreamUrl: string, sharedState?: BenchSharedState): Promise<BenchGateway> {
  return startLocalGateway({
    ...(sharedState ? { state: { store: 'redis', ...sharedState } } : {}),
    apiKey: BENCH_KEY,
    server: { limits: { maxConcurrentStreams: BENCH_STREAM_LIMIT, maxConcurrentStreamsPerKey: BENCH_STREAM_LIMIT } },
    providers: { mock: { type: 'openai-compatible', baseUrl: upstreamUrl, apiKey: 'sk-bench-upstream' } },
    agents: { [BENCH_MODEL]: { provider: 'mock', model: 'mock' } },
    logLevel: 'info',
    log: 'file',
    drainTimeoutMs: 0,
  });
}
