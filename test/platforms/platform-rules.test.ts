import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PHRASES } from '../../src/agent/language/phrases.ts';

const INTERRUPTION_NOTE = PHRASES.en.interruptionNote;
import { readStream } from '../support/gateway-harness.ts';
import { startPhoneAgent, type PhoneAgentSetup } from '../support/phone-agent.ts';
import { postFixture } from './fixtures.ts';

type Message = { role: string; content?: unknown };

describe("each platform's own rules, end to end", () => {
  let setup: PhoneAgentSetup;
  before(async () => {
    setup = await startPhoneAgent();
  });
  after(() => setup.close());

  const post = (path: string, name: string, body: Record<string, unknown> = {}, signal?: AbortSignal) =>
    postFixture(setup.gateway, path, name, { body, ...(signal ? { signal } : {}) });

  it('ElevenLabs: a speculative request dropped at once stops the model and is no failure', async () => {
    const seen = setup.upstream.requests.length;
    const controller = new AbortController();
    const response = await post(
      '/elevenlabs/v1/chat/completions',
      'elevenlabs',
      { messages: [{ role: 'user', content: 'Tell me everything' }] },
      controller.signal,
    );
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await setup.upstream.waitForAbort(seen);
    const line = await waitForTurnLine(setup, 'elevenlabs');
    assert.equal(line.status, 'client_closed');
    assert.equal(
      setup.gateway.logs.some((l) => l.msg === 'turn failed'),
      false,
    );
  });

  it('Agora: a cut-off answer reaches the model with the interruption note, never the mark', async () => {
    const seen = setup.upstream.requests.length;
    const stream = await readStream(await post('/v1/chat/completions', 'agora'));
    assert.equal(stream.sawDone, true);
    const messages = (setup.upstream.requests[seen]!.body as { messages: Message[] }).messages;
    assert.ok(messages.some((m) => m.role === 'system' && String(m.content).includes(INTERRUPTION_NOTE)));
    assert.equal(JSON.stringify(messages).includes('ims_agent_interrupted'), false);
    assert.equal(JSON.stringify(messages).includes('turn_id'), false, "Agora's own message fields are not relayed");
  });

  it('Volcengine: a Prefill request for the same round replaces the one in progress', async () => {
    const seen = setup.upstream.requests.length;
    const partial = post('/volcengine/v1/chat/completions', 'volcengine', { messages: [{ role: 'user', content: 'Tell me everything' }] });
    const first = await partial;
    await setup.upstream.waitForRequests(seen + 1);
    const final = await readStream(await post('/volcengine/v1/chat/completions', 'volcengine'));
    assert.equal(final.text, 'Your order ships tomorrow.');
    const cut = await readStream(first);
    assert.equal(cut.sawDone, true, 'the replaced answer still ends well-formed');
    await setup.upstream.waitForAbort(seen);
    const upstreamBody = setup.upstream.requests[seen + 1]!.body as Record<string, unknown>;
    assert.equal(upstreamBody.max_tokens, 1024);
    assert.equal('maxTokens' in upstreamBody || 'round_id' in upstreamBody, false);
  });
});

async function waitForTurnLine(setup: PhoneAgentSetup, platform: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const line = setup.gateway.logs.findLast((l) => l.msg === 'turn' && l.platform === platform);
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no turn line for ${platform}`);
}
