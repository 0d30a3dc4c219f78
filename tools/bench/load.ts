/**
 * The load generator: streamed chat-completion requests over undici, timed from sending the request
 * to the first received bytes holding a non-empty `content` delta (TTFT) and to the end of the
 * stream, with exactly `concurrency` streams in flight.
 */

import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { BenchError } from './settings.ts';
import { answerOf, countContent, endsWithDone, findContent, rescanFrom } from './sse-scan.ts';

export type PathName = 'direct' | 'pipe-relay' | 'gateway' | 'gateway-redis' | 'replicas';

export const PATH_LABELS: Record<PathName, string> = {
  direct: 'direct',
  'pipe-relay': 'pipe relay',
  gateway: 'gateway',
  'gateway-redis': 'gateway, Redis state',
  replicas: 'replicas, Redis state',
};

/** One path to an upstream answer. */
export interface Target {
  path: PathName;
  /** Base URL ending in /v1 (or wherever /chat/completions lives). */
  url: string;
  apiKey: string | undefined;
  model: string;
  /** Send IMS call metadata (extendData): voice platforms do; a plain OpenAI upstream rejects it. */
  extendData: boolean;
  /** The user message of ordinary streams. */
  prompt: string;
  /** Several replicas: each stream goes to the next of these base URLs in turn (round-robin). */
  urls?: string[];
}

let turnCounter = 0;

/** The base URL of the next stream: round-robin over `urls` when there are several replicas. */
const urlOf = (target: Target): string => (target.urls ? target.urls[turnCounter++ % target.urls.length]! : target.url);

export interface StreamResult {
  ttftMs: number;
  totalMs: number;
  contentEvents: number;
}

/** A stream taking longer than this is an error. */
export const STREAM_TIMEOUT_MS = 30_000;

let sequence = 0;

/** A fresh number for request ids and call ids. */
export const nextId = (): number => ++sequence;

/** An HTTP/1.1 keep-alive pool allowing `connections` per origin. */
export function createDispatcher(connections: number): Agent {
  return new Agent({ connections, pipelining: 1, keepAliveTimeout: 120_000, keepAliveMaxTimeout: 600_000, connect: { timeout: 30_000 } });
}

/** The body of a streamed turn; `instanceId` names the call, a fresh one unless given. */
export function turnBody(target: Target, content: string, instanceId?: string, sentenceId = 1): string {
  const body: Record<string, unknown> = { model: target.model, stream: true, messages: [{ role: 'user', content }] };
  if (target.extendData) {
    const call = instanceId ?? `bench-inst-${nextId()}`;
    body.extendData = { instanceId: call, channelId: `${call}-chan`, sentenceId };
  }
  return JSON.stringify(body);
}

function headers(target: Target): Record<string, string> {
  const out: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (target.apiKey !== undefined) out.authorization = `Bearer ${target.apiKey}`;
  return out;
}

export interface FollowedStream {
  /** Resolves at the first non-empty content (ms since the request was sent); rejects if the stream ends or fails before. */
  firstContent: Promise<number>;
  /** The whole body (latin1) once it ended; rejects if it failed. */
  text: Promise<string>;
}

/**
 * Sends a streamed turn and follows its body. Rejects on a non-200 answer; both promises of the
 * result are safe to leave unawaited.
 */
export async function followStream(target: Target, body: string, dispatcher: Agent, signal: AbortSignal): Promise<FollowedStream> {
  const started = performance.now();
  const response = await request(`${urlOf(target)}/chat/completions`, {
    method: 'POST',
    headers: headers(target),
    body,
    dispatcher,
    signal,
  });
  if (response.statusCode !== 200) {
    const text = await response.body.text().catch(() => '');
    throw new BenchError(`${PATH_LABELS[target.path]}: HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
  }
  const stream = response.body;
  stream.setEncoding('latin1');
  let settleFirst!: (result: number | Error) => void;
  const firstContent = new Promise<number>((resolve, reject) => {
    settleFirst = (result) => (typeof result === 'number' ? resolve(result) : reject(result));
  });
  const text = new Promise<string>((resolve, reject) => {
    let all = '';
    let scanFrom = 0;
    let seen = false;
    stream.on('data', (chunk: string) => {
      all += chunk;
      if (seen) return;
      if (findContent(all, scanFrom) >= 0) {
        seen = true;
        settleFirst(performance.now() - started);
      } else scanFrom = rescanFrom(all);
    });
    stream.once('error', (err: Error) => {
      const failure = new BenchError(`${PATH_LABELS[target.path]}: stream failed: ${err.message}`);
      settleFirst(failure);
      reject(failure);
    });
    stream.once('end', () => {
      settleFirst(new BenchError(`${PATH_LABELS[target.path]}: stream ended before any content: ${all.slice(0, 300)}`));
      resolve(all);
    });
  });
  firstContent.catch(() => undefined);
  text.catch(() => undefined);
  return { firstContent, text };
}

/** One ordinary streamed turn, read to its end; rejects on any error. Returns the raw body too. */
export async function runStream(target: Target, dispatcher: Agent): Promise<StreamResult & { text: string }> {
  const started = performance.now();
  const followed = await followStream(target, turnBody(target, target.prompt), dispatcher, AbortSignal.timeout(STREAM_TIMEOUT_MS));
  const text = await followed.text;
  const totalMs = performance.now() - started;
  const ttftMs = await followed.firstContent; // settled: the body ended
  if (!endsWithDone(text)) throw new BenchError(`${PATH_LABELS[target.path]}: stream ended without [DONE]: …${text.slice(-200)}`);
  return { ttftMs, totalMs, contentEvents: countContent(text), text };
}

export interface BatchResult {
  samples: StreamResult[];
  errors: number;
  wallMs: number;
}

/**
 * New connections opened at once, at most, when a batch ramps up: a server's accept queue (511 by
 * default) overflows when many more arrive while its event loop is busy, and each connection
 * dropped there costs a 1 s SYN retransmission.
 */
export const RAMP_GROUP = 256;

/**
 * Runs `count` streams keeping `concurrency` in flight; `onDone` after each one (for progress).
 * `ramp`: start the workers in groups of RAMP_GROUP, each once the previous group's first streams
 * are over (for warm-ups: measured batches reuse the connections a warm-up opened).
 */
export async function runBatch(
  target: Target,
  dispatcher: Agent,
  concurrency: number,
  count: number,
  onError: (err: unknown) => void,
  onDone: () => void = () => undefined,
  ramp = false,
): Promise<BatchResult> {
  const samples: StreamResult[] = [];
  let errors = 0;
  let issued = 0;
  const one = async (): Promise<void> => {
    issued++;
    try {
      const { ttftMs, totalMs, contentEvents } = await runStream(target, dispatcher);
      samples.push({ ttftMs, totalMs, contentEvents });
    } catch (err) {
      errors++;
      onError(err);
    }
    onDone();
  };
  const worker = async (first: Promise<void> | undefined): Promise<void> => {
    if (first) await first;
    while (issued < count) await one();
  };
  const started = performance.now();
  const workers = Math.min(concurrency, count);
  const running: Array<Promise<void>> = [];
  if (!ramp || workers <= RAMP_GROUP) {
    for (let i = 0; i < workers; i++) running.push(worker(undefined));
  } else {
    for (let from = 0; from < workers && issued < count; from += RAMP_GROUP) {
      const firsts: Array<Promise<void>> = [];
      for (let i = from; i < Math.min(workers, from + RAMP_GROUP) && issued < count; i++) {
        const first = one();
        firsts.push(first);
        running.push(worker(first));
      }
      await Promise.all(firsts);
    }
  }
  await Promise.all(running);
  return { samples, errors, wallMs: performance.now() - started };
}

/**
 * One stream parsed event by event: the path must relay exactly `expectedText` (when given), and
 * in any case stream content and end with [DONE].
 */
export async function verifyPath(target: Target, dispatcher: Agent, expectedText: string | undefined): Promise<void> {
  const { text } = await runStream(target, dispatcher);
  if (expectedText === undefined) return;
  const answer = answerOf(text);
  if (answer !== expectedText) {
    throw new BenchError(
      `${PATH_LABELS[target.path]}: relayed answer differs from the upstream's:\n  got:  ${answer}\n  want: ${expectedText}`,
    );
  }
}
