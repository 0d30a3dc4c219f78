import type { TransferDestination } from '../../../config/schema.ts';
import type { CallSignalForm } from '../../../platforms/platform-adapter.ts';
import { spokenAfter, STOP } from '../../../platforms/signal-parts.ts';

/** What the agent decided about the call, for a platform that takes it as a field of its own message. */
export type SocketSignal = { kind: 'hangup' } | { kind: 'transfer'; destination: TransferDestination };

/**
 * The signal form of a WebSocket platform: the farewell or the transfer message is said as text,
 * and the signal itself is handed to the socket (`onSignal`), which sends it in the platform's
 * own message (Retell's `end_call` / `transfer_number`, Twilio's `end`) once the words are out.
 * It is handed over before the stream's last part, so the socket knows it when the turn ends.
 */
export function socketSignalForm(onSignal: (signal: SocketSignal) => void): CallSignalForm {
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
  };
}
