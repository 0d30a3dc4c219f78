/**
 * A mock OpenAI-compatible upstream LLM: a real node:http server on 127.0.0.1 used by tests and
 * benchmarks. Scenarios script the status, headers, SSE events and timing (delays, hangs, sockets
 * that die mid-stream). Every request is recorded with its parsed JSON body.
 *
 * Hot path: the SSE strings of a scenario object are serialised once (per model name) and reused;
 * a scenario without timing options is written with a single `end()`.
 */

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface MockToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface MockDeltaEvent {
  content?: string;
  reasoning_content?: string;
  tool_calls?: MockToolCallDelta[];
  finish_reason?: string | null;
  role?: string;
}

export interface MockUsageEvent {
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export interface MockRawEvent {
  raw: string;
}

export type MockEvent = MockDeltaEvent | MockUsageEvent | MockRawEvent;

export interface MockScenario {
  /** Default 200. */
  status?: number;
  /** Extra response headers (e.g. retry-after). */
  headers?: Record<string, string>;
  /** A non-SSE body (error JSON for non-200); when set, events are ignored. */
  body?: string;
  /** SSE events; then `data: [DONE]` unless omitDone. */
  events?: MockEvent[];
  omitDone?: boolean;
  /** Wait before writing status and headers. */
  headersDelayMs?: number;
  /** Wait after the headers before the first event. */
  firstEventDelayMs?: number;
  /** Wait between events (slow drip). */
  eventIntervalMs?: number;
  /** Never answer. */
  hangBeforeHeaders?: boolean;
  /** Write this many events (counting the final [DONE]) then hang, keeping the socket open. */
  hangAfterEvents?: number;
  /** Write this many events (counting the final [DONE]) then destroy the socket. */
  destroyAfterEvents?: number;
}

export type ScenarioSource = MockScenario | ((request: RecordedRequest) => MockScenario);

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; the raw text when it is not JSON. */
  body: unknown;
  receivedAt: number;
  /** When the client closed the socket/response before the mock finished answering. */
  closedAt?: number;
  aborted: boolean;
}

export interface MockUpstream {
  /** Base URL including /v1, e.g. http://127.0.0.1:PORT/v1 */
  readonly url: string;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  readonly requests: RecordedRequest[];
  respondWith(scenario: ScenarioSource): void;
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves when that request's connection was closed early by the client. */
  waitForAbort(requestIndex: number, timeoutMs?: number): Promise<RecordedRequest>;
  /** Currently open sockets. */
  openConnections(): number;
  /** Closes the server and destroys all sockets (hanging ones too); clears all timers. */
  close(): Promise<void>;
}

/** The answer used when no scenario was given. */
export const DEFAULT_MOCK_TEXT = 'Hello from the mock upstream.';

const DEFAULT_WAIT_MS = 5_000;
const DONE = 'data: [DONE]\n\n';
const SSE_HEADERS: Record<string, string> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

/** The serialised SSE strings of one scenario object for one model. */
interface Serialised {
  model: string;
  items: string[];
  /** All items joined: written at once when the scenario has no timing options. */
  whole: string;
}

const serialisedCache = new WeakMap<MockScenario, Serialised>();
let completionCounter = 0;

function serialise(scenario: MockScenario, model: string): Serialised {
  const cached = serialisedCache.get(scenario);
  if (cached !== undefined && cached.model === model) return cached;
  const id = `chatcmpl-mock${(++completionCounter).toString(36)}`;
  const created = Math.floor(Date.now() / 1000);
  const head = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},`;
  const items: string[] = [];
  for (const event of scenario.events ?? []) {
    if ('raw' in event) {
      items.push(event.raw);
    } else if ('usage' in event) {
      items.push(`data: ${head}"choices":[],"usage":${JSON.stringify(event.usage)}}\n\n`);
    } else {
      const delta: Record<string, unknown> = {};
      if (event.role !== undefined) delta.role = event.role;
      if (event.content !== undefined) delta.content = event.content;
      if (event.reasoning_content !== undefined) delta.reasoning_content = event.reasoning_content;
      if (event.tool_calls !== undefined) delta.tool_calls = event.tool_calls;
      const choice = { index: 0, delta, logprobs: null, finish_reason: event.finish_reason ?? null };
      items.push(`data: ${head}"choices":[${JSON.stringify(choice)}]}\n\n`);
    }
  }
  if (!scenario.omitDone) items.push(DONE);
  const result: Serialised = { model, items, whole: items.join('') };
  serialisedCache.set(scenario, result);
  return result;
}

/** A role chunk, content chunks of `chunkSize` characters, a finish chunk and optionally usage. */
export function textEvents(text: string, options: { chunkSize?: number; finishReason?: string; usage?: boolean } = {}): MockEvent[] {
  const size = Math.max(1, options.chunkSize ?? 4);
  const events: MockEvent[] = [{ role: 'assistant', content: '' }];
  const chars = Array.from(text); // never split a surrogate pair
  for (let i = 0; i < chars.length; i += size) events.push({ content: chars.slice(i, i + size).join('') });
  events.push({ finish_reason: options.finishReason ?? 'stop' });
  if (options.usage) {
    const completion = Math.max(1, Math.ceil(chars.length / 4));
    events.push({ usage: { prompt_tokens: 10, completion_tokens: completion, total_tokens: 10 + completion } });
  }
  return events;
}

/**
 * OpenAI-style tool-call deltas: per call a first delta with index, id, type and name, then the
 * arguments spread over `argumentChunks` deltas (default 3) with the same index; finish_reason
 * `tool_calls`.
 */
export function toolCallEvents(
  calls: Array<{ name: string; arguments: string; id?: string }>,
  options: { argumentChunks?: number; leadingText?: string } = {},
): MockEvent[] {
  const pieces = Math.max(1, options.argumentChunks ?? 3);
  const events: MockEvent[] = [{ role: 'assistant', content: options.leadingText === undefined ? '' : options.leadingText }];
  calls.forEach((call, index) => {
    events.push({
      tool_calls: [{ index, id: call.id ?? `call_mock${index}`, type: 'function', function: { name: call.name, arguments: '' } }],
    });
    const size = Math.ceil(call.arguments.length / pieces);
    for (let at = 0; at < call.arguments.length; at += size) {
      events.push({ tool_calls: [{ index, function: { arguments: call.arguments.slice(at, at + size) } }] });
    }
  });
  events.push({ finish_reason: 'tool_calls' });
  return events;
}

const defaultScenario: MockScenario = { events: textEvents(DEFAULT_MOCK_TEXT, { usage: true }) };

interface Waiter {
  check: () => boolean;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface RequestState {
  /** The mock finished its answer (or killed the socket on purpose). */
  done: boolean;
  /** The response closed. */
  gone: boolean;
  /** The pending delay, if any. */
  timer?: NodeJS.Timeout | undefined;
}

export async function startMockUpstream(initial?: ScenarioSource): Promise<MockUpstream> {
  let source: ScenarioSource = initial ?? defaultScenario;
  let closing = false;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  /** Pending sleeps: timer -> wake-up (called with false when cancelled). */
  const sleeps = new Map<NodeJS.Timeout, (completed: boolean) => void>();
  const waiters = new Set<Waiter>();

  const notify = (): void => {
    for (const waiter of waiters) {
      if (waiter.check()) {
        waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve();
      }
    }
  };

  const waitFor = (check: () => boolean, timeoutMs: number, what: string): Promise<void> => {
    if (check()) return Promise.resolve();
    if (closing) return Promise.reject(new Error(`mock upstream closed while waiting for ${what}`));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        check,
        resolve,
        reject,
        timer: setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`mock upstream: timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs),
      };
      waiters.add(waiter);
    });
  };

  /** Resolves true after `ms`, or false at once when cancelled (request gone, mock closing). */
  const sleep = (ms: number, state: RequestState): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        sleeps.delete(timer);
        state.timer = undefined;
        resolve(true);
      }, ms);
      state.timer = timer;
      sleeps.set(timer, resolve);
    });

  const cancelSleep = (state: RequestState): void => {
    const timer = state.timer;
    if (timer === undefined) return;
    state.timer = undefined;
    clearTimeout(timer);
    const wake = sleeps.get(timer);
    sleeps.delete(timer);
    wake?.(false);
  };

  const cancelSleeps = (): void => {
    for (const [timer, wake] of sleeps) {
      clearTimeout(timer);
      wake(false);
    }
    sleeps.clear();
  };

  /** Resolves true after `ms`, or false when the request or the mock is gone by then. */
  const pause = async (ms: number, state: RequestState): Promise<boolean> => (await sleep(ms, state)) && !state.gone && !closing;

  async function answer(record: RecordedRequest, res: ServerResponse, state: RequestState): Promise<void> {
    const scenario = typeof source === 'function' ? source(record) : source;
    if (scenario.hangBeforeHeaders) return;
    if (scenario.headersDelayMs && !(await pause(scenario.headersDelayMs, state))) return;
    const status = scenario.status ?? 200;

    if (scenario.body !== undefined) {
      res.writeHead(status, { 'content-type': 'application/json', ...scenario.headers });
      state.done = true;
      res.end(scenario.body);
      return;
    }

    const model = isRecord(record.body) && typeof record.body.model === 'string' ? record.body.model : 'mock-model';
    const { items, whole } = serialise(scenario, model);
    res.writeHead(status, scenario.headers ? { ...SSE_HEADERS, ...scenario.headers } : SSE_HEADERS);

    const { hangAfterEvents: hang, destroyAfterEvents: destroy } = scenario;
    const mode: 'end' | 'hang' | 'destroy' =
      destroy !== undefined && (hang === undefined || destroy <= hang) ? 'destroy' : hang !== undefined ? 'hang' : 'end';
    const stopAt = Math.min(mode === 'destroy' ? destroy! : mode === 'hang' ? hang! : Infinity, items.length);
    const interval = scenario.eventIntervalMs ?? 0;

    if (scenario.firstEventDelayMs) {
      res.flushHeaders();
      if (!(await pause(scenario.firstEventDelayMs, state))) return;
    }
    if (mode === 'end' && interval <= 0) {
      state.done = true;
      res.end(whole);
      return;
    }
    if (stopAt === 0) res.flushHeaders();
    for (let i = 0; i < stopAt; i++) {
      if (i > 0 && interval > 0 && !(await pause(interval, state))) return;
      if (mode === 'destroy' && i === stopAt - 1) {
        state.done = true;
        // Let the written events reach the client first, then kill the connection.
        res.write(items[i]!, () => res.socket?.destroy());
        return;
      }
      res.write(items[i]!);
    }
    if (mode === 'end') {
      state.done = true;
      res.end();
    } else if (mode === 'destroy') {
      // stopAt === 0: headers only, then the connection dies.
      state.done = true;
      res.socket?.end();
    }
    // mode 'hang': keep the socket open until the client leaves or the mock closes.
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      if (text !== '') {
        try {
          body = JSON.parse(text) as unknown;
        } catch {
          body = text;
        }
      }
      const record: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        receivedAt: Date.now(),
        aborted: false,
      };
      requests.push(record);
      const state: RequestState = { done: false, gone: false };
      res.on('close', () => {
        state.gone = true;
        cancelSleep(state);
        if (!state.done && !closing) {
          record.aborted = true;
          record.closedAt = Date.now();
          notify();
        }
      });
      notify();

      const path = record.url.split('?', 1)[0];
      if (record.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/chat/completions')) {
        state.done = true;
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"mock upstream: no such route","type":"invalid_request_error","param":null,"code":null}}');
        return;
      }
      answer(record, res, state).catch((err: unknown) => {
        state.done = true;
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/v1`,
    origin,
    requests,
    respondWith(scenario: ScenarioSource): void {
      source = scenario;
    },
    waitForRequests(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
      return waitFor(() => requests.length >= count, timeoutMs, `${count} request(s)`);
    },
    async waitForAbort(requestIndex: number, timeoutMs = DEFAULT_WAIT_MS): Promise<RecordedRequest> {
      await waitFor(() => requests[requestIndex]?.aborted === true, timeoutMs, `request #${requestIndex} to be aborted`);
      return requests[requestIndex]!;
    },
    openConnections(): number {
      return sockets.size;
    },
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      cancelSleeps();
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error('mock upstream closed'));
      }
      waiters.clear();
      const closed: Array<Promise<void>> = [new Promise<void>((resolve) => server.close(() => resolve()))];
      for (const socket of sockets) {
        if (!socket.closed) closed.push(new Promise<void>((resolve) => socket.once('close', () => resolve())));
      }
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
