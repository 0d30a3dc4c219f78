import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  DEFAULT_MOCK_TEXT,
  startMockUpstream,
  textEvents,
  toolCallEvents,
  type MockUpstream,
} from '../../../tools/testing/mock-upstream.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A plain node:http client, independent of the code under test elsewhere. */
function post(url: string, body: unknown, timeoutMs = 3000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-probe': 'yes' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function dataPayloads(sse: string): string[] {
  return sse
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}

describe('mock upstream', () => {
  let mock: MockUpstream;
  before(async () => {
    mock = await startMockUpstream();
  });
  after(async () => {
    await mock.close();
  });

  it('serves OpenAI-shaped chunks, records the request, ends with [DONE]', async () => {
    mock.respondWith({ events: textEvents('Hello world', { chunkSize: 5, usage: true }) });
    const res = await post(`${mock.url}/chat/completions?x=1`, { model: 'm-1', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    const payloads = dataPayloads(res.text);
    assert.equal(payloads.at(-1), '[DONE]');
    const chunks = payloads.slice(0, -1).map((p) => JSON.parse(p) as Record<string, any>);
    // role chunk, 'Hello', ' worl', 'd', finish, usage
    assert.equal(chunks.length, 6);
    const ids = new Set(chunks.map((c) => c.id));
    assert.equal(ids.size, 1);
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.model, 'm-1');
      assert.equal(typeof c.created, 'number');
    }
    assert.deepEqual(chunks[0]!.choices[0].delta, { role: 'assistant', content: '' });
    assert.equal(chunks[0]!.choices[0].index, 0);
    assert.equal(chunks[0]!.choices[0].finish_reason, null);
    assert.equal(
      chunks
        .slice(1, 4)
        .map((c) => c.choices[0].delta.content)
        .join(''),
      'Hello world',
    );
    assert.equal(chunks[4]!.choices[0].finish_reason, 'stop');
    assert.deepEqual(chunks[5]!.choices, []);
    assert.equal(chunks[5]!.usage.total_tokens, chunks[5]!.usage.prompt_tokens + chunks[5]!.usage.completion_tokens);

    const recorded = mock.requests.at(-1)!;
    assert.equal(recorded.method, 'POST');
    assert.equal(recorded.url, '/v1/chat/completions?x=1');
    assert.equal(recorded.headers['x-probe'], 'yes');
    assert.deepEqual(recorded.body, { model: 'm-1', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(recorded.aborted, false);
  });

  it('serves /chat/completions too, with the default answer', async () => {
    mock.respondWith(startDefault());
    const res = await post(`${mock.origin}/chat/completions`, { model: 'x' });
    const text = dataPayloads(res.text)
      .slice(0, -1)
      .map((p) => (JSON.parse(p) as { choices: Array<{ delta?: { content?: string } }> }).choices[0]?.delta?.content ?? '')
      .join('');
    assert.equal(text, DEFAULT_MOCK_TEXT);
  });

  it('returns error bodies with status and headers', async () => {
    mock.respondWith({ status: 429, headers: { 'retry-after': '7' }, body: '{"error":{"message":"slow down"}}' });
    const res = await post(`${mock.url}/chat/completions`, { model: 'x' });
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], '7');
    assert.equal(res.text, '{"error":{"message":"slow down"}}');
  });

  it('toolCallEvents spreads arguments over deltas with a stable index', async () => {
    const events = toolCallEvents([{ name: 'hangup', arguments: '{"reason":"done"}', id: 'call_1' }], { argumentChunks: 3 });
    mock.respondWith({ events, omitDone: true });
    const res = await post(`${mock.url}/chat/completions`, { model: 'x' });
    const payloads = dataPayloads(res.text);
    assert.notEqual(payloads.at(-1), '[DONE]');
    const deltas = payloads.map((p) => JSON.parse(p) as Record<string, any>);
    const calls = deltas.flatMap((c) => c.choices[0].delta.tool_calls ?? []);
    assert.equal(calls.length, 4);
    assert.deepEqual(calls[0], { index: 0, id: 'call_1', type: 'function', function: { name: 'hangup', arguments: '' } });
    assert.ok(calls.every((c: { index: number }) => c.index === 0));
    assert.equal(calls.map((c: { function: { arguments: string } }) => c.function.arguments).join(''), '{"reason":"done"}');
    assert.equal(deltas.at(-1)!.choices[0].finish_reason, 'tool_calls');
  });

  it('writes raw events verbatim and destroys the socket mid-stream', async () => {
    mock.respondWith({ events: [{ content: 'a' }, { raw: ': ping\n\n' }, { content: 'b' }], destroyAfterEvents: 2 });
    await assert.rejects(post(`${mock.url}/chat/completions`, { model: 'x' }), (err: Error) => {
      assert.match(err.message, /aborted|socket hang up|ECONNRESET|premature|terminated/i);
      return true;
    });
  });

  it('drips events with intervals and records a client abort', async () => {
    mock.respondWith({ events: textEvents('abcdefgh', { chunkSize: 1 }), eventIntervalMs: 20, hangAfterEvents: 3 });
    const index = mock.requests.length;
    const received: number[] = [];
    const started = Date.now();
    const req = request(`${mock.url}/chat/completions`, { method: 'POST' }, (res) => {
      res.on('data', () => {
        received.push(Date.now() - started);
        if (received.length === 1) setTimeout(() => req.destroy(), 30);
      });
      res.on('error', () => undefined);
    });
    req.on('error', () => undefined);
    req.end('{"model":"x"}');
    const record = await mock.waitForAbort(index, 3000);
    assert.equal(record.aborted, true);
    assert.ok(record.closedAt !== undefined && record.closedAt >= record.receivedAt);
    assert.ok(received.length >= 1);
  });

  it('hangs before headers until the client leaves; waits time out', async () => {
    mock.respondWith({ hangBeforeHeaders: true });
    const index = mock.requests.length;
    const pending = post(`${mock.url}/chat/completions`, { model: 'x' }, 100);
    await assert.rejects(pending, /client timeout/);
    await mock.waitForAbort(index, 2000);
    await assert.rejects(mock.waitForRequests(index + 5, 50), /timed out/);
  });

  it('close() ends hanging connections and frees the port', async () => {
    const local = await startMockUpstream({ events: textEvents('xy'), hangAfterEvents: 1, eventIntervalMs: 10_000 });
    const pending = post(`${local.url}/chat/completions`, { model: 'x' }, 5000).catch((err: unknown) => err);
    await local.waitForRequests(1, 2000);
    assert.equal(local.openConnections(), 1);
    const startedClose = Date.now();
    await local.close();
    assert.ok(Date.now() - startedClose < 1000);
    assert.equal(local.openConnections(), 0);
    assert.ok((await pending) instanceof Error);
    await assert.rejects(post(`${local.url}/chat/completions`, { model: 'x' }, 1000), /ECONNREFUSED/);
  });
});

function startDefault() {
  return { events: textEvents(DEFAULT_MOCK_TEXT) };
}
