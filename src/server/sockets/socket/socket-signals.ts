import type { TransferDestination } from '../../../config/schema.ts';
import type { CallSignalForm } from '../../../platforms/platform-adapter.ts';
import { spokenAfter, STOP } from '../../../platforms/signal-parts.ts';
import type { SocketPlatformName } from './socket-turn.ts';

/** What the agent decided about the call, for a platform that takes it as a field of its own message. */
export type SocketSignal = { kind: 'hangup' } | { kind: 'transfer'; destination: TransferDestination } | { kind: 'digits'; digits: string };

/** What each socket platform's keypad presses in one turn. */
const SOCKET_KEYPADS: Readonly<Record<SocketPlatformName, { maxKeys?: number; pauses: boolean }>> = {
  // One `digit_to_press` per response.
  retell: { maxKeys: 1, pauses: false },
  // `sendDigits` takes a sequence, `w` a half-second pause.
  twilio: { pauses: true },
};

/**
 * The signal form of a WebSocket platform: the farewell or the transfer message is said as text,
 * and the signal itself is handed to the socket (`onSignal`), which sends it in the platform's
 * own message (Retell's `end_call` / `transfer_number` / `digit_to_press`, Twilio's `end` /
 * `sendDigits`) once the words are out.
 * It is handed over before the stream's last part, so the socket knows it when the turn ends.
 */
export function socketSignalForm(platform: SocketPlatformName, onSignal: (signal: SocketSignal) => void): CallSignalForm {
  return {
    // The platform offers the model no functions of its own.
    functions: {},
    hangup: (farewell, say) => {
      onSignal({ kind: 'hangup' });
      return [...spokenAfter(farewell, say), STOP];
    },
    transfer: (destination, say) => {
      onSignal({ kind: 'transfer', destination });
      return [...spokenAfter(destination.msg, say), STOP];
    },
    keypad: {
      ...SOCKET_KEYPADS[platform],
      press: (digits) => {
        onSignal({ kind: 'digits', digits });
        return [STOP];
      },
    },
  };
}
