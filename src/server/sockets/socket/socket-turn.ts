import type { AgentConfig } from '../../../config/schema.ts';
import { runTurn } from '../../../agent/run-turn.ts';
import { turnLanguage } from '../../../agent/language/caller-language.ts';
import { PHRASES } from '../../../agent/language/phrases.ts';
import { callIdentity } from '../../../calls/call-identity.ts';
import { conversationOpening } from '../../../calls/conversation-opening.ts';
import { parseChatRequest } from '../../../protocol/chat-request.ts';
import { lastUserText, type ChatMessage } from '../../../protocol/chat-types.ts';
import { newCompletionId } from '../../../core/completion-id.ts';
import type { ExtendDataInput } from '../../../protocol/extend-data.ts';
import { toClientError } from '../../client-errors.ts';
import {
  admitTurn,
  assertAcceptingTurns,
  endTurn,
  recordCancellation,
  reportingObserver,
  resolveAgent,
  type TurnServices,
} from '../../platform-turn.ts';
import { TurnReport } from '../../../telemetry/turn-report.ts';
import type { SyntheticSource } from '../../../protocol/synthetic-traffic.ts';
import { socketSignalForm, type SocketSignal } from './socket-signals.ts';

/** The voice platforms that call over a WebSocket. */
export type SocketPlatformName = 'retell' | 'twilio';

/** One socket's call, as every turn of it is run. */
export interface SocketCall {
  readonly platform: SocketPlatformName;
  /** Who the platform proved to be (its secret, its signature): scopes the call as an API key does. */
  readonly keyId: string;
  readonly agentId: string;
  /** The call's data in the gateway's form (`extendData`): the call id, the numbers, userData. */
  readonly data: ExtendDataInput;
  /** Set when the upgrade request carried `x-vlg-synthetic` (our check or simulate): the call's turns are recorded as such. */
  readonly synthetic?: SyntheticSource | undefined;
}

export interface SocketTurnInput {
  /** The conversation, oldest first. */
  messages: ChatMessage[];
  /** The platform's turn order, when it has one (Retell's response_id). */
  sentenceId?: number | undefined;
  /** Aborted by a newer turn, the socket closing, or shutdown: the upstream stops at once. */
  controller: AbortController;
  /** Each piece of speakable text, as it comes. */
  onText(text: string): void;
}

export interface SocketTurnResult {
  /** What was said, as sent. */
  answer: string;
  /** The call ends or transfers once the answer is spoken. */
  signal: SocketSignal | undefined;
  /** The turn stopped early: a newer turn, the socket closed, or shutdown. */
  cancelled: boolean;
}

/**
 * One turn of a socket's call through the same pipeline, bookkeeping and record as an HTTP turn:
 * the platform's call data become `extendData`, the answer streams to `onText`, the end-call or
 * transfer comes back as a signal for the platform's own message. Throws when the turn could not
 * run or failed before a word was said; the socket then apologises (never closes: for Retell a
 * close is a hang-up).
 */
export async function runSocketTurn(services: TurnServices, call: SocketCall, input: SocketTurnInput): Promise<SocketTurnResult> {
  assertAcceptingTurns(services.turns);
  const request = parseChatRequest({
    model: call.agentId,
    stream: true,
    messages: input.messages,
    extendData: { ...call.data, sentenceId: input.sentenceId },
  });
  const agent = resolveAgent(services, request.model);
  const admitted = admitTurn(services, call.keyId);
  const ticket = admitted instanceof Promise ? await admitted : admitted;
  const { controller } = input;
  const report = new TurnReport(agent.id, agent.provider.name, request.call, true);
  report.platform = call.platform;
  report.synthetic = call.synthetic;
  report.id = newCompletionId();
  report.callerText = lastUserText(request.messages);
  services.turns.add(controller);
  const beginning = services.calls.beginTurn({
    id: callIdentity(call.keyId, request.call),
    controller,
    idleMs: agent.config.memory.idleMinutes * 60_000,
    sentenceId: request.call.sentenceId,
    opening: conversationOpening(request.messages),
    keepTranscript: agent.config.memory.mode === 'full',
  });
  const callTurn = beginning instanceof Promise ? await beginning : beginning;
  services.telemetry?.started(report);
  let signal: SocketSignal | undefined;
  let conversation: ChatMessage[] | undefined;
  try {
    const running = runTurn({
      agent,
      request,
      signal: controller.signal,
      logger: services.logger,
      callTurn,
      platform: { signalForm: () => socketSignalForm(call.platform, (decided) => (signal = decided)) },
      observer: reportingObserver(report),
    });
    conversation = running.conversation;
    for await (const part of running.parts) {
      // A newer turn owns the socket now: not a word more from this one.
      controller.signal.throwIfAborted();
      if (part.type === 'text') {
        report.text(part.text);
        input.onText(part.text);
      } else if (part.type === 'usage') report.usage = part.usage;
      else if (part.type === 'finish') report.finishReason = part.reason;
    }
    return { answer: report.answer, signal, cancelled: false };
  } catch (error) {
    if (controller.signal.aborted) {
      recordCancellation(report, controller.signal);
      return { answer: report.answer, signal: undefined, cancelled: true };
    }
    const failure = toClientError(error);
    // Words already said end the answer there; a turn that said nothing is the socket's to apologise for.
    if (report.answer !== '') {
      report.fail('upstream_broken', failure.code, failure.message);
      return { answer: report.answer, signal: undefined, cancelled: false };
    }
    report.fail('error', failure.code, failure.message, failure.status);
    throw failure;
  } finally {
    endTurn(services, { report, ticket, controller, callTurn, conversation });
  }
}

/** What the caller hears when a turn could not be answered: the agent's apology, in the turn's language. */
export function socketApology(agent: AgentConfig | undefined, messages: readonly ChatMessage[]): string {
  const language = turnLanguage(agent?.language ?? 'auto', lastUserText(messages));
  return agent?.onFailure.message ?? PHRASES[language].apology;
}
