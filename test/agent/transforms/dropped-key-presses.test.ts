import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { Agent } from '../../../src/agent/agent-registry.ts';
import type { KeyPressDropEvent } from '../../../src/agent/call-control/press-digits.ts';
import type { CallSignalForm, Keypad } from '../../../src/agent/call-control/signal-form.ts';
import { ToolRouter } from '../../../src/agent/tool-router.ts';
import { keyPressDropReporter, turnStages } from '../../../src/agent/turn-stages.ts';
import { pipe } from '../../../src/core/pipe.ts';
import type { StreamPart } from '../../../src/core/stream-part.ts';
import { imsPlatform } from '../../../src/platforms/ims.ts';
import { parseChatRequest } from '../../../src/protocol/chat-request.ts';
import { socketSignalForm, type SocketSignal } from '../../../src/server/sockets/socket/socket-signals.ts';
import { agentConfig, callSignalsStage, endCallSettings, toolRoutingStage } from '../../support/core-stages.ts';
import { digits, endCall, feed, drain, runStage, STOP, text, toolCall, transfer } from '../../support/stage-kit.ts';
import { ScriptedTestProvider } from '../../support/test-provider.ts';

/**
 * A key press the model asked for and the gateway did not make is told, with why: at tool routing
 * when its keys are not keys, at the call-signal stage when the platform cannot press them.
 */

const press = (keys: unknown) => toolCall('k1', 'press_digits', JSON.stringify({ digits: keys }));

describe('dropped key presses: tool routing (invalid keys)', () => {
  const routing = (maxDigits?: number) => toolRoutingStage(agentConfig({ pressDigits: maxDigits === undefined ? {} : { maxDigits } }));

  it('keys that are not keys press nothing and are told as invalid_keys, with what the model wrote', async () => {
    const { stage, keyPressesDropped } = routing();
    const out = await runStage(stage, [text('Choosing sales.'), ...press('sales'), STOP]);
    assert.deepEqual(out.types, ['text', 'finish']);
    assert.deepEqual(keyPressesDropped, [{ reason: 'invalid_keys', keys: 'sales' }]);
  });

  it('more keys than maxDigits are invalid_keys too', async () => {
    const { stage, keyPressesDropped } = routing(4);
    const out = await runStage(stage, [...press('12345'), STOP]);
    assert.deepEqual(out.types, ['finish']);
    assert.deepEqual(keyPressesDropped, [{ reason: 'invalid_keys', keys: '12345' }]);
  });

  it('tells at most the first 32 characters the model wrote, and no keys when it wrote none', async () => {
    const { stage, keyPressesDropped } = routing();
    await runStage(stage, [...press('x'.repeat(500)), ...toolCall('k2', 'press_digits', '{}'), ...press(['1']), STOP]);
    assert.deepEqual(keyPressesDropped, [
      { reason: 'invalid_keys', keys: 'x'.repeat(32) },
      { reason: 'invalid_keys' },
      { reason: 'invalid_keys' },
    ]);
  });

  it('valid keys become a digits part and nothing is told', async () => {
    const { stage, keyPressesDropped } = routing();
    const out = await runStage(stage, [...press('1 2 3'), STOP]);
    assert.deepEqual(out.parts, [digits('123'), STOP]);
    assert.deepEqual(keyPressesDropped, []);
  });
});

describe('dropped key presses: call signals (the platform cannot press them)', () => {
  const endCallConfig = endCallSettings();
  const imsForm = imsPlatform.signalForm({ endCall: endCallConfig, offeredTools: new Set() });
  const withKeypad = (keypad: Omit<Keypad, 'press'>): { form: CallSignalForm; pressed: string[] } => {
    const pressed: string[] = [];
    const form: CallSignalForm = {
      ...imsForm,
      keypad: {
        ...keypad,
        press: (keys) => {
          pressed.push(keys);
          return [STOP];
        },
      },
    };
    return { form, pressed };
  };

  it('a platform without a keypad: no_keypad, the turn ends as it would have', async () => {
    assert.equal(imsForm.keypad, undefined, 'IMS has no keypad');
    const { stage, signals, keyPressesDropped } = callSignalsStage({ form: imsForm });
    const out = await runStage(stage, [text('Pressing 1.'), digits('1'), STOP]);
    assert.deepEqual(out.parts, [text('Pressing 1.'), STOP]);
    assert.deepEqual(signals, []);
    assert.deepEqual(keyPressesDropped, [{ reason: 'no_keypad', keys: '1' }]);
  });

  it('more keys than the keypad presses in one turn (Retell: one): keypad_limit, nothing pressed', async () => {
    const handed: SocketSignal[] = [];
    const { stage, signals, keyPressesDropped } = callSignalsStage({ form: socketSignalForm('retell', (signal) => handed.push(signal)) });
    const out = await runStage(stage, [digits('12'), STOP]);
    assert.deepEqual(out.parts, [STOP]);
    assert.deepEqual(handed, []);
    assert.deepEqual(signals, []);
    assert.deepEqual(keyPressesDropped, [{ reason: 'keypad_limit', keys: '12' }]);
  });

  it('pauses on a keypad that knows none: keypad_limit', async () => {
    const { form, pressed } = withKeypad({ pauses: false });
    const { stage, keyPressesDropped } = callSignalsStage({ form });
    await runStage(stage, [digits('1w2'), STOP]);
    assert.deepEqual(pressed, []);
    assert.deepEqual(keyPressesDropped, [{ reason: 'keypad_limit', keys: '1w2' }]);
  });

  it('a press in a turn that ends or transfers the call: call_ended, the call ends', async () => {
    const { form, pressed } = withKeypad({ pauses: true });
    const hangup = callSignalsStage({ form });
    await runStage(hangup.stage, [digits('1'), endCall('Bye.'), STOP]);
    assert.deepEqual(hangup.signals, ['hangup']);
    assert.deepEqual(hangup.keyPressesDropped, [{ reason: 'call_ended', keys: '1' }]);

    const transferring = callSignalsStage({ form, transfer: { functionName: 't', destinations: { sales: { callee: '10086' } } } });
    await runStage(transferring.stage, [transfer('sales'), digits('2'), STOP]);
    assert.deepEqual(transferring.signals, ['transfer:sales']);
    assert.deepEqual(transferring.keyPressesDropped, [{ reason: 'call_ended', keys: '2' }]);
    assert.deepEqual(pressed, []);
  });

  it('a press the keypad carries is made and nothing is told', async () => {
    const { form, pressed } = withKeypad({ pauses: true });
    const { stage, signals, keyPressesDropped } = callSignalsStage({ form });
    await runStage(stage, [digits('1w2#'), STOP]);
    assert.deepEqual(pressed, ['1w2#']);
    assert.deepEqual(signals, ['digits']);
    assert.deepEqual(keyPressesDropped, []);
  });
});

describe('dropped key presses: the turn stages log and report them', () => {
  it('a warning naming agent, call and reason, and the observer told', async () => {
    const config = agentConfig({ pressDigits: {} });
    const agent: Agent = {
      id: 'menu',
      config,
      provider: new ScriptedTestProvider('primary', []),
      targets: [],
      router: new ToolRouter(config),
      mayEndOrTransfer: true,
    };
    const endCallConfig = endCallSettings();
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const told: KeyPressDropEvent[] = [];
    const request = parseChatRequest({
      model: 'menu',
      messages: [{ role: 'user', content: 'Sales?' }],
      extendData: { instanceId: 'call-9' },
    });
    const observer = { onKeyPressDropped: (event: KeyPressDropEvent) => told.push(event) };
    const stages = turnStages({
      agent,
      request,
      form: imsPlatform.signalForm({ endCall: endCallConfig, offeredTools: new Set() }),
      endCall: endCallConfig,
      language: 'en',
      signal: new AbortController().signal,
      logger,
      observer,
      // As runTurn wires it for an agent with a keypad function.
      onKeyPressDropped: keyPressDropReporter('menu', request, logger, observer),
    });
    const out = await drain(pipe(feed([text('One moment.'), digits('1'), STOP] satisfies StreamPart[]), stages));
    assert.equal(out.types.at(-1), 'finish');
    assert.deepEqual(told, [{ reason: 'no_keypad', keys: '1' }]);
    const warning = lines.find((line) => line.msg === 'a key press the model asked for was dropped');
    assert.equal(warning?.level, 40);
    assert.equal(warning?.agent, 'menu');
    assert.equal(warning?.instanceId, 'call-9');
    assert.equal(warning?.reason, 'no_keypad');
    assert.equal(warning?.keys, '1');
  });
});
