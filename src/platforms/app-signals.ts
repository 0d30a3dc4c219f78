import { offeredToolSignals } from './offered-tool-signals.ts';
import type { CallSignalForm, SignalContext } from './platform-adapter.ts';

/** The function an application offers in `tools` to be told to transfer the call. */
export const TRANSFER_FUNCTION = 'transfer_call';

/**
 * Platforms with no end-call or transfer signal of their own (TRTC, Volcengine, Agora, and the
 * frameworks whose application owns the pipeline): the application offers functions in `tools`
 * and the gateway calls them, `endCall.hangupFunctionName` (default `hangup`) with `{}` and
 * `transfer_call` with `{"callee", "caller"}`. Not offered: the words only (see offeredToolSignals).
 */
export function appSignals(context: SignalContext): CallSignalForm {
  return offeredToolSignals(
    {
      end: { name: context.endCall.hangupFunctionName, args: () => ({}) },
      transfer: {
        name: TRANSFER_FUNCTION,
        args: (destination) => ({
          callee: destination.callee,
          ...(destination.caller === undefined ? {} : { caller: destination.caller }),
        }),
      },
    },
    context,
  );
}
