import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkStreamRules } from '../../tools/check/stream-rules.ts';
import { startMockUpstream, textEvents, toolCallEvents, type MockUpstream } from '../../tools/testing/mock-upstream.ts';
import { imsRequest, readStream, startTestGateway, type ParsedStream, type TestGateway } from '../support/gateway-harness.ts';

/** What the caller hears: the streamed text, and the tool calls the workflow acts on. */
function toolNames(stream: ParsedStream): string[] {
  return stream.chunks
    .flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])
    .flatMap((call: { function?: { name?: string } }) => call.function?.name ?? []);
}

const DEEPSEEK_UNOPENED = 'The user asks about hours. I should be brief.\n</think>\n\nWe open at 9.';

describe('what the caller hears, end to end', () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;

  before(async () => {
    upstream = await startMockUpstream();
    const provider = { type: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-x' };
    gateway = await startTestGateway({
      providers: { mock: provider, down: { type: 'openai-compatible', baseUrl: 'http://127.0.0.1:9/v1', retry: { maxRetries: 0 } } },
      agents: {
        thinker: { provider: 'mock', model: 'm', reasoning: 'unopened' },
        thinkingFallback: { provider: 'down', model: 'm', fallbacks: [{ provider: 'mock', model: 'm', reasoning: 'unopened' }] },
        autoFallback: { provider: 'down', model: 'm', reasoning: 'unopened', fallbacks: [{ provider: 'mock', model: 'm' }] },
        auto: { provider: 'mock', model: 'm' },
        ender: { provider: 'mock', model: 'm', endCall: { farewell: '**Bye** 👋' } },
        texter: { provider: 'mock', model: 'm', endCall: { mode: 'text', farewell: '**Bye** 👋' } },
        transferrer: {
          provider: 'mock',
          model: 'm',
          transfer: { destinations: { sales: { callee: '10086', msg: 'Putting you through to **sales** 👍' } } },
        },
        spoken: {
          provider: 'mock',
          model: 'm',
          speech: {
            pronunciations: [
              { written: 'ACME', spoken: 'Akmee', ignoreCase: true },
              { written: '110', spoken: '幺幺零' },
            ],
            readDigits: { enabled: true },
          },
          endCall: { mode: 'text', farewell: 'Call acme on 4008208820.' },
        },
      },
    });
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  const ask = async (model: string, userText = 'hi'): Promise<ParsedStream> => {
    const stream = await readStream(await gateway.post('/v1/chat/completions', imsRequest(model, userText)));
    assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
    return stream;
  };

  it('reasoning: unopened speaks only the answer of a model that closes a block it never opened', async () => {
    for (const chunkSize of [1, 3, 7, 100]) {
      upstream.respondWith({ events: textEvents(DEEPSEEK_UNOPENED, { chunkSize }) });
      assert.equal((await ask('thinker')).text, 'We open at 9.', `chunks of ${chunkSize}`);
    }
  });

  it('reasoning: unopened does not hold back a model that sends its reasoning apart', async () => {
    upstream.respondWith({
      events: [{ role: 'assistant', reasoning_content: 'Hours question.' }, ...textEvents('We open at 9.').slice(1)],
    });
    assert.equal((await ask('thinker')).text, 'We open at 9.');
  });

  it("reasoning: the mode of the model that answers counts, a fallback's included", async () => {
    upstream.respondWith({ events: textEvents(DEEPSEEK_UNOPENED, { chunkSize: 4 }) });
    assert.equal((await ask('thinkingFallback')).text, 'We open at 9.');
    // Paced events: a held answer would arrive whole at the end, a streamed one word by word.
    upstream.respondWith({ events: textEvents('We open at 9.', { chunkSize: 4 }), eventIntervalMs: 100 });
    const response = await gateway.post('/v1/chat/completions', imsRequest('autoFallback', 'hi'));
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let seenAtFirstWord: string | undefined;
    for (let seen = ''; seenAtFirstWord === undefined; ) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
      if (seen.includes('"content":"We')) seenAtFirstWord = seen;
    }
    await reader.cancel();
    assert.ok(seenAtFirstWord !== undefined, 'the answer arrived');
    assert.doesNotMatch(seenAtFirstWord, /at 9/, 'the auto fallback streams its first words before the rest exists');
  });

  it('reasoning: auto never speaks the literal tag', async () => {
    upstream.respondWith({ events: textEvents(DEEPSEEK_UNOPENED, { chunkSize: 3 }) });
    const stream = await ask('auto');
    assert.doesNotMatch(stream.text, /think|<|>/);
    assert.match(stream.text, /We open at 9\.$/);
    assert.ok(
      gateway.logs.some((line) => typeof line.msg === 'string' && line.msg.includes('never opened')),
      'the stray tag is logged',
    );
  });

  it("a farewell is shaped in tool mode: the model's own and the configured one", async () => {
    upstream.respondWith({ events: toolCallEvents([{ name: 'end_call', arguments: '{"farewell":"**Goodbye** 👋"}' }]) });
    const own = await ask('ender', 'bye');
    assert.equal(own.text, 'Goodbye');
    assert.deepEqual(toolNames(own), ['hangup']);
    upstream.respondWith({ events: toolCallEvents([{ name: 'end_call', arguments: '{}' }]) });
    assert.equal((await ask('ender', 'bye')).text, 'Bye');
  });

  it('a farewell is shaped inside the endword in text mode', async () => {
    upstream.respondWith({ events: toolCallEvents([{ name: 'end_call', arguments: '{"farewell":"**Goodbye** 👋"}' }]) });
    assert.match((await ask('texter', 'bye')).text, /^<imsagent_hangup endword="Goodbye"\/>$/);
    upstream.respondWith({ events: toolCallEvents([{ name: 'end_call', arguments: '{}' }]) });
    assert.match((await ask('texter', 'bye')).text, /^<imsagent_hangup endword="Bye"\/>$/);
  });

  it('a transfer message is shaped, the number left intact', async () => {
    upstream.respondWith({ events: toolCallEvents([{ name: 'transfer_call', arguments: '{}' }]) });
    assert.match(
      (await ask('transferrer', 'a person please')).text,
      /^<imsagent_transfer_call callee="10086" msg="Putting you through to sales"\/>$/,
    );
  });

  it('pronunciations and digits apply across chunk splits, and to the endword', async () => {
    const answer = 'Call **ACME** on 138-0013-8000, or 110.';
    for (const chunkSize of [1, 2, 5, 100]) {
      upstream.respondWith({ events: textEvents(answer, { chunkSize }) });
      assert.equal((await ask('spoken')).text, 'Call Akmee on 1 3 8, 0 0 1 3, 8 0 0 0, or 幺幺零.', `chunks of ${chunkSize}`);
    }
    upstream.respondWith({ events: textEvents('验证码是482913，客服电话13800138000。', { chunkSize: 2 }) });
    assert.equal((await ask('spoken', '我的验证码是多少')).text, '验证码是四八二九幺三，客服电话幺三八零零幺三八零零零。');
    upstream.respondWith({ events: toolCallEvents([{ name: 'end_call', arguments: '{}' }]) });
    assert.equal((await ask('spoken', 'bye')).text, '<imsagent_hangup endword="Call Akmee on 4 0 0 8 2 0 8 8 2 0."/>');
  });
});
