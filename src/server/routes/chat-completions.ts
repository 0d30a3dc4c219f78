import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { runTurn } from '../../agent/run-turn.ts';
import { callIdentity } from '../../calls/call-identity.ts';
import { cancellation } from '../../calls/cancellation.ts';
import { conversationOpening } from '../../calls/conversation-opening.ts';
import { parseChatRequest, type ChatTurnRequest } from '../../protocol/chat-request.ts';
import { lastUserText, type ChatMessage } from '../../core/chat-types.ts';
import { CompletionBuilder } from '../../protocol/completion-builder.ts';
import { newCompletionId } from '../../core/completion-id.ts';
import { gatewayError } from '../../core/error-catalog.ts';
import { GatewayError } from '../../core/gateway-error.ts';
import { TurnReport } from '../../telemetry/turn-report.ts';
import { toClientError } from '../client-errors.ts';
import {
  admitTurn,
  assertAcceptingTurns,
  endTurn,
  recordCancellation,
  reportingObserver,
  resolveAgent,
  type TurnServices,
} from '../platform-turn.ts';
import { REPLICA_HEADER, REPLICA_NAME } from '../../calls/replica-name.ts';
import { writeStream } from '../write-stream.ts';
import type { PlatformAdapter } from '../../platforms/platform-adapter.ts';
import { openRetryTurn, RetryTurns } from '../../platforms/retry-turns.ts';
import { DOUBLED_PATHS, detectPlatform, platformBody, platformPaths, platformRequest, PLATFORMS } from '../../platforms/platforms.ts';
import { OUTCOME_HEADER, SYNTHETIC_HEADER, syntheticMarker } from '../../protocol/synthetic-traffic.ts';

export interface ChatRouteDeps extends TurnServices {
  onRequest: (request: FastifyRequest) => void;
  /** Which configured key the request authenticated with (an id, never the key). */
  keyIdOf: (request: FastifyRequest) => string;
  /** Turns that platform retries join instead of running again (one per route registration by default). */
  retries?: RetryTurns;
}

/**
 * `POST /chat/completions` and `POST /v1/chat/completions`: one conversational turn each, from
 * the platform the request is recognised as (IMS by default); each platform's own routes under
 * its prefix (`/vapi/v1/chat/completions`, ...). See src/platforms/.
 */
export function registerChatCompletions(app: FastifyInstance, deps: ChatRouteDeps): void {
  deps = { ...deps, retries: deps.retries ?? new RetryTurns() };
  const onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
    // On the raw response: streamed answers are written there (hijacked), errors through the reply.
    reply.raw.setHeader(REPLICA_HEADER, REPLICA_NAME);
    deps.onRequest(request);
  };
  for (const url of ['/chat/completions', '/v1/chat/completions']) {
    app.post(url, { onRequest }, (request, reply) => handleTurn(request, reply, deps, detectPlatform(platformRequest(request))));
  }
  for (const platform of PLATFORMS) {
    for (const url of platformPaths(platform)) app.post(url, { onRequest }, (request, reply) => handleTurn(request, reply, deps, platform));
  }
  // The doubled path is a console mistake for IMS (a helpful 404), the guide's own address for Vapi.
  for (const url of DOUBLED_PATHS) {
    app.post(url, async (request, reply) => {
      const platform = detectPlatform(platformRequest(request));
      if (!platform.acceptsDoubledPath) return reply.callNotFound();
      await onRequest(request, reply);
      return handleTurn(request, reply, deps, platform);
    });
  }
}

async function handleTurn(request: FastifyRequest, reply: FastifyReply, deps: ChatRouteDeps, platform: PlatformAdapter): Promise<void> {
  assertAcceptingTurns(deps.turns);
  let turn: ChatTurnRequest;
  try {
    turn = parseChatRequest(platformBody(platform, request), singleValues(request.query));
  } catch (error) {
    const field = error instanceof GatewayError ? extendDataField(error.param) : undefined;
    if (field !== undefined) deps.telemetry?.rejectedExtendData(field);
    throw error;
  }
  const agent = resolveAgent(deps, turn.model);
  const { logger } = deps;
  if (turn.call.userDataInvalid) {
    logger.warn({ instanceId: turn.call.instanceId, agent: agent.id }, 'extendData.userData is not valid JSON; kept as raw text');
  }

  const keyId = deps.keyIdOf(request);
  const admitted = admitTurn(deps, keyId);
  const ticket = admitted instanceof Promise ? await admitted : admitted;
  const report = new TurnReport(agent.id, agent.provider.name, turn.call, turn.stream);
  report.platform = platform.name;
  const controller = new AbortController();
  deps.turns.add(controller);
  const res = reply.raw;
  // The client hanging up (or the voice platform cutting the answer on barge-in) stops the upstream at once.
  const onClose = () => {
    if (!res.writableFinished) controller.abort(cancellation('client_closed'));
  };
  res.on('close', onClose);
  const callId = callIdentity(keyId, turn.call);
  // A platform's retry joins the turn already answering it (no second run) and takes over from the request it retries.
  const retry = openRetryTurn(deps.retries, platform, request, keyId, controller.signal);
  report.retry = retry?.joined;
  const beginning = deps.calls.beginTurn({
    id: callId,
    controller,
    idleMs: agent.config.memory.idleMinutes * 60_000,
    sentenceId: turn.call.sentenceId,
    opening: callId === undefined ? [] : conversationOpening(turn.messages),
    keepTranscript: agent.config.memory.mode === 'full',
  });
  const callTurn = beginning instanceof Promise ? await beginning : beginning;

  const id = newCompletionId();
  report.id = id;
  report.callerText = lastUserText(turn.messages);
  report.synthetic = syntheticMarker(request.headers[SYNTHETIC_HEADER]);
  const traceparent = request.headers.traceparent;
  if (typeof traceparent === 'string') report.traceparent = traceparent;
  deps.telemetry?.started(report);
  const created = Math.floor(Date.now() / 1000);
  let conversation: ChatMessage[] | undefined;
  try {
    const running = runTurn({
      agent,
      request: turn,
      signal: retry?.signal ?? controller.signal,
      logger,
      callTurn,
      platform,
      observer: reportingObserver(report, () => {
        // Decided before the first byte unless a filler phrase was already said: `check` reads it.
        if (!res.headersSent) res.setHeader(OUTCOME_HEADER, 'apology');
      }),
    });
    const parts = retry?.share(running.parts) ?? running.parts;
    conversation = running.conversation;
    if (turn.stream) {
      reply.hijack();
      await writeStream(parts, {
        res,
        id,
        created,
        model: turn.model,
        includeUsage: turn.includeUsage,
        signal: controller.signal,
        report,
        toError: toClientError,
        onMidStreamFailure: (error) => {
          const failure = toClientError(error);
          report.fail('upstream_broken', failure.code, failure.message);
        },
      });
      return;
    }
    const builder = new CompletionBuilder();
    for await (const part of parts) {
      if (part.type === 'text') report.text(part.text);
      else if (part.type === 'usage') report.usage = part.usage;
      builder.add(part);
    }
    const completion = builder.build(id, created, turn.model);
    report.finishReason = completion.choices[0]!.finish_reason;
    await reply.send(completion);
  } catch (error) {
    if (controller.signal.aborted) {
      const kind = recordCancellation(report, controller.signal);
      if (kind !== 'client_closed' && !reply.sent) throw gatewayError(kind);
      return;
    }
    const clientError = toClientError(error);
    report.fail('error', clientError.code, clientError.message, clientError.status);
    throw clientError;
  } finally {
    res.off('close', onClose);
    endTurn(deps, { report, ticket, controller, callTurn, conversation });
  }
}

/** `instanceId` for the param `extendData.instanceId`; undefined for any other param. */
function extendDataField(param: string | null): string | undefined {
  const prefix = 'extendData.';
  return param?.startsWith(prefix) ? param.slice(prefix.length) : undefined;
}

/** Query parameters as plain strings (the first value of a repeated one). */
function singleValues(query: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (query === null || typeof query !== 'object') return out;
  for (const [key, value] of Object.entries(query)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[key] = first;
  }
  return out;
}
