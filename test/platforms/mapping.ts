import { parseChatRequest, type ChatTurnRequest } from '../../src/protocol/chat-request.ts';
import type { CallSignalForm, PlatformAdapter } from '../../src/platforms/platform-adapter.ts';
import { endCallSchema } from '../../src/config/schema.ts';
import { platformFixture } from './fixtures.ts';

/** A recorded request through an adapter into the gateway's ChatTurnRequest. */
export function mapFixture(platform: PlatformAdapter, name: string): ChatTurnRequest {
  return parseChatRequest(platform.toChatBody(platformFixture(name)));
}

/** The platform's signal form with these functions offered. */
export function signalsWith(platform: PlatformAdapter, offered: string[]): CallSignalForm {
  return platform.signalForm({ endCall: endCallSchema.parse({}), offeredTools: new Set(offered) });
}

/** The name and joined arguments of the tool call among `parts`. */
export function toolCallIn(parts: ReturnType<CallSignalForm['hangup']>): { name: string | undefined; args: string } {
  let name: string | undefined;
  let args = '';
  for (const part of parts) {
    if (part.type === 'tool-call-start') name = part.name;
    if (part.type === 'tool-call-delta') args += part.argumentsDelta;
  }
  return { name, args };
}
