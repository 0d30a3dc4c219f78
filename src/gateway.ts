import type { FastifyInstance } from 'fastify';
import { AgentRegistry } from './agent/agent-registry.ts';
import { closeHttpToolDispatcher } from './agent/tools/http-tool.ts';
import { CallRegistry } from './calls/call-registry.ts';
import { shutdownError } from './calls/cancellation.ts';
import { AdmissionControl } from './server/admission.ts';
import { LiveTurns } from './server/live-turns.ts';
import type { GatewayConfig } from './config/schema.ts';
import { resolveApiKeys, type ResolvedApiKeys } from './server/api-keys.ts';
import { BearerAuth } from './server/bearer-auth.ts';
import { buildApp } from './server/build-app.ts';
import type { Readiness } from './server/routes/health.ts';
import { createLogger, type Logger } from './telemetry/logger.ts';

export interface StartGatewayOptions {
  config: GatewayConfig;
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
  readonly logger: Logger;
  /** Graceful: refuses new turns, lets running ones finish within the drain timeout, ends the rest cleanly. */
  close(drainTimeoutMs?: number): Promise<void>;
}

/** Builds everything from a validated config and starts listening. */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.server.logLevel });
  const apiKeys = resolveApiKeys(config.server.apiKeys, config.server.dataDir);
  const agents = new AgentRegistry(config);
  const calls = new CallRegistry();
  const turns = new LiveTurns(new AdmissionControl(config.server.limits));
  const readiness: Readiness = { ready: false };
  const app = buildApp({ server: config.server, agents, calls, turns, auth: new BearerAuth(apiKeys.keys), logger, readiness });

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
    logger,
    async close(drainTimeoutMs = config.server.drainTimeoutMs) {
      // Not ready at once (load balancers stop sending), no new turns, running ones may finish.
      readiness.ready = false;
      await turns.drain(drainTimeoutMs, shutdownError);
      calls.close(shutdownError());
      await app.close();
      await Promise.all([agents.close(), closeHttpToolDispatcher()]);
    },
  };
}
