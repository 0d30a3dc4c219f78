import type { TransferDestination } from '../config/schema.ts';
import type { CallSignalForm, SignalContext } from './platform-adapter.ts';
import { functionNameOf } from '../agent/tool-router.ts';
import { spokenAfter, STOP, toolCallEnding } from './signal-parts.ts';

/** A platform function that ends or transfers the call, and the arguments it takes. */
export interface SignalTool<T> {
  name: string;
  args: (value: T) => Record<string, unknown>;
}

export interface OfferedToolSpec {
  end: SignalTool<string>;
  transfer: SignalTool<TransferDestination>;
  /** The platform itself says `msg` when it transfers (it is an argument): not spoken as text too. */
  transferSpeaksMessage?: boolean;
  /** The platform's keypad function (Vapi's `dtmf`), its argument read from the offered definition. */
  keypad?: { name: string; pauses: boolean; args: (digits: string, offered: unknown) => Record<string, unknown> };
}

/**
 * Platforms that end or transfer a call on a streamed tool call of a function they offered in
 * `tools`. A function they did not offer would fail or be ignored, so without it the turn says
 * what it would have said and ends normally: a hangup speaks its farewell and leaves the call
 * open (the platform's own end-of-call settings apply); a transfer speaks `errMsg`, the message
 * for a transfer that could not be made, never a promise that is not kept.
 */
export function offeredToolSignals(spec: OfferedToolSpec, { offeredTools, clientTools }: SignalContext): CallSignalForm {
  const keypad = spec.keypad;
  const offeredKeypad =
    keypad && offeredTools.has(keypad.name) ? clientTools?.find((tool) => functionNameOf(tool) === keypad.name) : undefined;
  return {
    functions: { end: spec.end.name, transfer: spec.transfer.name, ...(keypad ? { digits: keypad.name } : {}) },
    // A keypad only where the platform offered its function: no key press it could not carry.
    ...(keypad && offeredKeypad !== undefined
      ? { keypad: { pauses: keypad.pauses, press: (digits: string) => toolCallEnding(keypad.name, keypad.args(digits, offeredKeypad)) } }
      : {}),
    hangup: (farewell, say) =>
      offeredTools.has(spec.end.name)
        ? [...spokenAfter(farewell, say), ...toolCallEnding(spec.end.name, spec.end.args(farewell))]
        : [...spokenAfter(farewell, say), STOP],
    transfer: (destination, say) => {
      if (!offeredTools.has(spec.transfer.name)) return [...spokenAfter(destination.errMsg, say), STOP];
      const said = spec.transferSpeaksMessage ? [] : spokenAfter(destination.msg, say);
      return [...said, ...toolCallEnding(spec.transfer.name, spec.transfer.args(destination))];
    },
  };
}
