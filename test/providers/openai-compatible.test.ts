import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { OpenAICompatibleProviderConfig } from '../../src/config/schema.ts';
import { GatewayError } from '../../src/core/gateway-error.ts';
import { chatCompletionsUrl, OpenAICompatibleProvider } from '../../src/providers/openai-compatible.ts';
import {
  errorFromConnectionFailure,
  errorFromStreamErrorObject,
  errorFromUpstreamResponse,
  parseRetryAfter,
  streamBrokenError,
} from '../../src/providers/upstream-errors.ts';
import { openAICompatibleProviderSchema } from '../../src/config/schema.ts';
import type { ProviderRequest } from '../../src/providers/provider.ts';
import type { StreamPart } from '../../src/core/stream-part.ts';
import { startMockUpstream, textEvents, toolCallEvents, type MockUpstream } from '../../tools/testing/mock-upstream.ts';

const WAIT_MS = 3000;

function config(baseUrl: string, extra: Partial<OpenAICompatibleProviderConfig> = {}): OpenAICompatibleProviderConfig {
  return openAICompatibleProviderSchema.parse({ type: 'openai-compatible', baseUrl, ...extra });
}

function turn(overrides: Partial<ProviderRequest> = {}): ProviderRequest {
  return {
    model: 'test-model',
    messages: [{ role: 'user', content: 'hello' }],
    params: {},
    signal: AbortSignal.timeout(WAIT_MS),
    ...overrides,
  };
}

async function collect(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/** Collects parts until the stream throws; returns both. */
async function collectUntilError(stream: AsyncIterable<StreamPart>): Promise<{ parts: StreamPart[]; error: unknown }> {
  const parts: StreamPart[] = [];
  try {
    for await (const part of stream) parts.push(part);
  } catch (error) {
    return { parts, error };
  }
  assert.fail(`expected the stream to throw; got ${JSON.stringify(parts)}`);
}

function textOf(parts: StreamPart[], type: 'text' | 'reasoning' = 'text'): string {
  return parts.map((p) => (p.type === type ? p.text : '')).join('');
}

function assertGatewayError(error: unknown, status: number, code: string): GatewayError {
  assert.ok(error instanceof GatewayError, `expected a GatewayError, got ${String(error)}`);
  assert.equal(error.status, status);
  assert.equal(error.code, code);
  return error;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('OpenAICompatibleProvider', () => {
  let mock: MockUpstream;
  let provider: OpenAICompatibleProvider;

  before(async () => {
    mock = await startMockUpstream();
    provider = new OpenAICompatibleProvider('mock', config(mock.url, { apiKey: 'sk-test-key' }));
  });
  after(async () => {
    await provider.close();
    await mock.close();
  });

  it('builds the URL without doubled slashes and keeps the query', () => {
    assert.equal(chatCompletionsUrl('http://h:1/v1/'), 'http://h:1/v1/chat/completions');
    assert.equal(chatCompletionsUrl('http://h:1/v1'), 'http://h:1/v1/chat/completions');
    assert.equal(chatCompletionsUrl('http://h:1', { 'api-version': '2024 01' }), 'http://h:1/chat/completions?api-version=2024+01');
  });

  it('streams text parts, then usage and finish', async () => {
    mock.respondWith({ events: textEvents('Hello there, caller.', { chunkSize: 3, usage: true }) });
    const parts = await collect(provider.stream(turn()));
    assert.equal(textOf(parts), 'Hello there, caller.');
    assert.ok(
      parts.filter((p) => p.type === 'text').every((p) => p.type === 'text' && p.text.length > 0),
      'no empty text parts',
    );
    assert.equal(parts.filter((p) => p.type === 'text').length, 7);
    const usage = parts.find((p) => p.type === 'usage');
    assert.deepEqual(usage, { type: 'usage', usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 } });
    assert.deepEqual(parts.at(-1), { type: 'finish', reason: 'stop' });
    assert.equal(parts.filter((p) => p.type === 'finish').length, 1);
  });

  it('sends headers, query, defaultParams and params to the upstream', async () => {
    const custom = new OpenAICompatibleProvider(
      'custom',
      config(`${mock.url}/`, {
        apiKey: 'sk-secret',
        headers: { 'X-Extra': 'extra-value' },
        query: { 'api-version': '2024-10-21' },
        defaultParams: { temperature: 0.1, top_p: 0.5, stream: false },
      }),
    );
    try {
      mock.respondWith({ events: textEvents('ok') });
      const before = mock.requests.length;
      const messages = [
        { role: 'system' as const, content: 'be brief' },
        { role: 'user' as const, content: 'hi' },
      ];
      await collect(custom.stream(turn({ model: 'qwen-plus', messages, params: { temperature: 0.7, max_tokens: 50 } })));
      const recorded = mock.requests[before]!;
      assert.equal(recorded.method, 'POST');
      assert.equal(recorded.url, '/v1/chat/completions?api-version=2024-10-21');
      assert.equal(recorded.headers.authorization, 'Bearer sk-secret');
      assert.equal(recorded.headers['x-extra'], 'extra-value');
      assert.equal(recorded.headers['content-type'], 'application/json');
      assert.equal(recorded.headers.accept, 'text/event-stream');
      assert.deepEqual(recorded.body, {
        temperature: 0.7,
        top_p: 0.5,
        max_tokens: 50,
        model: 'qwen-plus',
        messages,
        stream: true,
        stream_options: { include_usage: true },
      });
    } finally {
      await custom.close();
    }
  });

  it('relays tool calls with arguments spread over deltas and a stable callId', async () => {
    mock.respondWith({
      events: toolCallEvents(
        [
          { name: 'hangup', arguments: '{"reason":"caller said goodbye"}', id: 'call_abc' },
          { name: 'lookup', arguments: '{"q":"x"}' },
        ],
        { argumentChunks: 4, leadingText: 'One moment.' },
      ),
    });
    const parts = await collect(provider.stream(turn()));
    assert.equal(textOf(parts), 'One moment.');
    const starts = parts.filter((p) => p.type === 'tool-call-start');
    assert.equal(starts.length, 2);
    assert.deepEqual(starts[0], { type: 'tool-call-start', callId: 'call_abc', name: 'hangup' });
    assert.deepEqual(starts[1], { type: 'tool-call-start', callId: 'call_mock1', name: 'lookup' });
    const argsOf = (callId: string): string =>
      parts.map((p) => (p.type === 'tool-call-delta' && p.callId === callId ? p.argumentsDelta : '')).join('');
    assert.equal(argsOf('call_abc'), '{"reason":"caller said goodbye"}');
    assert.equal(argsOf('call_mock1'), '{"q":"x"}');
    assert.ok(parts.filter((p) => p.type === 'tool-call-delta' && p.callId === 'call_abc').length >= 2);
    // Deltas of a call come after its start; ends come before finish.
    const startAt = parts.findIndex((p) => p.type === 'tool-call-start' && p.callId === 'call_abc');
    const firstDelta = parts.findIndex((p) => p.type === 'tool-call-delta' && p.callId === 'call_abc');
    assert.ok(startAt < firstDelta);
    assert.deepEqual(parts.slice(-3), [
      { type: 'tool-call-end', callId: 'call_abc' },
      { type: 'tool-call-end', callId: 'call_mock1' },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('generates a callId when the upstream sends none', async () => {
    mock.respondWith({
      events: [
        { role: 'assistant' },
        { tool_calls: [{ index: 0, type: 'function', function: { name: 'hangup', arguments: '{' } }] },
        { tool_calls: [{ index: 0, function: { arguments: '}' } }] },
        { finish_reason: 'tool_calls' },
      ],
    });
    const parts = await collect(provider.stream(turn()));
    const start = parts.find((p) => p.type === 'tool-call-start');
    assert.ok(start?.type === 'tool-call-start');
    assert.match(start.callId, /^call_[A-Za-z0-9_-]{8,}$/);
    const ids = new Set(parts.flatMap((p) => ('callId' in p ? [p.callId] : [])));
    assert.deepEqual([...ids], [start.callId]);
  });

  it('turns reasoning_content and reasoning into reasoning parts, never text', async () => {
    mock.respondWith({
      events: [
        { role: 'assistant', content: '' },
        { reasoning_content: 'Let me think. ' },
        { reasoning_content: 'Done thinking.' },
        {
          raw: `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { reasoning: ' More.' }, finish_reason: null }] })}\n\n`,
        },
        { content: 'The answer.' },
        { finish_reason: 'stop' },
      ],
    });
    const parts = await collect(provider.stream(turn()));
    assert.equal(textOf(parts, 'reasoning'), 'Let me think. Done thinking. More.');
    assert.equal(textOf(parts), 'The answer.');
    assert.deepEqual(parts.at(-1), { type: 'finish', reason: 'stop' });
  });

  it('maps finish reasons: length kept, unknown becomes stop, none at [DONE] is stop', async () => {
    mock.respondWith({ events: textEvents('abc', { finishReason: 'length' }) });
    assert.deepEqual((await collect(provider.stream(turn()))).at(-1), { type: 'finish', reason: 'length' });
    mock.respondWith({ events: textEvents('abc', { finishReason: 'eos_token' }) });
    assert.deepEqual((await collect(provider.stream(turn()))).at(-1), { type: 'finish', reason: 'stop' });
    mock.respondWith({ events: [{ content: 'abc' }] });
    assert.deepEqual((await collect(provider.stream(turn()))).at(-1), { type: 'finish', reason: 'stop' });
  });

  it('429 with Retry-After -> GatewayError 429 with retryAfterSeconds', async () => {
    mock.respondWith({
      status: 429,
      headers: { 'retry-after': '12' },
      body: JSON.stringify({ error: { message: 'Requests rate limit exceeded', type: 'rate_limit', code: 'limit' } }),
    });
    const { parts, error } = await collectUntilError(provider.stream(turn()));
    assert.deepEqual(parts, []);
    const err = assertGatewayError(error, 429, 'upstream_rate_limited');
    assert.equal(err.type, 'rate_limit_error');
    assert.equal(err.retryAfterSeconds, 12);
    assert.equal(err.retryable, true);
  });

  it('500 -> 502 upstream_error, retryable', async () => {
    mock.respondWith({ status: 500, body: '{"error":{"message":"internal failure"}}' });
    const { error } = await collectUntilError(provider.stream(turn()));
    const err = assertGatewayError(error, 502, 'upstream_error');
    assert.equal(err.retryable, true);
    assert.match(err.message, /HTTP 500/);
    assert.match(err.message, /internal failure/);
  });

  it('401 -> 502 upstream_auth_failed without leaking the key', async () => {
    mock.respondWith({ status: 401, body: '{"error":{"message":"Incorrect API key provided: sk-test-key"}}' });
    const { error } = await collectUntilError(provider.stream(turn()));
    const err = assertGatewayError(error, 502, 'upstream_auth_failed');
    assert.match(err.message, /apiKey/);
    assert.doesNotMatch(err.message, /sk-test-key/);
    assert.equal(err.retryable, false);
  });

  it('400 -> 400 invalid_request_error with the upstream message', async () => {
    mock.respondWith({
      status: 400,
      body: '{"error":{"message":"Range of max_tokens should be [1, 8192]","type":"invalid_request_error"}}',
    });
    const { error } = await collectUntilError(provider.stream(turn()));
    const err = assertGatewayError(error, 400, 'upstream_rejected_request');
    assert.equal(err.type, 'invalid_request_error');
    assert.equal(err.message, 'Range of max_tokens should be [1, 8192]');
  });

  it('a request too deep to serialise -> 400 request_not_serializable, not a retryable unreachable upstream; nothing is sent', async () => {
    const before = mock.requests.length;
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) deep = { a: deep };
    const { error } = await collectUntilError(provider.stream(turn({ params: { metadata: deep } })));
    const err = assertGatewayError(error, 400, 'request_not_serializable');
    assert.equal(err.type, 'invalid_request_error');
    assert.equal(err.retryable, false);
    assert.equal(mock.requests.length, before);
  });

  it('reads at most 64 KiB of a large error body', async () => {
    const message = 'x'.repeat(200 * 1024);
    mock.respondWith({ status: 503, headers: { 'retry-after': '3' }, body: JSON.stringify({ error: { message } }) });
    const { error } = await collectUntilError(provider.stream(turn()));
    const err = assertGatewayError(error, 502, 'upstream_error');
    assert.equal(err.retryable, true);
    assert.ok(err.message.length < 1000, `message length ${err.message.length}`);
    assert.match(err.message, /HTTP 503/);
  });

  it('404 -> 502 upstream_not_found', async () => {
    mock.respondWith({ status: 404, body: 'Not Found' });
    const { error } = await collectUntilError(provider.stream(turn()));
    const err = assertGatewayError(error, 502, 'upstream_not_found');
    assert.match(err.message, /baseUrl/);
  });

  it('connection refused -> 502 upstream_unreachable', async () => {
    const port = await closedPort();
    const dead = new OpenAICompatibleProvider('dead', config(`http://127.0.0.1:${port}/v1`, { apiKey: 'sk-dead-key' }));
    try {
      const { error } = await collectUntilError(dead.stream(turn()));
      const err = assertGatewayError(error, 502, 'upstream_unreachable');
      assert.equal(err.type, 'upstream_error');
      assert.equal(err.retryable, true);
      assert.match(err.message, /ECONNREFUSED/);
      assert.doesNotMatch(err.message, /sk-dead-key/);
    } finally {
      await dead.close();
    }
  });

  it('an abort mid-stream closes the upstream request and the iterator throws the reason', async () => {
    mock.respondWith({ events: textEvents('one two three four five six', { chunkSize: 4 }), hangAfterEvents: 3 });
    const index = mock.requests.length;
    const controller = new AbortController();
    const reason = new Error('caller hung up');
    const parts: StreamPart[] = [];
    let thrown: unknown;
    try {
      for await (const part of provider.stream(turn({ signal: controller.signal }))) {
        parts.push(part);
        if (textOf(parts) === 'one two ') controller.abort(reason);
      }
    } catch (err) {
      thrown = err;
    }
    assert.equal(thrown, reason);
    assert.equal(textOf(parts), 'one two ');
    const record = await mock.waitForAbort(index, WAIT_MS);
    assert.equal(record.aborted, true);
  });

  it('an abort while waiting for headers closes the upstream request', async () => {
    mock.respondWith({ hangBeforeHeaders: true });
    const index = mock.requests.length;
    const controller = new AbortController();
    const iterator = provider.stream(turn({ signal: controller.signal }))[Symbol.asyncIterator]();
    const pending = iterator.next();
    await mock.waitForRequests(index + 1, WAIT_MS);
    const reason = new Error('barge-in');
    controller.abort(reason);
    await assert.rejects(pending, (err: unknown) => err === reason);
    await mock.waitForAbort(index, WAIT_MS);
  });

  it('a consumer that stops early closes the upstream request', async () => {
    mock.respondWith({ events: textEvents('abcdefgh', { chunkSize: 1 }), hangAfterEvents: 4 });
    const index = mock.requests.length;
    for await (const part of provider.stream(turn())) {
      if (part.type === 'text') break;
    }
    await mock.waitForAbort(index, WAIT_MS);
  });

  it('destroyAfterEvents -> yields the earlier parts, then throws upstream_stream_broken', async () => {
    mock.respondWith({ events: textEvents('abcdefgh', { chunkSize: 2 }), destroyAfterEvents: 3 });
    const { parts, error } = await collectUntilError(provider.stream(turn()));
    assert.equal(textOf(parts), 'abcd');
    assert.ok(!parts.some((p) => p.type === 'finish'));
    const err = assertGatewayError(error, 502, 'upstream_stream_broken');
    assert.equal(err.type, 'upstream_error');
  });

  it('a body that ends cleanly without finish_reason or [DONE] -> upstream_stream_broken', async () => {
    mock.respondWith({ events: [{ role: 'assistant' }, { content: 'half an ans' }], omitDone: true });
    const { parts, error } = await collectUntilError(provider.stream(turn()));
    assert.equal(textOf(parts), 'half an ans');
    assertGatewayError(error, 502, 'upstream_stream_broken');
  });

  it('omitDone after a finish_reason ends normally (usage included)', async () => {
    mock.respondWith({ events: textEvents('complete', { usage: true }), omitDone: true });
    const parts = await collect(provider.stream(turn()));
    assert.equal(textOf(parts), 'complete');
    assert.ok(parts.some((p) => p.type === 'usage'));
    assert.deepEqual(parts.at(-1), { type: 'finish', reason: 'stop' });
  });

  it('a last event without its blank line is still parsed at the end of the body', async () => {
    mock.respondWith({
      events: [
        { content: 'hi' },
        { finish_reason: 'stop' },
        { raw: 'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}' },
      ],
      omitDone: true,
    });
    const parts = await collect(provider.stream(turn()));
    assert.deepEqual(parts.slice(-2), [
      { type: 'usage', usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 } },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('malformed JSON in an event -> upstream_stream_broken', async () => {
    mock.respondWith({ events: [{ content: 'ok ' }, { raw: 'data: {"trunc\n\n' }, { content: 'never' }, { finish_reason: 'stop' }] });
    const { parts, error } = await collectUntilError(provider.stream(turn()));
    assert.equal(textOf(parts), 'ok ');
    assertGatewayError(error, 502, 'upstream_stream_broken');
  });

  it('an {"error":...} object in the stream -> 502 upstream_error with its message', async () => {
    mock.respondWith({
      events: [{ content: 'Sure' }, { raw: 'data: {"error":{"message":"model overloaded","code":"overloaded"}}\n\n' }],
    });
    const { parts, error } = await collectUntilError(provider.stream(turn()));
    assert.equal(textOf(parts), 'Sure');
    const err = assertGatewayError(error, 502, 'upstream_error');
    assert.match(err.message, /model overloaded/);
  });

  it('parses CRLF line endings, comments and events split across network chunks', async () => {
    const chunk = (delta: object, finish: string | null = null): string =>
      JSON.stringify({
        id: 'c1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
    const body =
      `: keep-alive comment\r\n\r\n` +
      `data: ${chunk({ role: 'assistant', content: 'Hel' })}\r\n\r\n` +
      `:another comment\r\n` +
      `data: ${chunk({ content: 'lo ' })}\r\n\r\n` +
      `event: message\r\ndata: ${chunk({ content: '世界' })}\r\n\r\n` +
      `data: ${chunk({}, 'stop')}\r\n\r\n` +
      `data: [DONE]\r\n\r\n`;
    // Split into raw writes at awkward places (inside "\r\n", inside JSON, inside a UTF-8 character's string).
    const cuts = [5, 31, 60, body.indexOf('\r\n\r\n') + 1, body.indexOf('世') + 1, body.length - 3];
    const pieces: string[] = [];
    let from = 0;
    for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
      pieces.push(body.slice(from, cut));
      from = cut;
    }
    pieces.push(body.slice(from));
    mock.respondWith({ events: pieces.filter((p) => p !== '').map((raw) => ({ raw })), omitDone: true, eventIntervalMs: 2 });
    const parts = await collect(provider.stream(turn()));
    assert.equal(textOf(parts), 'Hello 世界');
    assert.deepEqual(parts.at(-1), { type: 'finish', reason: 'stop' });
  });

  it('yields the first part before the upstream has finished', async () => {
    mock.respondWith({ events: textEvents('first second', { chunkSize: 6 }), hangAfterEvents: 2 });
    const index = mock.requests.length;
    const controller = new AbortController();
    const iterator = provider.stream(turn({ signal: controller.signal }))[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.deepEqual(first.value, { type: 'text', text: 'first ' });
    await iterator.return?.();
    await mock.waitForAbort(index, WAIT_MS);
  });

  it('reuses the keep-alive connection across turns', async () => {
    const local = await startMockUpstream({ events: textEvents('reuse') });
    const p = new OpenAICompatibleProvider('reuse', config(local.url));
    try {
      for (let i = 0; i < 5; i++) {
        assert.equal(textOf(await collect(p.stream(turn()))), 'reuse');
        // undici hands a finished connection back to its pool a moment after the body ends.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.equal(local.requests.length, 5);
      assert.equal(local.openConnections(), 1);
    } finally {
      await p.close();
      await local.close();
    }
  });

  it('accepts a non-streamed JSON completion from an upstream that ignores stream:true', async () => {
    mock.respondWith({
      status: 200,
      body: JSON.stringify({
        id: 'x',
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: 'whole answer' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      }),
    });
    const parts = await collect(provider.stream(turn()));
    assert.deepEqual(parts, [
      { type: 'text', text: 'whole answer' },
      { type: 'usage', usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5 } },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('accepts SSE mislabelled as application/json', async () => {
    mock.respondWith({
      status: 200,
      body: 'data: {"choices":[{"index":0,"delta":{"content":"mislabelled"},"finish_reason":null}]}\n\ndata: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
    });
    const parts = await collect(provider.stream(turn()));
    assert.deepEqual(parts, [
      { type: 'text', text: 'mislabelled' },
      { type: 'finish', reason: 'stop' },
    ]);
  });
});

describe('upstream error mapping', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('30', now), 30);
    assert.equal(parseRetryAfter('1.2', now), 2);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:45 GMT', now), 45);
    assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it('maps statuses as documented', () => {
    const cases: Array<[number, number, string, boolean]> = [
      [400, 400, 'upstream_rejected_request', false],
      [401, 502, 'upstream_auth_failed', false],
      [403, 502, 'upstream_auth_failed', false],
      [404, 502, 'upstream_not_found', false],
      [408, 502, 'upstream_error', true],
      [409, 502, 'upstream_error', false],
      [413, 413, 'upstream_rejected_request', false],
      [422, 400, 'upstream_rejected_request', false],
      [429, 429, 'upstream_rate_limited', true],
      [500, 502, 'upstream_error', true],
      [503, 502, 'upstream_error', true],
    ];
    for (const [upstream, status, code, retryable] of cases) {
      const err = errorFromUpstreamResponse(upstream, {}, '', 'p');
      assert.equal(err.status, status, `status for ${upstream}`);
      assert.equal(err.code, code, `code for ${upstream}`);
      assert.equal(err.retryable, retryable, `retryable for ${upstream}`);
    }
  });

  it('uses retry-after-ms when Retry-After is absent', () => {
    assert.equal(errorFromUpstreamResponse(429, { 'retry-after-ms': '1500' }, '').retryAfterSeconds, 2);
    assert.equal(errorFromUpstreamResponse(429, {}, '').retryAfterSeconds, undefined);
  });

  it('truncates upstream messages and redacts secrets', () => {
    const long = errorFromUpstreamResponse(400, {}, JSON.stringify({ error: { message: 'y'.repeat(5000) } }));
    assert.ok(long.message.length <= 500, `length ${long.message.length}`);
    const leaky = errorFromUpstreamResponse(400, {}, '{"message":"bad header Bearer abcdef123456789 and key sk-abcdefghijkl1234"}');
    assert.doesNotMatch(leaky.message, /abcdef123456789|sk-abcdefghijkl1234/);
    assert.match(leaky.message, /bad header/);
    assert.equal(errorFromUpstreamResponse(400, {}, '{"detail":[{"msg":"field required"}]}').message, 'field required');
  });

  it('maps connection failures, broken streams and in-stream errors', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const unreachable = errorFromConnectionFailure(refused, 'p');
    assert.equal(unreachable.status, 502);
    assert.equal(unreachable.code, 'upstream_unreachable');
    assert.equal(unreachable.retryable, true);
    const dns = errorFromConnectionFailure(new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } }));
    assert.equal(dns.code, 'upstream_unreachable');
    assert.match(dns.message, /ENOTFOUND/);
    const broken = streamBrokenError('socket closed');
    assert.equal(broken.status, 502);
    assert.equal(broken.code, 'upstream_stream_broken');
    const inStream = errorFromStreamErrorObject({ message: 'quota exhausted', code: 'x' });
    assert.equal(inStream.status, 502);
    assert.equal(inStream.code, 'upstream_error');
    assert.match(inStream.message, /quota exhausted/);
  });
});
