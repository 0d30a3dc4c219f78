/**
 * The real gateway as the bench runs it: one openai-compatible provider in front of the upstream,
 * one agent (`bench`) with the defaults a deployment gets (speech shaping, history, call memory,
 * cancellation on barge-in), a fixed API key, admission limits above any concurrency the bench
 * asks for, and a log that goes nowhere (errors surface as failed streams).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayConfigSchema } from '../config/schema.ts';
import { startGateway } from '../gateway.ts';
import { createLogger } from '../telemetry/logger.ts';
import { BENCH_KEY, BENCH_MODEL } from './ipc.ts';

/** Streams in flight the bench gateway admits (the defaults would answer 429 above 500 per key). */
const BENCH_STREAM_LIMIT = 1 << 20;

export interface BenchGateway {
  /** Base URL ending in /v1. */
  readonly url: string;
  close(): Promise<void>;
}

/** state.store redis: the Redis and the key prefix the bench's replicas share. */
export interface BenchSharedState {
  url: string;
  keyPrefix: string;
}

export async function startBenchGateway(upstreamUrl: string, sharedState?: BenchSharedState): Promise<BenchGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vlg-bench-'));
  try {
    const config = gatewayConfigSchema.parse({
      server: {
        apiKeys: [BENCH_KEY],
        dataDir,
        logLevel: 'warn',
        limits: { maxConcurrentStreams: BENCH_STREAM_LIMIT, maxConcurrentStreamsPerKey: BENCH_STREAM_LIMIT },
      },
      providers: { mock: { type: 'openai-compatible', baseUrl: upstreamUrl, apiKey: 'sk-bench-upstream' } },
      agents: { [BENCH_MODEL]: { provider: 'mock', model: 'mock' } },
      ...(sharedState ? { state: { store: 'redis', ...sharedState } } : {}),
    });
    const logger = createLogger({ level: 'warn', destination: { write() {} } });
    const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logger });
    return {
      url: `${gateway.url}/v1`,
      async close() {
        try {
          await gateway.close(0);
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
