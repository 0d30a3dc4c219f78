import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { elevenLabsPlatform } from '../../src/platforms/elevenlabs.ts';
import { detectPlatform } from '../../src/platforms/platforms.ts';
import { platformFixture } from './fixtures.ts';
import { mapFixture, signalsWith, toolCallIn } from './mapping.ts';

describe('ElevenLabs: the request in the gateway call model', () => {
  it('takes the call from elevenlabs_extra_body and keeps it all as userData', () => {
    const turn = mapFixture(elevenLabsPlatform, 'elevenlabs');
    assert.equal(turn.call.instanceId, 'el-conv-7f3a');
    assert.equal(turn.call.callerNumber, '+16505550199');
    assert.deepEqual(turn.call.userData, { call_id: 'el-conv-7f3a', caller_number: '+16505550199', customerName: 'Ada' });
    assert.equal(turn.params.max_tokens, 5000);
  });

  it('is recognised by elevenlabs_extra_body', () => {
    assert.equal(detectPlatform(platformFixture('elevenlabs')).name, 'elevenlabs');
  });

  it('ends with end_call and transfers with transfer_to_number, which says the message itself', () => {
    const signals = signalsWith(elevenLabsPlatform, ['end_call', 'transfer_to_number']);
    const hangup = signals.hangup('Goodbye.', (p) => p);
    assert.deepEqual(hangup[0], { type: 'text', text: 'Goodbye.' });
    assert.deepEqual(toolCallIn(hangup), { name: 'end_call', args: '{"reason":"The conversation is over."}' });
    const transfer = signals.transfer({ callee: '+14155550100', msg: 'Putting you through.' }, (p) => ` ${p}`);
    assert.equal(transfer.filter((part) => part.type === 'text').length, 0, 'client_message is spoken by ElevenLabs, not twice');
    const call = toolCallIn(transfer);
    assert.equal(call.name, 'transfer_to_number');
    assert.equal(JSON.parse(call.args).transfer_number, '+14155550100');
    assert.equal(JSON.parse(call.args).client_message, 'Putting you through.');
  });
});
