import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Agent, AgentRegistry } from '../../agent/agent-registry.ts';
import { runTurn } from '../../agent/run-turn.ts';
import { callIdentity } from '../../calls/call-identity.ts';
import type { CallState } from '../../calls/call-state.ts';
import { cancellationKind, clientClosedError } from '../../calls/cancellation.ts';
import { conversationOpening } from '../../calls/conversation-opening.ts';
import { parseChatRequest, type ChatTurnRequest } from '../../protocol/chat-request.ts';
import { lastUserText, type ChatMessage } from '../../protocol/chat-types.ts';
import { CompletionBuilder } from '../../protocol/completion-builder.ts';
import { newCompletionId } from '../../protocol/completion-id.ts';
import { GatewayError } from '../../protocol/gateway-error.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { TurnReport } from '../../telemetry/turn-report.ts';
import type { TurnTelemetry } from '../../telemetry/turn-telemetry.ts';
import { toClientError } from '../client-errors.ts';
import type { AdmissionTicket } from '../admission.ts';
import type { LiveTurns } from '../live-turns.ts';
import type { RefusalLog } from '../refusal-log.ts';
import { REPLICA_HEADER, REPLICA_NAME } from '../replica-name.ts';
import { writeStream } from '../write-stream.ts';
import { OUTCOME_HEADER, SYNTHETIC_HEADER, syntheticMarker } from '../../protocol/synthetic-traffic.ts';

export interface ChatRouteDeps {
  agents: AgentRegistry;
  calls: CallState;
  turns: LiveTurns;
  logger: Logger;
  onRequest: (request: FastifyRequest) => void;
  /** Which configured key the request authenticated with (an id, never the key). */
  keyIdOf: (request: FastifyRequest) => string;
  /** Metrics, traces and records of each turn. */
  telemetry?: TurnTelemetry;
  /** Logs (rate-limited) and counts requests refused as a setup mistake. */
  refusals?: RefusalLog;
}

/** `POST /chat/completions` and `POST /v1/chat/completions`: one conversational turn each. */
export function registerChatCompletions(app: FastifyInstance, deps: ChatRouteDeps): void {
  const handler = (request: FastifyRequest, reply: FastifyReply) => handleTurn(request, reply, deps);
  for (const url of ['/chat/completions', '/v1/chat/completions']) {
    app.post(url, {
      onRequest: async (request, reply) => {
        // On the raw response: streamed answers are written there (hijacked), errors through the reply.
        reply.raw.setHeader(REPLICA_HEADER, REPLICA_NAME);
        deps.onRequest(request);
      },
    }, handler);
  }
}

async function handleTurn(request: FastifyRequest, reply: FastifyReply, deps: ChatRouteDeps): Promise<void> {
  if (!deps.turns.acceptingTurns) {
    throw new GatewayError('The gateway is shutting down; try again.', {
      status: 503,
      type: 'server_error',
      code: 'shutting_down',
      retryAfterSeconds: 1,
    });
  }
  let turn: ChatTurnRequest;
  try {
    turn = parseChatRequest(request.body, singleValues(request.query));
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
  let ticket: AdmissionTicket;
  try {
    // The local state answers synchronously: no promise on its hot path.
    const admitted = deps.calls.admit(keyId);
    ticket = admitted instanceof Promise ? await admitted : admitted;
  } catch (error) {
    if (error instanceof GatewayError) deps.telemetry?.rejected(error.code);
    throw error;
  }
  const report = new TurnReport(agent.id, agent.provider.name, turn.call, turn.stream);
  const controller = new AbortController();
  deps.turns.add(controller);
  const res = reply.raw;
  // The client hanging up (or the voice platform cutting the answer on barge-in) stops the upstream at once.
  const onClose = () => {
    if (!res.writableFinished) controller.abort(clientClosedError());
  };
  res.on('close', onClose);
  const callId = callIdentity(keyId, turn.call);
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
      signal: controller.signal,
      logger,
      callTurn,
      observer: {
        onAttempt: (event) => report.attempt(event),
        onToolRun: (run) => report.toolRun(run),
        onApology: (error) => {
          const failure = toClientError(error);
          report.fail('apologized', failure.code, failure.message);
          // Decided before the first byte unless a filler phrase was already said: `check` reads it.
          if (!res.headersSent) res.setHeader(OUTCOME_HEADER, 'apology');
        },
        onUpstreamWait: (ms) => (report.upstreamWaitMs += ms),
        onSignal: (signal) => (report.signal = signal),
        onModelCommand: (event) => report.modelCommands.push(event),
      },
    });
    const { parts } = running;
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
      const kind = cancellationKind(controller.signal.reason) ?? 'client_closed';
      const reason = controller.signal.reason;
      report.fail(kind, kind, 'the turn was cancelled', reason instanceof GatewayError ? reason.status : undefined);
      if (kind !== 'client_closed' && !reply.sent) throw controller.signal.reason;
      return;
    }
    const clientError = toClientError(error);
    report.fail('error', clientError.code, clientError.message, clientError.status);
    throw clientError;
  } finally {
    if (conversation) callTurn?.remember(conversation, report.answer);
    callTurn?.end();
    ticket.release();
    deps.turns.delete(controller);
    res.off('close', onClose);
    logTurn(logger, report);
    deps.telemetry?.ended(report);
  }
}

/** The agent for the ModelId; an unknown one (no defaultAgent) is logged with the known ones. */
function resolveAgent(deps: ChatRouteDeps, model: string): Agent {
  try {
    return deps.agents.resolve(model);
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'model_not_found') {
      const known = deps.agents.ids().join(', ');
      deps.refusals?.refused(
        'unknown_model',
        `unknown ModelId "${model.slice(0, 100)}" and no defaultAgent: type one of the known models (${known}) into the console's ModelId, or set defaultAgent`,
        { model: model.slice(0, 100), known: deps.agents.ids() },
      );
    }
    throw error;
  }
}

function logTurn(logger: Logger, report: TurnReport): void {
  const fields = report.toLogFields();
  if (report.status === 'error' && report.httpStatus >= 500) logger.error(fields, 'turn failed');
  else if (report.status === 'upstream_broken') logger.warn(fields, 'turn cut short by the upstream');
  else if (report.status === 'apologized') logger.warn(fields, 'every provider failed; the caller heard an apology');
  else logger.info(fields, 'turn');
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
