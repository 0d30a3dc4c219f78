import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { retell, retellCallUrl, twilio, twilioSignedUrl } from '../../../tools/platforms/socket-messages.ts';
import { fixture } from '../../platforms/fixtures.ts';

/** The messages simulate and check send are the ones recorded from the platforms' docs. */
describe('the Retell and Twilio messages the tools send', () => {
  const ada = { callerNumber: '+16505550199', calleeNumber: '+14155550123', userData: { customerName: 'Ada' } };

  it("are Retell's recorded messages", () => {
    const recorded = fixture('retell/response-required') as { transcript: Array<{ role: 'agent' | 'user'; content: string }> };
    assert.deepEqual(retell.responseRequired(1, recorded.transcript), recorded);
    const reminder = fixture('retell/reminder-required') as { transcript: Array<{ role: 'agent' | 'user'; content: string }> };
    assert.deepEqual(retell.reminderRequired(2, reminder.transcript), reminder);
    const update = fixture('retell/update-only') as { transcript: Array<{ role: 'agent' | 'user'; content: string }> };
    assert.deepEqual(retell.updateOnly(update.transcript), update);
    assert.deepEqual(retell.pingPong(1764700002000), fixture('retell/ping-pong'));
    const details = retell.callDetails({ callId: 'call-retell-1', ...ada });
    const recordedDetails = fixture('retell/call-details') as { call: Record<string, unknown> };
    assert.deepEqual(Object.keys(details.call).sort(), Object.keys(recordedDetails.call).sort());
    assert.deepEqual(
      { ...details.call, agent_id: '', start_timestamp: 0, retell_llm_dynamic_variables: {} },
      { ...recordedDetails.call, agent_id: '', start_timestamp: 0, retell_llm_dynamic_variables: {} },
    );
  });

  it("dials Retell's URL with the call id appended", () => {
    assert.equal(retellCallUrl(new URL('wss://llm.example.com/retell/s3cret/'), 'call 1'), 'wss://llm.example.com/retell/s3cret/call%201');
  });

  it("are Twilio's recorded messages, and it signs the wss URL", () => {
    const setup = twilio.setup({ callId: 'CA00000000000000000000000000000001', ...ada });
    assert.deepEqual({ ...setup, sessionId: '' }, { ...fixture('twilio/setup'), sessionId: '' });
    assert.match(setup.sessionId, /^VX[0-9A-Za-z]{32}$/);
    assert.deepEqual(twilio.prompt('Where is my order?'), fixture('twilio/prompt'));
    assert.deepEqual(twilio.interrupt('Well, there is a lot', 1460.4), fixture('twilio/interrupt'));
    assert.deepEqual(twilio.dtmf('1'), fixture('twilio/dtmf'));
    assert.equal(twilioSignedUrl(new URL('ws://127.0.0.1:8083/twilio?shop=1')), 'wss://127.0.0.1:8083/twilio?shop=1');
  });
});
