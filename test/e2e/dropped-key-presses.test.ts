/**
 * A key press the model asks for that the gateway cannot make (IMS has no keypad; keys that are not
 * keys) presses nothing and reaches the workflow as nothing, but is logged and counted, so an
 * operator can tell why the agent "pressed" nothing.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkStreamRules } from '../../tools/check/stream-rules.ts';
import { startMockUpstream, toolCallEvents, type MockUpstream } from '../../tools/testing/mock-upstream.ts';
import { parsePrometheusText } from '../support/prometheus.ts';
import { imsRequest, readStream, startTestGateway, type ParsedStream, type TestGateway } from '../support/gateway-harness.ts';

function toolCallsOf(stream: ParsedStream): unknown[] {
  return stream.chunks.flatMap((c) => c.choices?.[0]?.delta?.tool_calls ?? []);
}

describe('a key press the gateway drops is logged and counted', () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;
  let callCounter = 0;

  before(async () => {
    upstream = await startMockUpstream();
    gateway = await startTestGateway({
      providers: { mock: { type: 'openai-compatible', baseUrl: upstream.url, retry: { maxRetries: 0 } } },
      agents: { menu: { provider: 'mock', model: 'm', pressDigits: {} } },
    });
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  async function turn(argumentsJson: string): Promise<{ stream: ParsedStream; instanceId: string }> {
    upstream.respondWith({
      events: toolCallEvents([{ name: 'press_digits', arguments: argumentsJson }], { leadingText: 'Sales, one moment.' }),
    });
    const instanceId = `keys-call-${++callCounter}`;
    const response = await gateway.post(
      '/v1/chat/completions',
      imsRequest('menu', 'sales please', { extendData: { instanceId, sentenceId: 1 } }),
    );
    assert.equal(response.status, 200);
    const stream = await readStream(response);
    assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
    return { stream, instanceId };
  }

  async function droppedMetric(): Promise<Record<string, number>> {
    const families = parsePrometheusText(await (await fetch(`${gateway.url}/metrics`)).text());
    const family = families.find((f) => f.name === 'vlg_key_presses_dropped_total');
    return Object.fromEntries((family?.metrics ?? []).map((m) => [`${m.labels!.agent}/${m.labels!.reason}`, Number(m.value)]));
  }

  it('IMS has no keypad: the function is not offered; a call of it anyway presses nothing, and is counted as no_keypad', async () => {
    const since = gateway.logs.length;
    const { stream, instanceId } = await turn('{"digits":"1"}');
    const body = upstream.requests.at(-1)!.body as { tools?: Array<{ function: { name: string } }> };
    const offered = body.tools ?? [];
    assert.ok(!offered.some((tool) => tool.function.name === 'press_digits'), 'not offered without a keypad');
    assert.equal(stream.text, 'Sales, one moment.');
    assert.deepEqual(toolCallsOf(stream), [], 'nothing reaches the workflow');
    assert.doesNotMatch(stream.text, /imsagent/i);
    assert.equal((await droppedMetric())['menu/no_keypad'], 1);

    const lines = gateway.logs.slice(since);
    const warning = lines.find((line) => line.msg === 'a key press the model asked for was dropped');
    assert.equal(warning?.agent, 'menu');
    assert.equal(warning?.instanceId, instanceId);
    assert.equal(warning?.reason, 'no_keypad');
    assert.equal(warning?.keys, '1');
    assert.equal(lines.find((line) => line.msg === 'turn')?.keyPressesDropped, 'no_keypad');
  });

  it('keys that are not keys are dropped at routing, counted as invalid_keys, the warning showing 32 characters at most', async () => {
    const since = gateway.logs.length;
    const { stream } = await turn(JSON.stringify({ digits: `sales ${'x'.repeat(100)}` }));
    assert.deepEqual(toolCallsOf(stream), []);
    const metric = await droppedMetric();
    assert.equal(metric['menu/invalid_keys'], 1);
    assert.equal(metric['menu/no_keypad'], 1, 'the first turn only: an invalid press never reaches the keypad check');
    const warning = gateway.logs.slice(since).find((line) => line.msg === 'a key press the model asked for was dropped');
    assert.equal(warning?.reason, 'invalid_keys');
    assert.equal(warning?.keys, `sales ${'x'.repeat(26)}`);
  });
});
