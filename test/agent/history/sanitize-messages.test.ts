import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sanitizeMessages } from '../../../src/agent/history/sanitize-messages.ts';
import type { ChatMessage } from '../../../src/core/chat-types.ts';
import { deepFreeze, imsWindow, multimodalTurn, scriptMessages } from './ims-history.ts';

/** Builds a message with fields the ChatMessage type does not know, as a client may send them. */
function raw(fields: Record<string, unknown>): ChatMessage {
  return fields as unknown as ChatMessage;
}

describe('sanitizeMessages', () => {
  it('drops the fields a client added and keeps the ones an upstream accepts', () => {
    const input = deepFreeze([
      raw({ role: 'system', content: '你是宽带客服。', cache_control: { type: 'ephemeral' } }),
      raw({ role: 'user', content: '帮我查一下订单。', name: 'caller', audio: null, timestamp: 1718000000 }),
      raw({
        role: 'assistant',
        content: null,
        reasoning_content: '用户想查订单，调用 query_order。',
        refusal: null,
        tool_calls: [
          {
            index: 0,
            id: 'call_7f3a',
            type: 'function',
            function: { name: 'query_order', arguments: '{"phone":"13800000000"}', parsed: { phone: '13800000000' } },
          },
        ],
      }),
      raw({ role: 'tool', content: '{"status":"已发货"}', tool_call_id: 'call_7f3a', name: 'query_order', elapsedMs: 120 }),
    ]);

    assert.deepEqual(sanitizeMessages(input), [
      { role: 'system', content: '你是宽带客服。' },
      { role: 'user', content: '帮我查一下订单。', name: 'caller' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_7f3a', type: 'function', function: { name: 'query_order', arguments: '{"phone":"13800000000"}' } }],
      },
      { role: 'tool', content: '{"status":"已发货"}', tool_call_id: 'call_7f3a', name: 'query_order' },
    ]);
  });

  it('drops fields a role cannot carry: tool_call_id off tool messages, tool_calls off assistants, empty values', () => {
    const input = deepFreeze([
      raw({ role: 'user', content: '喂？', tool_call_id: 'call_1', tool_calls: [] }),
      raw({ role: 'assistant', content: '您好，请讲。', tool_calls: [], tool_call_id: 'call_1', name: '' }),
      raw({ role: 'assistant', content: '好的。', name: undefined }),
    ]);
    assert.deepEqual(sanitizeMessages(input), [
      { role: 'user', content: '喂？' },
      { role: 'assistant', content: '您好，请讲。' },
      { role: 'assistant', content: '好的。' },
    ]);
    for (const message of sanitizeMessages(input)) assert.deepEqual(Object.keys(message), ['role', 'content']);
  });

  it('gives missing content the value the API allows: null beside tool calls, "" elsewhere', () => {
    const call = { id: 'call_hangup', type: 'function', function: { name: 'hangup', arguments: '{}' } };
    const input = deepFreeze([
      raw({ role: 'user' }),
      raw({ role: 'assistant', tool_calls: [call] }),
      raw({ role: 'assistant', content: null }),
    ]);
    assert.deepEqual(sanitizeMessages(input), [
      { role: 'user', content: '' },
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'assistant', content: '' },
    ]);
  });

  it('returns clean messages of a 20-record IMS window as the same objects, in a new array', () => {
    const window = deepFreeze(imsWindow(scriptMessages(), multimodalTurn('你看我光猫上的灯是这样的吗？')));
    const clean = sanitizeMessages(window);
    assert.equal(clean.length, 20);
    assert.notEqual(clean, window);
    clean.forEach((message, i) => assert.equal(message, window[i], `message ${i} was copied`));
  });

  it('relays the content parts of a multimodal turn untouched while cleaning the message', () => {
    const turn = multimodalTurn('这个红灯是什么意思？');
    const input = deepFreeze([raw({ ...turn, id: 'msg_42', sentenceId: 3 })]);
    const [clean] = sanitizeMessages(input);
    assert.deepEqual(Object.keys(clean!), ['role', 'content']);
    assert.equal(clean!.content, input[0]!.content, 'the parts array must be the same one');
    assert.equal((clean!.content as unknown[]).length, 16);
  });
});
