import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasInterruptionMarker, markInterruptions, removeInterruptionMarkers } from '../../../src/agent/history/interruptions.ts';
import { PHRASES } from '../../../src/agent/language/phrases.ts';
import type { ChatMessage } from '../../../src/core/chat-types.ts';
import { deepFreeze, imsWindow, IMS_WINDOW, scriptMessages } from './ims-history.ts';

const MARKER = '<ims_agent_interrupted>';
const NOTE = PHRASES.en.interruptionNote;
const note: ChatMessage = { role: 'system', content: NOTE };

/** The broadband call as HistorySyncWithTTS sends it: two answers cut off mid-sentence. */
function syncedWindow(): ChatMessage[] {
  const history = scriptMessages();
  // The gigabit answer (25) and the note for next time (29) were cut off by the caller.
  history[25] = { role: 'assistant', content: `可以的，您的小区已经支持千兆宽带，${MARKER}` };
  history[29] = { role: 'assistant', content: `好的，我给您做个备注，下次来${MARKER}` };
  return imsWindow(history.slice(0, 30), { role: 'user', content: '等一下，升级的话合同要重新签吗？' });
}

describe('markInterruptions', () => {
  it('removes the marker from a 20-record window and keeps the played text when not annotating', () => {
    const window = deepFreeze(syncedWindow());
    assert.equal(window.length, IMS_WINDOW);
    const out = markInterruptions(window, { annotate: false, note: NOTE });
    assert.equal(out.length, IMS_WINDOW);
    assert.doesNotMatch(JSON.stringify(out), /ims_agent_interrupted/);
    assert.deepEqual(out[14], { role: 'assistant', content: '可以的，您的小区已经支持千兆宽带，' });
    assert.deepEqual(out[18], { role: 'assistant', content: '好的，我给您做个备注，下次来' });
    out.forEach((message, i) => {
      if (i !== 14 && i !== 18) assert.equal(message, window[i], `message ${i} was copied`);
    });
  });

  it('ends a cut-off answer with "…" and puts the note right after it when annotating', () => {
    const window = deepFreeze(syncedWindow());
    const out = markInterruptions(window, { annotate: true, note: NOTE });
    assert.equal(out.length, IMS_WINDOW + 2);
    assert.deepEqual(out.slice(14, 16), [{ role: 'assistant', content: '可以的，您的小区已经支持千兆宽带，…' }, note]);
    assert.deepEqual(out.slice(19), [
      { role: 'assistant', content: '好的，我给您做个备注，下次来…' },
      note,
      { role: 'user', content: '等一下，升级的话合同要重新签吗？' },
    ]);
    assert.deepEqual(out.slice(16, 19), window.slice(15, 18));
    assert.equal(out.at(-1), window.at(-1));
    assert.doesNotMatch(JSON.stringify(out), /ims_agent_interrupted/);
  });

  it('drops what follows the marker when annotating (it was never played) and keeps it otherwise', () => {
    const input = deepFreeze<ChatMessage[]>([
      { role: 'user', content: 'What are your opening hours?' },
      { role: 'assistant', content: `We are open from nine ${MARKER} to six on weekdays.` },
    ]);
    assert.deepEqual(markInterruptions(input, { annotate: true, note: NOTE }), [
      input[0],
      { role: 'assistant', content: 'We are open from nine…' },
      note,
    ]);
    assert.deepEqual(markInterruptions(input, { annotate: false, note: NOTE })[1], {
      role: 'assistant',
      content: 'We are open from nine to six on weekdays.',
    });
  });

  it('turns an answer the caller cut off before a word was played into "…"', () => {
    const input = deepFreeze<ChatMessage[]>([
      { role: 'user', content: '我要投诉。' },
      { role: 'assistant', content: `  ${MARKER}` },
      { role: 'user', content: '你们的服务太差了！' },
    ]);
    assert.deepEqual(markInterruptions(input, { annotate: true, note: NOTE }), [
      input[0],
      { role: 'assistant', content: '…' },
      note,
      input[2],
    ]);
    assert.deepEqual(markInterruptions(input, { annotate: false, note: NOTE })[1], { role: 'assistant', content: '' });
  });

  it('tolerates the closing, self-closing and spaced spellings of the marker', () => {
    for (const marker of [
      '</ims_agent_interrupted>',
      '<ims_agent_interrupted/>',
      '< IMS_Agent_Interrupted />',
      '<ims_agent_interrupted></ims_agent_interrupted>',
    ]) {
      const input = deepFreeze<ChatMessage[]>([{ role: 'assistant', content: `检修计划在今天下午${marker}` }]);
      assert.deepEqual(
        markInterruptions(input, { annotate: false, note: NOTE }),
        [{ role: 'assistant', content: '检修计划在今天下午' }],
        marker,
      );
      assert.deepEqual(
        markInterruptions(input, { annotate: true, note: NOTE }),
        [{ role: 'assistant', content: '检修计划在今天下午…' }, note],
        marker,
      );
    }
  });

  it('handles array-of-text-parts content', () => {
    const input = deepFreeze<ChatMessage[]>([
      {
        role: 'assistant',
        content: [
          { type: 'text', text: '不收费，' },
          { type: 'text', text: `这是给受影响用户的补偿，${MARKER}有二十个G，` },
          { type: 'text', text: '七天内有效。' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: '已经为您开通了。' },
          { type: 'text', text: MARKER },
        ],
      },
    ]);
    assert.deepEqual(markInterruptions(input, { annotate: true, note: NOTE }), [
      {
        role: 'assistant',
        content: [
          { type: 'text', text: '不收费，' },
          { type: 'text', text: '这是给受影响用户的补偿，…' },
        ],
      },
      note,
      {
        role: 'assistant',
        content: [
          { type: 'text', text: '已经为您开通了。' },
          { type: 'text', text: '…' },
        ],
      },
      note,
    ]);
    assert.deepEqual(markInterruptions(input, { annotate: false, note: NOTE }), [
      {
        role: 'assistant',
        content: [
          { type: 'text', text: '不收费，' },
          { type: 'text', text: '这是给受影响用户的补偿，有二十个G，' },
          { type: 'text', text: '七天内有效。' },
        ],
      },
      { role: 'assistant', content: [{ type: 'text', text: '已经为您开通了。' }] },
    ]);
  });

  it('puts the note after the tool results of an interrupted tool-calling answer, keeping the pair adjacent', () => {
    const call = { id: 'call_q1', type: 'function' as const, function: { name: 'query_outage', arguments: '{"area":"张江"}' } };
    const input = deepFreeze<ChatMessage[]>([
      { role: 'user', content: '我们小区是不是停网了？' },
      { role: 'assistant', content: `我帮您查一下${MARKER}`, tool_calls: [call] },
      { role: 'tool', tool_call_id: 'call_q1', content: '{"outage":true}' },
      { role: 'user', content: '查到了吗？' },
    ]);
    assert.deepEqual(markInterruptions(input, { annotate: true, note: NOTE }), [
      input[0],
      { role: 'assistant', content: '我帮您查一下…', tool_calls: [call] },
      input[2],
      note,
      input[3],
    ]);
  });

  it('returns the messages of an unmarked history as the same objects, in a new array', () => {
    const window = deepFreeze<ChatMessage[]>([
      { role: 'system', content: '你是宽带客服，回答要简短。' },
      ...imsWindow(scriptMessages(), { role: 'user', content: '好的，再见。' }),
    ]);
    const out = markInterruptions(window, { annotate: true, note: NOTE });
    assert.notEqual(out, window);
    assert.equal(out.length, window.length);
    out.forEach((message, i) => assert.equal(message, window[i]));
  });
});

describe('interruption marker helpers', () => {
  it('joins words with one space, and Chinese with none, where a marker sat between them', () => {
    assert.equal(removeInterruptionMarkers(`nine ${MARKER} to six`), 'nine to six');
    assert.equal(removeInterruptionMarkers(`nine${MARKER}${MARKER} to six`), 'nine to six');
    assert.equal(removeInterruptionMarkers(`九点${MARKER}到六点`), '九点到六点');
    assert.equal(removeInterruptionMarkers(`\n${MARKER} 您好`), '您好');
  });

  it('recognises the marker and nothing like it', () => {
    assert.equal(hasInterruptionMarker(`好的${MARKER}`), true);
    assert.equal(hasInterruptionMarker('<ims_agent_interrupted/>'), true);
    assert.equal(hasInterruptionMarker('ims_agent_interrupted'), false);
    assert.equal(hasInterruptionMarker('<imsagent_hangup endword="再见"/>'), false);
  });
});
