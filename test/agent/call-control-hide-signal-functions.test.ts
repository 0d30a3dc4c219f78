import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { agentConfigSchema } from '../../src/config/schema.ts';
import { parseChatRequest } from '../../src/protocol/chat-request.ts';
import { hideSignalFunctions } from '../../src/agent/call-control/hide-signal-functions.ts';
import { vapiPlatform } from '../../src/platforms/vapi.ts';
import { fixture } from '../platforms/fixtures.ts';
import { signalsWith } from '../platforms/mapping.ts';

const toolNames = (tools: unknown) => (tools as Array<{ function: { name: string } }> | undefined)?.map((tool) => tool.function.name);

describe('hideSignalFunctions', () => {
  const request = parseChatRequest(vapiPlatform.toChatBody({ headers: {}, body: fixture('vapi-variable') }));
  const form = signalsWith(vapiPlatform, ['endCall', 'transferCall']);

  it("hides the platform's function for each signal the agent decides itself", () => {
    const both = agentConfigSchema.parse({ provider: 'p', endCall: {}, transfer: { destinations: { sales: { callee: '1' } } } });
    const hidden = hideSignalFunctions(request, form, both);
    assert.equal(hidden.params.tools, undefined);
    assert.equal(toolNames(request.params.tools)?.length, 2, 'the request itself is not changed');

    const endOnly = agentConfigSchema.parse({ provider: 'p', endCall: {} });
    assert.deepEqual(toolNames(hideSignalFunctions(request, form, endOnly).params.tools), ['transferCall']);
  });

  it('keeps them all for an agent that decides no signal', () => {
    const plain = agentConfigSchema.parse({ provider: 'p' });
    assert.equal(hideSignalFunctions(request, form, plain), request);
  });
});
