import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from '../../telemetry/metrics.ts';
import { BearerAuth } from '../bearer-auth.ts';
import { sendError } from '../error-response.ts';

/**
 * `GET /metrics`: the Prometheus text exposition. With `apiKey` (blank means none) the scraper
 * must send `Authorization: Bearer <apiKey>` (checked by bearer-auth.ts); otherwise a 401 in
 * OpenAI's error shape (sent by the route itself, so it keeps that shape in any app).
 */
export function registerMetrics(app: FastifyInstance, metrics: GatewayMetrics, apiKey?: string): void {
  const auth = apiKey ? new BearerAuth([apiKey]) : undefined;
  app.get('/metrics', async (request, reply) => {
    if (auth !== undefined) {
      try {
        auth.verify(request.headers.authorization, 'metrics');
      } catch (error) {
        return sendError(reply.header('www-authenticate', 'Bearer realm="metrics"'), error);
      }
    }
    const text = await metrics.metricsText();
    return reply.header('cache-control', 'no-store').type(metrics.contentType).send(text);
  });
}
