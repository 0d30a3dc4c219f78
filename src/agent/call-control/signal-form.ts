import type { EndCallConfig, TransferDestination } from '../../config/schema.ts';
import type { StreamPart } from '../../core/stream-part.ts';

/**
 * How the turn's call signals reach the platform that asked. The agent decides an end of call or a
 * transfer; the platform (src/platforms/) says what that looks like on its wire. The types live
 * here, below the platforms, so the turn depends on them and not on any platform.
 */

/** Joins one of the gateway's phrases to what the turn already said (a space only where the script needs one). */
export type JoinPhrase = (phrase: string) => string;

/** What the signal form needs to know about the turn. */
export interface SignalContext {
  /** The agent's end-call settings (IMS reads `mode` and `hangupFunctionName`). */
  endCall: EndCallConfig;
  /** The function names the platform offered in the request's `tools`. */
  offeredTools: ReadonlySet<string>;
  /** The request's `tools` themselves, for a form that reads a function's definition (its argument names). */
  clientTools?: readonly unknown[] | undefined;
}

/**
 * How one platform is told to end or transfer the call (or press keys), after everything else the turn said.
 * Each returns the parts that close the stream, its `finish` included. Phrases arrive already
 * shaped for speech. A WebSocket platform's form may return the neutral `end-call` / `transfer`
 * parts themselves, for its session writer to put in its own message (Retell's `end_call`,
 * ConversationRelay's `end`).
 */
export interface CallSignalForm {
  /**
   * The platform's own functions that carry these signals (Vapi's `endCall`, ...). An agent that
   * decides a signal itself does not offer the model the platform's function for it too: one way
   * to end a call, with the agent's farewell rules and on the record.
   */
  readonly functions: { end?: string; transfer?: string; digits?: string };
  /** `farewell` may be empty; `say` joins a phrase to what the turn said before (never a space next to Chinese). */
  hangup(farewell: string, say: JoinPhrase): StreamPart[];
  transfer(destination: TransferDestination, say: JoinPhrase): StreamPart[];
  /** How the platform presses keypad keys; absent where it cannot, and the model is then not offered the function. */
  readonly keypad?: Keypad;
}

/** A platform's keypad: which key sequences it can carry, and how it is told to press them. */
export interface Keypad {
  /** Keys one turn can press, at most (Retell: one per response); unset: the agent's `maxDigits`. */
  readonly maxKeys?: number;
  /** It understands `w`, a half-second pause between keys. */
  readonly pauses: boolean;
  /** The parts that close the stream, `finish` included: the keys are pressed once what was said is spoken. */
  press(digits: string): StreamPart[];
}

/** Anything that can give the signal form for a turn: every platform adapter. */
export interface SignalFormSource {
  signalForm(context: SignalContext): CallSignalForm;
}
