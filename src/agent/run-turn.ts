import type { CallTurn } from '../calls/call-registry.ts';
import { endCallSchema } from '../config/schema.ts';
import type { ChatTurnRequest } from '../protocol/chat-request.ts';
import type { ChatMessage } from '../core/chat-types.ts';
import type { PartStream } from '../core/stream-part.ts';
import type { Logger } from 'pino';
import type { Agent } from './agent-registry.ts';
import type { SignalFormSource } from './call-control/signal-form.ts';
import { hideSignalFunctions } from './call-control/hide-signal-functions.ts';
import { lastUserText } from '../core/chat-types.ts';
import type { AttemptObserver } from '../resilience/provider-chain.ts';
import { apologizeOnFailure } from '../resilience/apologize-on-failure.ts';
import { withFiller } from '../resilience/filler.ts';
import { turnLanguage } from './language/caller-language.ts';
import { PHRASES } from './language/phrases.ts';
import { converse, type ToolRun } from './converse.ts';
import { buildPrompt } from './prompt/build-prompt.ts';
import { clientFunctionNames } from './tool-router.ts';
import { emitCallSignals } from './transforms/emit-call-signals.ts';
import { guardModelCommands, type ModelCommandEvent } from './transforms/guard-model-commands.ts';
import { speechStages } from './transforms/speech-stages.ts';

/** How an agent without an `endCall` section signals an end of call its engine decides on. */
const DEFAULT_END_CALL = endCallSchema.parse({ enabled: false });

export interface TurnInput {
  agent: Agent;
  request: ChatTurnRequest;
  signal: AbortSignal;
  logger: Logger;
  /** The call this turn belongs to, when the request names one (memory, barge-in). */
  callTurn?: CallTurn | undefined;
  observer?: TurnObserver;
  /** The platform that asked: how it is told to end or transfer the call. */
  platform: SignalFormSource;
}

/** What a turn reports as it runs (records, logs, metrics). */
export interface TurnObserver {
  onAttempt?: AttemptObserver;
  onToolRun?: (run: ToolRun) => void;
  /** Every provider failed and the caller heard an apology instead. */
  onApology?: (error: unknown) => void;
  onUpstreamWait?: (ms: number) => void;
  /** The turn ended or transferred the call: 'hangup' or 'transfer:<destination>'. */
  onSignal?: (signal: string) => void;
  /** The model wrote an IMS command (or called the workflow's hangup function) itself. */
  onModelCommand?: (event: ModelCommandEvent) => void;
  /** A filler phrase is being said because the answer is slow to start. */
  onFiller?: () => void;
}

/**
 * One conversational turn, prompt in, speakable parts out: prompt ▸ provider rounds (fallbacks,
 * reasoning stripped, tools run) ▸ model commands guarded ▸ apology if all failed ▸ filler ▸
 * speech shaping ▸ pronunciations ▸ digits (guarded again) ▸ call signals (whose farewells go
 * through the same speech stages).
 * Nothing runs until the stream is pulled; `signal` stops it all.
 */
export interface RunningTurn {
  parts: PartStream;
  /** The conversation before this turn's answer, for the call's memory. */
  conversation: ChatMessage[];
}

export function runTurn(input: TurnInput): RunningTurn {
  const { agent, callTurn, signal } = input;
  const observer = input.observer ?? {};
  const config = agent.config;
  // One language for everything the gateway says or writes for itself in this turn.
  const language = turnLanguage(config.language, lastUserText(input.request.messages));
  const phrases = PHRASES[language];
  const endCall = config.endCall ?? DEFAULT_END_CALL;
  const clientTools = input.request.params.tools;
  const form = input.platform.signalForm({
    endCall,
    offeredTools: clientFunctionNames(clientTools),
    clientTools: Array.isArray(clientTools) ? clientTools : undefined,
  });
  const request = hideSignalFunctions(input.request, form, config);
  const prompt = buildPrompt(config, request, callTurn?.call.transcript, language);
  const guard = (source: PartStream, honour: boolean): PartStream =>
    guardModelCommands(source, {
      honour,
      transfer: config.transfer,
      hangupFunctionName: endCall.hangupFunctionName,
      clientFunctions: clientFunctionNames(request.params.tools),
      onCommand: (event) => {
        const fields = { agent: agent.id, instanceId: request.call.instanceId, ...event };
        if (event.action === 'honoured') input.logger.info(fields, "a command the model wrote became the gateway's signal");
        else input.logger.warn(fields, 'a command the model wrote was taken out of its answer');
        observer.onModelCommand?.(event);
      },
    });
  let parts = converse({
    agent,
    router: agent.router,
    request,
    messages: prompt.messages,
    signal,
    logger: input.logger,
    language,
    keypad: form.keypad,
    ...(observer.onToolRun ? { onToolRun: observer.onToolRun } : {}),
    ...(observer.onAttempt ? { onAttempt: observer.onAttempt } : {}),
    ...(observer.onUpstreamWait ? { onUpstreamWait: observer.onUpstreamWait } : {}),
  });
  // Only the signal stage below may command the workflow.
  parts = guard(parts, config.commands.fromModel);
  parts = apologizeOnFailure(parts, {
    config: config.onFailure,
    defaultMessage: phrases.apology,
    signal,
    recordFailure: () => (callTurn ? ++callTurn.call.failedTurns : 1),
    recordSuccess: () => {
      if (callTurn) callTurn.call.failedTurns = 0;
    },
    onApology: observer.onApology ?? (() => {}),
  });
  if (config.filler.enabled) {
    const fillers = config.filler.phrases ?? phrases.filler;
    parts = withFiller(parts, config.filler.afterMs, fillers[Math.floor(Math.random() * fillers.length)]!, observer.onFiller);
  }
  const speech = speechStages(config.speech, language);
  // Shaping removes characters (`<**imsagent…` loses its `**`): what it joins is guarded too, never honoured.
  if (speech) parts = guard(speech(parts), false);
  if (agent.mayEndOrTransfer) {
    parts = emitCallSignals(
      parts,
      { ...endCall, farewell: endCall.farewell ?? phrases.farewell },
      config.transfer,
      form,
      observer.onSignal,
      speech,
    );
  }
  return { parts, conversation: prompt.conversation };
}
