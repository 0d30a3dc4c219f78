import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseChatRequest } from '../../src/protocol/chat-request.ts';
import { detectPlatform } from '../../src/platforms/platforms.ts';
import { vapiPlatform } from '../../src/platforms/vapi.ts';
import { TEST_ADMIN_KEY, TEST_KEY } from '../support/gateway-harness.ts';
import { PlatformCaller, platformCalls } from '../support/platform-calls.ts';
import { ANSWER, GREETING, startPhoneAgent, systemPromptOf, type PhoneAgentSetup } from '../support/phone-agent.ts';
import { fixture } from './fixtures.ts';

const headers = {};

describe('Vapi: the request in the gateway call model', () => {
  it('maps call, customer, phoneNumber and metadata (variable mode)', () => {
    const turn = parseChatRequest(vapiPlatform.toChatBody({ headers, body: fixture('vapi-variable') }));
    assert.equal(turn.call.instanceId, '2f6d4a1e-8c1b-4a7e-9f4e-3b7a1c2d9e10');
    assert.equal(turn.call.callerNumber, '+16505550199', 'inbound: the customer calls');
    assert.equal(turn.call.calleeNumber, '+14155550123');
    assert.deepEqual(turn.call.userData, { customerName: 'Ada', plan: 'gold' });
    assert.equal(turn.params.metadata, undefined, "Vapi's metadata is call data, never relayed upstream");
    assert.equal(turn.stream, true);
    assert.equal(turn.params.max_tokens, 250);
  });

  it('reads destructured metadata and the direction of an outbound call', () => {
    const turn = parseChatRequest(vapiPlatform.toChatBody({ headers, body: fixture('vapi-destructured') }));
    assert.equal(turn.call.instanceId, 'call-out-1');
    assert.equal(turn.call.callerNumber, '+14155550123', 'outbound: our number calls');
    assert.equal(turn.call.calleeNumber, '+16505550199');
    assert.deepEqual(turn.call.userData, { customerName: 'Ada', plan: 'gold' });
  });

  it('is recognised by its body on the shared routes; a plain body stays IMS', () => {
    assert.equal(detectPlatform({ headers, body: fixture('vapi-variable') }).name, 'vapi');
    assert.equal(detectPlatform({ headers, body: { model: 'm', messages: [], call: 'x' } }).name, 'ims');
  });

  it('ends and transfers through the tools Vapi offered, else speaks and stops', () => {
    const endCall = {
      enabled: true,
      mode: 'tool',
      functionName: 'end_call',
      description: '',
      hangupFunctionName: 'hangup',
      farewell: 'Bye.',
    } as const;
    const offered = vapiPlatform.signalForm({ endCall, offeredTools: new Set(['endCall', 'transferCall']) });
    const hangup = offered.hangup('Bye.', (p) => ` ${p}`);
    assert.deepEqual(hangup[0], { type: 'text', text: ' Bye.' });
    const start = hangup[1];
    assert.equal(start?.type === 'tool-call-start' && start.name, 'endCall');
    const transfer = offered.transfer({ callee: '+14155550100', msg: 'One moment.' }, (p) => p);
    assert.deepEqual(transfer[0], { type: 'text', text: 'One moment.' });
    const delta = transfer[2];
    assert.equal(delta?.type === 'tool-call-delta' && delta.argumentsDelta, '{"destination":"+14155550100"}');

    const bare = vapiPlatform.signalForm({ endCall, offeredTools: new Set() });
    assert.deepEqual(
      bare.hangup('Bye.', (p) => p),
      [
        { type: 'text', text: 'Bye.' },
        { type: 'finish', reason: 'stop' },
      ],
    );
    assert.deepEqual(
      bare.transfer({ callee: '1', msg: 'One moment.', errMsg: 'Not now.' }, (p) => p),
      [
        { type: 'text', text: 'Not now.' },
        { type: 'finish', reason: 'stop' },
      ],
    );
  });
});

describe('Vapi: a whole call through the gateway with the openai client', () => {
  let setup: PhoneAgentSetup;
  let caller: PlatformCaller;
  const base = fixture('vapi-variable');

  before(async () => {
    setup = await startPhoneAgent();
    // Vapi's own guide leads to the doubled path: the client appends /chat/completions to it.
    const vapi = platformCalls().find((call) => call.platform === 'vapi')!;
    caller = new PlatformCaller(setup.gateway.url, {
      ...vapi,
      base: '/vapi/v1/chat/completions',
      body: (messages) => ({ ...base, messages }),
    });
  });
  after(() => setup.close());

  it('greets, answers with the call data in the prompt, is cut off, transfers and ends', async () => {
    assert.equal((await caller.say('Hello?')).text, GREETING);
    assert.match(
      systemPromptOf(setup.upstream.requests[0]!),
      /Caller \+16505550199, call 2f6d4a1e-8c1b-4a7e-9f4e-3b7a1c2d9e10, name Ada\./,
    );

    assert.equal((await caller.say('Where is my order?')).text, ANSWER);

    // Barge-in: Vapi closes the stream; the upstream is stopped at once.
    const controller = new AbortController();
    const cut = caller.say('Tell me everything', controller.signal);
    await setup.upstream.waitForRequests(3);
    controller.abort();
    await assert.rejects(cut);
    await setup.upstream.waitForAbort(2);
    caller.history.pop();

    const transfer = await caller.say('A human, please');
    assert.equal(transfer.text, 'Putting you through to sales.');
    assert.deepEqual(transfer.tool, { name: 'transferCall', arguments: '{"destination":"+14155550100"}' });
    assert.equal(transfer.finishReason, 'tool_calls');

    const bye = await caller.say('ok bye');
    assert.equal(bye.text, 'Thanks for calling!');
    assert.deepEqual(bye.tool, { name: 'endCall', arguments: '{}' });
    assert.equal(bye.finishReason, 'tool_calls');

    const turns = setup.gateway.logs.filter((line) => line.msg === 'turn');
    assert.ok(turns.every((line) => line.platform === 'vapi'));
    assert.equal(setup.gateway.logText().includes('b1e4c8f2'), false, 'the raw body (orgId) is never logged');

    await setup.gateway.records!.flush();
    const record = await fetch(`${setup.gateway.url}/admin/calls/2f6d4a1e-8c1b-4a7e-9f4e-3b7a1c2d9e10`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
    });
    const records = ((await record.json()) as { turnRecords: Array<{ platform: string; signal: string | null }> }).turnRecords;
    assert.ok(
      records.every((turn) => turn.platform === 'vapi'),
      'the records say which platform',
    );
    assert.deepEqual(records.map((turn) => turn.signal).filter(Boolean), ['transfer:sales', 'hangup']);
  });

  it('streams by the body, with no Accept header, on the shared doubled path when the body is Vapi', async () => {
    const response = await fetch(`${setup.gateway.url}/chat/completions/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...base, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    assert.match(await response.text(), /data: \[DONE\]/);
  });

  it('asks for the key on the doubled path too', async () => {
    const response = await fetch(`${setup.gateway.url}/chat/completions/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(base),
    });
    assert.equal(response.status, 401);
  });
});
