import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MockUpstream } from '../../tools/testing/mock-upstream.ts';
import type { TestGateway } from '../support/gateway-harness.ts';
import { startSocketAgent, type SocketAgentSetup } from '../support/socket-agent.ts';
import { ANSWER, GREETING, systemPromptOf } from '../support/phone-agent.ts';
import { RefusedUpgrade, SocketClient } from '../support/socket-client.ts';
import { fixture } from './fixtures.ts';

const SECRET = 'retell-secret-0123456789';

type Utterance = { role: 'agent' | 'user'; content: string };

/** Everything Retell was sent for one response_id, once its last event came. */
async function answerTo(client: SocketClient, responseId: number, from = 0): Promise<{ content: string; last: Record<string, any> }> {
  const last = await client.next(
    (e) => e.response_type === 'response' && e.response_id === responseId && e.content_complete === true,
    from,
  );
  const pieces = client.received.filter((e) => e.response_type === 'response' && e.response_id === responseId);
  return { content: pieces.map((e) => e.content).join(''), last };
}

describe('Retell custom LLM WebSocket', () => {
  let setup: SocketAgentSetup;
  let upstream: MockUpstream;
  let gateway: TestGateway;
  let base: string;
  before(async () => {
    setup = await startSocketAgent({ retell: { secret: SECRET, agent: 'support', greeting: GREETING } });
    ({ upstream, gateway, base } = setup);
  });
  after(() => setup.close());

  it('holds a whole call: config and greeting, the call details, answers, barge-in, transfer and end of call', async () => {
    const client = await SocketClient.connect(`${base}/retell/${SECRET}/call-retell-1`);
    const config = await client.next((e) => e.response_type === 'config');
    assert.deepEqual(config.config, { auto_reconnect: true, call_details: true });
    const begin = await answerTo(client, 0);
    assert.equal(begin.content, GREETING);
    assert.equal(begin.last.end_call, false);

    client.send(fixture('retell/call-details'));
    client.send(fixture('retell/update-only'));
    client.send(fixture('retell/ping-pong'));
    assert.equal((await client.next((e) => e.response_type === 'ping_pong')).timestamp, 1764700002000);

    const seen = upstream.requests.length;
    client.send(fixture('retell/response-required'));
    assert.equal((await answerTo(client, 1)).content, ANSWER);
    const prompt = systemPromptOf(upstream.requests[seen]!);
    assert.match(
      prompt,
      /Caller \+16505550199, call call-retell-1, name Ada\./,
      'the call details reach the prompt (metadata over dynamic variables)',
    );

    const transcript: Utterance[] = [
      { role: 'agent', content: GREETING },
      { role: 'user', content: 'Where is my order?' },
      { role: 'agent', content: ANSWER },
    ];
    // Barge-in: a newer response_id supersedes the answer still streaming; its upstream is aborted at once.
    client.send({
      interaction_type: 'response_required',
      response_id: 2,
      transcript: [...transcript, { role: 'user', content: 'Tell me everything' }],
    });
    await upstream.waitForRequests(seen + 2);
    await client.next((e) => e.response_id === 2 && e.content !== '');
    client.send({
      interaction_type: 'response_required',
      response_id: 3,
      transcript: [...transcript, { role: 'user', content: 'Where is my order, again?' }],
    });
    await upstream.waitForAbort(seen + 1);
    const mark = client.received.length;
    assert.equal((await answerTo(client, 3)).content, ANSWER);
    assert.ok(!client.received.some((e) => e.response_id === 2 && e.content_complete), 'the superseded answer is never completed');
    // A late event for an older response is ignored.
    client.send({
      interaction_type: 'response_required',
      response_id: 2,
      transcript: [...transcript, { role: 'user', content: 'Tell me everything' }],
    });

    client.send({
      interaction_type: 'response_required',
      response_id: 4,
      transcript: [...transcript, { role: 'user', content: 'A human, please' }],
    });
    const transfer = await answerTo(client, 4, mark);
    assert.equal(transfer.content, 'Putting you through to sales.');
    assert.equal(transfer.last.transfer_number, '+14155550100');
    assert.equal(transfer.last.end_call, undefined);

    client.send({
      interaction_type: 'response_required',
      response_id: 5,
      transcript: [...transcript, { role: 'user', content: 'ok bye' }],
    });
    const bye = await answerTo(client, 5, mark);
    assert.equal(bye.content, 'Thanks for calling!');
    assert.equal(bye.last.end_call, true);
    assert.ok(client.open, 'the gateway never closes the socket itself (a close is a hang-up)');
    client.close();

    // Retell reconnecting to the call: no second greeting.
    const again = await SocketClient.connect(`${base}/retell/${SECRET}/call-retell-1`);
    assert.equal((await answerTo(again, 0)).content, '');
    again.close();

    const lines = gateway.logs.filter((line) => line.msg === 'turn' && line.platform === 'retell');
    assert.deepEqual(lines.map((line) => line.status).sort(), ['ok', 'ok', 'ok', 'ok', 'superseded'].sort());
    await gateway.records!.flush();
    const call = await gateway.records!.getCall('call-retell-1');
    assert.ok(call, 'the turns are recorded under the call id');
    const outcomes = call.turnRecords.map((turn) => turn.outcome);
    assert.equal(outcomes.length, 5);
    assert.ok(call.turnRecords.some((turn) => turn.signal === 'hangup'));
    assert.ok(call.turnRecords.some((turn) => turn.signal === 'transfer:sales'));
    assert.ok(!gateway.logText().includes(SECRET), 'the secret in the path is never logged');
  });

  it('prompts a silent caller on reminder_required, in the call as Retell keeps it', async () => {
    const client = await SocketClient.connect(`${base}/retell/${SECRET}/call-retell-2`);
    const seen = upstream.requests.length;
    client.send(fixture('retell/reminder-required'));
    assert.equal((await answerTo(client, 2)).content, ANSWER);
    const messages = (upstream.requests[seen]!.body as { messages: Array<{ role: string; content: string }> }).messages;
    assert.equal(messages.at(-1)!.role, 'system');
    assert.match(messages.at(-1)!.content, /said nothing for a while/);
    client.close();
  });

  it('answers an upstream failure with an apology and keeps the socket open', async () => {
    const client = await SocketClient.connect(`${base}/retell/${SECRET}/call-retell-3`);
    client.send({ interaction_type: 'response_required', response_id: 1, transcript: [{ role: 'user', content: 'break, please' }] });
    const apology = await answerTo(client, 1);
    assert.match(apology.content, /Sorry/);
    client.send(fixture('retell/ping-pong'));
    await client.next((e) => e.response_type === 'ping_pong');
    assert.ok(client.open);
    client.send({ interaction_type: 'response_required', response_id: 2, transcript: [{ role: 'user', content: 'Where is my order?' }] });
    assert.equal((await answerTo(client, 2)).content, ANSWER);
    client.close();
  });

  it('apologises for a turn that failed outright (an agent that answers errors) and keeps the socket open', async () => {
    const strict = await startSocketAgent({ retell: { secret: SECRET, agent: 'support' } }, { onFailure: { mode: 'error' } });
    try {
      const client = await SocketClient.connect(`${strict.base}/retell/${SECRET}/call-retell-7`);
      client.send({ interaction_type: 'response_required', response_id: 1, transcript: [{ role: 'user', content: 'break, please' }] });
      assert.match((await answerTo(client, 1)).content, /^Sorry, I'm having trouble/);
      client.send({ interaction_type: 'response_required', response_id: 2, transcript: [{ role: 'user', content: 'Where is my order?' }] });
      assert.equal((await answerTo(client, 2)).content, ANSWER);
      assert.ok(client.open);
      client.close();
      const failed = strict.gateway.logs.find((line) => line.msg === 'turn failed' || line.msg === 'turn');
      assert.equal(failed?.platform, 'retell');
    } finally {
      await strict.close();
    }
  });

  it('refuses a wrong secret at the upgrade, before any call data', async () => {
    const refused = await SocketClient.connect(`${base}/retell/not-the-secret/call-retell-4`).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof RefusedUpgrade);
    assert.equal(refused.status, 401);
    assert.ok(!gateway.logText().includes('not-the-secret'));
  });

  it('refuses an address outside allowFrom with a 403', async () => {
    const guarded = await startSocketAgent({ retell: { secret: SECRET, agent: 'support', allowFrom: ['100.20.5.228/32'] } });
    try {
      const refused = await SocketClient.connect(`${guarded.base}/retell/${SECRET}/call-retell-5`).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(refused instanceof RefusedUpgrade);
      assert.equal(refused.status, 403);
    } finally {
      await guarded.close();
    }
  });

  it('closes its sockets with 1012 on shutdown (Retell reconnects), never 1000 (a hang-up)', async () => {
    const stopping = await startSocketAgent({ retell: { secret: SECRET, agent: 'support', allowFrom: ['127.0.0.1', '::1'] } });
    const client = await SocketClient.connect(`${stopping.base}/retell/${SECRET}/call-retell-6`);
    await client.next((e) => e.response_type === 'response' && e.response_id === 0);
    await stopping.close();
    await client.next(() => false, 0, 2000).catch(() => undefined);
    assert.equal(client.closeCode, 1012);
  });
});
