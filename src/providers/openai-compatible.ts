/**
 * A provider for any OpenAI-compatible chat-completions endpoint (DashScope / Qwen, DeepSeek,
 * OpenAI, vLLM, Ollama, ...). Streams the upstream's SSE body and maps each delta to StreamParts
 * as soon as it is parsed: no sleeps, no buffering. Until the answer's first content, a network
 * read is parsed one event at a time, so the first words are not held behind the rest of a read.
 */

import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Agent, request as undiciRequest } from 'undici';
import { newToolCallId } from '../core/completion-id.ts';
import type { OpenAICompatibleProviderConfig } from '../config/schema.ts';
import type { Provider, ProviderCapabilities, ProviderRequest } from './provider.ts';
import { serializeRequestBody } from './request-body.ts';
import type { FinishReason, PartStream, StreamPart } from '../core/stream-part.ts';
import { errorFromConnectionFailure, errorFromStreamErrorObject, errorFromUpstreamResponse, streamBrokenError } from './upstream-errors.ts';
import { GatewayError } from '../core/gateway-error.ts';

/** At most this much of an error response body is read. */
const ERROR_BODY_LIMIT = 64 * 1024;
/** At most this much of a non-streamed JSON completion is read. */
const JSON_BODY_LIMIT = 8 * 1024 * 1024;
/** How long the rest of a body after `[DONE]` may take to arrive before the connection is dropped. */
const DRAIN_TIMEOUT_MS = 5_000;

/** The request URL: baseUrl + /chat/completions (no doubled slashes) + the configured query. */
export function chatCompletionsUrl(baseUrl: string, query: Readonly<Record<string, string>> = {}): string {
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/chat/completions`;
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return url.toString();
}

const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
};

/** Maps an upstream finish_reason; unknown reasons (eos, end_turn, ...) become `stop`. */
export function mapFinishReason(reason: string): FinishReason {
  return FINISH_REASONS[reason] ?? 'stop';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

interface CallState {
  callId: string;
  /** The upstream's id for the call, to tell a new call that reuses an index. */
  upstreamId: string | undefined;
  started: boolean;
  /** Arguments received before the call's name (emitted once it is known). */
  pendingArguments: string;
}

/**
 * Turns upstream chat-completion chunks (streamed deltas or a whole non-streamed completion)
 * into StreamParts, pushed into `out`.
 */
class ChunkMapper {
  readonly out: StreamPart[] = [];
  finishReason: FinishReason | undefined;
  /** An `{"error":...}` object or invalid JSON was seen. */
  failure: GatewayError | undefined;
  /** `[DONE]` was seen. */
  done = false;
  readonly #providerName: string;
  /** Open calls by upstream index (made at the first tool call: most answers have none). */
  #callsByIndex: Map<number, CallState> | undefined;
  /** Every call in order of appearance. */
  #calls: CallState[] | undefined;

  constructor(providerName: string) {
    this.#providerName = providerName;
  }

  /** One SSE data payload. */
  onData(data: string): void {
    if (this.done || this.failure) return;
    if (data.length <= 16) {
      const trimmed = data.trim();
      if (trimmed === '[DONE]') {
        this.done = true;
        this.finish();
        return;
      }
      if (trimmed === '') return;
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(data) as unknown;
    } catch (err) {
      this.failure = streamBrokenError(`invalid JSON in an event (${data.slice(0, 60)})`, err, this.#providerName);
      return;
    }
    this.onChunk(chunk);
  }

  /** One parsed chunk object. */
  onChunk(chunk: unknown): void {
    if (!isRecord(chunk)) return;
    if (chunk.error !== undefined && chunk.error !== null) {
      this.failure = errorFromStreamErrorObject(chunk.error, this.#providerName);
      return;
    }
    const { choices, usage } = chunk;
    if (Array.isArray(choices) && choices.length > 0) {
      const choice: unknown = choices[0];
      if (isRecord(choice)) {
        const delta = isRecord(choice.delta) ? choice.delta : isRecord(choice.message) ? choice.message : undefined;
        if (delta !== undefined) this.#onDelta(delta);
        if (typeof choice.finish_reason === 'string' && choice.finish_reason !== '') {
          this.finishReason = mapFinishReason(choice.finish_reason);
        }
      }
    }
    if (isRecord(usage)) {
      const promptTokens = toCount(usage.prompt_tokens);
      const completionTokens = toCount(usage.completion_tokens);
      const total = toCount(usage.total_tokens);
      this.out.push({
        type: 'usage',
        usage: { promptTokens, completionTokens, totalTokens: total || promptTokens + completionTokens },
      });
    }
  }

  #onDelta(delta: Record<string, unknown>): void {
    const reasoning =
      typeof delta.reasoning_content === 'string' && delta.reasoning_content !== ''
        ? delta.reasoning_content
        : typeof delta.reasoning === 'string'
          ? delta.reasoning
          : '';
    if (reasoning !== '') this.out.push({ type: 'reasoning', text: reasoning });
    const { content, tool_calls: toolCalls } = delta;
    if (typeof content === 'string' && content !== '') this.out.push({ type: 'text', text: content });
    if (Array.isArray(toolCalls)) {
      for (let position = 0; position < toolCalls.length; position++) {
        const call: unknown = toolCalls[position];
        if (isRecord(call)) this.#onToolCallDelta(call, position);
      }
    }
  }

  #onToolCallDelta(call: Record<string, unknown>, position: number): void {
    const index = typeof call.index === 'number' ? call.index : position;
    const upstreamId = typeof call.id === 'string' && call.id !== '' ? call.id : undefined;
    const fn = isRecord(call.function) ? call.function : undefined;
    const name = fn !== undefined && typeof fn.name === 'string' ? fn.name : '';
    const args = fn !== undefined && typeof fn.arguments === 'string' ? fn.arguments : '';

    this.#callsByIndex ??= new Map();
    let state = this.#callsByIndex.get(index);
    // Some upstreams put every call at index 0: a different id means a new call.
    if (state === undefined || (upstreamId !== undefined && state.upstreamId !== undefined && upstreamId !== state.upstreamId)) {
      state = { callId: upstreamId ?? newToolCallId(), upstreamId, started: false, pendingArguments: '' };
      this.#callsByIndex.set(index, state);
      (this.#calls ??= []).push(state);
    }
    if (!state.started) {
      if (name === '') {
        state.pendingArguments += args;
        return;
      }
      this.#start(state, name);
    }
    if (args !== '') this.out.push({ type: 'tool-call-delta', callId: state.callId, argumentsDelta: args });
  }

  #start(state: CallState, name: string): void {
    state.started = true;
    this.out.push({ type: 'tool-call-start', callId: state.callId, name });
    if (state.pendingArguments !== '') {
      this.out.push({ type: 'tool-call-delta', callId: state.callId, argumentsDelta: state.pendingArguments });
      state.pendingArguments = '';
    }
  }

  /** Ends every started call, then emits `finish`. */
  finish(): void {
    for (const state of this.#calls ?? []) {
      if (!state.started) this.#start(state, '');
      this.out.push({ type: 'tool-call-end', callId: state.callId });
    }
    this.#calls = undefined;
    this.#callsByIndex = undefined;
    this.out.push({ type: 'finish', reason: this.finishReason ?? 'stop' });
  }
}

type ResponseBody = Awaited<ReturnType<typeof undiciRequest>>['body'];

/** Waits until the body has data, ended, closed or failed (rejects with the failure). */
function whenReadable(body: ResponseBody): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (): void => {
      cleanup();
      resolve();
    };
    const fail = (err: unknown): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      body.off('readable', settle);
      body.off('end', settle);
      body.off('close', settle);
      body.off('error', fail);
    };
    body.on('readable', settle);
    body.on('end', settle);
    body.on('close', settle);
    body.on('error', fail);
  });
}

/** The next buffered read of the body as text, null when none is buffered (its Buffer is not kept). */
function readText(body: ResponseBody, decoder: TextDecoder): string | null {
  const chunk = body.read() as Buffer | null;
  return chunk === null ? null : decoder.decode(chunk, { stream: true });
}

/** A blank line ends an SSE event (LF, CRLF or CR lines). */
const EVENT_END = /\n\n|\r\n\r\n|\r\r/g;

/** Where the first complete event of `text` ends, -1 when none does (the parser holds partial lines). */
function eventEnd(text: string): number {
  EVENT_END.lastIndex = 0;
  const match = EVENT_END.exec(text);
  return match === null ? -1 : match.index + match[0].length;
}

/** Reads at most `limit` bytes of a body as text, then drops the rest. */
async function readLimited(body: ResponseBody, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) break; // leaving the loop destroys the body
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

export class OpenAICompatibleProvider implements Provider {
  readonly name: string;
  readonly type = 'openai-compatible' as const;
  /** The model ends calls only through the functions it is offered (decided per agent). */
  readonly capabilities: ProviderCapabilities = { endsCalls: false };
  readonly #config: OpenAICompatibleProviderConfig;
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #agent: Agent;

  constructor(name: string, config: OpenAICompatibleProviderConfig) {
    this.name = name;
    this.#config = config;
    this.#url = chatCompletionsUrl(config.baseUrl, config.query);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'text/event-stream',
    };
    if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;
    for (const [key, value] of Object.entries(config.headers)) headers[key.toLowerCase()] = value;
    this.#headers = headers;
    this.#agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connect: { timeout: config.timeouts.connectMs },
    });
  }

  stream(request: ProviderRequest): PartStream {
    return this.#stream(request);
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  async *#stream(request: ProviderRequest): AsyncGenerator<StreamPart, void, undefined> {
    const { signal } = request;
    if (signal.aborted) throw signal.reason;
    const payload = serializeRequestBody({
      ...this.#config.defaultParams,
      ...request.params,
      model: request.model,
      messages: request.messages,
      stream: true,
      stream_options: { include_usage: true },
    });

    let response: Awaited<ReturnType<typeof undiciRequest>>;
    try {
      response = await undiciRequest(this.#url, {
        dispatcher: this.#agent,
        method: 'POST',
        headers: this.#headers,
        body: payload,
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw errorFromConnectionFailure(err, this.name);
    }

    const { statusCode, headers, body } = response;
    if (statusCode < 200 || statusCode > 299) {
      let text = '';
      try {
        text = await readLimited(body, ERROR_BODY_LIMIT);
      } catch {
        if (signal.aborted) throw signal.reason;
      }
      throw errorFromUpstreamResponse(statusCode, headers, text, this.name);
    }

    const mapper = new ChunkMapper(this.name);
    const contentType = headers['content-type'];
    if (typeof contentType === 'string' && contentType.includes('application/json')) {
      yield* this.#whole(body, mapper, signal);
      return;
    }

    const parser = createParser({ onEvent: (event: EventSourceMessage) => mapper.onData(event.data) });
    const decoder = new TextDecoder();
    const out = mapper.out;
    /** The body was read to its end or to [DONE] (or failed after a finish_reason). */
    let settled = false;
    /** The answer's first content (text or a tool call) was handed on. */
    let spoke = false;
    // Locals of a generator stay in its frame while it waits for the next read: the read's text and
    // the parts handed on are dropped before waiting, so an open stream holds neither.
    let rest = '';
    try {
      for (;;) {
        if (signal.aborted) throw signal.reason;
        if (rest === '') {
          const text = readText(body, decoder);
          if (text === null) {
            if (body.errored) throw body.errored;
            if (body.readableEnded || body.destroyed) break;
            await whenReadable(body);
            continue;
          }
          rest = text;
        }
        // Until the first content is out, one event at a time: it leaves before the rest of this
        // read is parsed. The rest is only this read's unparsed text, dropped once fed.
        const cut = spoke ? -1 : eventEnd(rest);
        if (cut < 0) {
          parser.feed(rest);
          rest = '';
        } else {
          parser.feed(rest.slice(0, cut));
          rest = rest.slice(cut);
        }
        if (out.length > 0) {
          // By index, no iterator: nothing but `out` refers to the parts while one is yielded.
          for (let index = 0; index < out.length; index++) {
            const part = out[index]!;
            spoke ||= part.type === 'text' || part.type === 'tool-call-start';
            yield part;
          }
          out.length = 0;
        }
        if (mapper.failure) throw mapper.failure;
        if (mapper.done) break;
      }
      settled = true;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof GatewayError) throw err;
      // The upstream said it had finished: a socket failure after that loses nothing.
      if (mapper.finishReason === undefined) {
        throw streamBrokenError(`the connection failed mid-stream (${describeError(err)})`, err, this.name);
      }
      settled = true;
    } finally {
      // Leaving early (consumer stopped, abort, error): close the upstream socket at once.
      if (!settled && !body.destroyed) {
        // undici reports an unfinished body's destruction as an 'error' event: expected here.
        body.on('error', ignore);
        body.destroy();
      }
    }

    if (mapper.done) {
      if (!body.readableEnded && !body.destroyed) {
        // Keep the connection reusable: let the rest of the body (the chunked terminator) arrive
        // in the background; a body that never ends is dropped after a while.
        body.dump({ limit: JSON_BODY_LIMIT, signal: AbortSignal.timeout(DRAIN_TIMEOUT_MS) }).catch(() => undefined);
      }
    } else {
      // The body ended without [DONE]: parse a last event that lacked its blank line.
      parser.feed(`${decoder.decode()}\n\n`);
      const failure = mapper.failure;
      if (failure !== undefined && failure.code !== 'upstream_stream_broken') throw failure;
      if (!mapper.done) {
        if (mapper.finishReason === undefined) {
          if (signal.aborted) throw signal.reason;
          throw streamBrokenError('the stream ended before a finish_reason or [DONE]', failure, this.name);
        }
        // Ended after a finish_reason: a normal end.
        mapper.finish();
      }
    }
    if (out.length > 0) {
      const parts = out.splice(0, out.length);
      for (const part of parts) yield part;
    }
  }

  /** An upstream that ignored `stream: true` and sent one JSON completion. */
  async *#whole(body: ResponseBody, mapper: ChunkMapper, signal: AbortSignal): AsyncGenerator<StreamPart, void, undefined> {
    let text: string;
    try {
      text = await readLimited(body, JSON_BODY_LIMIT);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw streamBrokenError(`the response body failed (${describeError(err)})`, err, this.name);
    }
    if (/^\s*(data|event|id|retry)?:/.test(text)) {
      // SSE mislabelled as JSON (some proxies): parse it as SSE, now that it is all here.
      const parser = createParser({ onEvent: (event: EventSourceMessage) => mapper.onData(event.data) });
      parser.feed(`${text}\n\n`);
      if (mapper.failure) throw mapper.failure;
      if (!mapper.done) {
        if (mapper.finishReason === undefined) {
          throw streamBrokenError('the stream ended before a finish_reason or [DONE]', undefined, this.name);
        }
        mapper.finish();
      }
      yield* mapper.out;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch (err) {
      throw streamBrokenError('the response was neither SSE nor valid JSON', err, this.name);
    }
    mapper.onChunk(value);
    if (mapper.failure) throw mapper.failure;
    if (mapper.finishReason === undefined && !(isRecord(value) && Array.isArray(value.choices) && value.choices.length > 0)) {
      throw streamBrokenError('the JSON response held no choices', undefined, this.name);
    }
    mapper.finish();
    yield* mapper.out;
  }
}

function ignore(): void {}

function describeError(err: unknown): string {
  if (isRecord(err) && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}
