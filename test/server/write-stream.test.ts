import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/core/gateway-error.ts';
import { completionOf, writeToClient } from '../support/core-stages.ts';
import {
  cancellation,
  fail,
  feed,
  finish,
  HANG,
  httpFailure,
  reasoning,
  STOP,
  streamBroken,
  text,
  toolCall,
  usage,
} from '../support/stage-kit.ts';

interface Chunk {
  id: string;
  object: string;
  model: string;
  choices: { index: number; delta: { role?: string; content?: string; tool_calls?: unknown[] }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** The JSON chunks of a response, `[DONE]` left out (checked on its own). */
function chunksOf(events: string[]): Chunk[] {
  return events.filter((event) => event !== '[DONE]').map((event) => JSON.parse(event) as Chunk);
}

function contentOf(chunks: Chunk[]): string {
  return chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
}

describe('stream writer', () => {
  it('writes parts as chat.completion.chunk events: role first, text, finish, then [DONE]', async () => {
    const response = await writeToClient(feed([reasoning('hmm'), text('Hello'), text(', world.'), STOP]));
    assert.equal(response.status, 200);
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    assert.equal(response.events.at(-1), '[DONE]');
    const chunks = chunksOf(response.events);
    assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: '' });
    assert.equal(contentOf(chunks), 'Hello, world.', 'reasoning is never sent');
    assert.deepEqual(
      chunks.map((chunk) => chunk.choices[0]!.finish_reason),
      [null, null, null, 'stop'],
    );
    assert.ok(chunks.every((chunk) => chunk.id === 'chatcmpl-test' && chunk.object === 'chat.completion.chunk'));
    assert.equal(response.turn.answer, 'Hello, world.');
    assert.equal(response.turn.finishReason, 'stop');
  });

  it('writes tool calls with stable indexes and their finish reason', async () => {
    const response = await writeToClient(feed([...toolCall('a', 'one', '{"x":1}', 2), ...toolCall('b', 'two'), finish('tool_calls')]));
    const calls = chunksOf(response.events).flatMap(
      (chunk) => (chunk.choices[0]?.delta.tool_calls ?? []) as { index: number; id?: string }[],
    );
    assert.deepEqual(
      calls.map((call) => [call.index, call.id]),
      [
        [0, 'a'],
        [0, undefined],
        [0, undefined],
        [1, 'b'],
        [1, undefined],
      ],
    );
    assert.equal(chunksOf(response.events).at(-1)!.choices[0]!.finish_reason, 'tool_calls');
  });

  it('adds the usage chunk (no choices) before [DONE] when the client asked for it', async () => {
    const response = await writeToClient(feed([text('Hi.'), usage(12, 3), STOP]), { includeUsage: true });
    const last = chunksOf(response.events).at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.deepEqual(last.usage, { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 });
    assert.equal(response.events.at(-1), '[DONE]');
  });

  it('answers a failure before the first part with its HTTP error, never a stream', async () => {
    const response = await writeToClient(feed([fail(httpFailure(429, { retryAfter: '7' }))]));
    assert.equal(response.status, 429);
    assert.equal(response.headers['retry-after'], '7');
    assert.match(String(response.headers['content-type']), /^application\/json/);
    const body = JSON.parse(response.body) as { error: { type: string; code: string } };
    assert.equal(body.error.code, 'upstream_rate_limited');
    assert.deepEqual(response.events, []);
    assert.equal(response.turn.outcome.status, 'error');
  });

  it('answers a failure that is not ours with a bare 500, no stack trace', async () => {
    const response = await writeToClient(feed([fail(new TypeError('x is undefined'))]));
    assert.equal(response.status, 500);
    assert.doesNotMatch(response.body, /TypeError|at /);
  });

  it('ends the stream well-formed when the answer breaks after the first byte', async () => {
    const response = await writeToClient(feed([text('Your balance is '), fail(streamBroken())]));
    assert.equal(response.status, 200);
    const chunks = chunksOf(response.events);
    assert.equal(contentOf(chunks), 'Your balance is ');
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'stop');
    assert.equal(response.events.at(-1), '[DONE]');
    assert.equal(response.turn.outcome.status, 'upstream_broken');
    assert.equal(response.turn.outcome.errorCode, 'upstream_stream_broken');
  });

  it('ends a turn superseded mid-answer well-formed, for a client still listening', async () => {
    const turn = cancellation();
    const response = await writeToClient(feed([text('Well, '), HANG], { signal: turn.signal }), {
      signal: turn.signal,
      onTextSent: () => turn.callerSpokeAgain(),
    });
    assert.equal(response.status, 200);
    assert.equal(contentOf(chunksOf(response.events)), 'Well, ');
    assert.equal(response.events.at(-1), '[DONE]');
    assert.equal(response.turn.outcome.status, 'superseded');
  });

  it('gives the same answer without streaming, through the completion builder', async () => {
    const parts = () => feed([text('Two '), text('parts.'), ...toolCall('c', 'show', '{"a":1}'), usage(5, 2), finish('tool_calls')]);
    const completion = await completionOf(parts());
    const streamed = await writeToClient(parts());
    assert.equal(completion.choices[0]!.message.content, contentOf(chunksOf(streamed.events)));
    assert.deepEqual(completion.choices[0]!.message.tool_calls, [
      { id: 'c', type: 'function', function: { name: 'show', arguments: '{"a":1}' } },
    ]);
    assert.equal(completion.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual(completion.usage, { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
  });

  it('keeps a GatewayError thrown before the first part as the client error', async () => {
    const refused = new GatewayError('Too many tokens.', { status: 400, type: 'invalid_request_error', code: 'upstream_rejected_request' });
    const response = await writeToClient(feed([fail(refused)]));
    assert.equal(response.status, 400);
    assert.deepEqual(JSON.parse(response.body), refused.toBody());
  });
});
