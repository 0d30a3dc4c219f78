import type { AgentConfig } from '../../../config/schema.ts';
import { runTurn } from '../../../agent/run-turn.ts';
import { turnLanguage } from '../../../agent/language/caller-language.ts';
import { PHRASES } from '../../../agent/language/phrases.ts';
import type { Agent } from '../../../agent/agent-registry.ts';
import { parseChatRequest, type ChatTurnRequest } from '../../../protocol/chat-request.ts';
import { lastUserText, type ChatMessage } from '../../../core/chat-types.ts';
import { newCompletionId } from '../../../core/completion-id.ts';
import type { ExtendDataInput } from '../../../protocol/extend-data.ts';
import type { PartStream } from '../../../core/stream-part.ts';
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
} from '../../platform-turn.ts';
import type { TurnEnding } from '../../../telemetry/turn-outcome.ts';
import { TurnReport } from '../../../telemetry/turn-report.ts';
import type { SyntheticSource } from '../../../protocol/synthetic-traffic.ts';
import { toClientError } from '../../client-errors.ts';
import { writeAnswer } from '../../write-answer.ts';
import { SocketChannel } from './socket-channel.ts';
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
  const turn = await admitSocketTurn(services, call, input);
  let ending: TurnEnding;
  try {
    const { report, controller } = turn;
    const channel = new SocketChannel(report, controller.signal, input.onText);
    ending = await writeAnswer(runSocketAgent(turn, services), channel, { report, signal: controller.signal, toError: toClientError });
  } catch (error) {
    // The agent could not start: words already said end the answer there; none, and the socket apologises.
    ending = thrownEnding(error, turn.controller.signal, turn.report.answer !== '');
  }
  endTurn(services, turn, ending);
  if (ending.how === 'failed') throw ending.error;
  return { answer: turn.report.answer, signal: ending.how === 'finished' ? turn.signal : undefined, cancelled: ending.how === 'cancelled' };
}

/** A socket turn admitted: its request in the gateway's form, its agent, its report started. */
interface SocketTurn extends OpenTurn {
  readonly chat: ChatTurnRequest;
  readonly agent: Agent;
  /** The end-call or transfer the answer decided, for the platform's own message. */
  signal: SocketSignal | undefined;
}

async function admitSocketTurn(services: TurnServices, call: SocketCall, input: SocketTurnInput): Promise<SocketTurn> {
  assertAcceptingTurns(services.turns);
  const chat = parseChatRequest({
    model: call.agentId,
    stream: true,
    messages: input.messages,
    extendData: { ...call.data, sentenceId: input.sentenceId },
  });
  const agent = resolveAgent(services, chat.model);
  const admitted = admitTurn(services, call.keyId);
  const ticket = admitted instanceof Promise ? await admitted : admitted;
  const { controller } = input;
  const report = new TurnReport(agent.id, agent.provider.name, chat.call, true);
  report.platform = call.platform;
  report.synthetic = call.synthetic;
  report.id = newCompletionId();
  report.callerText = lastUserText(chat.messages);
  services.turns.add(controller);
  const beginning = beginCallTurn(services, agent, call.keyId, chat, controller);
  const callTurn = beginning instanceof Promise ? await beginning : beginning;
  services.telemetry?.started(report);
  return { chat, agent, report, ticket, controller, callTurn, conversation: undefined, signal: undefined };
}

/** Runs the agent on the turn (lazily: nothing runs until the parts are pulled). */
function runSocketAgent(turn: SocketTurn, services: TurnServices): PartStream {
  const running = runTurn({
    agent: turn.agent,
    request: turn.chat,
    signal: turn.controller.signal,
    logger: services.logger,
    callTurn: turn.callTurn,
    platform: { signalForm: () => socketSignalForm(turn.report.platform as SocketPlatformName, (decided) => (turn.signal = decided)) },
    observer: reportingObserver(turn.report),
  });
  turn.conversation = running.conversation;
  return running.parts;
}

/** What the caller hears when a turn could not be answered: the agent's apology, in the turn's language. */
export function socketApology(agent: AgentConfig | undefined, messages: readonly ChatMessage[]): string {
  const language = turnLanguage(agent?.language ?? 'auto', lastUserText(messages));
  return agent?.onFailure.message ?? PHRASES[language].apology;
}
