import type { CallTurn } from '../calls/call-registry.ts';
import { endCallSchema } from '../config/schema.ts';
import type { ChatTurnRequest } from '../protocol/chat-request.ts';
import type { ChatMessage } from '../core/chat-types.ts';
import { pipe } from '../core/pipe.ts';
import type { PartStream } from '../core/stream-part.ts';
import type { Logger } from 'pino';
import type { Agent } from './agent-registry.ts';
import type { SignalFormSource } from './call-control/signal-form.ts';
import { hideSignalFunctions } from './call-control/hide-signal-functions.ts';
import { lastUserText } from '../core/chat-types.ts';
import type { AttemptObserver } from '../resilience/provider-chain.ts';
import { turnLanguage } from './language/caller-language.ts';
import { converse, type ToolRun } from './converse.ts';
import { buildPrompt } from './prompt/build-prompt.ts';
import { clientFunctionNames } from './tool-router.ts';
import type { KeyPressDropEvent } from './call-control/press-digits.ts';
import type { ModelCommandEvent } from './transforms/guard-model-commands.ts';
import { keyPressDropReporter, turnStages } from './turn-stages.ts';

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
  /** A key press the model asked for was not made (invalid keys, no keypad, too much for it, the call ended). */
  onKeyPressDropped?: (event: KeyPressDropEvent) => void;
  /** A filler phrase is being said because the answer is slow to start. */
  onFiller?: () => void;
}

/**
 * One conversational turn, prompt in, speakable parts out: the prompt, the model's rounds
 * (`converse`: its round list), then the turn's stages in order (`turnStages`: the list to read).
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
  const endCall = config.endCall ?? DEFAULT_END_CALL;
  const clientTools = input.request.params.tools;
  const form = input.platform.signalForm({
    endCall,
    offeredTools: clientFunctionNames(clientTools),
    clientTools: Array.isArray(clientTools) ? clientTools : undefined,
  });
  const request = hideSignalFunctions(input.request, form, config);
  const prompt = buildPrompt(config, request, callTurn?.call.transcript, language);
  const onKeyPressDropped = config.pressDigits ? keyPressDropReporter(agent.id, request, input.logger, observer) : undefined;
  const rounds = converse({
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
    ...(onKeyPressDropped ? { onKeyPressDropped } : {}),
  });
  const stages = turnStages({
    agent,
    request,
    form,
    endCall,
    language,
    signal,
    logger: input.logger,
    callTurn,
    observer,
    onKeyPressDropped,
  });
  return { parts: pipe(rounds, stages), conversation: prompt.conversation };
}
