import type { EndCallConfig, TransferConfig, TransferDestination } from '../../config/schema.ts';
import type { DigitsPart, EndCallPart, PartStream, PartTransform, TransferPart } from '../../core/stream-part.ts';
import { keyPressDrop, keypadCarries, type KeyPressDropEvent } from '../call-control/press-digits.ts';
import type { CallSignalForm } from '../call-control/signal-form.ts';
import { PhraseJoiner } from '../../text/phrase-joiner.ts';
import { spokenText } from './speech-stages.ts';

export interface CallSignalOptions {
  /** The agent's `endCall` section with its farewell decided (configured, or the language's default). */
  endCall: EndCallConfig & { farewell: string };
  transfer: TransferConfig | undefined;
  /** How the platform is told. */
  form: CallSignalForm;
  onSignal?: ((signal: string) => void) | undefined;
  /** The speech stages the answer went through. */
  speech?: PartTransform | undefined;
  /** A key press the model asked for and this stage did not make (no keypad, too much for it, the call ended). */
  onKeyPressDropped?: ((event: KeyPressDropEvent) => void) | undefined;
}

/** The call-signal stage of a turn: the only one that emits the platform's commands. */
export function emitSignals(options: CallSignalOptions): PartTransform {
  return (parts) =>
    emitCallSignals(parts, options.endCall, options.transfer, options.form, options.onSignal, options.speech, options.onKeyPressDropped);
}

/**
 * Turns `end-call` / `transfer` parts into what the platform acts on (its `form`: for IMS a
 * hangup tool call matched by the FunctionMap or the `<imsagent_hangup/>` command, and the
 * `<imsagent_transfer_call/>` command), after everything else the turn said.
 * A call that ends without a word gets the configured farewell, so it never ends in silence.
 * Everything the gateway says here (farewell, endword, transfer messages) goes through `speech`,
 * the stages the answer went through, so it is spoken as the model's text is; a farewell after
 * words is joined to them as the script needs (a space in English, none in Chinese).
 * `endCall.farewell` is the configured one or the default in the turn's language.
 * A `digits` part becomes the platform's key press when nothing ends or transfers the call and
 * its keypad carries the keys; otherwise nothing is pressed, and `onKeyPressDropped` is told why.
 */
export async function* emitCallSignals(
  parts: PartStream,
  endCall: EndCallConfig & { farewell: string },
  transfer: TransferConfig | undefined,
  form: CallSignalForm,
  onSignal?: (signal: string) => void,
  speech?: PartTransform,
  onKeyPressDropped?: (event: KeyPressDropEvent) => void,
): PartStream {
  let spoke = false;
  const joiner = new PhraseJoiner();
  const say = (phrase: string): string => joiner.phrase(phrase);
  let ending: EndCallPart | undefined;
  let transferring: TransferPart | undefined;
  let pressing: DigitsPart | undefined;
  for await (const part of parts) {
    switch (part.type) {
      case 'text':
        if (!spoke && part.text.trim() !== '') spoke = true;
        joiner.text(part.text);
        yield part;
        break;
      case 'end-call':
        ending ??= part;
        break;
      case 'transfer':
        transferring ??= part;
        break;
      case 'digits':
        pressing ??= part;
        break;
      case 'finish': {
        const destination = transferring && transfer?.destinations[transferring.destination];
        // A press in a turn that ends or transfers the call is intended to go: counted on its own.
        if (pressing && (destination || ending)) onKeyPressDropped?.(keyPressDrop('call_ended', pressing.digits));
        if (destination) {
          onSignal?.(`transfer:${transferring!.destination}`);
          yield* form.transfer(await spokenDestination(destination, speech), say);
        } else if (ending) {
          onSignal?.('hangup');
          // A farewell that says nothing once spoken counts as none.
          const own = ending.farewell === undefined ? '' : await spokenPhrase(speech, ending.farewell);
          const farewell = own !== '' || spoke ? own : await spokenPhrase(speech, endCall.farewell);
          yield* form.hangup(farewell, say);
        } else if (pressing && form.keypad && keypadCarries(form.keypad, pressing.digits)) {
          onSignal?.('digits');
          yield* form.keypad.press(pressing.digits);
        } else {
          if (pressing) onKeyPressDropped?.(keyPressDrop(form.keypad ? 'keypad_limit' : 'no_keypad', pressing.digits));
          yield part;
        }
        break;
      }
      default:
        yield part;
    }
  }
}

async function spokenDestination(destination: TransferDestination, speech: PartTransform | undefined): Promise<TransferDestination> {
  const { msg, errMsg } = destination;
  return {
    ...destination,
    ...(msg === undefined ? {} : { msg: await spokenPhrase(speech, msg) }),
    ...(errMsg === undefined ? {} : { errMsg: await spokenPhrase(speech, errMsg) }),
  };
}

/** A phrase the gateway adds, as spoken: shaping may leave a space where an emoji was. */
async function spokenPhrase(speech: PartTransform | undefined, phrase: string): Promise<string> {
  return (await spokenText(speech, phrase)).trim();
}
