import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { AgentRegistry } from '../agent/agent-registry.ts';
import type { CallRegistry } from '../calls/call-registry.ts';
import type { ServerConfig } from '../config/schema.ts';
import { GatewayError, openAIErrorBody } from '../protocol/gateway-error.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { BearerAuth } from './bearer-auth.ts';
import { toClientError } from './client-errors.ts';
import type { LiveTurns } from './live-turns.ts';
import { registerMethodNotAllowed } from './method-not-allowed.ts';
import { registerChatCompletions } from './routes/chat-completions.ts';
import { registerHealth, type Readiness } from './routes/health.ts';
import { registerModels } from './routes/models.ts';

export interface AppDeps {
  server: ServerConfig;
  agents: AgentRegistry;
  calls: CallRegistry;
  turns: LiveTurns;
  auth: BearerAuth;
  logger: Logger;
  readiness: Readiness;
}

/** The HTTP application: routes (at the root and under server.pathPrefix), auth, errors. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const { limits } = deps.server;
  const app = Fastify({
    bodyLimit: deps.server.bodyLimitBytes,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
    // A slow-drip client cannot hold a socket forever; long answers are not cut (the limit is on
    // receiving the request, not on streaming the response).
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: 0,
    // Node checks the request timeouts above on this interval (30 s by default).
    http: { connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs, limits.requestTimeoutMs) },
    // By the time the server closes, turns have drained: close every connection, idle or half-sent.
    forceCloseConnections: true,
    // Errors before routing (a path with broken percent-encoding) in OpenAI shape too.
    frameworkErrors: (error, _request, reply) => {
      const clientError = toClientError(error);
      void reply.code(clientError.status).type('application/json; charset=utf-8').send(clientError.toBody());
    },
    // Malformed HTTP (oversized headers, invalid method or framing): answer in OpenAI shape and close.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return socket.destroy();
      const tooLarge = (error as NodeJS.ErrnoException).code === 'HPE_HEADER_OVERFLOW';
      const status = tooLarge ? 431 : 400;
      const body = JSON.stringify(
        openAIErrorBody(
          tooLarge ? 'The request headers are too large.' : 'The HTTP request is malformed.',
          'invalid_request_error',
          tooLarge ? 'headers_too_large' : 'malformed_request',
        ),
      );
      socket.end(
        `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    },
  });
  app.server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  // Only JSON bodies: a text/plain body is a client mistake worth a clear 415.
  app.removeContentTypeParser('text/plain');
  const keyIds = new WeakMap<FastifyRequest, string>();
  const authenticate = (request: FastifyRequest) => {
    keyIds.set(request, deps.auth.verify(request.headers.authorization));
  };

  const routes = async (scope: FastifyInstance) => {
    registerChatCompletions(scope, {
      agents: deps.agents,
      calls: deps.calls,
      turns: deps.turns,
      logger: deps.logger,
      onRequest: authenticate,
      keyIdOf: (request) => keyIds.get(request) ?? 'anonymous',
    });
    registerModels(scope, deps.agents, authenticate);
    registerHealth(scope, deps.readiness);
    for (const url of ['/chat/completions', '/v1/chat/completions']) registerMethodNotAllowed(scope, url, ['POST']);
    for (const url of ['/models', '/v1/models', '/healthz', '/readyz']) registerMethodNotAllowed(scope, url, ['GET']);
  };
  void app.register(routes);
  if (deps.server.pathPrefix) void app.register(routes, { prefix: deps.server.pathPrefix });

  app.setNotFoundHandler(async (request) => {
    throw new GatewayError(`Unknown route ${request.method} ${request.url.split('?')[0]}. The chat endpoint is POST /v1/chat/completions.`, {
      status: 404,
      type: 'invalid_request_error',
      code: 'unknown_route',
    });
  });

  app.setErrorHandler(async (error, request, reply) => {
    const clientError = toClientError(error);
    if (clientError.status >= 500) {
      deps.logger.error({ err: error, method: request.method, url: request.url }, 'request failed');
    }
    if (clientError.retryAfterSeconds !== undefined) reply.header('retry-after', String(clientError.retryAfterSeconds));
    return reply.code(clientError.status).type('application/json; charset=utf-8').send(clientError.toBody());
  });
  return app;
}
