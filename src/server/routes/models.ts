import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AgentRegistry } from '../../agent/agent-registry.ts';

/** `GET /v1/models` and `GET /models`: the agents, by the ids a console's ModelId can name. */
export function registerModels(app: FastifyInstance, agents: AgentRegistry, onRequest: (request: FastifyRequest) => void): void {
  const created = Math.floor(Date.now() / 1000);
  const body = {
    object: 'list',
    data: agents.ids().map((id) => ({ id, object: 'model', created, owned_by: 'voice-llm-gateway' })),
  };
  for (const url of ['/models', '/v1/models']) {
    app.get(url, { onRequest: async (request) => onRequest(request) }, async () => body);
  }
}
