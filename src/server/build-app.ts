import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import type { AgentRegistry } from '../agent/agent-registry.ts';
import { callIdentity } from '../calls/call-identity.ts';
import type { CallState } from '../calls/call-state.ts';
import type { GatewayConfig } from '../config/schema.ts';
import type { RecordStore } from '../store/turn-record.ts';
import type { GatewayMetrics } from '../telemetry/metrics.ts';
import type { TurnTelemetry } from './turn-telemetry.ts';
import { registerAdminRoutes } from './routes/admin.ts';
import type { PhoneLookup } from '../store/phone-lookup.ts';
import { registerConsole, type ConsoleDeps } from './console/console-routes.ts';
import type { CallbackResult, OperationsMetrics } from '../telemetry/operations-metrics.ts';
import { registerImsCallbacks } from './routes/ims-callbacks.ts';
import { registerMetrics } from './routes/metrics-endpoint.ts';
import { gatewayError } from '../core/error-catalog.ts';
import type { GatewayError } from '../core/gateway-error.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { AuthFailure, BearerAuth } from './bearer-auth.ts';
import { toClientError } from './client-errors.ts';
import { rawErrorResponse, sendError } from './error-response.ts';
import type { LiveTurns } from './live-turns.ts';
import { registerMethodNotAllowed } from './method-not-allowed.ts';
import { registerChatCompletions } from './routes/chat-completions.ts';
import { registerHealth, type Readiness } from './routes/health.ts';
import { registerModels } from './routes/models.ts';
import { closeForRestart, hasPlatformSockets, registerPlatformSockets } from './routes/platform-sockets.ts';
import { RefusalLog } from './refusal-log.ts';
import { unknownRouteHint } from './route-hint.ts';
import { platformPaths, PLATFORMS } from '../platforms/platforms.ts';

/** Node's HTTP parser and timeout errors, answered before any route runs; anything else is malformed HTTP. */
const HTTP_CLIENT_ERRORS: Readonly<Record<string, () => GatewayError>> = {
  HPE_HEADER_OVERFLOW: () => gatewayError('headers_too_large'),
  ERR_HTTP_REQUEST_TIMEOUT: () => gatewayError('request_timeout'),
};

/** What the log says to do about each kind of 401. */
const AUTH_HINTS: Readonly<Record<AuthFailure, string>> = {
  missing_api_key: "no API key: fill in the console's API-KEY field with one of `server.apiKeys`",
  malformed_authorization: 'the Authorization header is not "Bearer <key>"',
  wrong_api_key: "wrong API key: the console's API-KEY must be one of `server.apiKeys`, not the model provider's key",
};

export interface AppDeps {
  config: GatewayConfig;
  agents: AgentRegistry;
  calls: CallState;
  turns: LiveTurns;
  auth: BearerAuth;
  adminAuth: BearerAuth;
  logger: Logger;
  readiness: Readiness;
  telemetry: TurnTelemetry;
  metrics: GatewayMetrics | undefined;
  records: RecordStore | undefined;
  /** Finds calls by a full phone number in the admin API (optional: without it, only the stored form matches). */
  phoneLookup?: PhoneLookup | undefined;
  /** The console's live view and its way to the chat API (absent: no console). */
  console?: Omit<ConsoleDeps, 'config' | 'adminAuth' | 'logger'>;
  /**
   * Which routes this app serves: 'public' the chat API, health and callbacks; 'management'
   * /admin, /metrics and /console (admin.listen); both when unset.
   */
  plane?: 'public' | 'management';
  operations?: OperationsMetrics;
}

/** The HTTP application: routes (at the root and under server.pathPrefix), auth, errors. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const server = deps.config.server;
  const { limits } = server;
  const app = Fastify({
    bodyLimit: server.bodyLimitBytes,
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
      void sendError(reply as unknown as FastifyReply, error);
    },
    // Malformed HTTP (oversized headers, invalid method or framing): answer in OpenAI shape and close.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return socket.destroy();
      const failure = HTTP_CLIENT_ERRORS[(error as NodeJS.ErrnoException).code ?? '']?.() ?? gatewayError('malformed_request');
      socket.end(rawErrorResponse(failure));
    },
  });
  app.server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  // Idle keep-alive connections hold a socket each: cap them all, counting what is turned away.
  app.server.maxConnections = limits.maxConnections;
  app.server.on('drop', () => deps.metrics?.countAdmissionRejection('too_many_connections'));
  // Only JSON bodies: a text/plain body is a client mistake worth a clear 415.
  app.removeContentTypeParser('text/plain');
  const refusals = new RefusalLog({ logger: deps.logger, count: (reason) => deps.metrics?.countRefusal(reason) });
  const keyIds = new WeakMap<FastifyRequest, string>();
  const authenticate = (request: FastifyRequest) => {
    const checked = deps.auth.check(request.headers.authorization);
    if (checked.failure !== undefined) {
      refusals.refused(checked.failure, AUTH_HINTS[checked.failure], { method: request.method, path: request.url.split('?')[0] });
      throw gatewayError('invalid_api_key', { realm: 'chat', failure: checked.failure });
    }
    keyIds.set(request, checked.keyId);
  };

  // Retell and Twilio call over a WebSocket; the server for it runs only when one is configured.
  const sockets = hasPlatformSockets(deps.config);
  if (sockets) void app.register(fastifyWebsocket, { options: { maxPayload: server.bodyLimitBytes }, preClose: closeForRestart });
  const routes = async (scope: FastifyInstance) => {
    registerChatCompletions(scope, {
      agents: deps.agents,
      calls: deps.calls,
      turns: deps.turns,
      logger: deps.logger,
      onRequest: authenticate,
      keyIdOf: (request) => keyIds.get(request) ?? 'anonymous',
      telemetry: deps.telemetry,
      refusals,
    });
    if (sockets)
      registerPlatformSockets(
        scope,
        deps.config,
        { agents: deps.agents, calls: deps.calls, turns: deps.turns, logger: deps.logger, telemetry: deps.telemetry, refusals },
        refusals,
      );
    registerModels(scope, deps.agents, authenticate);
    registerHealth(scope, deps.readiness);
    for (const url of ['/chat/completions', '/v1/chat/completions', ...PLATFORMS.flatMap(platformPaths)])
      registerMethodNotAllowed(scope, url, ['POST']);
    for (const url of ['/models', '/v1/models', '/healthz', '/readyz']) registerMethodNotAllowed(scope, url, ['GET']);
  };
  const publicPlane = deps.plane !== 'management';
  const managementPlane = deps.plane !== 'public';
  if (publicPlane) {
    void app.register(routes);
    if (server.pathPrefix) void app.register(routes, { prefix: server.pathPrefix });
    if (deps.records) {
      const { operations } = deps;
      const { calls, auth } = deps;
      registerImsCallbacks(app, {
        store: deps.records,
        token: deps.config.callbacks.token,
        logger: deps.logger,
        ...(operations ? { count: (result: CallbackResult) => operations.countCallback(result) } : {}),
        // The callback names no API key: the call ends under every key (a token-holder is the operator).
        onCallEnded: (instanceId) => {
          for (const keyId of auth.keyIds) {
            const id = callIdentity(keyId, { instanceId });
            if (id !== undefined) calls.endCall(id);
          }
        },
      });
    }
  } else {
    registerHealth(app, deps.readiness);
  }
  // Operator endpoints live at the root only.
  if (managementPlane && deps.metrics) registerMetrics(app, deps.metrics, deps.config.metrics.apiKey);
  if (managementPlane && deps.records) {
    const { turnsPerPage, maxTurnsPerPage } = deps.config.admin;
    registerAdminRoutes(app, {
      store: deps.records,
      auth: deps.adminAuth,
      turnPages: { turnsPerPage, maxTurnsPerPage },
      phoneLookup: deps.phoneLookup,
    });
  }
  if (managementPlane && deps.console && deps.config.console.enabled) {
    registerConsole(app, { ...deps.console, config: deps.config, adminAuth: deps.adminAuth, logger: deps.logger });
  }

  app.setNotFoundHandler(async (request) => {
    const path = request.url.split('?')[0] ?? '';
    const hint = unknownRouteHint(path);
    if (hint) refusals.refused('unknown_route', hint, { method: request.method, path: path.slice(0, 200) });
    throw gatewayError('unknown_route', { method: request.method, path, hint });
  });

  app.setErrorHandler(async (error, request, reply) => {
    const clientError = toClientError(error);
    // Only the unexpected is an error line; a 503 while draining or not ready is expected.
    if (clientError.status === 500) {
      deps.logger.error({ err: error, method: request.method, url: request.url }, 'request failed');
    }
    return sendError(reply, clientError);
  });
  return app;
}
