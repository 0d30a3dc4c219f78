import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  digitToPressProblem,
  endShapeProblem,
  judgeRetellAnswer,
  judgeTwilioAnswer,
  languageProblem,
  sendDigitsProblem,
} from '../../../tools/check/socket-rules.ts';

const piece = (id: number, content: string, complete = false, extra: Record<string, unknown> = {}) => ({
  response_type: 'response',
  response_id: id,
  content,
  content_complete: complete,
  ...extra,
});
const rules = (violations: Array<{ rule: string }>) => violations.map((v) => v.rule);

describe('the Retell and Twilio socket rules', () => {
  it('let an older response finish its piece in flight, but not once the newer one began', () => {
    assert.deepEqual(rules(judgeRetellAnswer([piece(1, 'old'), piece(2, 'new'), piece(2, '', true)], 2).violations), []);
    const late = judgeRetellAnswer([piece(2, 'new'), piece(1, 'old'), piece(2, '', true)], 2).violations;
    assert.deepEqual(rules(late), ['retell-superseded']);
    assert.match(late[0]!.quote!, /"response_id":1/);
  });

  it('want content_complete, the right types, and an action only on the last event', () => {
    assert.deepEqual(rules(judgeRetellAnswer([piece(1, 'hi')], 1).violations), ['retell-content-complete']);
    assert.deepEqual(rules(judgeRetellAnswer([piece(1, 'hi')], 1, true).violations), [], 'a cut answer is not blamed');
    assert.deepEqual(rules(judgeRetellAnswer([{ ...piece(1, 'hi', true), response_id: '1' }], 1).violations), [
      'retell-response-shape',
      'retell-content-complete',
    ]);
    assert.deepEqual(rules(judgeRetellAnswer([piece(1, 'bye', false, { end_call: true }), piece(1, '', true)], 1).violations), [
      'retell-action-shape',
    ]);
    assert.deepEqual(rules(judgeRetellAnswer([piece(1, '', true, { end_call: true, transfer_number: '+1415' })], 1).violations), [
      'retell-action-shape',
    ]);
    assert.deepEqual(rules(judgeRetellAnswer([piece(3, 'hi', true), piece(1, 'x', true)], 1).violations), ['retell-response-id']);
  });

  it('want Twilio answers to end with last: true, and handoffData as JSON text', () => {
    const text = (token: unknown, last: unknown) => ({ type: 'text', token, last });
    assert.deepEqual(rules(judgeTwilioAnswer([text('Hi', false), text('', true)]).violations), []);
    assert.deepEqual(rules(judgeTwilioAnswer([text('Hi', false)]).violations), ['twilio-last']);
    assert.deepEqual(rules(judgeTwilioAnswer([text(3, 'yes'), { type: 'txt' }, text('', true), text('more', false)]).violations), [
      'twilio-text-shape',
      'twilio-message-type',
      'twilio-after-last',
    ]);
    assert.equal(endShapeProblem({ type: 'end', handoffData: '{"reasonCode":"end-call"}' }), undefined);
    assert.match(endShapeProblem({ type: 'end', handoffData: { reasonCode: 'end-call' } })!, /not a string/);
    assert.match(endShapeProblem({ type: 'end', handoffData: 'end-call' })!, /not JSON/);
  });

  it("want digit_to_press as one key of 0-9*# on the turn's response, never with end_call or transfer_number", () => {
    for (const key of ['0', '9', '*', '#']) assert.equal(digitToPressProblem(piece(1, '', true, { digit_to_press: key }), 1), undefined);
    assert.equal(digitToPressProblem(piece(1, '', true), 1), undefined, 'no key, nothing to judge');
    assert.match(digitToPressProblem(piece(1, '', true, { digit_to_press: '12' }), 1)!, /not exactly one key/);
    assert.match(digitToPressProblem(piece(1, '', true, { digit_to_press: 'w' }), 1)!, /not exactly one key/, 'Retell has no pause key');
    assert.match(digitToPressProblem(piece(1, '', true, { digit_to_press: '' }), 1)!, /not exactly one key/);
    assert.match(digitToPressProblem(piece(1, '', true, { digit_to_press: 1 }), 1)!, /number, not a string/);
    assert.match(digitToPressProblem(piece(0, '', true, { digit_to_press: '1' }), 1)!, /response_id 0, not the turn's 1/);
    assert.match(digitToPressProblem({ response_type: 'metadata', digit_to_press: '1' }, 1)!, /not a "response"/);
    assert.match(digitToPressProblem(piece(1, '', true, { digit_to_press: '1', end_call: true }), 1)!, /excludes end_call/);
    assert.deepEqual(rules(judgeRetellAnswer([piece(1, 'ok', false), piece(1, '', true, { digit_to_press: '1#' })], 1).violations), [
      'retell-digit-to-press',
    ]);
  });

  it("want sendDigits of 0-9*#w after the answer's last text, and language with both codes", () => {
    const text = (token: string, last: boolean) => ({ type: 'text', token, last });
    assert.equal(sendDigitsProblem({ type: 'sendDigits', digits: '1w2#*0' }), undefined);
    assert.match(sendDigitsProblem({ type: 'sendDigits', digits: '1x' })!, /more than 0-9/);
    assert.match(sendDigitsProblem({ type: 'sendDigits', digits: '' })!, /more than 0-9/);
    assert.match(sendDigitsProblem({ type: 'sendDigits' })!, /missing/);
    assert.equal(languageProblem({ type: 'language', ttsLanguage: 'cmn-CN', transcriptionLanguage: 'zh-CN' }), undefined);
    assert.match(languageProblem({ type: 'language', ttsLanguage: 'cmn-CN' })!, /^transcriptionLanguage is not/);
    assert.match(languageProblem({ type: 'language', ttsLanguage: ' ', transcriptionLanguage: 3 })!, /and transcriptionLanguage are not/);
    const keys = { type: 'sendDigits', digits: '1' };
    assert.deepEqual(rules(judgeTwilioAnswer([text('Ok', false), text('', true), keys]).violations), []);
    assert.deepEqual(rules(judgeTwilioAnswer([keys, text('Ok', false), text('', true)]).violations), ['twilio-send-digits']);
    assert.deepEqual(
      rules(judgeTwilioAnswer([{ type: 'language', ttsLanguage: 'cmn-CN' }, text('好', false), text('', true)]).violations),
      ['twilio-language'],
    );
  });
});
