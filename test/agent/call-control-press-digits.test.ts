import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keypadCarries, pressDigitsFunction, requestedDigits } from '../../src/agent/call-control/press-digits.ts';
import type { Keypad } from '../../src/agent/call-control/signal-form.ts';
import { PHRASES } from '../../src/agent/language/phrases.ts';
import { ToolRouter } from '../../src/agent/tool-router.ts';
import { routeToolCalls } from '../../src/agent/transforms/route-tool-calls.ts';
import { agentConfigSchema, pressDigitsSchema } from '../../src/config/schema.ts';
import type { StreamPart } from '../../src/core/stream-part.ts';

const CONFIG = pressDigitsSchema.parse({});
const press = () => [];
const ONE_KEY: Keypad = { maxKeys: 1, pauses: false, press };
const SEQUENCE: Keypad = { pauses: true, press };

const args = (digits: unknown) => JSON.stringify({ digits });

describe('pressDigits: the keys a call asks for', () => {
  it('takes keypad keys and w pauses, spaces between keys dropped, a whole number as its digits', () => {
    assert.equal(requestedDigits(args('1'), CONFIG), '1');
    assert.equal(requestedDigits(args('*72#'), CONFIG), '*72#');
    assert.equal(requestedDigits(args('1w2ww3#'), CONFIG), '1w2ww3#');
    assert.equal(requestedDigits(args('1 2 3'), CONFIG), '123');
    assert.equal(requestedDigits(args(42), CONFIG), '42');
  });

  it('presses nothing for anything else: letters, signs, empty, too many keys, no arguments', () => {
    for (const digits of ['one', '1-800', '+1', 'W', '1A', '', '   ', '1'.repeat(21), -1, 1.5, null, ['1'], { key: '1' }]) {
      assert.equal(requestedDigits(args(digits), CONFIG), undefined, JSON.stringify(digits));
    }
    assert.equal(requestedDigits('', CONFIG), undefined);
    assert.equal(requestedDigits('{"digits": "1"', CONFIG), undefined, 'arguments cut off');
    assert.equal(requestedDigits(args('12345'), pressDigitsSchema.parse({ maxDigits: 4 })), undefined);
  });

  it("checks the keys against the platform's keypad: one key, pauses", () => {
    assert.ok(keypadCarries(ONE_KEY, '5'));
    assert.ok(!keypadCarries(ONE_KEY, '55'));
    assert.ok(!keypadCarries({ pauses: false, press }, '1w2'));
    assert.ok(keypadCarries(SEQUENCE, '1w2#'));
  });

  it('describes the function as the keypad presses: one key, or a sequence with pauses', () => {
    const one = pressDigitsFunction(CONFIG, PHRASES.en, ONE_KEY).function;
    assert.equal(one.name, 'press_digits');
    assert.equal(one.description, PHRASES.en.pressKeyDescription);
    assert.deepEqual(one.parameters, {
      type: 'object',
      properties: { digits: { type: 'string', pattern: '^[0-9*#]+$', maxLength: 1, description: PHRASES.en.digitsArgument(false) } },
      required: ['digits'],
    });
    const sequence = pressDigitsFunction({ ...CONFIG, description: 'Menus.' }, PHRASES.zh, SEQUENCE).function;
    assert.equal(sequence.description, 'Menus.');
    assert.deepEqual((sequence.parameters as { properties: { digits: unknown } }).properties.digits, {
      type: 'string',
      pattern: '^[0-9*#w]+$',
      maxLength: 20,
      description: PHRASES.zh.digitsArgument(true),
    });
  });
});

describe('pressDigits: offered and routed', () => {
  const agent = agentConfigSchema.parse({ provider: 'p', pressDigits: {} });
  const names = (tools: unknown[] | undefined) => (tools as Array<{ function: { name: string } }> | undefined)?.map((t) => t.function.name);

  it('is offered only with a keypad', () => {
    const router = new ToolRouter(agent);
    assert.equal(router.offeredTools(undefined, 'en'), undefined);
    assert.deepEqual(names(router.offeredTools(undefined, 'en', SEQUENCE)), ['press_digits']);
    assert.deepEqual(names(new ToolRouter(agentConfigSchema.parse({ provider: 'p' })).offeredTools(undefined, 'en', SEQUENCE)), undefined);
  });

  it('a call of it becomes a digits part (never a tool call for the platform); invalid keys none', async () => {
    const router = new ToolRouter(agent);
    async function* model(digits: string): AsyncIterable<StreamPart> {
      yield { type: 'text', text: 'Choosing sales.' };
      yield { type: 'tool-call-start', callId: 'c1', name: 'press_digits' };
      yield { type: 'tool-call-delta', callId: 'c1', argumentsDelta: args(digits) };
      yield { type: 'tool-call-end', callId: 'c1' };
      yield { type: 'finish', reason: 'tool_calls' };
    }
    const collect = async (digits: string) => {
      const parts: StreamPart[] = [];
      for await (const part of routeToolCalls(model(digits), router, undefined, () => {})) parts.push(part);
      return parts;
    };
    assert.deepEqual(await collect('1'), [
      { type: 'text', text: 'Choosing sales.' },
      { type: 'digits', digits: '1' },
      { type: 'finish', reason: 'stop' },
    ]);
    assert.deepEqual(await collect('sales'), [
      { type: 'text', text: 'Choosing sales.' },
      { type: 'finish', reason: 'stop' },
    ]);
  });
});
