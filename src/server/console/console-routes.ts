import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { GatewayConfig } from '../../config/schema.ts';
import { gatewayError } from '../../core/error-catalog.ts';
import { SYNTHETIC_HEADER } from '../../protocol/synthetic-traffic.ts';
import type { BearerAuth } from '../bearer-auth.ts';
import { SSE_HEADERS } from '../sse-headers.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { ConsoleSessions, SESSION_COOKIE, cookieValue } from './console-sessions.ts';
import type { LiveEvent, LiveFeed } from './live-feed.ts';
import { redactConfig } from './redact-config.ts';
import { SignInThrottle } from './sign-in-throttle.ts';

export interface ConsoleDeps {
  config: GatewayConfig;
  /** The admin keys: signing in takes one of them. */
  adminAuth: BearerAuth;
  /** One admin key, for the console's own calls to /admin (never sent to the page). */
  adminKey: string;
  live: LiveFeed;
  /** Where the playground's turns go (the chat listener), and the chat key they carry. */
  chatUrl: () => string;
  chatKey: string;
  logger: Logger;
}

/** The header every state-changing console request carries: a page of another origin cannot set it without CORS. */
const CSRF_HEADER = 'x-vlg-console';
const HEARTBEAT_MS = 15_000;
const WEB_DIR = new URL('./web/', import.meta.url);
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
/** No inline script, nothing from elsewhere but recordings' audio (IMS gives OSS URLs). */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' https: http:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const signInSchema = z.strictObject({ key: z.string().min(1).max(1000) });
const playgroundSchema = z.strictObject({
  model: z.string().min(1).max(200),
  messages: z.array(z.record(z.string(), z.unknown())).min(1).max(500),
  extendData: z.record(z.string(), z.unknown()).optional(),
});

/**
 * The operator's console at /console: static pages from ./web (plain ES modules, no build), chart.js
 * from node_modules, and /console/api/* behind a session cookie that POST /console/session gives
 * for an admin key. The page never holds a key: the admin API is reached through this server,
 * the playground's turns are sent by it with a chat key and marked `x-vlg-synthetic: console`.
 */
export function registerConsole(app: FastifyInstance, deps: ConsoleDeps): void {
  const sessions = new ConsoleSessions(deps.config.console.sessionTtlMinutes * 60_000);
  const throttle = new SignInThrottle({ maxFailures: 10, windowMs: 60_000 });
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(WEB_DIR)) files.set(name, readFileSync(new URL(name, WEB_DIR)));
  // The package exports no path to its browser bundle: it sits next to its main file.
  const chartJs = readFileSync(join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'));

  const sendFile = (reply: FastifyReply, name: string, body: Buffer) =>
    reply
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .type(TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream')
      .send(body);

  app.get('/console', async (_request, reply) => sendFile(reply, 'index.html', files.get('index.html')!));
  app.get('/console/vendor/chart.js', async (_request, reply) => sendFile(reply, 'chart.js', chartJs));
  app.get('/console/:file', async (request, reply) => {
    const { file } = request.params as { file: string };
    const body = files.get(file);
    if (!body) throw gatewayError('unknown_route', { consoleFile: file });
    return sendFile(reply, file, body);
  });

  app.post('/console/session', async (request, reply) => {
    checkCsrf(request);
    const retryAfterSeconds = throttle.retryAfterSeconds(request.ip);
    if (retryAfterSeconds > 0) {
      throw gatewayError('too_many_sign_ins', { retryAfterSeconds });
    }
    const parsed = signInSchema.safeParse(request.body);
    if (!parsed.success || !deps.adminAuth.accepts(parsed.data.key)) {
      throttle.failed(request.ip);
      deps.logger.warn({ ip: request.ip }, 'console sign-in refused (wrong admin key)');
      throw gatewayError('invalid_api_key', { realm: 'console', failure: parsed.success ? 'wrong_api_key' : 'missing_api_key' });
    }
    throttle.succeeded(request.ip);
    const token = sessions.create();
    reply.header('set-cookie', cookie(request, token, sessions.ttlSeconds)).header('cache-control', 'no-store');
    return { signedIn: true, expiresInSeconds: sessions.ttlSeconds };
  });

  app.delete('/console/session', async (request, reply) => {
    checkCsrf(request);
    sessions.delete(cookieValue(request.headers.cookie, SESSION_COOKIE));
    reply.header('set-cookie', cookie(request, '', 0));
    return { signedIn: false };
  });

  void app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => {
      reply.header('cache-control', 'no-store');
      if (request.method !== 'GET') checkCsrf(request);
      if (!sessions.valid(cookieValue(request.headers.cookie, SESSION_COOKIE))) {
        throw gatewayError('not_signed_in');
      }
    });

    scope.get('/console/api/me', async () => {
      const { config } = deps;
      return {
        agents: Object.keys(config.agents),
        // The function the workflow hangs up on, per agent (its FunctionMap), for the playground.
        hangupFunctions: Object.fromEntries(
          Object.entries(config.agents).map(([id, agent]) => [id, agent.endCall?.hangupFunctionName ?? 'hangup']),
        ),
        defaultAgent: config.defaultAgent ?? null,
        providers: Object.keys(config.providers),
        prices: config.console.prices,
        currency: config.console.currency,
        content: config.records.content,
        records: config.records.enabled,
      };
    });

    scope.get('/console/api/config', async () => redactConfig(deps.config));

    scope.get('/console/api/live', (_request, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { ...SSE_HEADERS, 'cache-control': 'no-store' });
      const send = (event: LiveEvent | { type: 'snapshot'; calls: unknown }) => res.write(`data: ${JSON.stringify(event)}\n\n`);
      send({ type: 'snapshot', calls: deps.live.snapshot() });
      const unsubscribe = deps.live.subscribe(send);
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      res.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
    });

    // The admin API, as the signed-in operator: the same routes, the same answers.
    for (const method of ['GET', 'DELETE'] as const) {
      scope.route({
        method,
        url: '/console/api/admin/*',
        handler: async (request, reply) => {
          // The raw path, still percent-encoded: an instance id holding "/" stays one segment.
          const url = request.url.slice('/console/api'.length);
          const answer = await app.inject({ method, url, headers: { authorization: `Bearer ${deps.adminKey}` } });
          return reply
            .code(answer.statusCode)
            .type(String(answer.headers['content-type'] ?? 'application/json'))
            .send(answer.body);
        },
      });
    }

    scope.post('/console/api/playground', (request, reply) => playgroundTurn(request, reply, deps));
  });
}

/**
 * One playground turn, sent to the chat API as the workflow would (streamed, with extendData),
 * and streamed back to the page as it comes. The page leaving (or barging in) aborts the turn.
 */
async function playgroundTurn(request: FastifyRequest, reply: FastifyReply, deps: ConsoleDeps): Promise<void> {
  const parsed = playgroundSchema.safeParse(request.body);
  if (!parsed.success) {
    throw gatewayError('invalid_request', { detail: parsed.error.issues[0]?.message ?? 'bad body', playground: true });
  }
  const controller = new AbortController();
  // The response closing before its end is the page leaving (a request's own 'close' fires as soon as its body is read).
  reply.raw.on('close', () => controller.abort());
  let upstream: Response;
  try {
    upstream = await fetch(`${deps.chatUrl()}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${deps.chatKey}`, [SYNTHETIC_HEADER]: 'console' },
      body: JSON.stringify({ ...parsed.data, stream: true, stream_options: { include_usage: true } }),
      signal: controller.signal,
    });
  } catch (error) {
    if (controller.signal.aborted) {
      reply.hijack();
      reply.raw.destroy();
      return;
    }
    throw gatewayError('playground_failed', { reason: (error as Error).message });
  }
  reply.hijack();
  const res = reply.raw;
  res.writeHead(upstream.status, {
    'content-type': upstream.headers.get('content-type') ?? 'application/json',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  try {
    for await (const chunk of upstream.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
  } catch {
    // The page left or barged in: the turn was aborted with it.
  }
  res.end();
}

function checkCsrf(request: FastifyRequest): void {
  if (request.headers[CSRF_HEADER] !== '1') {
    throw gatewayError('csrf', { header: CSRF_HEADER });
  }
}

function cookie(request: FastifyRequest, token: string, maxAgeSeconds: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}
