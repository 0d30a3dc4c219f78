import type { Agent, AgentRegistry } from '../agent/agent-registry.ts';
import type { TurnObserver } from '../agent/run-turn.ts';
import type { CallTurn } from '../calls/call-registry.ts';
import type { CallState } from '../calls/call-state.ts';
import { cancellationKind, type CancellationKind } from '../calls/cancellation.ts';
import type { ChatMessage } from '../core/chat-types.ts';
import { errorStatus, gatewayError } from '../core/error-catalog.ts';
import { GatewayError } from '../core/gateway-error.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { TurnReport } from '../telemetry/turn-report.ts';
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

/** What the turn pipeline reports, kept on the turn's report; `onApology` adds what the transport does about an apology. */
export function reportingObserver(report: TurnReport, onApology?: () => void): TurnObserver {
  return {
    onAttempt: (event) => report.attempt(event),
    onToolRun: (run) => report.toolRun(run),
    onApology: (error) => {
      const failure = toClientError(error);
      report.fail('apologized', failure.code, failure.message);
      onApology?.();
    },
    onUpstreamWait: (ms) => (report.upstreamWaitMs += ms),
    onSignal: (signal) => (report.signal = signal),
    onModelCommand: (event) => report.modelCommands.push(event),
    onFiller: () => (report.fillerAt = performance.now()),
  };
}

/** Records why a cancelled turn stopped (the caller hung up, spoke again, or the gateway shut down). */
export function recordCancellation(report: TurnReport, signal: AbortSignal): CancellationKind {
  const cancelled = cancellationKind(signal.reason);
  const kind = cancelled ?? 'client_closed';
  report.fail(kind, kind, 'the turn was cancelled', cancelled === undefined ? undefined : errorStatus(cancelled));
  return kind;
}

export interface TurnEnding {
  report: TurnReport;
  ticket: AdmissionTicket;
  controller: AbortController;
  callTurn: CallTurn | undefined;
  /** The conversation before the answer, for the call's memory; undefined when this request ran no turn of its own. */
  conversation: ChatMessage[] | undefined;
}

/** The turn is over: the call remembers it, its slot is freed, and it is logged and recorded once. */
export function endTurn(services: TurnServices, ending: TurnEnding): void {
  const { report, callTurn } = ending;
  if (ending.conversation) callTurn?.remember(ending.conversation, report.answer);
  callTurn?.end();
  ending.ticket.release();
  services.turns.delete(ending.controller);
  logTurn(services.logger, report);
  services.telemetry?.ended(report);
}

function logTurn(logger: Logger, report: TurnReport): void {
  const fields = report.toLogFields();
  if (report.status === 'error' && report.httpStatus >= 500) logger.error(fields, 'turn failed');
  else if (report.status === 'upstream_broken') logger.warn(fields, 'turn cut short by the upstream');
  else if (report.status === 'apologized') logger.warn(fields, 'every provider failed; the caller heard an apology');
  else logger.info(fields, 'turn');
}
