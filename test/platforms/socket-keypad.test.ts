import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RecordedRequest } from '../../tools/testing/mock-upstream.ts';
import { startSocketAgent, type SocketAgentSetup } from '../support/socket-agent.ts';
import { SocketClient } from '../support/socket-client.ts';

const SECRET = 'retell-secret-0123456789';

type Tool = { function: { name: string; parameters: { properties: Record<string, { pattern?: string; maxLength?: number }> } } };

/** The keypad function as the model was offered it in one upstream request, if it was. */
function offeredKeypad(request: RecordedRequest): Tool['function'] | undefined {
  const tools = (request.body as { tools?: Tool[] }).tools ?? [];
  return tools.find((tool) => tool.function.name === 'press_digits')?.function;
}

/** Retell's whole response to `responseId`: its content and its last (content_complete) event. */
async function retellTurn(
  client: SocketClient,
  responseId: number,
  words: string,
): Promise<{ content: string; last: Record<string, unknown> }> {
  client.send({ interaction_type: 'response_required', response_id: responseId, transcript: [{ role: 'user', content: words }] });
  const last = await client.next((e) => e.response_type === 'response' && e.response_id === responseId && e.content_complete === true);
  const content = client.received
    .filter((e) => e.response_type === 'response' && e.response_id === responseId)
    .map((e) => e.content)
    .join('');
  return { content, last };
}

/** Twilio's answer to a prompt: its text, and the index of the first message after it. */
async function twilioTurn(client: SocketClient, words: string): Promise<{ text: string; end: number }> {
  const from = client.received.length;
  client.send({ type: 'prompt', voicePrompt: words, lang: 'en-US', last: true });
  const last = await client.next((e) => e.type === 'text' && e.last === true, from);
  const end = client.received.indexOf(last, from) + 1;
  const text = client.received
    .slice(from, end)
    .filter((e) => e.type === 'text')
    .map((e) => e.token)
    .join('');
  return { text, end };
}

/** The messages Twilio got after an answer and before the next one: another turn fences them. */
async function twilioAfter(client: SocketClient, end: number): Promise<Array<Record<string, unknown>>> {
  const fence = client.received.length;
  await twilioTurn(client, 'Where is my order?');
  return client.received.slice(end, fence).concat(client.received.slice(fence).filter((e) => e.type !== 'text'));
}

describe('the agent presses keys on a socket platform (pressDigits)', () => {
  let setup: SocketAgentSetup;
  before(async () => {
    setup = await startSocketAgent({ retell: { secret: SECRET, agent: 'support' }, twilio: { agent: 'support' } }, { pressDigits: {} });
  });
  after(() => setup.close());

  it('Retell: one key as digit_to_press after the words, offered as one key; more keys press nothing', async () => {
    const client = await SocketClient.connect(`${setup.base}/retell/${SECRET}/call-keypad-retell`);
    const seen = setup.upstream.requests.length;
    const pressed = await retellTurn(client, 1, 'For sales press 1');
    assert.equal(pressed.content, 'Choosing that.');
    assert.equal(pressed.last.digit_to_press, '1');
    assert.equal(pressed.last.end_call, undefined);
    const offered = offeredKeypad(setup.upstream.requests[seen]!);
    assert.equal(offered?.parameters.properties.digits?.maxLength, 1, 'Retell presses one key per response');
    assert.equal(offered?.parameters.properties.digits?.pattern, '^[0-9*#]+$');

    const several = await retellTurn(client, 2, 'Enter your code, press 1234');
    assert.equal(several.content, 'Choosing that.');
    assert.equal(several.last.digit_to_press, undefined, 'a sequence Retell cannot press in one response is not cut to its first key');

    const written = await retellTurn(client, 3, 'Just say press 2');
    assert.match(written.content, /I will press 2/);
    assert.equal(written.last.digit_to_press, undefined, "keys in the model's text are words, never a key press");
    client.close();

    await setup.gateway.records!.flush();
    const call = await setup.gateway.records!.getCall('call-keypad-retell');
    assert.deepEqual(
      call?.turnRecords.map((turn) => turn.signal),
      ['digits', null, null],
    );
  });

  it('Twilio: a sequence with pauses as sendDigits after the answer', async () => {
    const client = await SocketClient.connect(`${setup.base}/twilio`);
    client.send({ type: 'setup', callSid: 'CA00000000000000000000000000000091', from: '+16505550199', to: '+14155550123' });
    const seen = setup.upstream.requests.length;
    const pressed = await twilioTurn(client, 'Enter the extension: press 1w2#');
    assert.equal(pressed.text, 'Choosing that.');
    assert.deepEqual(await twilioAfter(client, pressed.end), [{ type: 'sendDigits', digits: '1w2#' }]);
    const offered = offeredKeypad(setup.upstream.requests[seen]!);
    assert.equal(offered?.parameters.properties.digits?.pattern, '^[0-9*#w]+$');
    assert.equal(offered?.parameters.properties.digits?.maxLength, 20);

    const written = await twilioTurn(client, 'Now say press 3');
    assert.match(written.text, /I will press 3/);
    assert.deepEqual(await twilioAfter(client, written.end), [], "keys in the model's text send no digits");
    client.close();
  });
});

describe('an agent without pressDigits presses nothing', () => {
  let setup: SocketAgentSetup;
  before(async () => {
    setup = await startSocketAgent({ retell: { secret: SECRET, agent: 'support' }, twilio: { agent: 'support' } });
  });
  after(() => setup.close());

  it('is not offered the function, and a call of it anyway is no key press', async () => {
    const retell = await SocketClient.connect(`${setup.base}/retell/${SECRET}/call-keypad-none`);
    const seen = setup.upstream.requests.length;
    const turn = await retellTurn(retell, 1, 'For sales press 1');
    assert.equal(offeredKeypad(setup.upstream.requests[seen]!), undefined);
    assert.equal(turn.content, 'Choosing that.');
    assert.equal(turn.last.digit_to_press, undefined);
    retell.close();

    const twilio = await SocketClient.connect(`${setup.base}/twilio`);
    twilio.send({ type: 'setup', callSid: 'CA00000000000000000000000000000092' });
    const answer = await twilioTurn(twilio, 'For sales press 1');
    assert.equal(answer.text, 'Choosing that.');
    assert.deepEqual(await twilioAfter(twilio, answer.end), []);
    twilio.close();
  });
});
