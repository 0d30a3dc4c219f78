import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { evaluateExpectations } from '../../../tools/simulate/expectations.ts';
import { parseConversationScriptText, ScriptError } from '../../../tools/simulate/script.ts';
import type { TurnResult } from '../../../tools/simulate/simulate-turn.ts';

const EXAMPLE = resolve(import.meta.dirname, '../../../examples/conversation.yaml');

function problemsOf(text: string): readonly string[] {
  try {
    parseConversationScriptText(text, 'test.yaml');
  } catch (error) {
    assert.ok(error instanceof ScriptError, String(error));
    return error.problems;
  }
  assert.fail('the script was accepted');
}

function turnResult(overrides: Partial<TurnResult>): TurnResult {
  return {
    sentenceId: 1,
    said: 'x',
    status: 200,
    answer: '',
    spoken: '',
    ttftMs: 100,
    totalMs: 200,
    finishReason: 'stop',
    sawDone: true,
    interrupted: false,
    toolCalls: [],
    signals: [],
    outcome: { type: 'continues' },
    violations: [],
    problems: [],
    warnings: [],
    fatal: false,
    historyRecord: null,
    messagesSent: 1,
    ...overrides,
  };
}

describe('the conversation script format', () => {
  it('reads a script: numbers as phone numbers, userData object sent as its JSON string, single strings as lists', () => {
    const script = parseConversationScriptText(`
caller: 13800000001
userData: { customerName: Li Lei, vip: true }
historySyncTts: true
turns:
  - say: hello
    expect: { contains: hello }
  - say: tell me a long story
    bargeInMs: 300
  - say: quiet please
    bargeInMs: null
  - say: bye
    expect: { hangup: true, contains: [good, bye] }
`);
    assert.equal(script.caller, '13800000001');
    assert.equal(script.userData, '{"customerName":"Li Lei","vip":true}');
    assert.equal(script.historySyncTts, true);
    assert.equal(script.turns.length, 4);
    assert.deepEqual(script.turns[0]!.expect, { contains: ['hello'] });
    assert.equal(script.turns[1]!.bargeInMs, 300);
    assert.equal(script.turns[2]!.bargeInMs, null);
    assert.deepEqual(script.turns[3]!.expect, { hangup: true, contains: ['good', 'bye'] });
    assert.equal(parseConversationScriptText(`userData: 'not json'\nturns: [{ say: hi }]`).userData, 'not json');
  });

  it('names every mistake with its path, typos included', () => {
    assert.deepEqual(problemsOf('turns: []'), ['turns: needs at least one turn']);
    const problems = problemsOf(`
turns:
  - say: hi
    expects: { hangup: true }
  - say: ''
    bargeInMs: -5
  - say: bye
    expect: { hangup: yes, matches: '(' }
`);
    assert.ok(
      problems.some((p) => p.startsWith('turns[0]') && p.includes('expects')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('turns[1].say')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('turns[1].bargeInMs')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('turns[2].expect.hangup')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p === 'turns[2].expect.matches: is not a valid regular expression'),
      problems.join('\n'),
    );
    assert.ok(problemsOf('turns: [ { say: hi').length > 0, 'YAML syntax errors are reported');
  });

  it('accepts the shipped example', () => {
    const script = parseConversationScriptText(readFileSync(EXAMPLE, 'utf8'), EXAMPLE);
    assert.ok(script.turns.length >= 3);
    assert.equal(script.turns.at(-1)!.expect?.hangup, true);
  });
});

describe('turn expectations', () => {
  it('checks what the caller heard, ignoring letter case', () => {
    const turn = turnResult({ answer: 'Sure. <imsagent_hangup endword="Goodbye!"/>', spoken: 'Sure. Goodbye!' });
    const results = evaluateExpectations({ contains: ['goodbye'], notContains: ['imsagent'], matches: '^sure' }, turn);
    assert.deepEqual(results, [
      { check: 'contains "goodbye"', pass: true },
      { check: 'does not contain "imsagent"', pass: true },
      { check: 'matches /^sure/i', pass: true },
    ]);
    const failed = evaluateExpectations({ contains: ['weather'] }, turn);
    assert.equal(failed[0]!.pass, false);
    assert.match(failed[0]!.detail!, /Sure\. Goodbye!/);
  });

  it('checks the end of the call, the cut, the finish reason and the first token', () => {
    const hungUp = turnResult({ outcome: { type: 'hangup', via: 'tool-call' }, finishReason: 'tool_calls', ttftMs: 900 });
    const results = evaluateExpectations(
      { hangup: true, transfer: false, interrupted: false, finishReason: 'tool_calls', maxTtftMs: 500 },
      hungUp,
    );
    assert.deepEqual(
      results.map((r) => [r.check, r.pass]),
      [
        ['hangup', true],
        ['no transfer', true],
        ['not interrupted', true],
        ['finish reason tool_calls', true],
        ['first token within 500 ms', false],
      ],
    );
    assert.equal(evaluateExpectations({ hangup: true }, turnResult({}))[0]!.pass, false);
    assert.deepEqual(evaluateExpectations(undefined, turnResult({})), []);
  });
});
