/**
 * The load generator: streamed chat-completion requests over the lean node:http client
 * (tools/bench/http-client.ts), timed from sending the request to the first received bytes holding a
 * non-empty `content` delta (TTFT) and to the end of the stream, with exactly `concurrency` streams
 * in flight. Measured streams carry a phase tag in the user message, so that the mock upstream's
 * timestamps can be matched with the client's (tools/bench/phases.ts).
 */

import type { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { followStream, type FollowedStream } from './http-client.ts';
import { PHASE_MARKER } from './ipc.ts';
import type { ClientStamp } from './phases.ts';
import { BenchError } from './settings.ts';
import { answerOf, countContent, endsWithDone } from './sse-scan.ts';

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

/** The body of a streamed turn; `instanceId` names the call, a fresh one unless given. */
export function turnBody(target: Target, content: string, instanceId?: string, sentenceId = 1): string {
  const body: Record<string, unknown> = { model: target.model, stream: true, messages: [{ role: 'user', content }] };
  if (target.extendData) {
    const call = instanceId ?? `bench-inst-${nextId()}`;
    body.extendData = { instanceId: call, channelId: `${call}-chan`, sentenceId };
  }
  return JSON.stringify(body);
}

/** Parsed once per base URL and headers once per target: the client does per stream only what it must. */
const endpoints = new Map<string, URL>();
const endpointOf = (base: string): URL => {
  let url = endpoints.get(base);
  if (!url) endpoints.set(base, (url = new URL(`${base}/chat/completions`)));
  return url;
};
const targetHeaders = new WeakMap<Target, Record<string, string>>();

function headers(target: Target): Record<string, string> {
  let out = targetHeaders.get(target);
  if (!out) {
    out = { 'content-type': 'application/json', accept: 'text/event-stream' };
    if (target.apiKey !== undefined) out.authorization = `Bearer ${target.apiKey}`;
    targetHeaders.set(target, out);
  }
  return out;
}

/** Sends a streamed turn to the target and follows its body (see `followStream`). */
export function followTurn(target: Target, body: string, agent: Agent, signal?: AbortSignal): Promise<FollowedStream> {
  return followStream({
    url: endpointOf(urlOf(target)),
    headers: headers(target),
    body,
    agent,
    label: PATH_LABELS[target.path],
    timeoutMs: STREAM_TIMEOUT_MS,
    signal,
  });
}

const msBetween = (from: bigint, to: bigint): number => Number(to - from) / 1e6;

/**
 * One ordinary streamed turn, read to its end; rejects on any error. Returns the raw body too and,
 * when `tag` is given (it then ends the user message), the client's stamps for the phases.
 */
export async function runStream(target: Target, agent: Agent, tag?: string): Promise<StreamResult & { text: string; stamp?: ClientStamp }> {
  const prompt = tag === undefined ? target.prompt : `${target.prompt} ${PHASE_MARKER}${tag}`;
  const followed = await followTurn(target, turnBody(target, prompt), agent);
  const text = await followed.text;
  const endNs = process.hrtime.bigint();
  const firstNs = await followed.firstContent; // settled: the body ended
  if (!endsWithDone(text)) throw new BenchError(`${PATH_LABELS[target.path]}: stream ended without [DONE]: …${text.slice(-200)}`);
  const result = {
    ttftMs: msBetween(followed.sentNs, firstNs),
    totalMs: msBetween(followed.sentNs, endNs),
    contentEvents: countContent(text),
    text,
  };
  return tag === undefined ? result : { ...result, stamp: { tag, sentNs: followed.sentNs, firstContentNs: firstNs } };
}

export interface BatchResult {
  samples: StreamResult[];
  /** The client's phase stamps of the streams that succeeded (tagged batches only). */
  stamps: ClientStamp[];
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
 * `tagged`: each stream carries a fresh phase tag (measured batches).
 */
export async function runBatch(
  target: Target,
  agent: Agent,
  concurrency: number,
  count: number,
  onError: (err: unknown) => void,
  onDone: () => void = () => undefined,
  ramp = false,
  tagged = false,
): Promise<BatchResult> {
  const samples: StreamResult[] = [];
  const stamps: ClientStamp[] = [];
  let errors = 0;
  let issued = 0;
  const one = async (): Promise<void> => {
    issued++;
    try {
      const { ttftMs, totalMs, contentEvents, stamp } = await runStream(target, agent, tagged ? String(nextId()) : undefined);
      samples.push({ ttftMs, totalMs, contentEvents });
      if (stamp) stamps.push(stamp);
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
  return { samples, stamps, errors, wallMs: performance.now() - started };
}

/**
 * One stream parsed event by event: the path must relay exactly `expectedText` (when given), and
 * in any case stream content and end with [DONE].
 */
export async function verifyPath(target: Target, agent: Agent, expectedText: string | undefined): Promise<void> {
  const { text } = await runStream(target, agent);
  if (expectedText === undefined) return;
  const answer = answerOf(text);
  if (answer !== expectedText) {
    throw new BenchError(
      `${PATH_LABELS[target.path]}: relayed answer differs from the upstream's:\n  got:  ${answer}\n  want: ${expectedText}`,
    );
  }
}
