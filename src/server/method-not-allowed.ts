import type { FastifyInstance, HTTPMethods } from 'fastify';
import { gatewayError } from '../core/error-catalog.ts';

const ALL_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** Answers 405 with an Allow header for every method a known path does not serve. */
export function registerMethodNotAllowed(app: FastifyInstance, url: string, allowed: readonly HTTPMethods[]): void {
  const served = new Set<HTTPMethods>(allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed);
  const others = ALL_METHODS.filter((method) => !served.has(method));
  const allow = [...served].join(', ');
  app.route({
    method: others,
    url,
    handler: async (request, reply) => {
      reply.header('allow', allow);
      throw gatewayError('method_not_allowed', { method: request.method, url, allowed });
    },
  });
}
