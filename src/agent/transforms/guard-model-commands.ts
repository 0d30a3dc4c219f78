import type { TransferConfig } from '../../config/schema.ts';
import type { PartStream, PartTransform, StreamPart } from '../../core/stream-part.ts';
import { CommandScanner, scanWhole, type ScannedSegment } from '../call-control/command-scanner.ts';
import { parseCommand } from '../call-control/parse-command.ts';

/** An IMS command the model wrote (or was talked into writing), and what became of it. */
export interface ModelCommandEvent {
  /** `hangup_function`: a call of the workflow's hangup function the gateway did not decide on. */
  command: 'hangup' | 'transfer' | 'hangup_function' | 'other';
  /** removed: taken out, not acted on; honoured: turned into the gateway's own signal; refused: a transfer to a number not configured. */
  action: 'removed' | 'honoured' | 'refused';
  /** The configured destination an honoured transfer goes to. */
  destination?: string;
}

export interface CommandGuardOptions {
  /** `commands.fromModel`: the model's hangup and transfer commands become the gateway's own signals. */
  honour: boolean;
  /** Where an honoured transfer may go: only to a configured destination's number. */
  transfer: TransferConfig | undefined;
  /** The function the workflow hangs up on (the FunctionMap's MatchFunction). */
  hangupFunctionName: string;
  /** Functions the client offered in its own `tools`: calls of those are the client's business. */
  clientFunctions: ReadonlySet<string>;
  onCommand: (event: ModelCommandEvent) => void;
}

/** The model-command guard of a turn. */
export function guardCommands(options: CommandGuardOptions): PartTransform {
  return (parts) => guardModelCommands(parts, options);
}

/**
 * Only the gateway's own call-signal stage may command the workflow. The model's text can carry
 * `<imsagent_hangup/>` or `<imsagent_transfer_call/>` (a caller can talk it into that, a scripted
 * echo repeats the caller), and it can call the workflow's hangup function unasked: all of that is
 * taken out of the stream here, never spoken, and reported. With `honour`, a hangup becomes an
 * `end-call` part and a transfer to a configured destination's number a `transfer` part, so the
 * signal stage emits them and they are on the record like any other signal; a transfer anywhere
 * else is refused. Tags that only shape speech (`<No Interrupting>`, `{{emotion=…}}`) pass.
 */
export async function* guardModelCommands(parts: PartStream, options: CommandGuardOptions): PartStream {
  const scanner = new CommandScanner();
  const hangupName = options.hangupFunctionName.toLowerCase();
  // Made only when needed: an open stream holds each stage's state for its whole life.
  const clientFunctions =
    options.clientFunctions.size === 0 ? NO_NAMES : new Set([...options.clientFunctions].map((name) => name.toLowerCase()));
  /** Hangup-function calls taken out, by callId (made at the first). */
  let takenOut: Set<string> | undefined;
  let relayedCalls = 0;

  const decide = function* (segments: ScannedSegment[]): Generator<StreamPart> {
    for (const segment of segments) {
      if (segment.kind === 'text') yield { type: 'text', text: segment.text };
      else yield* act(segment.raw, segment.complete, options);
    }
  };

  for await (const part of parts) {
    switch (part.type) {
      case 'text':
        // Fast path: with nothing pending, a text without `<` can neither hold nor start a command.
        if (scanner.idle && !part.text.includes('<')) {
          if (part.text !== '') yield part;
          break;
        }
        yield* decide(scanner.push(part.text));
        break;
      case 'tool-call-start': {
        yield* decide(scanner.release());
        const name = part.name.trim().toLowerCase();
        if (name === hangupName && !clientFunctions.has(name)) {
          (takenOut ??= new Set()).add(part.callId);
          if (options.honour) {
            options.onCommand({ command: 'hangup_function', action: 'honoured' });
            yield { type: 'end-call' };
          } else {
            options.onCommand({ command: 'hangup_function', action: 'removed' });
          }
          break;
        }
        relayedCalls++;
        yield part;
        break;
      }
      case 'tool-call-delta':
      case 'tool-call-end':
        if (!takenOut?.has(part.callId)) yield part;
        break;
      case 'end-call':
        yield* decide(scanner.release());
        yield endCall(part.farewell === undefined ? '' : safeFarewell(part.farewell, options));
        break;
      case 'finish':
        yield* decide(scanner.end());
        // The model "stopped to call tools", but the only one was taken out: a plain stop.
        yield part.reason === 'tool_calls' && takenOut !== undefined && relayedCalls === 0 ? { type: 'finish', reason: 'stop' } : part;
        break;
      default:
        yield* decide(scanner.release());
        yield part;
    }
  }
}

const NO_NAMES: ReadonlySet<string> = new Set();

function* act(raw: string, complete: boolean, options: CommandGuardOptions): Generator<StreamPart> {
  const command = parseCommand(raw);
  if (!options.honour || !complete || command.kind === 'other') {
    options.onCommand({ command: command.kind, action: 'removed' });
    return;
  }
  if (command.kind === 'hangup') {
    options.onCommand({ command: 'hangup', action: 'honoured' });
    const endword = command.attributes.endword;
    yield endCall(endword === undefined ? '' : safeFarewell(endword, options));
    return;
  }
  const callee = command.attributes.callee?.trim();
  const destinations = options.transfer?.destinations ?? {};
  const destination = Object.keys(destinations).find((name) => callee !== undefined && destinations[name]!.callee.trim() === callee);
  if (destination === undefined) {
    options.onCommand({ command: 'transfer', action: 'refused' });
    return;
  }
  options.onCommand({ command: 'transfer', action: 'honoured', destination });
  yield { type: 'transfer', destination };
}

/** An end of call; with no farewell left, the signal stage says the configured one if nothing was said. */
function endCall(farewell: string): StreamPart {
  return farewell === '' ? { type: 'end-call' } : { type: 'end-call', farewell };
}

/** A model-written farewell is spoken by the signal stage after everything else: no command, no `<` in it. */
function safeFarewell(text: string, options: CommandGuardOptions): string {
  const scanned = scanWhole(text);
  for (const raw of scanned.commands) options.onCommand({ command: parseCommand(raw).kind, action: 'removed' });
  return scanned.text.replaceAll('<', '').trim();
}
