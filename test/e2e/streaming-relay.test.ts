import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { checkStreamRules } from '../../tools/check/stream-rules.ts';
import { startMockUpstream, textEvents, toolCallEvents, type MockUpstream } from '../../tools/testing/mock-upstream.ts';
import { imsRequest, readStream, startTestGateway, TEST_KEY, type TestGateway } from '../support/gateway-harness.ts';

const UPSTREAM_KEY = 'sk-upstream-secret-value';

describe('relaying a real upstream stream end to end', () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;

  before(async () => {
    upstream = await startMockUpstream();
    gateway = await startTestGateway({
      providers: {
        mock: {
          type: 'openai-compatible',
          baseUrl: upstream.url,
          apiKey: UPSTREAM_KEY,
          headers: { 'x-tenant': 'acme' },
          query: { 'api-version': '2024-10-21' },
          defaultParams: { temperature: 0.7, enable_thinking: false },
          retry: { maxRetries: 0 },
        },
      },
      agents: {
        support: {
          provider: 'mock',
          model: 'qwen-plus',
          systemPrompt: 'You are a phone assistant.',
          params: { max_tokens: 200 },
          onFailure: { mode: 'error' }, // this suite checks the HTTP errors non-voice clients get
        },
      },
    });
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });
  beforeEach(() => {
    upstream.respondWith({ events: textEvents('Hello there, how can I help you today?', { usage: true }) });
  });

  it('streams text with every strict-client rule kept and the right headers', async () => {
    const response = await gateway.post('/v1/chat/completions', imsRequest('support', 'hi'));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    assert.equal(response.headers.get('x-accel-buffering'), 'no');
    const stream = await readStream(response);
    assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
    assert.equal(stream.text, 'Hello there, how can I help you today?');
    assert.equal(stream.chunks.at(-1)!.choices[0].finish_reason, 'stop');
    assert.equal(stream.chunks[0]!.model, 'support');
    assert.ok(
      stream.chunks.every((c) => c.usage === undefined),
      'no usage chunk unless asked for',
    );
    assert.deepEqual(stream.afterDone, []);
  });

  it('builds the upstream request: agent prompt, model, parameters, headers, query; no extendData', async () => {
    const before = upstream.requests.length;
    await readStream(
      await gateway.post('/chat/completions?task_id=t1', imsRequest('support', 'hi', { temperature: 0.1, some_unknown: 1 })),
    );
    const recorded = upstream.requests[before]!;
    assert.equal(recorded.url, '/v1/chat/completions?api-version=2024-10-21');
    assert.equal(recorded.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
    assert.equal(recorded.headers['x-tenant'], 'acme');
    const body = recorded.body as Record<string, unknown>;
    assert.equal(body.model, 'qwen-plus');
    assert.equal(body.stream, true);
    assert.equal(body.temperature, 0.1, 'the client overrides the defaults');
    assert.equal(body.max_tokens, 200, 'agent params are sent');
    assert.equal(body.enable_thinking, false, 'provider defaultParams are sent');
    assert.equal('extendData' in body, false);
    assert.equal('some_unknown' in body, false);
    assert.deepEqual(body.messages, [
      { role: 'system', content: 'You are a phone assistant.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('relays tool-call deltas with stable indexes and finish_reason tool_calls', async () => {
    upstream.respondWith({
      events: toolCallEvents(
        [
          { name: 'lookup_order', arguments: '{"order_id":"A-17"}' },
          { name: 'hangup', arguments: '{}' },
        ],
        { argumentChunks: 3, leadingText: 'One moment.' },
      ),
    });
    const stream = await readStream(
      // Both offered by the client: a hangup call it did not offer would be taken out (see model-commands.test.ts).
      await gateway.post(
        '/v1/chat/completions',
        imsRequest('support', 'where is my order', {
          tools: [
            { type: 'function', function: { name: 'lookup_order' } },
            { type: 'function', function: { name: 'hangup' } },
          ],
        }),
      ),
    );
    assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
    assert.equal(stream.text, 'One moment.');
    const args = new Map<number, string>();
    const names = new Map<number, string>();
    for (const chunk of stream.chunks) {
      for (const call of chunk.choices[0]?.delta?.tool_calls ?? []) {
        if (call.function?.name) names.set(call.index, call.function.name);
        args.set(call.index, (args.get(call.index) ?? '') + (call.function?.arguments ?? ''));
      }
    }
    assert.deepEqual(
      [...names.entries()],
      [
        [0, 'lookup_order'],
        [1, 'hangup'],
      ],
    );
    assert.deepEqual(JSON.parse(args.get(0)!), { order_id: 'A-17' });
    assert.deepEqual(JSON.parse(args.get(1)!), {});
    assert.equal(stream.chunks.at(-1)!.choices[0].finish_reason, 'tool_calls');
    const body = upstream.requests.at(-1)!.body as { tools: unknown[] };
    assert.equal(body.tools.length, 2, 'caller tools are relayed');
  });

  it('sends usage in a final empty-choices chunk when stream_options.include_usage is set', async () => {
    const stream = await readStream(
      await gateway.post('/v1/chat/completions', imsRequest('support', 'hi', { stream_options: { include_usage: true } })),
    );
    assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
    const last = stream.chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal(typeof last.usage.total_tokens, 'number');
    assert.ok(last.usage.total_tokens > 0);
  });

  it('never forwards reasoning: reasoning_content deltas and <think> blocks', async () => {
    upstream.respondWith({
      events: [
        { role: 'assistant', reasoning_content: 'The user greets me. ' },
        { reasoning_content: 'I should greet back.' },
        { content: '<thi' },
        { content: 'nk>more thinking</th' },
        { content: 'ink>\n\nHi! ' },
        { content: 'How can I help?' },
        { finish_reason: 'stop' },
      ],
    });
    const stream = await readStream(await gateway.post('/v1/chat/completions', imsRequest('support', 'hi')));
    assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
    assert.equal(stream.text, 'Hi! How can I help?');
    assert.doesNotMatch(JSON.stringify(stream.chunks), /thinking|greet back|reasoning/);
  });

  it('returns a chat.completion with usage for stream: false', async () => {
    const response = await gateway.post('/v1/chat/completions', { ...imsRequest('support', 'hi'), stream: false });
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, any>;
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'support');
    assert.deepEqual(body.choices[0].message, { role: 'assistant', content: 'Hello there, how can I help you today?' });
    assert.equal(body.choices[0].finish_reason, 'stop');
    assert.ok(body.usage.total_tokens > 0);
  });

  it('maps an upstream failure before the first chunk to an OpenAI error status', async () => {
    upstream.respondWith({ status: 500, body: '{"error":{"message":"boom"}}' });
    let response = await gateway.post('/v1/chat/completions', imsRequest('support', 'hi'));
    assert.equal(response.status, 502);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'upstream_error');

    upstream.respondWith({ status: 429, headers: { 'retry-after': '7' }, body: '{"error":{"message":"slow down"}}' });
    response = await gateway.post('/v1/chat/completions', imsRequest('support', 'hi'));
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), '7');
    assert.equal(((await response.json()) as { error: { type: string } }).error.type, 'rate_limit_error');

    upstream.respondWith({ status: 401, body: '{"error":{"message":"bad key"}}' });
    response = await gateway.post('/v1/chat/completions', imsRequest('support', 'hi'));
    assert.equal(response.status, 502);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'upstream_auth_failed');
  });

  it('ends the client stream cleanly when the upstream dies mid-stream, keeping what was said', async () => {
    upstream.respondWith({ events: textEvents('This answer will be cut off somewhere in the middle.'), destroyAfterEvents: 4 });
    const response = await gateway.post('/v1/chat/completions', imsRequest('support', 'hi'));
    assert.equal(response.status, 200);
    const stream = await readStream(response);
    assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
    assert.ok(stream.text.length > 0 && 'This answer will be cut off somewhere in the middle.'.startsWith(stream.text));
    assert.equal(stream.chunks.at(-1)!.choices[0].finish_reason, 'stop');
    const line = gateway.logs.find((l) => l.status === 'upstream_broken');
    assert.ok(line, 'the cut is logged');
    assert.equal(line.errorCode, 'upstream_stream_broken');
  });

  it('aborts the upstream request the moment the client goes away', async () => {
    upstream.respondWith({ events: textEvents('A long answer that streams slowly, word after word, for a while.'), eventIntervalMs: 50 });
    const before = upstream.requests.length;
    const controller = new AbortController();
    const response = await gateway.post('/v1/chat/completions', imsRequest('support', 'tell me a story'), { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    const recorded = await upstream.waitForAbort(before, 2000);
    assert.equal(recorded.aborted, true);
    const deadline = Date.now() + 2000;
    while (!gateway.logs.some((l) => l.status === 'client_closed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(
      gateway.logs.some((l) => l.status === 'client_closed'),
      'the turn is logged as client_closed',
    );
  });

  it('is consumed by the official openai client, streaming and not', async () => {
    const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${gateway.url}/v1` });
    const stream = await client.chat.completions.create({
      model: 'support',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: number | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage?.total_tokens ?? usage;
    }
    assert.equal(text, 'Hello there, how can I help you today?');
    assert.equal(finish, 'stop');
    assert.ok(usage !== undefined && usage > 0);

    const completion = await client.chat.completions.create({ model: 'support', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(completion.choices[0]!.message.content, 'Hello there, how can I help you today?');

    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ['support'],
    );
  });

  it('logs one line per turn with the call fields and never the keys', async () => {
    await readStream(await gateway.post('/v1/chat/completions', imsRequest('support', 'hi')));
    const line = gateway.logs.filter((l) => l.msg === 'turn').at(-1)!;
    assert.equal(line.instanceId, 'inst-1');
    assert.equal(line.channelId, 'chan-1');
    assert.equal(line.sentenceId, 1);
    assert.equal(line.agent, 'support');
    assert.equal(line.provider, 'mock');
    assert.equal(line.status, 'ok');
    assert.equal(line.finishReason, 'stop');
    assert.equal(typeof line.ttftMs, 'number');
    assert.equal(typeof line.durationMs, 'number');
    assert.equal(line.charsOut, 'Hello there, how can I help you today?'.length);
    assert.doesNotMatch(gateway.logText(), new RegExp(`${UPSTREAM_KEY}|${TEST_KEY}`));
  });
});
