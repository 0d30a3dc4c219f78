import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEMO_AGENT_ID, demoConfig, demoConfigSource } from '../../src/config/demo-config.ts';
import { gatewayConfigSchema, scriptedProviderSchema } from '../../src/config/schema.ts';
import type { ChatMessage } from '../../src/core/chat-types.ts';
import { ScriptedProvider, speechPieces } from '../../src/providers/scripted.ts';
import type { StreamPart } from '../../src/core/stream-part.ts';

function provider(config: Record<string, unknown>, name = 'script'): ScriptedProvider {
  return new ScriptedProvider(name, scriptedProviderSchema.parse({ type: 'scripted', ...config }));
}

async function collect(
  p: ScriptedProvider,
  messages: ChatMessage[],
  signal: AbortSignal = new AbortController().signal,
): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of p.stream({ model: undefined, messages, params: {}, signal })) {
    parts.push(part);
  }
  return parts;
}

function textOf(parts: StreamPart[]): string {
  return parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

function finishOf(parts: StreamPart[]): string | undefined {
  const last = parts.at(-1);
  return last?.type === 'finish' ? last.reason : undefined;
}

function user(content: string): ChatMessage {
  return { role: 'user', content };
}

const RULES = {
  rules: [
    { keywords: ['bye', 'see you'], reply: 'Goodbye, thanks for calling.', endCall: true },
    { keywords: ['再见'], reply: '再见，感谢您的来电。', endCall: true },
    { pattern: '^order\\s+#?(\\d+)$', reply: 'Looking up your order.' },
    { keywords: ['hello'], reply: 'Hello there.' },
  ],
  fallback: 'You said: {{heard}}.',
};

describe('ScriptedProvider', () => {
  it('has the scripted type and its configured name', async () => {
    const p = provider({}, 'demo-script');
    assert.equal(p.type, 'scripted');
    assert.equal(p.name, 'demo-script');
    await p.close();
  });

  it('says the greeting before the first answer only', async () => {
    const p = provider({ ...RULES, greeting: 'Welcome.' });
    const first = await collect(p, [{ role: 'system', content: 'be nice' }, user('hello')]);
    assert.equal(textOf(first), 'Welcome. Hello there.');

    const later = await collect(p, [user('hello'), { role: 'assistant', content: 'Welcome. Hello there.' }, user('hello')]);
    assert.equal(textOf(later), 'Hello there.');
  });

  it('answers with the greeting alone when there is no user text', async () => {
    const greeted = provider({ ...RULES, greeting: 'Welcome.' });
    const parts = await collect(greeted, [{ role: 'system', content: 'prompt' }]);
    assert.equal(textOf(parts), 'Welcome.');
    assert.equal(finishOf(parts), 'stop');

    const plain = provider(RULES);
    assert.equal(textOf(await collect(plain, [{ role: 'system', content: 'prompt' }])), 'You said: .');
  });

  it('matches Latin keywords as whole words, case-insensitively', async () => {
    const p = provider(RULES);
    for (const said of ['OK, bye!', 'Bye.', 'BYE', 'well see   you then', '好的bye']) {
      const parts = await collect(p, [user(said)]);
      assert.equal(textOf(parts), 'Goodbye, thanks for calling.', `"${said}" should match "bye"`);
    }
    for (const said of ['the byelaw says', 'abye', 'see youth']) {
      const parts = await collect(p, [user(said)]);
      assert.equal(textOf(parts), `You said: ${said}.`, `"${said}" must not match`);
      assert.equal(finishOf(parts), 'stop');
    }
  });

  it('matches CJK keywords as substrings', async () => {
    const p = provider(RULES);
    const parts = await collect(p, [user('好的再见')]);
    assert.equal(textOf(parts), '再见，感谢您的来电。');
    assert.ok(parts.some((part) => part.type === 'end-call'));
  });

  it('matches pattern rules as case-insensitive regular expressions', async () => {
    const p = provider(RULES);
    assert.equal(textOf(await collect(p, [user('ORDER #123')])), 'Looking up your order.');
    assert.equal(textOf(await collect(p, [user('my order 123')])), 'You said: my order 123.');
  });

  it('uses the first matching rule in order', async () => {
    const p = provider(RULES);
    assert.equal(textOf(await collect(p, [user('hello and bye')])), 'Goodbye, thanks for calling.');
  });

  it('matches only the newest user message', async () => {
    const p = provider(RULES);
    const parts = await collect(p, [user('bye'), { role: 'assistant', content: 'x' }, user('hello')]);
    assert.equal(textOf(parts), 'Hello there.');
  });

  it('reads the text parts of a multimodal user message', async () => {
    const p = provider(RULES);
    const parts = await collect(p, [
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } },
          { type: 'text', text: 'bye now' },
        ],
      },
    ]);
    assert.equal(textOf(parts), 'Goodbye, thanks for calling.');
  });

  it('renders the fallback with {{heard}} verbatim (no HTML escaping)', async () => {
    const p = provider(RULES);
    const said = `a <b> & "c" 'd' {{e}}`;
    const parts = await collect(p, [user(said)]);
    assert.equal(textOf(parts), `You said: ${said}.`);
  });

  it('uses the schema default fallback', async () => {
    const p = provider({});
    assert.equal(textOf(await collect(p, [user('x < y')])), 'I heard: x < y');
  });

  it('ends the call with an end-call part after all the text, then finishes', async () => {
    const p = provider(RULES);
    const parts = await collect(p, [user('bye')]);
    const kinds = parts.map((part) => part.type);
    assert.deepEqual(kinds.slice(-3), ['end-call', 'usage', 'finish']);
    assert.ok(kinds.lastIndexOf('text') < kinds.indexOf('end-call'));
    assert.equal(finishOf(parts), 'stop');
  });

  it('finishes with "stop" and no tool call for ordinary rules', async () => {
    const p = provider(RULES);
    const parts = await collect(p, [user('hello')]);
    assert.equal(finishOf(parts), 'stop');
    assert.ok(!parts.some((part) => part.type === 'end-call' || part.type.startsWith('tool-call')));
  });

  it('streams word by word and the pieces concatenate to the reply exactly', async () => {
    const reply = 'One two,  three.\nFour!';
    const p = provider({ rules: [{ keywords: ['go'], reply }] });
    const parts = await collect(p, [user('go')]);
    const texts = parts.filter((part) => part.type === 'text').map((part) => part.text);
    assert.deepEqual(texts, ['One ', 'two,  ', 'three.\n', 'Four!']);
    assert.equal(texts.join(''), reply);
  });

  it('streams CJK text in pieces of a few characters', async () => {
    const p = provider(RULES);
    const parts = await collect(p, [user('再见')]);
    const texts = parts.filter((part) => part.type === 'text').map((part) => part.text);
    // Cut after punctuation or every few characters; punctuation stays with the words before it.
    assert.deepEqual(texts, ['再见，', '感谢您的', '来电。']);
  });

  it('splits arbitrary text losslessly', () => {
    for (const text of ['', ' ', '  lead and trail  ', 'GPT-4模型很好，对吧？ yes', '设置 UPSTREAM_BASE_URL、就能', '😀 emoji 🎉']) {
      assert.equal(speechPieces(text).join(''), text);
      assert.ok(speechPieces(text).every((piece) => piece.length > 0));
    }
  });

  it('emits an estimated usage part right before finish', async () => {
    const p = provider(RULES);
    const messages: ChatMessage[] = [{ role: 'system', content: 'x'.repeat(40) }, user('hello')];
    const parts = await collect(p, messages);
    const usage = parts.at(-2);
    assert.ok(usage?.type === 'usage');
    // (40 + 5) / 4 -> 12; "Hello there." is 12 characters -> 3.
    assert.deepEqual(usage.usage, { promptTokens: 12, completionTokens: 3, totalTokens: 15 });
    assert.equal(parts.filter((part) => part.type === 'usage').length, 1);
  });

  it('throws the abort reason when aborted before iteration', async () => {
    const p = provider(RULES);
    const controller = new AbortController();
    const reason = new Error('barge-in');
    controller.abort(reason);
    await assert.rejects(collect(p, [user('hello')], controller.signal), (error) => error === reason);
  });

  it('stops between parts when aborted mid-stream', async () => {
    const p = provider({ rules: [{ keywords: ['go'], reply: 'one two three four' }] });
    const controller = new AbortController();
    const reason = new Error('client gone');
    const seen: StreamPart[] = [];
    await assert.rejects(
      (async () => {
        for await (const part of p.stream({
          model: undefined,
          messages: [user('go')],
          params: {},
          signal: controller.signal,
        })) {
          seen.push(part);
          controller.abort(reason);
        }
      })(),
      (error) => error === reason,
    );
    assert.deepEqual(seen, [{ type: 'text', text: 'one ' }]);
  });

  it('rejects an invalid pattern with an error naming the rule', () => {
    assert.throws(
      () =>
        provider(
          {
            rules: [
              { keywords: ['ok'], reply: 'a' },
              { pattern: '(unclosed', reply: 'b' },
            ],
          },
          'bad',
        ),
      (error: unknown) => error instanceof Error && /rules\[1\]/.test(error.message) && error.message.includes('"bad"'),
    );
  });

  it('rejects an invalid fallback template', () => {
    assert.throws(() => provider({ fallback: 'You said {{heard' }), /fallback/);
  });
});

describe('demo config', () => {
  it('parses with gatewayConfigSchema and routes everything to the demo agent', () => {
    const config = gatewayConfigSchema.parse(demoConfigSource);
    assert.equal(config.defaultAgent, DEMO_AGENT_ID);
    const agent = config.agents[DEMO_AGENT_ID];
    assert.ok(agent);
    assert.equal(config.providers[agent.provider]?.type, 'scripted');
    assert.deepEqual(demoConfig(), config);
  });

  function demoProvider(): ScriptedProvider {
    const config = demoConfig();
    const providerName = config.agents[DEMO_AGENT_ID]!.provider;
    const providerConfig = config.providers[providerName];
    assert.ok(providerConfig?.type === 'scripted');
    return new ScriptedProvider(providerName, providerConfig);
  }

  for (const [said, reply] of [
    ['再见', '再见，感谢您的来电。'],
    ['Bye!', 'Goodbye, thanks for calling.'],
    ['hi, bye', 'Goodbye, thanks for calling.'],
  ] as const) {
    it(`hangs up on "${said}"`, async () => {
      const p = demoProvider();
      const parts = await collect(p, [user(said), { role: 'assistant', content: 'earlier' }, user(said)]);
      assert.equal(textOf(parts), reply);
      assert.ok(
        parts.some((part) => part.type === 'end-call'),
        'the call ends',
      );
    });
  }

  it('greets on the first turn and explains itself on "help"', async () => {
    const p = demoProvider();
    const parts = await collect(p, [user('what can you do?')]);
    const text = textOf(parts);
    assert.match(text, /^Hi, this is the Voice LLM Gateway demo agent\. Your connection works\. /);
    assert.match(text, /UPSTREAM_BASE_URL, UPSTREAM_API_KEY and UPSTREAM_MODEL/);
    assert.equal(finishOf(parts), 'stop');
  });

  it('falls back to echoing the caller', async () => {
    const p = demoProvider();
    const parts = await collect(p, [user('x'), { role: 'assistant', content: 'y' }, user('the weather')]);
    assert.equal(textOf(parts), 'You said: the weather. Say goodbye to end the call.');
  });
});
