import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout } from 'node:timers/promises';
import { twilioSignature } from '../../src/server/sockets/twilio/twilio-signature.ts';
import type { MockUpstream } from '../../tools/testing/mock-upstream.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { startSocketAgent, type SocketAgentSetup } from '../support/socket-agent.ts';
import { ANSWER, GREETING, systemPromptOf } from '../support/phone-agent.ts';
import { RefusedUpgrade, SocketClient } from '../support/socket-client.ts';
import { fixture } from './fixtures.ts';

const AUTH_TOKEN = 'twilio-auth-token-0123456789';
const PUBLIC_URL = 'wss://voice.example.com/twilio';

type Message = { role: string; content: string };

/** The tokens of the answer that ends at the next `last: true` text from `from` on, and what followed. */
async function answer(client: SocketClient, from: number): Promise<{ text: string; end: number }> {
  const last = await client.next((e) => e.type === 'text' && e.last === true, from);
  const end = client.received.indexOf(last, from);
  const text = client.received
    .slice(from, end + 1)
    .filter((e) => e.type === 'text')
    .map((e) => e.token)
    .join('');
  return { text, end: end + 1 };
}

function say(client: SocketClient, words: string): number {
  const from = client.received.length;
  client.send({ type: 'prompt', voicePrompt: words, lang: 'en-US', last: true });
  return from;
}

describe('Twilio ConversationRelay WebSocket', () => {
  let setup: SocketAgentSetup;
  let upstream: MockUpstream;
  let gateway: TestGateway;
  let base: string;
  const signed = (url = PUBLIC_URL) => ({ 'x-twilio-signature': twilioSignature(AUTH_TOKEN, url) });
  before(async () => {
    setup = await startSocketAgent({ twilio: { authToken: AUTH_TOKEN, agent: 'support', publicUrl: PUBLIC_URL } });
    ({ upstream, gateway, base } = setup);
  });
  after(() => setup.close());

  it('holds a whole call: setup, answers, barge-in marked in the history, a key press, transfer and end of call', async () => {
    const client = await SocketClient.connect(`${base}/twilio`, signed());
    client.send(fixture('twilio/setup'));
    const seen = upstream.requests.length;
    let from = client.received.length;
    client.send(fixture('twilio/prompt'));
    assert.equal((await answer(client, from)).text, ANSWER);
    assert.match(systemPromptOf(upstream.requests[seen]!), /Caller \+16505550199, call CA00000000000000000000000000000001, name Ada\./);

    // Barge-in: the interrupt stops the upstream at once, and the history keeps what the caller heard.
    from = say(client, 'Tell me everything');
    await client.next((e) => e.type === 'text' && e.token !== '', from);
    client.send(fixture('twilio/interrupt'));
    await upstream.waitForAbort(seen + 1);
    from = say(client, 'Where is my order, again?');
    assert.equal((await answer(client, from)).text, ANSWER);
    const history = (upstream.requests[seen + 2]!.body as { messages: Message[] }).messages.filter(
      (m) => m.role !== 'system' || /interrupted/.test(m.content),
    );
    assert.deepEqual(
      history.map((m) => [m.role, m.role === 'system' ? 'note' : m.content]),
      [
        ['user', 'Where is my order?'],
        ['assistant', ANSWER],
        ['user', 'Tell me everything'],
        ['assistant', 'Well, there is a lot…'],
        ['system', 'note'],
        ['user', 'Where is my order, again?'],
      ],
    );

    from = client.received.length;
    client.send(fixture('twilio/dtmf'));
    assert.equal((await answer(client, from)).text, GREETING);
    assert.deepEqual((upstream.requests.at(-1)!.body as { messages: Message[] }).messages.at(-1), { role: 'user', content: '1' });

    from = say(client, 'A human, please');
    const transfer = await answer(client, from);
    assert.equal(transfer.text, 'Putting you through to sales.');
    const handoff = await client.next((e) => e.type === 'end', from);
    assert.deepEqual(JSON.parse(handoff.handoffData), { reasonCode: 'live-agent-handoff', callee: '+14155550100' });

    from = say(client, 'ok bye');
    assert.equal((await answer(client, from)).text, 'Thanks for calling!');
    const end = await client.next((e) => e.type === 'end', from);
    assert.deepEqual(JSON.parse(end.handoffData), { reasonCode: 'end-call' });
    assert.ok(client.open, 'the gateway leaves closing the session to Twilio');

    client.send(fixture('twilio/error'));
    const reported = () => gateway.logs.some((line) => line.msg === 'Twilio reported an error in a message the gateway sent');
    for (let i = 0; i < 100 && !reported(); i++) await setTimeout(10);
    assert.ok(reported(), "Twilio's error message is logged");
    client.close();

    const lines = gateway.logs.filter((line) => line.msg === 'turn' && line.platform === 'twilio');
    assert.deepEqual(lines.map((line) => line.status).sort(), ['ok', 'ok', 'ok', 'ok', 'ok', 'superseded'].sort());
    await gateway.records!.flush();
    const call = await gateway.records!.getCall('CA00000000000000000000000000000001');
    assert.ok(call, 'the turns are recorded under the CallSid');
    assert.equal(call.turnRecords.length, 6);
    assert.ok(call.turnRecords.some((turn) => turn.signal === 'transfer:sales'));
    assert.ok(!gateway.logText().includes(AUTH_TOKEN));
  });

  it('answers an upstream failure with an apology and keeps the socket open', async () => {
    const client = await SocketClient.connect(`${base}/twilio`, signed());
    client.send({ ...fixture('twilio/setup'), callSid: 'CA00000000000000000000000000000002' });
    const apology = await answer(client, say(client, 'break, please'));
    assert.match(apology.text, /Sorry/);
    assert.ok(client.open);
    assert.equal((await answer(client, say(client, 'Where is my order?'))).text, ANSWER);
    client.close();
  });

  it('refuses a handshake whose X-Twilio-Signature does not sign the URL', async () => {
    for (const headers of [
      {},
      signed('wss://elsewhere.example.com/twilio'),
      { 'x-twilio-signature': twilioSignature('another-token', PUBLIC_URL) },
    ]) {
      const refused = await SocketClient.connect(`${base}/twilio`, headers).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(refused instanceof RefusedUpgrade);
      assert.equal(refused.status, 401);
    }
    // The query string Twilio requested is part of what it signs.
    const client = await SocketClient.connect(`${base}/twilio?shop=1`, signed(`${PUBLIC_URL}?shop=1`));
    client.close();
  });
});
