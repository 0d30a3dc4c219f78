/**
 * The real gateway as the measuring runs start it, on 127.0.0.1 with a fresh data folder (removed
 * on close). The bench's (`startBenchGateway`): one openai-compatible provider in front of the
 * upstream, one agent (`bench`) with the defaults a deployment gets (speech shaping, history, call
 * memory, cancellation on barge-in), a fixed API key, admission limits above any concurrency the
 * bench asks for, and a log that goes nowhere (errors surface as failed streams). The soak's sets its
 * own providers, agents and log (tools/soak/soak.ts).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayConfigSchema } from '../../src/config/schema.ts';
import { startGateway } from '../../src/gateway.ts';
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
  /** Where the log lines go. */
  log: NonNullable<LoggerSettings['destination']>;
  /** How long `close` lets running answers finish. */
  drainTimeoutMs: number;
}

export interface BenchGateway {
  /** Base URL ending in /v1. */
  readonly url: string;
  /** The HTTP server, for watching its connections. */
  readonly server: Server;
  close(): Promise<void>;
}

export async function startLocalGateway(setup: LocalGatewaySetup): Promise<BenchGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vlg-bench-'));
  try {
    const config = gatewayConfigSchema.parse({
      server: { ...setup.server, apiKeys: [setup.apiKey], dataDir, logLevel: setup.logLevel },
      providers: setup.providers,
      agents: setup.agents,
      ...(setup.state ? { state: setup.state } : {}),
    });
    const logger = createLogger({ level: setup.logLevel, destination: setup.log });
    const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logger });
    return {
      url: `${gateway.url}/v1`,
      server: gateway.app.server,
      async close() {
        try {
          await gateway.close(setup.drainTimeoutMs);
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
    logLevel: 'warn',
    log: { write() {} },
    drainTimeoutMs: 0,
  });
}
