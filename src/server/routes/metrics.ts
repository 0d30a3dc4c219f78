import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../../core/gateway-error.ts';
import type { GatewayMetrics } from '../../telemetry/metrics.ts';

/**
 * `GET /metrics`: the Prometheus text exposition. With `apiKey` (blank means none) the scraper
 * must send `Authorization: Bearer <apiKey>`, compared in constant time on fixed-length digests;
 * otherwise a 401 in OpenAI's error shape (sent by the route itself, so it keeps that shape in any
 * app).
 */
export function registerMetrics(app: FastifyInstance, metrics: GatewayMetrics, apiKey?: string): void {
  const expected = apiKey ? digest(apiKey) : undefined;
  app.get('/metrics', async (request, reply) => {
    if (expected !== undefined) {
      const refusal = checkBearer(request.headers.authorization, expected);
      if (refusal !== undefined) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="metrics"')
          .type('application/json; charset=utf-8')
          .send(refusal.toBody());
      }
    }
    const text = await metrics.metricsText();
    return reply.header('cache-control', 'no-store').type(metrics.contentType).send(text);
  });
}

function checkBearer(header: string | undefined, expected: Buffer): GatewayError | undefined {
  if (header === undefined || header === '') {
    return unauthorized('Missing metrics key: send "Authorization: Bearer <key>".');
  }
  const presented = /^\s*Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (presented === undefined) return unauthorized('Malformed Authorization header: expected "Bearer <key>".');
  if (!timingSafeEqual(digest(presented), expected)) return unauthorized('Incorrect metrics key provided.');
  return undefined;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

function unauthorized(message: string): GatewayError {
  return new GatewayError(message, { status: 401, type: 'authentication_error', code: 'invalid_api_key' });
}
