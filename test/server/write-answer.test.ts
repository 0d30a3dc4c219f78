import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/core/gateway-error.ts';
import type { PartStream } from '../../src/core/stream-part.ts';
import type { ChatCompletion } from '../../src/protocol/completion-builder.ts';
import { toClientError } from '../../src/server/client-errors.ts';
import { CompletionChannel } from '../../src/server/completion-channel.ts';
import { SocketChannel } from '../../src/server/sockets/socket/socket-channel.ts';
import { writeAnswer } from '../../src/server/write-answer.ts';
import { TurnReport } from '../../src/telemetry/turn-report.ts';
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

describe('the answer writer, as server-sent events', () => {
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

/** A turn's parts through the one writer into a completion, as the chat route sends `stream: false`. */
async function writeCompletion(parts: PartStream, signal: AbortSignal = new AbortController().signal) {
  const report = new TurnReport('test-agent', 'primary', { userDataInvalid: false }, true);
  const sent: ChatCompletion[] = [];
  const channel = new CompletionChannel({
    id: 'chatcmpl-test',
    created: 1,
    model: 'test-agent',
    send: (completion) => sent.push(completion),
  });
  const ending = await writeAnswer(parts, channel, { report, signal, toError: toClientError });
  return { ending, sent, report };
}

describe('the answer writer, as one completion', () => {
  it('sends one completion once every part is in, and tells the report what was said', async () => {
    const { ending, sent, report } = await writeCompletion(feed([text('Hello'), text(' there.'), usage(3, 2), STOP]));
    assert.equal(ending.how, 'finished');
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.choices[0]!.message.content, 'Hello there.');
    assert.equal(report.answer, 'Hello there.');
    assert.equal(report.finishReason, 'stop');
    assert.deepEqual(report.usage, { promptTokens: 3, completionTokens: 2, totalTokens: 5 });
  });

  it('turns a failure after words into the error response: nothing was sent yet, so nothing is broken', async () => {
    const { ending, sent } = await writeCompletion(feed([text('Your balance is '), fail(streamBroken())]));
    assert.equal(ending.how, 'failed');
    assert.equal(sent.length, 0);
  });

  it('ends a cancelled turn without a completion', async () => {
    const turn = cancellation();
    setImmediate(() => turn.callerSpokeAgain());
    const { ending, sent } = await writeCompletion(feed([text('Well, '), HANG], { signal: turn.signal }), turn.signal);
    assert.equal(ending.how, 'cancelled');
    assert.equal(sent.length, 0);
  });
});

describe('the answer writer, on a socket', () => {
  it('hands each piece of text on as it comes and says nothing after a newer turn took over', async () => {
    const turn = cancellation();
    const report = new TurnReport('test-agent', 'primary', { userDataInvalid: false }, true);
    const spoken: string[] = [];
    const channel = new SocketChannel(report, turn.signal, (piece) => {
      spoken.push(piece);
      turn.callerSpokeAgain();
    });
    const ending = await writeAnswer(feed([text('One. '), text('Two.'), STOP]), channel, {
      report,
      signal: turn.signal,
      toError: toClientError,
    });
    assert.deepEqual(spoken, ['One. ']);
    assert.equal(ending.how, 'cancelled');
  });

  it('leaves a failure before any word to the session (its apology), and one after words ends the answer there', async () => {
    const before = new TurnReport('test-agent', 'primary', { userDataInvalid: false }, true);
    const signal = new AbortController().signal;
    const failed = await writeAnswer(feed([fail(new Error('boom'))]), new SocketChannel(before, signal, () => {}), {
      report: before,
      signal,
      toError: toClientError,
    });
    assert.equal(failed.how, 'failed');
    const after = new TurnReport('test-agent', 'primary', { userDataInvalid: false }, true);
    const broken = await writeAnswer(feed([text('Hi. '), fail(streamBroken())]), new SocketChannel(after, signal, () => {}), {
      report: after,
      signal,
      toError: toClientError,
    });
    assert.equal(broken.how, 'broken');
  });
});
