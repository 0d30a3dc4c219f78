import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkToolCallSemantics } from '../../../tools/check/stream-rules.ts';

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: 'a',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const call = (fields: Record<string, unknown>) => ({ tool_calls: [{ index: 0, ...fields }] });
const rules = (events: unknown[]) => checkToolCallSemantics(events).map((v) => v.rule);

describe('checkToolCallSemantics', () => {
  it('accepts OpenAI-style deltas: text first, then the call, arguments spread over deltas', () => {
    assert.deepEqual(
      rules([
        chunk({ role: 'assistant', content: 'Bye.' }),
        chunk(call({ id: 'c1', type: 'function', function: { name: 'hangup', arguments: '' } })),
        chunk(call({ function: { arguments: '{"reason":' } })),
        chunk(call({ function: { arguments: '"done"}' } })),
        chunk({}, 'tool_calls'),
      ]),
      [],
    );
    assert.deepEqual(rules([chunk({ role: 'assistant', content: 'no calls' }), chunk({}, 'stop')]), []);
  });

  it('explains why "\\{\\}" is not JSON', () => {
    const violations = checkToolCallSemantics([
      chunk({ role: 'assistant', ...call({ id: 'c1', type: 'function', function: { name: 'hangup', arguments: '\\{\\}' } }) }),
      chunk({}, 'tool_calls'),
    ]);
    assert.deepEqual(
      violations.map((v) => v.rule),
      ['tool-call-arguments-json'],
    );
    assert.equal(violations[0]!.eventIndex, 0);
    assert.match(violations[0]!.message, /are \\\{\\\} \(4 characters\), which is not valid JSON \(/);
    assert.match(violations[0]!.message, /backslash-escaped braces/);
  });

  it('flags a call started again on every chunk, empty arguments, the wrong finish_reason, content after the call', () => {
    const repeated = { id: 'c1', type: 'function', function: { name: 'hangup', arguments: '' } };
    const violations = checkToolCallSemantics([
      chunk({ role: 'assistant', content: 'B', tool_calls: [repeated] }),
      chunk({ content: 'y', tool_calls: [repeated] }),
      chunk({ content: 'e', tool_calls: [repeated] }, 'stop'),
    ]);
    assert.deepEqual(
      violations.map((v) => [v.rule, v.eventIndex]),
      [
        ['tool-call-repeated', 1],
        ['tool-call-arguments-empty', 0],
        ['tool-call-finish-reason', 2],
        ['tool-call-before-content', 0],
      ],
    );
    assert.match(violations[0]!.message, /names its function again in 2 later deltas .* "hanguphangup…"/);
  });

  it('reads an entry without an index as index 0, the way clients do', () => {
    const noIndex = { tool_calls: [{ id: 'c1', type: 'function', function: { name: 'hangup', arguments: '{}' } }] };
    assert.deepEqual(rules([chunk({ role: 'assistant', ...noIndex }), chunk({}, 'tool_calls')]), []);
    assert.deepEqual(rules([chunk({ role: 'assistant', ...noIndex }), chunk(noIndex, 'tool_calls')]), [
      'tool-call-repeated',
      'tool-call-arguments-json',
    ]);
  });
});
