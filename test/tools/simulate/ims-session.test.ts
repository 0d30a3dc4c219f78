import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IMS_HISTORY_WINDOW, ImsSession, INTERRUPTION_MARKER, newInstanceId } from '../../../tools/simulate/ims-session.ts';

describe('the simulated IMS workflow session', () => {
  it('keeps the newest 20 records, the new utterance last, dropping the oldest', () => {
    const session = new ImsSession({ model: 'demo' });
    for (let i = 1; i <= 15; i++) {
      const { body } = session.ask(`question ${i}`);
      assert.equal(body.messages.length, Math.min(2 * i - 1, IMS_HISTORY_WINDOW));
      assert.deepEqual(body.messages.at(-1), { role: 'user', content: `question ${i}` });
      session.recordAnswer(`answer ${i}`);
    }
    const { body } = session.ask('question 16');
    assert.equal(body.messages.length, 20);
    // 31 records: the oldest 11 are gone, so the window starts with answer 6.
    assert.deepEqual(body.messages[0], { role: 'assistant', content: 'answer 6' });
    assert.deepEqual(body.messages[1], { role: 'user', content: 'question 7' });
    assert.deepEqual(body.messages.at(-2), { role: 'assistant', content: 'answer 15' });
    assert.equal(session.transcript.length, 31, 'the session remembers everything; only the request is windowed');
  });

  it('sends a system prompt first, outside the 20-record window', () => {
    const session = new ImsSession({ model: 'demo', systemPrompt: 'You are a phone agent.' });
    for (let i = 1; i <= 12; i++) {
      session.ask(`q${i}`);
      session.recordAnswer(`a${i}`);
    }
    const { body } = session.ask('last');
    assert.equal(body.messages.length, 21);
    assert.deepEqual(body.messages[0], { role: 'system', content: 'You are a phone agent.' });
    assert.equal(body.messages.filter((m) => m.role === 'system').length, 1);
    assert.deepEqual(body.messages.at(-1), { role: 'user', content: 'last' });
  });

  it('numbers each question-and-answer pair: sentenceId 1, 2, 3, ...', () => {
    const session = new ImsSession({ model: 'm' });
    assert.equal(session.sentenceId, 0);
    const ids = ['a', 'b', 'c'].map((said) => {
      const turn = session.ask(said);
      session.recordAnswer(`re: ${said}`);
      assert.equal(turn.body.extendData.sentenceId, turn.sentenceId);
      return turn.sentenceId;
    });
    assert.deepEqual(ids, [1, 2, 3]);
    const asString = new ImsSession({ model: 'm', sentenceIdAsString: true });
    assert.equal(asString.ask('x').body.extendData.sentenceId, '1');
  });

  it('builds the body the workflow sends: model, stream, messages, extendData with userData as a string', () => {
    const session = new ImsSession({
      model: 'qwen-agent',
      callerNumber: '13800000001',
      calleeNumber: '13800000002',
      userData: '{"customerName":"Li Lei"}',
    });
    const { body } = session.ask('hello');
    assert.deepEqual(Object.keys(body), ['model', 'stream', 'messages', 'extendData']);
    assert.equal(body.model, 'qwen-agent');
    assert.equal(body.stream, true);
    assert.deepEqual(body.extendData, {
      instanceId: session.instanceId,
      channelId: session.channelId,
      sentenceId: 1,
      callerNumber: '13800000001',
      calleeNumber: '13800000002',
      userData: '{"customerName":"Li Lei"}',
    });
    assert.match(session.instanceId, /^[0-9a-f]{32}$/);
    assert.notEqual(newInstanceId(), newInstanceId());
    assert.equal(typeof session.channelId, 'string');
    assert.ok(session.channelId.length > 0);
  });

  it('leaves out what is not known (no caller numbers, no userData) and uses the ids given', () => {
    const session = new ImsSession({ model: 'm', instanceId: 'inst-7', channelId: 'room-9' });
    assert.deepEqual(session.ask('hi').body.extendData, { instanceId: 'inst-7', channelId: 'room-9', sentenceId: 1 });
  });

  it('keeps an interrupted answer as received by default', () => {
    const session = new ImsSession({ model: 'm' });
    session.ask('tell me a story');
    assert.deepEqual(session.recordAnswer('Once upon a', { interrupted: true }), { role: 'assistant', content: 'Once upon a' });
    assert.deepEqual(session.ask('stop').body.messages, [
      { role: 'user', content: 'tell me a story' },
      { role: 'assistant', content: 'Once upon a' },
      { role: 'user', content: 'stop' },
    ]);
  });

  it('with HistorySyncWithTTS, ends an interrupted answer with the marker', () => {
    const session = new ImsSession({ model: 'm', historySyncTts: true });
    session.ask('tell me a story');
    session.recordAnswer('Once upon a', { interrupted: true });
    session.ask('and then?');
    session.recordAnswer('The end.'); // not interrupted: no marker
    const { body } = session.ask('thanks');
    assert.deepEqual(body.messages[1], { role: 'assistant', content: `Once upon a${INTERRUPTION_MARKER}` });
    assert.equal(INTERRUPTION_MARKER, '<ims_agent_interrupted>');
    assert.deepEqual(body.messages[3], { role: 'assistant', content: 'The end.' });
    // Cut before anything came: only the marker is kept (with sync), nothing without.
    session.recordAnswer('', { interrupted: true });
    assert.deepEqual(session.transcript.at(-1), { role: 'assistant', content: INTERRUPTION_MARKER });
    const plain = new ImsSession({ model: 'm' });
    plain.ask('x');
    assert.equal(plain.recordAnswer('', { interrupted: true }), undefined);
    assert.equal(plain.recordAnswer(''), undefined, 'an empty answer is not a record');
  });

  it('hands out copies: a caller mutating a request does not change the history', () => {
    const session = new ImsSession({ model: 'm' });
    const { body } = session.ask('hi');
    body.messages[0]!.content = 'tampered';
    assert.equal(session.transcript[0]!.content, 'hi');
  });
});
