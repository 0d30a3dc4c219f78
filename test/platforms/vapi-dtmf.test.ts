import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream, type MockUpstream } from '../../tools/testing/mock-upstream.ts';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.ts';
import { PlatformCaller, platformCalls } from '../support/platform-calls.ts';
import { PHONE_AGENT, phoneScenario } from '../support/phone-agent.ts';
import { fixture } from './fixtures.ts';

const DTMF = {
  type: 'function',
  function: {
    name: 'dtmf',
    description: 'Dial keypad digits.',
    parameters: { type: 'object', properties: { digits: { type: 'string' } } },
  },
};

const toolNames = (body: unknown) => ((body as { tools?: Array<{ function: { name: string } }> }).tools ?? []).map((t) => t.function.name);

describe('Vapi: the agent presses keys through the dtmf tool Vapi offers', () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;
  const base = fixture('vapi-variable') as Record<string, unknown> & { tools: unknown[] };
  const caller = (tools: unknown[]) =>
    new PlatformCaller(gateway.url, {
      ...platformCalls().find((call) => call.platform === 'vapi')!,
      base: '/vapi/v1',
      body: (messages) => ({ ...base, tools, messages }),
    });

  before(async () => {
    upstream = await startMockUpstream(phoneScenario);
    gateway = await startTestGateway({
      providers: { mock: { type: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-upstream-secret' } },
      agents: { support: { ...PHONE_AGENT, pressDigits: {} } },
    });
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  it("calls Vapi's dtmf with the keys; the model saw the agent's function instead", async () => {
    const seen = upstream.requests.length;
    const turn = await caller([...base.tools, DTMF]).say('For sales press 1');
    assert.equal(turn.text, 'Choosing that.');
    assert.deepEqual(turn.tool, { name: 'dtmf', arguments: '{"digits":"1"}' });
    assert.equal(turn.finishReason, 'tool_calls');
    const offered = toolNames(upstream.requests[seen]!.body);
    assert.ok(offered.includes('press_digits'));
    assert.ok(!offered.includes('dtmf'), "one way to press keys: Vapi's own function is not offered too");
  });

  it('without dtmf in the request: the function is not offered, and a call of it presses nothing', async () => {
    const seen = upstream.requests.length;
    const turn = await caller(base.tools).say('For sales press 1');
    assert.ok(!toolNames(upstream.requests[seen]!.body).includes('press_digits'));
    assert.equal(turn.text, 'Choosing that.');
    assert.equal(turn.tool.name, undefined);
    assert.equal(turn.finishReason, 'stop');
  });
});
