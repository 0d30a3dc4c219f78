/**
 * The bench's built-in mock upstream LLM: a lean OpenAI-compatible streaming server on 127.0.0.1.
 * Unlike tools/testing/mock-upstream.ts it records nothing and parses no request it does not have to,
 * so that the direct path costs as little as an upstream can, and it keeps idle connections for two
 * minutes (the relays in front of it and the load generator never have to reconnect mid-run).
 *
 * Three answers, chosen by the text of the request's last message:
 *   - anything else: the bench answer — a role chunk, `chunks` content events of `chunkChars`
 *     characters, a finish chunk, a usage chunk, [DONE]. The first content comes `firstTokenMs`
 *     after the headers (which are sent at once), then one event every `intervalMs` (0: the whole
 *     answer in one write);
 *   - `bench-hold`: half the bench answer, then nothing until the client goes away (memory per open
 *     stream);
 *   - `bench-cancel <id>`: a slow answer (SLOW_EVENTS content events SLOW_INTERVAL_MS apart, several
 *     seconds); if its connection closes before the answer is over, `onCancelClosed(id, at)` is
 *     called with the wall clock `performance.timeOrigin + performance.now()` (cancellation latency).
 *
 * A request whose body holds PHASE_MARKER and a tag is stamped (`process.hrtime.bigint()`): when it
 * arrived and when its first content event was written; `takeStamps()` hands them over (phases).
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { CANCEL_MARKER, HOLD_MARKER, PHASE_MARKER, type SlowAnswer, type UpstreamStamp } from './ipc.ts';
import { listenLocal } from './local-server.ts';

export interface MockAnswerOptions {
  /** Simulated model time to first token, after the response headers. */
  firstTokenMs: number;
  /** Non-empty content events per answer. */
  chunks: number;
  /** Characters per content event. */
  chunkChars: number;
  /** Pause between events; 0 writes the whole answer at once. */
  intervalMs: number;
}

export interface BenchUpstream {
  /** Base URL ending in /v1. */
  readonly url: string;
  /** The text of the bench answer. */
  readonly text: string;
  readonly contentEvents: number;
  readonly slowAnswer: SlowAnswer;
  /** `bench-hold` streams open right now. */
  openHolds(): number;
  /** The stamps of the tagged requests answered since the last call. */
  takeStamps(): UpstreamStamp[];
  close(): Promise<void>;
}

/**
 * A realistic short spoken answer (160 characters: the default 40 events of 4 characters). Plain words
 * and punctuation only, so the gateway's speech shaping leaves it as it is.
 */
export const BENCH_TEXT =
  'Sure, I can help with that. Your appointment is confirmed for Tuesday at three in the afternoon, ' +
  'and we will send you a reminder the day before. Anything else?';

const SLOW_EVENTS = 280;
const SLOW_INTERVAL_MS = 20;
const MODEL = 'bench-mock';
const DONE = 'data: [DONE]\n\n';
const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

/** Exactly `chunks × chunkChars` characters of BENCH_TEXT, repeated as needed; never ends in a space. */
export function answerText(chunks: number, chunkChars: number): string {
  const length = chunks * chunkChars;
  let text = '';
  while (text.length < length) text += (text === '' ? '' : ' ') + BENCH_TEXT;
  text = text.slice(0, length);
  return text.endsWith(' ') ? `${text.slice(0, -1)}.` : text;
}

function split(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

/** The SSE events of one answer: role chunk, content events, finish chunk, usage chunk, [DONE]. */
function sseEvents(pieces: string[]): { head: string[]; content: string[]; tail: string[] } {
  const prefix = `{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":"${MODEL}",`;
  const chunk = (delta: object, finish: string | null): string =>
    `data: ${prefix}"choices":[{"index":0,"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${JSON.stringify(finish)}}]}\n\n`;
  const completion = Math.max(1, Math.ceil(pieces.join('').length / 4));
  return {
    head: [chunk({ role: 'assistant', content: '' }, null)],
    content: pieces.map((piece) => chunk({ content: piece }, null)),
    tail: [
      chunk({}, 'stop'),
      `data: ${prefix}"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":${completion},"total_tokens":${12 + completion}}}\n\n`,
      DONE,
    ],
  };
}

/** The phase tag (digits after PHASE_MARKER) a request body carries, if any; found without parsing the JSON. */
export function phaseTagOf(body: string): string | undefined {
  const at = body.indexOf(PHASE_MARKER);
  if (at < 0) return undefined;
  const from = at + PHASE_MARKER.length;
  let to = from;
  while (to < body.length && body.charCodeAt(to) >= 48 && body.charCodeAt(to) <= 57) to++;
  return to > from ? body.slice(from, to) : undefined;
}

/** The text of the last message of a JSON chat request, if it is a string. */
function lastMessageText(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { messages?: Array<{ content?: unknown }> };
    const content = parsed.messages?.at(-1)?.content;
    return typeof content === 'string' ? content : undefined;
  } catch {
    return undefined;
  }
}

export async function startBenchUpstream(
  options: MockAnswerOptions,
  onCancelClosed: (requestId: string, at: number) => void = () => undefined,
): Promise<BenchUpstream> {
  const text = answerText(options.chunks, options.chunkChars);
  const answer = sseEvents(split(text, options.chunkChars));
  const items = [...answer.head, ...answer.content, ...answer.tail];
  const whole = items.join('');
  // The first write holds the role chunk and the first content event: the first token.
  const firstWrite = items[0]! + items[1]!;
  const rest = answer.content.slice(1);
  const tail = answer.tail.join('');
  const held = [...answer.head, ...answer.content.slice(0, Math.max(1, Math.ceil(answer.content.length / 2)))].join('');
  const slowText = answerText(SLOW_EVENTS, 4);
  const slow = sseEvents(split(slowText, 4));
  const slowItems = [...slow.head, ...slow.content, ...slow.tail];
  const slowAnswer: SlowAnswer = { contentEvents: SLOW_EVENTS, firstEventDelayMs: options.firstTokenMs, eventIntervalMs: SLOW_INTERVAL_MS };

  const timers = new Set<NodeJS.Timeout>();
  let holds = 0;
  let stamps: UpstreamStamp[] = [];
  let closing = false;

  /** The pending timer of each response that has one; cleared when the response closes. */
  const pending = new WeakMap<ServerResponse, NodeJS.Timeout>();
  const watch = (res: ServerResponse): void => {
    res.once('close', () => {
      const timer = pending.get(res);
      if (timer !== undefined) {
        clearTimeout(timer);
        timers.delete(timer);
      }
    });
  };

  /** Runs `fn` after `ms` unless the response closes first (the response must be watched). */
  const later = (res: ServerResponse, ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      pending.delete(res);
      if (!res.destroyed) fn();
    }, ms);
    timers.add(timer);
    pending.set(res, timer);
  };

  /** Writes list[from..] one every `interval` ms, the first at once; calls `done` after the last. */
  const drip = (res: ServerResponse, list: string[], from: number, interval: number, done: () => void): void => {
    res.write(list[from]!);
    if (from + 1 >= list.length) {
      done();
      return;
    }
    later(res, interval, () => drip(res, list, from + 1, interval, done));
  };

  /** `tag`: stamp the first content event's write, with the request's arrival. */
  const answerBench = (res: ServerResponse, tag: string | undefined, receivedNs: bigint): void => {
    res.writeHead(200, SSE_HEADERS);
    if (options.firstTokenMs > 0 || options.intervalMs > 0) watch(res);
    const start = (): void => {
      if (tag !== undefined) {
        stamps.push({ tag, receivedNs: String(receivedNs), firstContentNs: String(process.hrtime.bigint()) });
      }
      if (options.intervalMs <= 0) {
        res.end(whole);
        return;
      }
      // Content events `intervalMs` apart; the finish, usage and [DONE] right behind the last one.
      res.write(firstWrite);
      if (rest.length === 0) res.end(tail);
      else later(res, options.intervalMs, () => drip(res, rest, 0, options.intervalMs, () => res.end(tail)));
    };
    if (options.firstTokenMs > 0) {
      res.flushHeaders();
      later(res, options.firstTokenMs, start);
    } else start();
  };

  const answerHold = (res: ServerResponse): void => {
    holds++;
    watch(res);
    res.once('close', () => holds--);
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    later(res, options.firstTokenMs, () => res.write(held));
  };

  const answerSlow = (res: ServerResponse, requestId: string): void => {
    let finished = false;
    watch(res);
    res.once('close', () => {
      if (!finished && !closing) onCancelClosed(requestId, performance.timeOrigin + performance.now());
    });
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    const ending = (): void => {
      finished = true;
      res.end();
    };
    later(res, slowAnswer.firstEventDelayMs, () => drip(res, slowItems, 0, SLOW_INTERVAL_MS, ending));
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const receivedNs = process.hrtime.bigint();
    const path = req.url?.split('?', 1)[0];
    if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/chat/completions')) {
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"bench mock upstream: no such route","type":"invalid_request_error"}}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      // Only requests that may be special are parsed: the common one costs no JSON.parse.
      const last = body.includes('bench-') ? lastMessageText(body) : undefined;
      if (last?.startsWith(CANCEL_MARKER)) answerSlow(res, last.slice(CANCEL_MARKER.length));
      else if (last?.startsWith(HOLD_MARKER)) answerHold(res);
      else answerBench(res, phaseTagOf(body), receivedNs);
    });
  });
  const local = await listenLocal(server);
  const { port } = local;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    text,
    contentEvents: options.chunks,
    slowAnswer,
    openHolds: () => holds,
    takeStamps() {
      const taken = stamps;
      stamps = [];
      return taken;
    },
    async close() {
      closing = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await local.close();
    },
  };
}
