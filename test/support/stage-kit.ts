import { cancellation as cancelledBecause } from '../../src/calls/cancellation.ts';
import type { FinishReason, PartStream, PartTransform, StreamPart } from '../../src/core/stream-part.ts';
import { play, type Step } from './test-provider.ts';
import type { VirtualClock } from './virtual-clock.ts';

/**
 * The stage test kit: build parts, feed them into a stage (re-cut into small text pieces, with
 * pauses on a virtual clock), and collect what comes out, error included. Every test drives a stage
 * through `runStage` / `drain` here (and the core stages through `core-stages.ts`), so when the
 * stage shape changes only the kit changes. See also `test-provider.ts` (a scripted `Provider`)
 * and `virtual-clock.ts` (time).
 */

export type { Step } from './test-provider.ts';
export { connectionRefused, httpFailure, ScriptedTestProvider, streamBroken, targetOf } from './test-provider.ts';
export { useVirtualClock, type VirtualClock } from './virtual-clock.ts';

/** What a stage is to the kit (today: parts in, parts out, as the production pipeline composes them). */
export type Stage = PartTransform;

export const text = (value: string): StreamPart => ({ type: 'text', text: value });
export const reasoning = (value: string): StreamPart => ({ type: 'reasoning', text: value });
export const finish = (reason: FinishReason = 'stop'): StreamPart => ({ type: 'finish', reason });
export const STOP: StreamPart = finish('stop');
export const endCall = (farewell?: string): StreamPart => (farewell === undefined ? { type: 'end-call' } : { type: 'end-call', farewell });
export const transfer = (destination: string): StreamPart => ({ type: 'transfer', destination });
export const digits = (keys: string): StreamPart => ({ type: 'digits', digits: keys });
export const usage = (promptTokens: number, completionTokens: number): StreamPart => ({
  type: 'usage',
  usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
});
export const wait = (ms: number): Step => ({ wait: ms });
export const fail = (error: unknown): Step => ({ fail: error });
export const HANG: Step = { hang: true };

/** A whole tool call: start, its arguments in `pieces` deltas, end. */
export function toolCall(callId: string, name: string, argumentsJson = '{}', pieces = 1): StreamPart[] {
  const size = Math.max(1, Math.ceil(argumentsJson.length / pieces));
  const deltas: StreamPart[] = [];
  for (let at = 0; at < argumentsJson.length; at += size) {
    deltas.push({ type: 'tool-call-delta', callId, argumentsDelta: argumentsJson.slice(at, at + size) });
  }
  return [{ type: 'tool-call-start', callId, name }, ...deltas, { type: 'tool-call-end', callId }];
}

export interface FeedOptions {
  /** Re-cut every text part into pieces of at most this many characters (how upstreams stream). */
  chunk?: number;
  /** Aborts the feed: the next step throws the signal's reason. */
  signal?: AbortSignal;
}

/** The steps as a stream of parts, text re-cut when asked. */
export function feed(steps: readonly Step[], options: FeedOptions = {}): PartStream {
  const { chunk } = options;
  return play(chunk === undefined ? steps : steps.flatMap((step) => recut(step, chunk)), options.signal);
}

function recut(step: Step, size: number): Step[] {
  if (!('type' in step) || step.type !== 'text' || step.text.length <= size) return [step];
  const pieces: Step[] = [];
  const chars = Array.from(step.text); // never split a surrogate pair
  for (let at = 0; at < chars.length; at += size) pieces.push(text(chars.slice(at, at + size).join('')));
  return pieces;
}

/** What came out of a stage: every part, the text joined, and the error it ended with (if any). */
export interface Outcome {
  parts: StreamPart[];
  text: string;
  error: unknown;
  /** `parts` as their types, for order checks. */
  types: StreamPart['type'][];
}

export interface DrainOptions {
  /**
   * Moves virtual time until the stream ends, on its own. Leave it out to move time yourself
   * (`clock.advance`) between starting the read and awaiting it.
   */
  clock?: VirtualClock;
  /** Stop reading after this many parts (the consumer leaves early: the stream is closed). */
  take?: number;
}

/** Reads a stream to its end (or its error). */
export function drain(stream: PartStream, options: DrainOptions = {}): Promise<Outcome> {
  const reading = read(stream, options.take);
  return options.clock ? options.clock.settle(reading) : reading;
}

async function read(stream: PartStream, take: number | undefined): Promise<Outcome> {
  const parts: StreamPart[] = [];
  let error: unknown;
  try {
    for await (const part of stream) {
      parts.push(part);
      if (take !== undefined && parts.length >= take) break;
    }
  } catch (caught) {
    error = caught;
  }
  return { parts, text: joinedText(parts), error, types: parts.map((part) => part.type) };
}

/** Feeds `input` into `stage` and collects its output. */
export function runStage(stage: Stage, input: readonly Step[], options: FeedOptions & DrainOptions = {}): Promise<Outcome> {
  return drain(stage(feed(input, options)), options);
}

/** Stages run one after the other, as the turn pipeline composes them. */
export function pipeline(...stages: Stage[]): Stage {
  return (parts) => stages.reduce((stream, stage) => stage(stream), parts);
}

/** The text parts joined. */
export function joinedText(parts: readonly StreamPart[]): string {
  let out = '';
  for (const part of parts) if (part.type === 'text') out += part.text;
  return out;
}

/** A turn's cancellation as the gateway signals it: the client hanging up, or the caller speaking again. */
export function cancellation(): { signal: AbortSignal; clientLeft: () => void; callerSpokeAgain: () => void } {
  const controller = new AbortController();
  return {
    signal: controller.signal,
    clientLeft: () => controller.abort(cancelledBecause('client_closed')),
    callerSpokeAgain: () => controller.abort(cancelledBecause('superseded')),
  };
}
