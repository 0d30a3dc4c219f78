import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Agent } from '../../agent/agent-registry.ts';
import { runTurn } from '../../agent/run-turn.ts';
import { cancellation, cancellationKind } from '../../calls/cancellation.ts';
import { parseChatRequest, type ChatTurnRequest } from '../../protocol/chat-request.ts';
import { lastUserText } from '../../core/chat-types.ts';
import { newCompletionId } from '../../core/completion-id.ts';
import { gatewayError } from '../../core/error-catalog.ts';
import { GatewayError } from '../../core/gateway-error.ts';
import type { PartStream } from '../../core/stream-part.ts';
import type { TurnEnding } from '../../telemetry/turn-outcome.ts';
import { TurnReport } from '../../telemetry/turn-report.ts';
import { toClientError } from '../client-errors.ts';
import {
  admitTurn,
  assertAcceptingTurns,
  beginCallTurn,
  endTurn,
  type OpenTurn,
  reportingObserver,
  resolveAgent,
  thrownEnding,
  type TurnServices,
} from '../platform-turn.ts';
import { REPLICA_HEADER, REPLICA_NAME } from '../../calls/replica-name.ts';
import { CompletionChannel } from '../completion-channel.ts';
import { SseChannel } from '../sse-channel.ts';
import { writeAnswer } from '../write-answer.ts';
import type { PlatformAdapter } from '../../platforms/platform-adapter.ts';
import { openRetryTurn, type RetryTurn, RetryTurns } from '../../platforms/retry-turns.ts';
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

/** One turn: admit the request, run the agent, write its answer, end the turn (its outcome, once). */
async function handleTurn(request: FastifyRequest, reply: FastifyReply, deps: ChatRouteDeps, platform: PlatformAdapter): Promise<void> {
  const turn = await admitChatTurn(request, reply, deps, platform);
  let ending: TurnEnding;
  try {
    ending = await writeChatAnswer(turn, runChatTurn(turn, deps), reply);
  } catch (error) {
    ending = thrownEnding(error, turn.controller.signal, false);
  }
  endChatTurn(deps, turn, ending);
  const refusal = errorResponse(ending, reply);
  if (refusal !== undefined) throw refusal;
}

/** A chat request admitted as a turn: what running, writing and ending it need. */
interface ChatTurn extends OpenTurn {
  readonly chat: ChatTurnRequest;
  readonly agent: Agent;
  readonly platform: PlatformAdapter;
  /** This request's part in a turn its platform may retry. */
  readonly retry: RetryTurn | undefined;
  readonly res: ServerResponse;
  /** Cancels the turn when its client goes; removed when the turn ends. */
  readonly onClose: () => void;
  /** The completion id sent to the client. */
  readonly id: string;
  readonly created: number;
}

/**
 * Admits the request as a turn: the body parsed (the platform's shape first), the agent, an
 * admission slot, the call's side of the turn (barge-in, memory), the report started.
 */
async function admitChatTurn(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: ChatRouteDeps,
  platform: PlatformAdapter,
): Promise<ChatTurn> {
  assertAcceptingTurns(deps.turns);
  let chat: ChatTurnRequest;
  try {
    chat = parseChatRequest(platformBody(platform, request), singleValues(request.query));
  } catch (error) {
    const field = error instanceof GatewayError ? extendDataField(error.param) : undefined;
    if (field !== undefined) deps.telemetry?.rejectedExtendData(field);
    throw error;
  }
  const agent = resolveAgent(deps, chat.model);
  if (chat.call.userDataInvalid) {
    deps.logger.warn({ instanceId: chat.call.instanceId, agent: agent.id }, 'extendData.userData is not valid JSON; kept as raw text');
  }

  const keyId = deps.keyIdOf(request);
  const admitted = admitTurn(deps, keyId);
  const ticket = admitted instanceof Promise ? await admitted : admitted;
  const report = new TurnReport(agent.id, agent.provider.name, chat.call, chat.stream);
  report.platform = platform.name;
  const controller = new AbortController();
  deps.turns.add(controller);
  const res = reply.raw;
  // The client hanging up (or the voice platform cutting the answer on barge-in) stops the upstream at once.
  const onClose = () => {
    if (!res.writableFinished) controller.abort(cancellation('client_closed'));
  };
  res.on('close', onClose);
  // A platform's retry joins the turn already answering it (no second run) and takes over from the request it retries.
  const retry = openRetryTurn(deps.retries, platform, request, keyId, controller.signal);
  report.retry = retry?.joined;
  const beginning = beginCallTurn(deps, agent, keyId, chat, controller);
  const callTurn = beginning instanceof Promise ? await beginning : beginning;

  const id = newCompletionId();
  report.id = id;
  report.callerText = lastUserText(chat.messages);
  report.synthetic = syntheticMarker(request.headers[SYNTHETIC_HEADER]);
  const traceparent = request.headers.traceparent;
  if (typeof traceparent === 'string') report.traceparent = traceparent;
  deps.telemetry?.started(report);
  const created = Math.floor(Date.now() / 1000);
  return { chat, agent, platform, retry, res, onClose, id, created, report, ticket, controller, callTurn, conversation: undefined };
}

/** Runs the agent on the turn (lazily: nothing runs until the parts are pulled); a retry shares the turn it joins. */
function runChatTurn(turn: ChatTurn, deps: ChatRouteDeps): PartStream {
  const { res, retry } = turn;
  const running = runTurn({
    agent: turn.agent,
    request: turn.chat,
    signal: retry?.signal ?? turn.controller.signal,
    logger: deps.logger,
    callTurn: turn.callTurn,
    platform: turn.platform,
    observer: reportingObserver(turn.report, () => {
      // Decided before the first byte unless a filler phrase was already said: `check` reads it.
      if (!res.headersSent) res.setHeader(OUTCOME_HEADER, 'apology');
    }),
  });
  turn.conversation = running.conversation;
  return retry?.share(running.parts) ?? running.parts;
}

/** Writes the answer as server-sent events or one completion; resolves to what ended the turn. */
function writeChatAnswer(turn: ChatTurn, parts: PartStream, reply: FastifyReply): Promise<TurnEnding> {
  const { chat, report, id, created } = turn;
  const signal = turn.controller.signal;
  if (!chat.stream) {
    const channel = new CompletionChannel({ id, created, model: chat.model, send: (completion) => reply.send(completion) });
    return writeAnswer(parts, channel, { report, signal, toError: toClientError });
  }
  reply.hijack();
  const channel = new SseChannel({ res: turn.res, id, created, model: chat.model, includeUsage: chat.includeUsage, signal, report });
  return writeAnswer(parts, channel, { report, signal, toError: toClientError });
}

function endChatTurn(deps: ChatRouteDeps, turn: ChatTurn, ending: TurnEnding): void {
  turn.res.off('close', turn.onClose);
  endTurn(deps, turn, ending);
}

/**
 * The error the client is sent instead of an answer (by the app's error handler), when nothing
 * was written yet: the failure, or the cancellation (a client that left is sent nothing).
 */
function errorResponse(ending: TurnEnding, reply: FastifyReply): unknown {
  if (reply.sent) return undefined;
  if (ending.how === 'failed') return ending.error;
  if (ending.how !== 'cancelled') return undefined;
  const kind = cancellationKind(ending.reason);
  return kind === 'superseded' || kind === 'shutdown' ? gatewayError(kind) : undefined;
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
