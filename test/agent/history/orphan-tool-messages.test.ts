import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dropOrphanToolMessages } from '../../../src/agent/history/orphan-tool-messages.ts';
import type { ChatMessage, ToolCall } from '../../../src/core/chat-types.ts';
import { deepFreeze, IMS_WINDOW, imsWindow, scriptMessages } from './ims-history.ts';

function call(id: string, name: string, args: Record<string, unknown>): ToolCall {
  return { id, type: 'function', function: { name, arguments: JSON.stringify(args) } };
}

const outageCall = call('call_outage_1', 'query_outage', { area: '张江' });
const packCall = call('call_pack_1', 'grant_data_pack', { gb: 20, days: 7 });
const smsCall = call('call_sms_1', 'send_sms', { template: 'data_pack_granted' });

/**
 * A 20-record window of the broadband call with tool rounds. The window's first record is the
 * result of a call that fell out of the window; the last round's call was cut off before its
 * result came back.
 */
function toolWindow(): ChatMessage[] {
  const history: ChatMessage[] = [
    ...scriptMessages().slice(0, 4),
    {
      role: 'assistant',
      content: '我帮您查一下您所在区域的线路情况。',
      tool_calls: [call('call_area_0', 'query_outage', { area: '浦东' })],
    },
    { role: 'tool', tool_call_id: 'call_area_0', content: '{"outage":false}' },
    ...scriptMessages().slice(4, 12),
    { role: 'assistant', content: null, tool_calls: [outageCall] },
    { role: 'tool', tool_call_id: 'call_outage_1', content: '{"outage":true,"eta":"17:00"}' },
    { role: 'assistant', content: '检修计划在今天下午五点前完成。' },
    { role: 'user', content: '可以先给我开个流量包吗？' },
    { role: 'assistant', content: null, tool_calls: [packCall, smsCall] },
    { role: 'tool', tool_call_id: 'call_pack_1', content: '{"ok":true}' },
    { role: 'tool', tool_call_id: 'call_sms_1', content: '{"ok":true}' },
    { role: 'assistant', content: '已经为您开通了二十个G的流量包。' },
    { role: 'user', content: '短信收到了。顺便帮我预约师傅上门吧。' },
    { role: 'assistant', content: '好的，我来为您预约。', tool_calls: [call('call_visit_1', 'book_visit', { slot: 'tomorrow_am' })] },
  ];
  return imsWindow(history, { role: 'user', content: '喂？还在吗？' });
}

describe('dropOrphanToolMessages', () => {
  it('drops a result whose call fell out of the window and a call whose result never came', () => {
    const window = deepFreeze(toolWindow());
    assert.equal(window.length, IMS_WINDOW);
    assert.equal(window[0]!.role, 'tool', 'the fixture window must start with an orphaned result');
    const out = dropOrphanToolMessages(window);
    assert.equal(out.length, IMS_WINDOW - 1);
    assert.deepEqual(out.slice(0, 1), window.slice(1, 2));
    assert.deepEqual(out.at(-2), { role: 'assistant', content: '好的，我来为您预约。' });
    assert.equal(out.at(-1), window.at(-1));
    // The answered rounds are kept exactly, as the same objects.
    for (const message of window.slice(1, -2)) assert.ok(out.includes(message), JSON.stringify(message));
  });

  it('drops an assistant message entirely when it had nothing but unanswered calls', () => {
    const input = deepFreeze<ChatMessage[]>([
      { role: 'user', content: '帮我挂断吧。' },
      { role: 'assistant', content: null, tool_calls: [call('call_hangup', 'hangup', {})] },
      { role: 'user', content: '算了，先别挂。' },
      { role: 'assistant', content: [{ type: 'text', text: '  ' }], tool_calls: [call('call_hangup_2', 'hangup', {})] },
      { role: 'user', content: '还在吗？' },
    ]);
    assert.deepEqual(dropOrphanToolMessages(input), [input[0], input[2], input[4]]);
  });

  it('keeps only the answered calls of an assistant message and only the first result per call', () => {
    const input = deepFreeze<ChatMessage[]>([
      { role: 'user', content: '开流量包，再发个短信给我。' },
      { role: 'assistant', content: null, tool_calls: [packCall, smsCall] },
      { role: 'tool', tool_call_id: 'call_pack_1', content: '{"ok":true}' },
      { role: 'tool', tool_call_id: 'call_pack_1', content: '{"ok":true,"retry":1}' },
      { role: 'tool', tool_call_id: 'call_unknown', content: '{"ok":false}' },
      { role: 'assistant', content: '流量包已经开通了。' },
    ]);
    assert.deepEqual(dropOrphanToolMessages(input), [
      input[0],
      { role: 'assistant', content: null, tool_calls: [packCall] },
      input[2],
      input[5],
    ]);
  });

  it('treats a result before its call, or separated from it by another message, as an orphan', () => {
    const input = deepFreeze<ChatMessage[]>([
      { role: 'tool', tool_call_id: 'call_outage_1', content: '{"outage":true}' },
      { role: 'assistant', content: '我查一下。', tool_calls: [outageCall] },
      { role: 'user', content: '快点。' },
      { role: 'tool', tool_call_id: 'call_outage_1', content: '{"outage":true}' },
      { role: 'assistant', content: '您所在的小区正在检修。' },
    ]);
    assert.deepEqual(dropOrphanToolMessages(input), [{ role: 'assistant', content: '我查一下。' }, input[2], input[4]]);
  });

  it('returns a history without orphans as the same objects, in a new array', () => {
    const input = deepFreeze(toolWindow().slice(1, -2));
    const out = dropOrphanToolMessages(input);
    assert.notEqual(out, input);
    assert.equal(out.length, input.length);
    out.forEach((message, i) => assert.equal(message, input[i]));
  });

  it('keeps 200,000 results of one tool-calling message (a 26 MB request, under the default body limit)', () => {
    const count = 200_000;
    const calls = Array.from({ length: count }, (_, i) => ({
      id: `c${i}`,
      type: 'function' as const,
      function: { name: 'f', arguments: '{}' },
    }));
    const results = calls.map((call): ChatMessage => ({ role: 'tool', tool_call_id: call.id, content: 'ok' }));
    const out = dropOrphanToolMessages([{ role: 'assistant', content: null, tool_calls: calls }, ...results]);
    assert.equal(out.length, count + 1);
  });
});
