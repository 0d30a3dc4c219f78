import type { Agent, AgentRegistry } from '../agent/agent-registry.ts';
import type { TurnObserver } from '../agent/run-turn.ts';
import { callIdentity } from '../calls/call-identity.ts';
import type { CallTurn } from '../calls/call-registry.ts';
import type { CallState } from '../calls/call-state.ts';
import { conversationOpening } from '../calls/conversation-opening.ts';
import type { ChatMessage } from '../core/chat-types.ts';
import { gatewayError } from '../core/error-catalog.ts';
import { GatewayError } from '../core/gateway-error.ts';
import type { ChatTurnRequest } from '../protocol/chat-request.ts';
import { type Logger, turnLineLogger } from '../telemetry/logger.ts';
import { classifyTurn, type TurnEnding, type TurnStatus } from '../telemetry/turn-outcome.ts';
import { type FinishedTurn, type TurnReport, turnLogFields } from '../telemetry/turn-report.ts';
import type { TurnTelemetry } from './turn-telemetry.ts';
import type { AdmissionTicket } from '../calls/admission.ts';
import { toClientError } from './client-errors.ts';
import type { LiveTurns } from './live-turns.ts';
import type { RefusalLog } from './refusal-log.ts';

/**
 * The bookkeeping every turn shares, whichever transport brought it (the HTTP route, a platform's
 * WebSocket): admission, the agent, what the report is told as the turn runs, and how the turn
 * ends on the record (call memory, log line, metrics, trace, turn record).
 */
export interface TurnServices {
  agents: AgentRegistry;
  calls: CallState;
  turns: LiveTurns;
  logger: Logger;
  /** Metrics, traces and records of each turn. */
  telemetry?: TurnTelemetry | undefined;
  /** Logs (rate-limited) and counts requests refused as a setup mistake. */
  refusals?: RefusalLog | undefined;
}

/** Refuses a new turn while the gateway drains for shutdown. */
export function assertAcceptingTurns(turns: LiveTurns): void {
  if (turns.acceptingTurns) return;
  throw gatewayError('shutting_down');
}

/** The agent for the ModelId; an unknown one (no defaultAgent) is logged with the known ones. */
export function resolveAgent(services: TurnServices, model: string): Agent {
  try {
    return services.agents.resolve(model);
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'model_not_found') {
      const known = services.agents.ids().join(', ');
      services.refusals?.refused(
        'unknown_model',
        `unknown ModelId "${model.slice(0, 100)}" and no defaultAgent: type one of the known models (${known}) into the console's ModelId, or set defaultAgent`,
        { model: model.slice(0, 100), known: services.agents.ids() },
      );
    }
    throw error;
  }
}

/**
 * A stream slot for the key, or the 429 that admission control decided (counted). The local state
 * answers synchronously, so its hot path gains no promise; the shared one may answer later.
 */
export function admitTurn(services: TurnServices, keyId: string): AdmissionTicket | Promise<AdmissionTicket> {
  const counted = (error: unknown): never => {
    if (error instanceof GatewayError) services.telemetry?.rejected(error.code);
    throw error;
  };
  try {
    const admitted = services.calls.admit(keyId);
    return admitted instanceof Promise ? admitted.catch(counted) : admitted;
  } catch (error) {
    return counted(error);
  }
}

/**
 * The call's side of a new turn (memory, barge-in: a newer turn of the call supersedes the one
 * running); undefined for a request that names no call.
 */
export function beginCallTurn(
  services: TurnServices,
  agent: Agent,
  keyId: string,
  request: ChatTurnRequest,
  controller: AbortController,
): CallTurn | undefined | Promise<CallTurn | undefined> {
  const id = callIdentity(keyId, request.call);
  return services.calls.beginTurn({
    id,
    controller,
    idleMs: agent.config.memory.idleMinutes * 60_000,
    sentenceId: request.call.sentenceId,
    opening: id === undefined ? [] : conversationOpening(request.messages),
    keepTranscript: agent.config.memory.mode === 'full',
  });
}

/** What the turn pipeline reports, kept on the turn's report; `onApology` adds what the transport does about an apology. */
export function reportingObserver(report: TurnReport, onApology?: () => void): TurnObserver {
  return {
    onAttempt: (event) => report.attempt(event),
    onToolRun: (run) => report.toolRun(run),
    onApology: (error) => {
      report.apologized(toClientError(error));
      onApology?.();
    },
    onUpstreamWait: (ms) => (report.upstreamWaitMs += ms),
    onSignal: (signal) => (report.signal = signal),
    onModelCommand: (event) => report.modelCommand(event),
    onKeyPressDropped: (event) => report.keyPressDropped(event),
    onFiller: () => (report.fillerAt = performance.now()),
  };
}

/**
 * What ended a turn that threw: its signal's abort (the caller hung up, spoke again, or the
 * gateway shut down), else the error, which breaks the answer where it is once text was sent.
 */
export function thrownEnding(error: unknown, signal: AbortSignal, textSent: boolean): TurnEnding {
  if (signal.aborted) return { how: 'cancelled', reason: signal.reason };
  return { how: textSent ? 'broken' : 'failed', error: toClientError(error) };
}

/** A turn that was admitted and begun: what its end gives back. */
export interface OpenTurn {
  report: TurnReport;
  ticket: AdmissionTicket;
  controller: AbortController;
  callTurn: CallTurn | undefined;
  /** The conversation before the answer, for the call's memory; undefined when this request ran no turn of its own. */
  conversation: ChatMessage[] | undefined;
}

/**
 * The turn is over, the one place every transport ends it: its outcome is classified from what
 * ended it, the call remembers it, its slot is freed, and it is logged and recorded once.
 */
export function endTurn(services: TurnServices, turn: OpenTurn, ending: TurnEnding): FinishedTurn {
  const { report, callTurn } = turn;
  const finished = report.end(classifyTurn(ending, report.apology));
  if (turn.conversation) callTurn?.remember(turn.conversation, finished.answer);
  callTurn?.end();
  turn.ticket.release();
  services.turns.delete(turn.controller);
  logTurn(services.logger, finished);
  services.telemetry?.ended(finished);
  return finished;
}

function logTurn(logger: Logger, turn: FinishedTurn): void {
  const [level, message] = turnLine(turn.outcome.status, turn.outcome.httpStatus);
  // Below the log level the line's fields are not even built.
  if (!logger.isLevelEnabled(level)) return;
  turnLineLogger(logger)[level](turnLogFields(turn), message);
}

/** The turn line's level and message, by how the turn ended. */
function turnLine(status: TurnStatus, httpStatus: number): ['error' | 'warn' | 'info', string] {
  if (status === 'error' && httpStatus >= 500) return ['error', 'turn failed'];
  if (status === 'upstream_broken') return ['warn', 'turn cut short by the upstream'];
  if (status === 'apologized') return ['warn', 'every provider failed; the caller heard an apology'];
  return ['info', 'turn'];
}
