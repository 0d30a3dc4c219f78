import type { Logger } from 'pino';
import type { CallTurn } from '../calls/call-registry.ts';
import type { EndCallConfig } from '../config/schema.ts';
import { stage, stageList, type NamedStage } from '../core/pipe.ts';
import type { ChatTurnRequest } from '../protocol/chat-request.ts';
import { apologize } from '../resilience/apologize-on-failure.ts';
import { sayFiller } from '../resilience/filler.ts';
import type { Agent } from './agent-registry.ts';
import type { KeyPressDropEvent } from './call-control/press-digits.ts';
import type { CallSignalForm } from './call-control/signal-form.ts';
import type { CallerLanguage } from './language/caller-language.ts';
import { PHRASES } from './language/phrases.ts';
import type { TurnObserver } from './run-turn.ts';
import { clientFunctionNames } from './tool-router.ts';
import { emitSignals } from './transforms/emit-call-signals.ts';
import { guardCommands } from './transforms/guard-model-commands.ts';
import { speechStages } from './transforms/speech-stages.ts';

export interface TurnStageInput {
  agent: Agent;
  /** The request as the model sees it (the platform's signal functions hidden). */
  request: ChatTurnRequest;
  /** How the platform is told to end, transfer or press keys. */
  form: CallSignalForm;
  endCall: EndCallConfig;
  language: CallerLanguage;
  signal: AbortSignal;
  logger: Logger;
  callTurn?: CallTurn | undefined;
  observer: TurnObserver;
  /** Where a dropped key press is told (`keyPressDropReporter`), for an agent with a keypad function. */
  onKeyPressDropped?: ((event: KeyPressDropEvent) => void) | undefined;
}

/**
 * What the model's answer goes through on its way to the caller, in order; each entry is there
 * only when the agent's config asks for it:
 *
 * 1. model-command guard: the model's `<imsagent_…>` tags and unasked hangup-function calls out
 *    (honoured as the gateway's own signals with `commands.fromModel`);
 * 2. apology: every provider failed before a word, the caller hears an apology instead;
 * 3. filler: a short phrase while the answer is slow to start;
 * 4. speech: shaping, pronunciations, digits (`speechStages`);
 * 5. speech-joined command guard: shaping removes characters (`<**imsagent…` loses its `**`), so
 *    what it joins is guarded again, never honoured;
 * 6. call signals: `end-call` / `transfer` / `digits` in the platform's form, the only stage that
 *    commands the workflow (its farewells spoken through the same speech stages).
 */
export function turnStages(input: TurnStageInput): NamedStage[] {
  const { agent, request, callTurn, observer, endCall } = input;
  const config = agent.config;
  const phrases = PHRASES[input.language];
  const fillers = config.filler.phrases ?? phrases.filler;
  const speech = speechStages(config.speech, input.language);
  // One set for both guards.
  const clientFunctions = clientFunctionNames(request.params.tools);
  const guard = (honour: boolean) =>
    guardCommands({
      honour,
      transfer: config.transfer,
      hangupFunctionName: endCall.hangupFunctionName,
      clientFunctions,
      onCommand: (event) => {
        const fields = { agent: agent.id, instanceId: request.call.instanceId, ...event };
        if (event.action === 'honoured') input.logger.info(fields, "a command the model wrote became the gateway's signal");
        else input.logger.warn(fields, 'a command the model wrote was taken out of its answer');
        observer.onModelCommand?.(event);
      },
    });

  return stageList(
    stage('model-command guard', guard(config.commands.fromModel)),
    stage(
      'apology',
      apologize({
        config: config.onFailure,
        defaultMessage: phrases.apology,
        signal: input.signal,
        recordFailure: () => (callTurn ? ++callTurn.call.failedTurns : 1),
        recordSuccess: () => {
          if (callTurn) callTurn.call.failedTurns = 0;
        },
        onApology: observer.onApology ?? (() => {}),
      }),
    ),
    config.filler.enabled &&
      stage(
        'filler',
        sayFiller({
          afterMs: config.filler.afterMs,
          phrase: fillers[Math.floor(Math.random() * fillers.length)]!,
          onFiller: observer.onFiller,
        }),
      ),
    speech && stage('speech', speech),
    speech && stage('speech-joined command guard', guard(false)),
    agent.mayEndOrTransfer &&
      stage(
        'call signals',
        emitSignals({
          endCall: { ...endCall, farewell: endCall.farewell ?? phrases.farewell },
          transfer: config.transfer,
          form: input.form,
          onSignal: observer.onSignal,
          speech,
          onKeyPressDropped: input.onKeyPressDropped,
        }),
      ),
  );
}

/**
 * Where a dropped key press is told: a log line naming the call (a warning, unless the press lost to
 * the turn's own end of call, which is intended), then the observer (report, metrics).
 */
export function keyPressDropReporter(
  agentId: string,
  request: ChatTurnRequest,
  logger: Logger,
  observer: TurnObserver,
): (event: KeyPressDropEvent) => void {
  return (event) => {
    const fields = { agent: agentId, instanceId: request.call.instanceId, ...event };
    if (event.reason === 'call_ended') logger.info(fields, 'a key press the model asked for was not made: the turn ended the call');
    else logger.warn(fields, 'a key press the model asked for was dropped');
    observer.onKeyPressDropped?.(event);
  };
}
