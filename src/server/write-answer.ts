import type { GatewayError } from '../core/gateway-error.ts';
import type { FinishReason, PartStream, TokenUsage } from '../core/stream-part.ts';
import { CLIENT_GONE, FINISHED, type TurnEnding } from '../telemetry/turn-outcome.ts';
import type { TurnReport } from '../telemetry/turn-report.ts';

/**
 * Where a turn's answer goes: server-sent events (`sse-channel.ts`), one `chat.completion`
 * (`completion-channel.ts`) or a platform's socket (`sockets/socket/socket-channel.ts`). A method
 * returns a promise only when the writer must wait (a flush, a slow client); otherwise nothing, so
 * the hot path awaits nothing it does not need.
 */
export interface AnswerChannel {
  /** Whether the client has been sent anything: a failure after this breaks the answer instead of replacing it. */
  readonly committed: boolean;
  /** The client is gone: nothing more can reach it. */
  readonly gone: boolean;
  /** The first part is in: send what must precede the answer (the SSE headers). */
  open(): void;
  /** Speakable text; `first` for the answer's first words. */
  text(text: string, first: boolean): Promise<void> | undefined;
  toolCallStart(callId: string, name: string): void;
  toolCallDelta(callId: string, argumentsDelta: string): void;
  /** The answer is whole. */
  finish(reason: FinishReason, usage: TokenUsage | undefined): Promise<void> | undefined;
  /** The turn failed with nothing committed: the error instead of an answer (or left to the caller to send). */
  fail(error: GatewayError): void;
  /** The turn's signal aborted: ends what was begun as the cancellation allows, and says how the turn ended. */
  cut(reason: unknown, usage: TokenUsage | undefined): TurnEnding;
}

/** The turn an answer belongs to. */
export interface AnswerTurn {
  report: TurnReport;
  signal: AbortSignal;
  /** A failure as the client sees it: the error it gets instead of an answer, or what broke the answer. */
  toError(error: unknown): GatewayError;
}

/**
 * The one writer of a turn's answer, whatever carries it: pulls the parts, tells the report what
 * was said, hands each part to the channel, and resolves to what ended the turn (for
 * `classifyTurn`). Never throws: a failure before anything was committed is the client's error
 * response, after it the answer ends there; a cancelled turn ends as its channel allows.
 */
export async function writeAnswer(parts: PartStream, channel: AnswerChannel, turn: AnswerTurn): Promise<TurnEnding> {
  const { report, signal } = turn;
  let finishReason: FinishReason = 'stop';
  let usage: TokenUsage | undefined;
  let broken: TurnEnding | undefined;
  let opened = false;
  try {
    for await (const part of parts) {
      if (!opened) {
        opened = true;
        channel.open();
      }
      switch (part.type) {
        case 'text': {
          const first = report.firstTextAt === undefined;
          report.text(part.text);
          const wait = channel.text(part.text, first);
          if (wait) await wait;
          break;
        }
        case 'tool-call-start':
          channel.toolCallStart(part.callId, part.name);
          break;
        case 'tool-call-delta':
          channel.toolCallDelta(part.callId, part.argumentsDelta);
          break;
        case 'usage':
          usage = part.usage;
          report.usage = part.usage;
          break;
        case 'finish':
          finishReason = part.reason;
          break;
        // The signal stage has turned signals into the platform's text or tool calls; reasoning is never sent.
        case 'reasoning':
        case 'tool-call-end':
        case 'end-call':
        case 'transfer':
        case 'digits':
          break;
      }
    }
  } catch (error) {
    if (signal.aborted) return channel.cut(signal.reason, usage);
    const clientError = turn.toError(error);
    if (!channel.committed) {
      channel.fail(clientError);
      return { how: 'failed', error: clientError };
    }
    broken = { how: 'broken', error: clientError };
  }
  if (channel.gone) return broken ?? CLIENT_GONE;
  report.finishReason = finishReason;
  const wait = channel.finish(finishReason, usage);
  if (wait) await wait;
  return broken ?? FINISHED;
}
