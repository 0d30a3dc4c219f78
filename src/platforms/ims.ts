import { hangupCommand, transferCommand } from '../agent/call-control/ims-commands.ts';
import type { CallSignalForm, PlatformAdapter, SignalContext } from './platform-adapter.ts';
import { spokenAfter, STOP, toolCallEnding } from './signal-parts.ts';

/**
 * Alibaba Cloud IMS, the default: the body is already in the gateway's form (`extendData`).
 * An end of call is the FunctionMap's hangup tool call (`endCall.mode: tool`) or the
 * `<imsagent_hangup/>` command; a transfer is always the `<imsagent_transfer_call/>` command.
 */
export const imsPlatform: PlatformAdapter = {
  name: 'ims',
  toChatBody: (request) => ({ ...request.body }),
  signalForm: imsSignals,
};

function imsSignals({ endCall }: SignalContext): CallSignalForm {
  return {
    // The workflow offers no functions: its FunctionMap matches the name the gateway emits.
    functions: {},
    hangup: (farewell, say) =>
      endCall.mode === 'text'
        ? [{ type: 'text', text: hangupCommand(farewell) }, STOP]
        : [...spokenAfter(farewell, say), ...toolCallEnding(endCall.hangupFunctionName, {})],
    transfer: (destination) => [{ type: 'text', text: transferCommand(destination) }, STOP],
  };
}
