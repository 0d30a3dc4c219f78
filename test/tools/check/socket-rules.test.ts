import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { endShapeProblem, judgeRetellAnswer, judgeTwilioAnswer } from '../../../tools/check/socket-rules.ts';

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
});
