import { ImsSession, type ImsSessionOptions } from './ims-session.ts';
import type { SimulatedCall } from './simulated-call.ts';
import { simulateTurn, type SimulatorConnection } from './simulate-turn.ts';

/** A call held over HTTP, one request a turn: IMS, or an HTTP platform in its own shape (`connection.platform`). */
export function httpCall(sessionOptions: ImsSessionOptions, connection: SimulatorConnection): SimulatedCall {
  const session = new ImsSession(sessionOptions);
  return {
    platform: connection.platform?.platform,
    baseUrl: connection.baseUrl,
    model: session.model,
    instanceId: session.instanceId,
    channelId: session.channelId,
    historySyncTts: session.historySyncTts,
    events: [],
    describe: () =>
      `Simulated IMS call to ${connection.baseUrl} (model ${session.model})\ninstanceId ${session.instanceId} · channelId ${session.channelId}`,
    open: async () => ({ problems: [], warnings: [], fatal: false }),
    turn: (said, options) => simulateTurn(session, connection, said.say, options),
    history: () => session.messages(),
    close: async () => undefined,
  };
}
