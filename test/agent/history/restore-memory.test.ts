import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restoreDroppedTurns } from '../../../src/agent/history/restore-memory.ts';
import { messageText, type ChatMessage } from '../../../src/core/chat-types.ts';
import { CALL_SCRIPT, deepFreeze, IMS_WINDOW, imsWindow, multimodalTurn, scriptMessages } from './ims-history.ts';

const MARKER = '<ims_agent_interrupted>';
const system: ChatMessage = { role: 'system', content: '你是宽带客服，回答要简短。' };
const newest: ChatMessage = { role: 'user', content: '对了，我最开始报的账号是多少来着？' };

/** The whole call so far as the gateway remembered it: 32 messages, the last one its answer. */
function transcript(): ChatMessage[] {
  return scriptMessages();
}

/** What the workflow sends next: its system message and the newest 20 records. */
function windowAfter(history: readonly ChatMessage[]): ChatMessage[] {
  return [system, ...imsWindow(history, newest)];
}

describe('restoreDroppedTurns', () => {
  it('puts back the 13 messages that fell out of a 20-record window, after its system message', () => {
    const remembered = deepFreeze(transcript());
    const window = deepFreeze(windowAfter(remembered));
    assert.equal(window.length, 1 + IMS_WINDOW);

    const { messages, restored } = restoreDroppedTurns(window, remembered, 100_000);
    assert.equal(restored, 13);
    assert.deepEqual(messages, [system, ...remembered.slice(0, 13), ...window.slice(1)]);
    messages.slice(1, 14).forEach((message, i) => assert.equal(message, remembered[i]));
    messages.slice(14).forEach((message, i) => assert.equal(message, window[i + 1]));
    assert.equal(messages[0], window[0]);
    assert.equal(messageText(messages[1]!), CALL_SCRIPT[0]![0]);
  });

  it('restores newest first, stopping before the message that would exceed maxChars', () => {
    const remembered = deepFreeze(transcript());
    const window = deepFreeze(windowAfter(remembered));
    const size = (i: number): number => messageText(remembered[i]!).length;
    const three = size(12) + size(11) + size(10);

    const exact = restoreDroppedTurns(window, remembered, three);
    assert.equal(exact.restored, 3);
    assert.deepEqual(exact.messages.slice(1, 4), remembered.slice(10, 13));

    const short = restoreDroppedTurns(window, remembered, three + size(9) - 1);
    assert.equal(short.restored, 3);
    assert.deepEqual(short.messages, exact.messages);

    // The span stays contiguous: an older message that would still fit is not restored past
    // a newer one that does not.
    assert.ok(size(10) < size(11), 'the fixture needs a shorter message before a longer one');
    const contiguous = restoreDroppedTurns(window, remembered, size(12) + size(10));
    assert.equal(contiguous.restored, 1);
    assert.deepEqual(contiguous.messages, [system, remembered[12], ...window.slice(1)]);

    assert.deepEqual(restoreDroppedTurns(window, remembered, size(12) - 1), { messages: [...window], restored: 0 });
  });

  it('aligns on the played part of an answer (HistorySyncWithTTS), whitespace aside', () => {
    const remembered = deepFreeze(transcript());
    const synced = remembered.map((message) => ({ ...message }));
    synced[31] = { role: 'assistant', content: `好的，感谢您的耐心，祝您${MARKER}` }; // the gateway's last answer
    synced[21] = { role: 'assistant', content: `因为是线路原因造成的${MARKER}` }; // an older one, mid-sentence
    synced[17] = { role: 'assistant', content: ' 红灯闪烁说明光信号中断，\n和线路检修的情况一致，请不要重置光猫。 ' };
    const window = deepFreeze(windowAfter(synced));

    const { messages, restored } = restoreDroppedTurns(window, remembered, 100_000);
    assert.equal(restored, 13);
    assert.deepEqual(messages, [system, ...remembered.slice(0, 13), ...window.slice(1)]);
  });

  it('aligns when an older interrupted answer carries the marker in both the transcript and the window', () => {
    const history = transcript();
    history[17] = { role: 'assistant', content: `红灯闪烁说明光信号中断，${MARKER}` };
    const remembered = deepFreeze(history);
    const window = deepFreeze(windowAfter(remembered));
    assert.equal(restoreDroppedTurns(window, remembered, 100_000).restored, 13);
  });

  it('aligns when the window lacks the newest answer (the caller cut in before a word was played)', () => {
    const remembered = deepFreeze(transcript());
    const window = deepFreeze(windowAfter(remembered.slice(0, -1)));
    assert.equal(window.at(-2)!.role, 'user');

    const { messages, restored } = restoreDroppedTurns(window, remembered, 100_000);
    assert.equal(restored, 12);
    assert.deepEqual(messages, [system, ...remembered.slice(0, 12), ...window.slice(1)]);
  });

  it('picks the longest overlap, so a repeated exchange does not restore the window twice', () => {
    const pairs = CALL_SCRIPT.map((pair) => [...pair] as [string, string]);
    pairs[6] = ['喂？', '您好，请讲。'];
    pairs[15] = ['喂？', '您好，请讲。'];
    const remembered = deepFreeze(scriptMessages(pairs));
    const window = deepFreeze(windowAfter(remembered));
    assert.equal(messageText(window[1]!), '您好，请讲。', 'the window must start where a short false overlap exists');

    const { messages, restored } = restoreDroppedTurns(window, remembered, 100_000);
    assert.equal(restored, 13);
    assert.equal(messages.length, 1 + 13 + IMS_WINDOW);
    assert.equal(new Set(messages).size, messages.length, 'a message appears twice');
  });

  it('never guesses: no overlap, or a remembered answer that differs from the sent one, changes nothing', () => {
    const remembered = deepFreeze(transcript());
    const otherCall = deepFreeze(scriptMessages(CALL_SCRIPT.map(([user, assistant]) => [`${user}（另一通电话）`, assistant] as const)));
    const window = deepFreeze(windowAfter(remembered));
    assert.deepEqual(restoreDroppedTurns(window, otherCall, 100_000), { messages: [...window], restored: 0 });

    const rewritten = remembered.map((message) => ({ ...message }));
    // Not a played prefix (no marker): the histories disagree inside the overlap.
    rewritten[21] = { role: 'assistant', content: '因为是线路原因' };
    const mismatched = deepFreeze(windowAfter(rewritten));
    assert.deepEqual(restoreDroppedTurns(mismatched, remembered, 100_000), { messages: [...mismatched], restored: 0 });
  });

  it('restores nothing while the window still holds the whole call', () => {
    const remembered = deepFreeze(transcript().slice(0, 12));
    const window = deepFreeze(windowAfter(remembered));
    assert.equal(window.length, 1 + 13);
    const result = restoreDroppedTurns(window, remembered, 100_000);
    assert.deepEqual(result, { messages: [...window], restored: 0 });
    assert.notEqual(result.messages, window);
  });

  it('restores an earlier multimodal turn as its text only', () => {
    const history = transcript();
    history[16] = multimodalTurn('有一个红灯在闪，你看。');
    const remembered = deepFreeze(history);
    // A window that kept only the last 2 remembered messages: message 16 is among those restored.
    const window = deepFreeze([system, ...remembered.slice(-2), newest]);
    const { messages, restored } = restoreDroppedTurns(window, remembered, 100_000);
    assert.equal(restored, 30);
    assert.deepEqual(messages[17], { role: 'user', content: '有一个红灯在闪，你看。' });
    assert.doesNotMatch(JSON.stringify(messages), /image_url/);
  });
});
