import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkStreamRules } from '../../tools/check/stream-rules.ts';
import { ChunkEncoder } from '../../src/protocol/chunk-encoder.ts';

function events(sse: string): { chunks: unknown[]; sawDone: boolean } {
  const chunks: unknown[] = [];
  let sawDone = false;
  for (const block of sse.split('\n\n')) {
    if (block === '') continue;
    assert.ok(block.startsWith('data: '), `event ${block}`);
    const data = block.slice(6);
    if (data === '[DONE]') sawDone = true;
    else chunks.push(JSON.parse(data));
  }
  return { chunks, sawDone };
}

describe('ChunkEncoder', () => {
  it('writes a text stream that passes every strict-client rule', () => {
    const encoder = new ChunkEncoder('chatcmpl-x', 1700000000, 'support');
    const sse = encoder.text('Hel') + encoder.text('lo "there"\n') + encoder.finish('stop') + encoder.done();
    const { chunks, sawDone } = events(sse);
    assert.deepEqual(checkStreamRules(chunks, sawDone), []);
    assert.equal(chunks.length, 4);
    assert.deepEqual(chunks[0], {
      id: 'chatcmpl-x',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: 'support',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    });
    assert.deepEqual((chunks[2] as any).choices[0].delta, { content: 'lo "there"\n' });
    assert.deepEqual((chunks[3] as any).choices[0], { index: 0, delta: {}, finish_reason: 'stop' });
  });

  it('gives tool calls stable indexes in order of appearance, id/type/name on the first delta', () => {
    const encoder = new ChunkEncoder('id', 1, 'm');
    const sse =
      encoder.role() +
      encoder.toolCallStart('call_a', 'lookup') +
      encoder.toolCallStart('call_b', 'hangup') +
      encoder.toolCallDelta('call_b', '{}') +
      encoder.toolCallDelta('call_a', '{"order":') +
      encoder.toolCallDelta('call_a', '"42"}') +
      encoder.finish('tool_calls') +
      encoder.done();
    const { chunks, sawDone } = events(sse);
    assert.deepEqual(checkStreamRules(chunks, sawDone), []);
    const calls = chunks.slice(1, 6).map((c: any) => c.choices[0].delta.tool_calls[0]);
    assert.deepEqual(calls[0], { index: 0, id: 'call_a', type: 'function', function: { name: 'lookup', arguments: '' } });
    assert.deepEqual(calls[1], { index: 1, id: 'call_b', type: 'function', function: { name: 'hangup', arguments: '' } });
    assert.deepEqual(
      calls.slice(2).map((c: any) => [c.index, c.function.arguments]),
      [
        [1, '{}'],
        [0, '{"order":'],
        [0, '"42"}'],
      ],
    );
  });

  it('sends usage only in a final chunk with empty choices', () => {
    const encoder = new ChunkEncoder('id', 1, 'm');
    const sse =
      encoder.text('a') + encoder.finish('stop') + encoder.usage({ promptTokens: 3, completionTokens: 1, totalTokens: 4 }) + encoder.done();
    const { chunks, sawDone } = events(sse);
    assert.deepEqual(checkStreamRules(chunks, sawDone), []);
    assert.deepEqual((chunks.at(-1) as any).choices, []);
    assert.deepEqual((chunks.at(-1) as any).usage, { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 });
  });

  it('opens with the role chunk even when the first thing is the finish', () => {
    const encoder = new ChunkEncoder('id', 1, 'm');
    const { chunks, sawDone } = events(encoder.finish('stop') + encoder.done());
    assert.deepEqual(checkStreamRules(chunks, sawDone), []);
    assert.equal(chunks.length, 2);
  });
});

describe('checkStreamRules catches what strict clients reject', () => {
  const good = (over: Record<string, unknown> = {}, choice: Record<string, unknown> = {}) => ({
    id: 'a',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null, ...choice }],
    ...over,
  });
  it('reports each broken rule', () => {
    const rules = (chunks: unknown[], done = true) => checkStreamRules(chunks, done).map((v) => v.rule);
    assert.deepEqual(rules([good({}, { delta: { role: 'assistant' } }), good({}, { finish_reason: 'stop' })], false), ['done']);
    assert.ok(rules([good(), good({}, { finish_reason: 'stop' })]).includes('role-first'));
    assert.ok(rules([good({}, { delta: { role: 'assistant' } }), good({ id: 'b' }, { finish_reason: 'stop' })]).includes('stable-id'));
    assert.ok(rules([good({}, { delta: { role: 'assistant' } })]).includes('finish'));
    assert.ok(rules([good({}, { delta: { role: 'assistant' }, finish_reason: 'end' })]).includes('finish-reason'));
    assert.ok(
      rules([
        good({}, { delta: { role: 'assistant', tool_calls: [{ index: 0, function: { arguments: '{}' } }] } }),
        good({}, { finish_reason: 'tool_calls' }),
      ]).includes('tool-call-first-delta'),
    );
    assert.ok(
      rules([good({ usage: { total_tokens: 1 } }, { delta: { role: 'assistant' }, finish_reason: 'stop' })]).includes('usage-chunk'),
    );
  });
});
