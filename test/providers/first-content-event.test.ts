import assert from 'node:assert/strict';
import { after, before, describe, it, mock as nodeMock } from 'node:test';
import { openAICompatibleProviderSchema } from '../../src/config/schema.ts';
import type { StreamPart } from '../../src/core/stream-part.ts';
import { OpenAICompatibleProvider } from '../../src/providers/openai-compatible.ts';
import type { ProviderRequest } from '../../src/providers/provider.ts';
import { startMockUpstream, type MockEvent, type MockUpstream } from '../../tools/testing/mock-upstream.ts';

// The first words of an answer leave as soon as their event is parsed, not after the rest of the
// network read they came in: an upstream often sends a whole answer (or a burst of it) in one write.

const MORE = 200;

function turn(): ProviderRequest {
  return { model: 'm', messages: [{ role: 'user', content: 'hi' }], params: {}, signal: AbortSignal.timeout(3000) };
}

/** A data event with one content delta, lines ended by `eol`. */
function contentEvent(text: string, eol = '\n'): string {
  const chunk = { choices: [{ index: 0, delta: { content: text }, finish_reason: null }] };
  return `data: ${JSON.stringify(chunk)}${eol}${eol}`;
}

const FINISH = `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`;
const words = (count: number): string[] => Array.from({ length: count }, (_, index) => `w${index} `);

async function collect(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

function spoken(parts: readonly StreamPart[]): string {
  return parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

describe('the first content event of an answer', () => {
  let upstream: MockUpstream;
  let provider: OpenAICompatibleProvider;

  before(async () => {
    upstream = await startMockUpstream();
    provider = new OpenAICompatibleProvider(
      'mock',
      openAICompatibleProviderSchema.parse({ type: 'openai-compatible', baseUrl: upstream.url }),
    );
  });
  after(async () => {
    await provider.close();
    await upstream.close();
  });

  it('is handed on before the other 200 events of the same write are parsed, and all follow in order', async () => {
    const all = words(MORE + 1);
    // No timing options: the mock writes the whole answer at once.
    upstream.respondWith({
      events: [{ role: 'assistant', content: '' }, ...all.map((content) => ({ content })), { finish_reason: 'stop' }],
    });
    const parse = nodeMock.method(JSON, 'parse');
    const iterator = provider.stream(turn())[Symbol.asyncIterator]();
    let first: IteratorResult<StreamPart>;
    let parsedBeforeFirst: number;
    try {
      first = await iterator.next();
      // Only the upstream's events count (the request machinery may parse JSON of its own).
      parsedBeforeFirst = parse.mock.calls.filter((call) => String(call.arguments[0]).includes('chat.completion.chunk')).length;
    } finally {
      parse.mock.restore();
    }
    if (first.done) assert.fail('the stream ended before any part');
    assert.deepEqual(first.value, { type: 'text', text: 'w0 ' });
    // The role event and the first content event, not the whole read.
    assert.ok(parsedBeforeFirst <= 2, `parsed ${parsedBeforeFirst} events before the first part`);
    const rest: StreamPart[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    assert.equal(spoken([first.value, ...rest]), all.join(''));
    assert.deepEqual(rest.at(-1), { type: 'finish', reason: 'stop' });
  });

  it('keeps every part in order with CRLF lines, comments and events split across reads', async () => {
    const all = words(30);
    const stream = [': keep-alive\r\n\r\n', ...all.map((text) => contentEvent(text, '\r\n')), ': ping\r\n\r\n', FINISH].join('');
    // Cut into uneven pieces, one write each: events and CRLF pairs fall across reads.
    const events: MockEvent[] = [];
    for (let at = 0, size = 7; at < stream.length; at += size, size = size === 7 ? 61 : 7)
      events.push({ raw: stream.slice(at, at + size) });
    upstream.respondWith({ events, eventIntervalMs: 1 });
    const parts = await collect(provider.stream(turn()));
    assert.equal(spoken(parts), all.join(''));
    assert.deepEqual(
      parts.map((part) => part.type),
      [...all.map(() => 'text'), 'finish'],
    );
  });

  it('is cut at CRLF and CR blank lines too when the whole answer comes in one write', async () => {
    for (const eol of ['\r\n', '\r']) {
      const all = words(50);
      const raw = [`:${eol}${eol}`, ...all.map((text) => contentEvent(text, eol)), FINISH].join('');
      upstream.respondWith({ events: [{ raw }] });
      const parts = await collect(provider.stream(turn()));
      assert.equal(spoken(parts), all.join(''), JSON.stringify(eol));
      assert.deepEqual(parts.at(-1), { type: 'finish', reason: 'stop' });
    }
  });

  it('after a reasoning burst in the same write: reasoning first, then the text, in order', async () => {
    const thoughts = words(20).map(
      (text) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { reasoning_content: text } }] })}\n\n`,
    );
    const answer = words(20);
    upstream.respondWith({ events: [{ raw: [...thoughts, ...answer.map((text) => contentEvent(text)), FINISH].join('') }] });
    const parts = await collect(provider.stream(turn()));
    assert.equal(parts.filter((part) => part.type === 'reasoning').length, 20);
    assert.equal(spoken(parts), answer.join(''));
    assert.equal(
      parts.findIndex((part) => part.type === 'text'),
      20,
    );
  });
});
