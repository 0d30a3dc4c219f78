import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import { cancellationKind } from '../calls/cancellation.ts';
import type { GatewayError } from '../core/gateway-error.ts';
import type { FinishReason, TokenUsage } from '../core/stream-part.ts';
import { ChunkEncoder } from '../protocol/chunk-encoder.ts';
import type { TurnEnding } from '../telemetry/turn-outcome.ts';
import type { TurnReport } from '../telemetry/turn-report.ts';
import { writeError } from './error-response.ts';
import { SSE_HEADERS } from './sse-headers.ts';
import { SseWriter } from './sse-writer.ts';
import type { AnswerChannel } from './write-answer.ts';

export interface SseAnswerTarget {
  res: ServerResponse;
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
  signal: AbortSignal;
  report: TurnReport;
}

const NO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

/**
 * An answer as `chat.completion.chunk` server-sent events. Headers are committed with the first
 * part, so a provider that fails before producing anything still gets a proper HTTP error status;
 * after that the stream always ends well-formed: finish chunk, optional usage, `[DONE]`.
 */
export class SseChannel implements AnswerChannel {
  readonly #target: SseAnswerTarget;
  #encoder: ChunkEncoder | undefined;
  #out: SseWriter | undefined;

  constructor(target: SseAnswerTarget) {
    this.#target = target;
  }

  get committed(): boolean {
    return this.#encoder !== undefined;
  }

  get gone(): boolean {
    return this.#target.res.destroyed;
  }

  open(): void {
    const { res, report, id, created, model } = this.#target;
    this.#encoder = new ChunkEncoder(id, created, model);
    res.writeHead(200, SSE_HEADERS);
    res.write(this.#encoder.role());
    report.firstByteAt = performance.now();
    this.#out = new SseWriter(res);
  }

  text(text: string, first: boolean): Promise<void> | undefined {
    const out = this.#out!;
    out.write(this.#encoder!.text(text));
    // Let the first words leave the socket now (Node flushes a response's first writes on the next
    // tick), before the rest of the upstream's chunk is processed.
    if (first) return yieldToEventLoop();
    return out.congested ? drained(this.#target.res, this.#target.signal) : undefined;
  }

  toolCallStart(callId: string, name: string): void {
    this.#out!.write(this.#encoder!.toolCallStart(callId, name));
  }

  toolCallDelta(callId: string, argumentsDelta: string): void {
    this.#out!.write(this.#encoder!.toolCallDelta(callId, argumentsDelta));
  }

  finish(reason: FinishReason, usage: TokenUsage | undefined): undefined {
    this.#out!.end(this.#tail(reason, usage));
    this.#target.report.lastByteAt = performance.now();
    return undefined;
  }

  fail(error: GatewayError): void {
    writeError(this.#target.res, error);
  }

  /**
   * A turn superseded by the caller's next words (barge-in) or cut by shutdown still ends
   * well-formed if its client is listening; one whose client left has nobody to write to.
   */
  cut(reason: unknown, usage: TokenUsage | undefined): TurnEnding {
    const { res, report } = this.#target;
    const ending: TurnEnding = { how: 'stream_cut', reason };
    const kind = cancellationKind(reason);
    if (kind === undefined || kind === 'client_closed' || res.destroyed || res.writableEnded) return ending;
    if (!this.committed) this.open();
    report.finishReason = 'stop';
    this.#out!.end(this.#tail('stop', usage));
    return ending;
  }

  #tail(reason: FinishReason, usage: TokenUsage | undefined): string {
    const encoder = this.#encoder!;
    let tail = encoder.finish(reason);
    if (this.#target.includeUsage) tail += encoder.usage(usage ?? NO_USAGE);
    return tail + encoder.done();
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  await once(res, 'drain', { signal });
}
