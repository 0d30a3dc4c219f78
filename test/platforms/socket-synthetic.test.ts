import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SYNTHETIC_HEADER } from '../../src/protocol/synthetic-traffic.ts';
import { startSocketAgent, type SocketAgentSetup } from '../support/socket-agent.ts';
import { SocketClient } from '../support/socket-client.ts';

const SECRET = 'retell-secret-0123456789';

/**
 * A socket's turns are recorded as synthetic when its upgrade request carried `x-vlg-synthetic`
 * (as `check` and `simulate` send it), as an HTTP turn is by its request header; a platform's
 * own socket carries none, and an unknown marker is ignored.
 */
describe('socket turns marked synthetic by the upgrade request', () => {
  let setup: SocketAgentSetup;
  before(async () => {
    setup = await startSocketAgent({ retell: { secret: SECRET, agent: 'support' }, twilio: { agent: 'support' } });
  });
  after(() => setup.close());

  const syntheticOf = async (callId: string) => {
    await setup.gateway.records!.flush();
    const call = await setup.gateway.records!.getCall(callId);
    assert.ok(call, `the call ${callId} was recorded`);
    return call.turnRecords.map((turn) => turn.synthetic);
  };

  async function retellTurn(callId: string, headers: Record<string, string>): Promise<void> {
    const client = await SocketClient.connect(`${setup.base}/retell/${SECRET}/${callId}`, headers);
    client.send({ interaction_type: 'response_required', response_id: 1, transcript: [{ role: 'user', content: 'Where is my order?' }] });
    await client.next((e) => e.response_type === 'response' && e.response_id === 1 && e.content_complete === true);
    client.close();
  }

  async function twilioTurn(callSid: string, headers: Record<string, string>): Promise<void> {
    const client = await SocketClient.connect(`${setup.base}/twilio`, headers);
    client.send({ type: 'setup', callSid });
    client.send({ type: 'prompt', voicePrompt: 'Where is my order?', lang: 'en-US', last: true });
    await client.next((e) => e.type === 'text' && e.last === true);
    client.close();
  }

  it('Retell: a turn on a socket opened by check or simulate is synthetic; a plain one is not', async () => {
    await retellTurn('call-synthetic-check', { [SYNTHETIC_HEADER]: 'check' });
    await retellTurn('call-synthetic-plain', {});
    await retellTurn('call-synthetic-unknown', { [SYNTHETIC_HEADER]: 'someone-else' });
    assert.deepEqual(await syntheticOf('call-synthetic-check'), ['check']);
    assert.deepEqual(await syntheticOf('call-synthetic-plain'), [null]);
    assert.deepEqual(await syntheticOf('call-synthetic-unknown'), [null], 'only the known markers count');
  });

  it('Twilio: the same, the call details taken from setup keep the marker', async () => {
    await twilioTurn('CA00000000000000000000000000000071', { [SYNTHETIC_HEADER]: 'simulate' });
    await twilioTurn('CA00000000000000000000000000000072', {});
    assert.deepEqual(await syntheticOf('CA00000000000000000000000000000071'), ['simulate']);
    assert.deepEqual(await syntheticOf('CA00000000000000000000000000000072'), [null]);
  });
});
