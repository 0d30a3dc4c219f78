import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeConsecutiveRoles as mergeWithPrefix } from '../../../src/agent/history/merge-consecutive-roles.ts';
import { PHRASES } from '../../../src/agent/language/phrases.ts';
import type { ChatMessage, ToolCall } from '../../../src/core/chat-types.ts';
import { deepFreeze, frame, imageUrls, IMS_WINDOW, imsWindow, multimodalTurn, scriptMessages } from './ims-history.ts';

const { interruptionNote: INTERRUPTION_NOTE, notePrefix: NOTE_PREFIX } = PHRASES.en;
const mergeConsecutiveRoles = (messages: readonly ChatMessage[]) => mergeWithPrefix(messages, NOTE_PREFIX);

const hangup: ToolCall = { id: 'call_hangup_1', type: 'function', function: { name: 'hangup', arguments: '{}' } };

/** Roles that follow each other, tool rounds aside. */
function repeatedRoles(messages: readonly ChatMessage[]): string[] {
  const repeats: string[] = [];
  for (let i = 1; i < messages.length; i++) {
    const [previous, next] = [messages[i - 1]!, messages[i]!];
    if (previous.role === next.role && !previous.tool_calls && !next.tool_calls && next.role !== 'tool') repeats.push(`${i}:${next.role}`);
  }
  return repeats;
}

describe('mergeConsecutiveRoles', () => {
  it('makes a voice window alternate: double utterances, a dropped answer, an interruption note', () => {
    // The caller spoke twice in a row (the workflow dropped the answer it cut off before a word was
    // played), and a later answer was cut off and annotated with a note.
    const history: ChatMessage[] = [
      ...scriptMessages().slice(0, 22),
      { role: 'user', content: '好的。' },
      { role: 'user', content: '我还想问一下套餐的事。' },
      { role: 'assistant', content: '可以的，请问您想了解哪方面呢？' },
      { role: 'user', content: '我现在是三百兆的，能升到一千兆吗？' },
      { role: 'assistant', content: '可以的，您的小区已经支持千兆宽带，…' },
      { role: 'system', content: INTERRUPTION_NOTE },
    ];
    const window = deepFreeze<ChatMessage[]>([
      { role: 'system', content: '你是宽带客服。' },
      ...imsWindow(history, { role: 'user', content: '要换光猫吗？' }),
    ]);
    assert.notDeepEqual(repeatedRoles(window), [], 'the fixture must break alternation');

    const out = mergeConsecutiveRoles(window);
    assert.deepEqual(repeatedRoles(out), []);
    assert.deepEqual(
      out.filter((message) => message.role === 'system'),
      [window[0]],
    );
    assert.ok(out.some((m) => m.role === 'user' && m.content === '好的。\n我还想问一下套餐的事。'));
    assert.deepEqual(out.at(-1), { role: 'user', content: `${NOTE_PREFIX}${INTERRUPTION_NOTE}\n要换光猫吗？` });
    assert.equal(out.length, IMS_WINDOW - 1);
  });

  it('merges the leading system messages into one, joined with a blank line', () => {
    const input = deepFreeze<ChatMessage[]>([
      { role: 'system', content: '你是宽带客服。' },
      { role: 'system', content: '来电号码：13800000000。' },
      { role: 'user', content: '喂？' },
    ]);
    assert.deepEqual(mergeConsecutiveRoles(input), [{ role: 'system', content: '你是宽带客服。\n\n来电号码：13800000000。' }, input[2]]);
  });

  it('turns a later system message into a "[Note] " user message merged with the users around it', () => {
    const input = deepFreeze<ChatMessage[]>([
      { role: 'user', content: '我要办宽带升级。' },
      { role: 'system', content: '用户已通过身份验证。' },
      { role: 'user', content: '要多久能好？' },
      { role: 'assistant', content: '一般两个工作日内完成。' },
      { role: 'developer', content: '   ' },
      { role: 'user', content: '好的。' },
    ]);
    assert.deepEqual(mergeConsecutiveRoles(input), [
      { role: 'user', content: '我要办宽带升级。\n[Note] 用户已通过身份验证。\n要多久能好？' },
      input[3],
      input[5],
    ]);
  });

  it('merges as parts when one of the messages is a multimodal turn, keeping all 15 frames', () => {
    const turn = multimodalTurn('这个灯是什么意思？');
    const input = deepFreeze<ChatMessage[]>([{ role: 'user', content: '你看一下我的光猫。' }, turn]);
    const [merged, ...rest] = mergeConsecutiveRoles(input);
    assert.deepEqual(rest, []);
    assert.equal(merged!.role, 'user');
    assert.deepEqual((merged!.content as unknown[]).slice(0, 2), [
      { type: 'text', text: '你看一下我的光猫。' },
      { type: 'text', text: '这个灯是什么意思？' },
    ]);
    assert.deepEqual(imageUrls(merged!), imageUrls(turn));
    assert.equal(imageUrls(merged!).length, 15);
    assert.equal(imageUrls(merged!)[14], frame(14).image_url.url);
  });

  it('merges plain assistant messages but never tool-call messages or tool results', () => {
    const input = deepFreeze<ChatMessage[]>([
      { role: 'user', content: '再见。' },
      { role: 'assistant', content: '好的，' },
      { role: 'assistant', content: '' },
      { role: 'assistant', content: '感谢您的来电。' },
      { role: 'assistant', content: null, tool_calls: [hangup] },
      { role: 'tool', tool_call_id: 'call_hangup_1', content: 'ok' },
      { role: 'tool', tool_call_id: 'call_hangup_1', content: 'ok' },
      { role: 'assistant', content: '再见。' },
    ]);
    const out = mergeConsecutiveRoles(input);
    assert.deepEqual(out, [input[0], { role: 'assistant', content: '好的，\n感谢您的来电。' }, ...input.slice(4)]);
    for (const message of input.slice(4)) assert.ok(out.includes(message), 'tool round must be the same objects');
  });

  it('keeps name only when every merged message carries the same one', () => {
    const input = deepFreeze<ChatMessage[]>([
      { role: 'user', content: '我是户主。', name: 'caller' },
      { role: 'user', content: '账号是我的。', name: 'caller' },
      { role: 'assistant', content: '好的。', name: 'agent' },
      { role: 'assistant', content: '请稍等。' },
    ]);
    assert.deepEqual(mergeConsecutiveRoles(input), [
      { role: 'user', content: '我是户主。\n账号是我的。', name: 'caller' },
      { role: 'assistant', content: '好的。\n请稍等。' },
    ]);
  });

  it('returns an alternating history as the same objects, in a new array', () => {
    const window = deepFreeze(imsWindow(scriptMessages(), { role: 'user', content: '再见。' }));
    const out = mergeConsecutiveRoles(window);
    assert.notEqual(out, window);
    assert.equal(out.length, window.length);
    out.forEach((message, i) => assert.equal(message, window[i]));
  });
});
