import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emitCallSignals } from '../../src/agent/transforms/emit-call-signals.ts';
import { endCallSchema } from '../../src/config/schema.ts';
import type { CallSignalForm } from '../../src/platforms/platform-adapter.ts';
import { PLATFORMS } from '../../src/platforms/platforms.ts';
import { vapiPlatform } from '../../src/platforms/vapi.ts';
import type { StreamPart } from '../../src/core/stream-part.ts';
import { socketSignalForm, type SocketSignal } from '../../src/server/sockets/socket/socket-signals.ts';
import { signalsWith, toolCallIn } from './mapping.ts';

const END_CALL = endCallSchema.parse({});

/** A Vapi `dtmf` function as a request offers it, its keys in `property`. */
function dtmfTool(property: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'function',
    function: { name: 'dtmf', parameters: { type: 'object', properties: { [property]: { type: 'string' }, ...extra } } },
  };
}

async function signalled(form: CallSignalForm, parts: StreamPart[], onSignal?: (signal: string) => void): Promise<StreamPart[]> {
  async function* source(): AsyncIterable<StreamPart> {
    yield* parts;
  }
  const out: StreamPart[] = [];
  for await (const part of emitCallSignals(source(), { ...END_CALL, farewell: 'Bye.' }, undefined, form, onSignal)) out.push(part);
  return out;
}

describe('keypad signal forms', () => {
  it('no HTTP platform has a keypad unless it offers one: a key press is never a command that does not exist', () => {
    for (const platform of PLATFORMS) {
      const form = signalsWith(platform, []);
      assert.equal(form.keypad, undefined, platform.name);
    }
    // Offering functions by other names changes nothing.
    assert.equal(signalsWith(vapiPlatform, ['endCall', 'transferCall']).keypad, undefined);
  });

  it('Vapi: its offered dtmf function, with the keys in the argument the definition names', () => {
    const form = (tool: unknown) => vapiPlatform.signalForm({ endCall: END_CALL, offeredTools: new Set(['dtmf']), clientTools: [tool] });
    const digits = form(dtmfTool('digits', { note: { type: 'string' } }));
    assert.equal(digits.functions.digits, 'dtmf');
    assert.equal(digits.keypad?.pauses, false);
    const parts = digits.keypad!.press('12#');
    assert.deepEqual(toolCallIn(parts), { name: 'dtmf', args: '{"digits":"12#"}' });
    assert.deepEqual(parts.at(-1), { type: 'finish', reason: 'tool_calls' });
    assert.deepEqual(toolCallIn(form(dtmfTool('keys')).keypad!.press('1')), { name: 'dtmf', args: '{"keys":"1"}' });
    assert.deepEqual(toolCallIn(form({ type: 'function', function: { name: 'dtmf' } }).keypad!.press('1')), {
      name: 'dtmf',
      args: '{"digits":"1"}',
    });
  });

  it('the socket platforms hand the keys to their session: Retell one key, Twilio a sequence with pauses', () => {
    const signals: SocketSignal[] = [];
    const retell = socketSignalForm('retell', (signal) => signals.push(signal));
    assert.equal(retell.keypad?.maxKeys, 1);
    assert.equal(retell.keypad?.pauses, false);
    assert.deepEqual(retell.keypad!.press('1'), [{ type: 'finish', reason: 'stop' }]);
    const twilio = socketSignalForm('twilio', (signal) => signals.push(signal));
    assert.equal(twilio.keypad?.maxKeys, undefined);
    assert.equal(twilio.keypad?.pauses, true);
    twilio.keypad!.press('1w2');
    assert.deepEqual(signals, [
      { kind: 'digits', digits: '1' },
      { kind: 'digits', digits: '1w2' },
    ]);
  });
});

describe('the signal stage with a digits part', () => {
  const said: StreamPart = { type: 'text', text: 'Choosing sales.' };
  const finish: StreamPart = { type: 'finish', reason: 'stop' };

  it('presses the keys after the words, on the record', async () => {
    const signals: SocketSignal[] = [];
    const recorded: string[] = [];
    const parts = await signalled(
      socketSignalForm('twilio', (signal) => signals.push(signal)),
      [said, { type: 'digits', digits: '1' }, finish],
      (signal) => recorded.push(signal),
    );
    assert.deepEqual(parts, [said, finish]);
    assert.deepEqual(signals, [{ kind: 'digits', digits: '1' }]);
    assert.deepEqual(recorded, ['digits']);
  });

  it('an end of call wins over a key press (Retell runs one action, end_call first)', async () => {
    const signals: SocketSignal[] = [];
    await signalled(
      socketSignalForm('retell', (signal) => signals.push(signal)),
      [said, { type: 'digits', digits: '1' }, { type: 'end-call' }, finish],
    );
    assert.deepEqual(signals, [{ kind: 'hangup' }]);
  });

  it('keys the keypad cannot carry, or a platform without one: the turn ends as it would have', async () => {
    const signals: SocketSignal[] = [];
    const retell = await signalled(
      socketSignalForm('retell', (signal) => signals.push(signal)),
      [said, { type: 'digits', digits: '12' }, finish],
    );
    assert.deepEqual(retell, [said, finish]);
    assert.deepEqual(signals, []);
    const ims = await signalled(signalsWith(PLATFORMS.find((p) => p.name === 'ims')!, []), [said, { type: 'digits', digits: '1' }, finish]);
    assert.deepEqual(ims, [said, finish]);
  });
});
