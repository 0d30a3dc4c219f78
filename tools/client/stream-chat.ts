import { createParser, type EventSourceParser } from 'eventsource-parser';
import { OUTCOME_HEADER } from '../../src/protocol/synthetic-traffic.ts';

/** One streamed chat-completion turn as a client saw it: every event, timed, and what it adds up to. */
export interface StreamedTurn {
  status: number;
  contentType: string;
  /** Each `data:` payload in order (the `[DONE]` sentinel included), with ms since the request. */
  events: Array<{ data: string; atMs: number }>;
  /** The JSON payloads, parsed (undefined where a payload was not JSON). */
  chunks: unknown[];
  sawDone: boolean;
  /** Events after `[DONE]`. */
  afterDone: number;
  text: string;
  toolCalls: Array<{ index: number; id?: string; name: string; arguments: string }>;
  finishReason: string | null;
  /** ms to the first non-empty content delta. */
  ttftMs: number | undefined;
  totalMs: number;
  /** The body of a non-streaming or error answer. */
  body?: string;
  /** The client stopped reading (caller's signal or `stopAfterMs`). */
  stopped: boolean;
  /** The gateway's x-vlg-outcome response header (`apology` when every provider failed), if sent. */
  outcome?: string;
}

export interface StreamChatOptions {
  /** The server's base URL, e.g. http://127.0.0.1:8083/v1 ; `/chat/completions` is appended. */
  baseUrl: string;
  apiKey?: string;
  body: unknown;
  /** Extra query string (e.g. the workflow's OpenAIExtraQuery `task_id=1&room_id=2`). */
  query?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Called with each piece of content as it arrives (for live printing). */
  onText?: (text: string) => void;
  /** Stop reading (close the connection) this long after the first content, like a caller speaking over it. */
  stopAfterFirstContentMs?: number;
}

/** POSTs a chat-completion request and reads the answer the way a voice platform does. */
export async function streamChat(options: StreamChatOptions): Promise<StreamedTurn> {
  const url = chatCompletionsUrl(options.baseUrl, options.query);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const started = performance.now();
  const turn = newStreamedTurn();
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(options.body), signal });
  turn.status = response.status;
  turn.contentType = response.headers.get('content-type') ?? '';
  const outcome = response.headers.get(OUTCOME_HEADER);
  if (outcome !== null) turn.outcome = outcome;
  if (!turn.contentType.startsWith('text/event-stream')) {
    turn.body = await response.text();
    turn.totalMs = performance.now() - started;
    return turn;
  }

  let stopTimer: NodeJS.Timeout | undefined;
  const parser = turnEventParser(
    turn,
    () => performance.now() - started,
    options.onText,
    () => {
      if (options.stopAfterFirstContentMs === undefined) return;
      stopTimer = setTimeout(() => {
        turn.stopped = true;
        controller.abort();
      }, options.stopAfterFirstContentMs);
    },
  );
  const decoder = new TextDecoder();
  try {
    for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(piece, { stream: true }));
    }
  } catch (error) {
    if (!signal.aborted) throw error;
    turn.stopped = true;
  } finally {
    clearTimeout(stopTimer);
  }
  turn.totalMs = performance.now() - started;
  return turn;
}

export function newStreamedTurn(): StreamedTurn {
  return {
    status: 0,
    contentType: '',
    events: [],
    chunks: [],
    sawDone: false,
    afterDone: 0,
    text: '',
    toolCalls: [],
    finishReason: null,
    ttftMs: undefined,
    totalMs: 0,
    stopped: false,
  };
}

/** An SSE parser that adds each event it reads to `turn` (also for bodies read some other way). */
export function turnEventParser(
  turn: StreamedTurn,
  elapsedMs: () => number,
  onText?: (text: string) => void,
  onFirstContent?: () => void,
): EventSourceParser {
  return createParser({
    onEvent(event) {
      const atMs = elapsedMs();
      turn.events.push({ data: event.data, atMs });
      if (turn.sawDone) {
        turn.afterDone++;
        return;
      }
      if (event.data === '[DONE]') {
        turn.sawDone = true;
        return;
      }
      let chunk: unknown;
      try {
        chunk = JSON.parse(event.data);
      } catch {
        chunk = undefined;
      }
      turn.chunks.push(chunk);
      const hadContent = turn.ttftMs !== undefined;
      absorb(turn, chunk, atMs, onText);
      if (!hadContent && turn.ttftMs !== undefined) onFirstContent?.();
    },
  });
}

function absorb(turn: StreamedTurn, chunk: unknown, atMs: number, onText: ((text: string) => void) | undefined): void {
  const choice = (chunk as { choices?: Array<Record<string, unknown>> } | undefined)?.choices?.[0];
  if (!choice) return;
  const delta = (choice.delta ?? {}) as { content?: unknown; tool_calls?: unknown };
  if (typeof delta.content === 'string' && delta.content !== '') {
    if (turn.ttftMs === undefined) turn.ttftMs = atMs;
    turn.text += delta.content;
    onText?.(delta.content);
  }
  if (Array.isArray(delta.tool_calls)) {
    for (const call of delta.tool_calls as Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }>) {
      const index = typeof call.index === 'number' ? call.index : 0;
      let entry = turn.toolCalls.find((c) => c.index === index);
      if (!entry) {
        entry = { index, name: '', arguments: '' };
        turn.toolCalls.push(entry);
      }
      if (call.id) entry.id = call.id;
      if (call.function?.name) entry.name = call.function.name;
      if (typeof call.function?.arguments === 'string') entry.arguments += call.function.arguments;
    }
  }
  if (typeof choice.finish_reason === 'string') turn.finishReason = choice.finish_reason;
}

export function chatCompletionsUrl(baseUrl: string, query?: string): string {
  const base = `${baseUrl.replace(/\/+$/, '')}/chat/completions`;
  return query ? `${base}?${query.replace(/^\?/, '')}` : base;
}
