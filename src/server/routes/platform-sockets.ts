import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../../config/schema.ts';
import type { TurnServices } from '../platform-turn.ts';
import type { RefusalLog } from '../refusal-log.ts';
import { registerRetellSocket } from './retell-socket.ts';
import { registerTwilioSocket } from './twilio-socket.ts';

/** Whether any WebSocket platform is configured (the WebSocket server is only started then). */
export function hasPlatformSockets(config: GatewayConfig): boolean {
  return config.platforms.retell !== undefined || config.platforms.twilio !== undefined;
}

/** The routes of the configured WebSocket platforms; each answers with its own agent, else defaultAgent. */
export function registerPlatformSockets(
  app: FastifyInstance,
  config: GatewayConfig,
  services: TurnServices,
  refusals: RefusalLog | undefined,
): void {
  const { retell, twilio } = config.platforms;
  // The schema made sure each names an agent or has defaultAgent.
  const agentOf = (agent: string | undefined): string => agent ?? config.defaultAgent ?? '';
  if (retell) registerRetellSocket(app, { services, refusals, agentId: agentOf(retell.agent) }, retell);
  // Twilio sends only the newest words: the call's conversation is kept like call memory, as big at most.
  if (twilio)
    registerTwilioSocket(
      app,
      { services, refusals, agentId: agentOf(twilio.agent), maxHistoryBytes: config.calls.maxMemoryBytesPerCall },
      twilio,
    );
}

/**
 * On shutdown each socket is closed with 1012 (service restart), never 1000: Retell hangs up on
 * 1000, and reconnects after anything else. Turns have drained by then.
 */
export function closeForRestart(this: FastifyInstance, done: () => void): void {
  for (const client of this.websocketServer.clients) client.close(1012, 'restarting');
  this.websocketServer.close();
  done();
}
