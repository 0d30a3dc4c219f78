import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { speechStages } from '../../../src/agent/transforms/speech-stages.ts';
import { transferSchema, type EndCallConfig } from '../../../src/config/schema.ts';
import { imsPlatform } from '../../../src/platforms/ims.ts';
import { agentConfig, callSignalsStage, endCallSettings } from '../../support/core-stages.ts';
import { endCall, finish, runStage, STOP, text, toolCall, transfer, usage } from '../../support/stage-kit.ts';

const TRANSFER = transferSchema.parse({
  destinations: { sales: { callee: '10086', msg: 'Connecting you to sales.', errMsg: 'Sales is busy.' } },
});

/** The call-signal stage as the IMS platform wants its signals, with the agent's end-call settings. */
function imsSignals(overrides: Partial<EndCallConfig> = {}, speech = false) {
  const endCallConfig = endCallSettings(overrides);
  return callSignalsStage({
    endCall: overrides,
    transfer: TRANSFER,
    form: imsPlatform.signalForm({ endCall: endCallConfig, offeredTools: new Set() }),
    ...(speech ? { speech: speechStages(agentConfig().speech, 'en')! } : {}),
  });
}

describe('call signals', () => {
  it('passes a turn without a signal through untouched, deciding nothing', async () => {
    const { stage, signals } = imsSignals();
    const input = [text('Your order shipped.'), ...toolCall('c1', 'client_fn', '{"a":1}'), usage(5, 3), finish('tool_calls')];
    const out = await runStage(stage, input);
    assert.deepEqual(out.parts, input);
    assert.deepEqual(signals, []);
  });

  it("turns an end of call into the workflow's hangup function call, after what was said", async () => {
    const { stage, signals } = imsSignals({ hangupFunctionName: 'hang_up_now' });
    const out = await runStage(stage, [text('Thanks for calling. '), endCall(), STOP]);
    assert.deepEqual(out.types, ['text', 'tool-call-start', 'tool-call-delta', 'tool-call-end', 'finish']);
    assert.equal(out.text, 'Thanks for calling. ', 'nothing is added after words were said');
    const start = out.parts[1]!;
    assert.ok(start.type === 'tool-call-start' && start.name === 'hang_up_now');
    assert.deepEqual(out.parts.at(-1), finish('tool_calls'));
    assert.deepEqual(signals, ['hangup']);
  });

  it('says the farewell when the call ends in a turn that said nothing', async () => {
    const { stage } = imsSignals({ farewell: 'Goodbye, take care.' });
    const out = await runStage(stage, [endCall(), STOP]);
    assert.equal(out.text, 'Goodbye, take care.');
    assert.equal(out.types.at(-1), 'finish');
  });

  it("says the model's own farewell, joined to what it said", async () => {
    const { stage } = imsSignals();
    const out = await runStage(stage, [text('All done.'), endCall('Bye now.'), STOP]);
    assert.equal(out.text, 'All done. Bye now.');
  });

  it('speaks the farewell through the speech stages the answer went through', async () => {
    const { stage } = imsSignals({}, true);
    const out = await runStage(stage, [endCall('**Bye** now 👋'), STOP]);
    assert.equal(out.text, 'Bye now');
  });

  it('sends the <imsagent_hangup/> command in text mode, farewell as its endword', async () => {
    const { stage, signals } = imsSignals({ mode: 'text', farewell: 'Goodbye.' });
    const out = await runStage(stage, [endCall(), STOP]);
    assert.deepEqual(out.parts, [text('<imsagent_hangup endword="Goodbye."/>'), STOP]);
    assert.deepEqual(signals, ['hangup']);
  });

  it('turns a transfer into the <imsagent_transfer_call/> command for its destination', async () => {
    const { stage, signals } = imsSignals();
    const out = await runStage(stage, [text('One moment.'), transfer('sales'), STOP]);
    assert.deepEqual(out.parts, [
      text('One moment.'),
      text('<imsagent_transfer_call callee="10086" msg="Connecting you to sales." err_msg="Sales is busy."/>'),
      STOP,
    ]);
    assert.deepEqual(signals, ['transfer:sales']);
  });

  it('ignores a transfer to a destination the agent does not have', async () => {
    const { stage, signals } = imsSignals();
    const out = await runStage(stage, [text('Hm.'), transfer('nowhere'), STOP]);
    assert.deepEqual(out.parts, [text('Hm.'), STOP]);
    assert.deepEqual(signals, []);
  });

  it('sends one signal when the turn asks for several, a transfer before a hangup', async () => {
    const { stage, signals } = imsSignals();
    const out = await runStage(stage, [endCall(), transfer('sales'), endCall('Bye.'), STOP]);
    assert.deepEqual(signals, ['transfer:sales']);
    assert.equal(out.types.filter((type) => type === 'finish').length, 1);
    assert.ok(!out.types.includes('end-call') && !out.types.includes('transfer'), 'the neutral parts never reach the writer');
  });

  it('joins a Chinese farewell to Chinese words without a space', async () => {
    const { stage } = imsSignals();
    const out = await runStage(stage, [text('好的，'), endCall('再见。'), STOP], { chunk: 1 });
    assert.equal(out.text, '好的，再见。');
  });
});
