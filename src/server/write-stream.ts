import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import { cancellationKind } from '../calls/cancellation.ts';
import { ChunkEncoder } from '../protocol/chunk-encoder.ts';
import type { GatewayError } from '../core/gateway-error.ts';
import type { FinishReason, PartStream, StreamPart, TokenUsage } from '../core/stream-part.ts';
import { CLIENT_GONE, FINISHED, type TurnEnding } from '../telemetry/turn-outcome.ts';
import type { TurnReport } from '../telemetry/turn-report.ts';
import { writeError } from './error-response.ts';
import { SSE_HEADERS } from './sse-headers.ts';
import { SseWriter } from './sse-writer.ts';

export interface StreamTarget {
  res: ServerResponse;
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
  signal: AbortSignal;
  report: TurnReport;
  /** A failure as the client sees it: the error it gets before the first part, or what broke the answer after. */
  toError(error: unknown): GatewayError;
}

/**
 * Streams a turn as `chat.completion.chunk` events. Headers are committed with the first part, so
 * a provider that fails before producing anything still gets a proper HTTP error status. After
 * that, whatever happens, the stream ends well-formed: finish chunk, optional usage, [DONE].
 * Never throws: resolves to what ended the turn, for `classifyTurn`.
 */
export async function writeStream(parts: PartStream, target: StreamTarget): Promise<TurnEnding> {
  const { res, report, signal } = target;
  const iterator = parts[Symbol.asyncIterator]();
  let next: IteratorResult<StreamPart>;
  try {
    next = await iterator.next();
  } catch (error) {
    if (signal.aborted) return endAborted(target);
    const clientError = target.toError(error);
    writeError(res, clientError);
    return { how: 'failed', error: clientError };
  }

  const encoder = openStream(target);
  const out = new SseWriter(res);
  let finishReason: FinishReason = 'stop';
  let usage: TokenUsage | undefined;
  let broken: TurnEnding | undefined;
  try {
    while (!next.done) {
      const part = next.value;
      switch (part.type) {
        case 'text':
          if (report.firstTextAt === undefined) {
            report.text(part.text);
            out.write(encoder.text(part.text));
            // Let the first words leave the socket now (Node flushes a response's first writes on the
            // next tick), before the rest of the upstream's chunk is processed.
            await yieldToEventLoop();
            break;
          }
          report.text(part.text);
          out.write(encoder.text(part.text));
          if (out.congested) await drained(res, signal);
          break;
        case 'tool-call-start':
          out.write(encoder.toolCallStart(part.callId, part.name));
          break;
        case 'tool-call-delta':
          out.write(encoder.toolCallDelta(part.callId, part.argumentsDelta));
          break;
        case 'usage':
          usage = part.usage;
          report.usage = part.usage;
          break;
        case 'finish':
          finishReason = part.reason;
          break;
        case 'reasoning':
        case 'tool-call-end':
          break;
      }
      next = await iterator.next();
    }
  } catch (error) {
    if (signal.aborted) return endAborted(target, encoder, out, usage);
    broken = { how: 'broken', error: target.toError(error) };
  }
  if (res.destroyed) return broken ?? CLIENT_GONE;
  report.finishReason = finishReason;
  let tail = encoder.finish(finishReason);
  if (target.includeUsage) tail += encoder.usage(usage ?? NO_USAGE);
  out.end(tail + encoder.done());
  report.lastByteAt = performance.now();
  return broken ?? FINISHED;
}

const NO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

function openStream(target: StreamTarget): ChunkEncoder {
  const encoder = new ChunkEncoder(target.id, target.created, target.model);
  target.res.writeHead(200, SSE_HEADERS);
  target.res.write(encoder.role());
  target.report.firstByteAt = performance.now();
  return encoder;
}

/**
 * The turn was cancelled. A turn superseded by the caller's next words (barge-in) or cut by
 * shutdown still ends well-formed if its client is listening; one whose client left has nobody
 * to write to.
 */
function endAborted(target: StreamTarget, encoder?: ChunkEncoder, out?: SseWriter, usage?: TokenUsage): TurnEnding {
  const { res, report, signal } = target;
  const ending: TurnEnding = { how: 'stream_cut', reason: signal.reason };
  const kind = cancellationKind(signal.reason);
  if (kind === undefined || kind === 'client_closed' || res.destroyed || res.writableEnded) return ending;
  const open = encoder ?? openStream(target);
  report.finishReason = 'stop';
  let tail = open.finish('stop');
  if (target.includeUsage) tail += open.usage(usage ?? NO_USAGE);
  tail += open.done();
  if (out) out.end(tail);
  else res.end(tail);
  return ending;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  await once(res, 'drain', { signal });
}
