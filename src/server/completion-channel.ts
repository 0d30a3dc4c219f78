import type { FinishReason, TokenUsage } from '../core/stream-part.ts';
import { type ChatCompletion, CompletionBuilder } from '../protocol/completion-builder.ts';
import type { TurnEnding } from '../telemetry/turn-outcome.ts';
import type { AnswerChannel } from './write-answer.ts';

export interface CompletionTarget {
  id: string;
  created: number;
  model: string;
  /** Sends the completion (the route's reply). */
  send(completion: ChatCompletion): unknown;
}

/**
 * An answer as one `chat.completion` (`stream: false`), sent once every part is in. Nothing is
 * committed before that, so any failure or cancellation is the route's error response instead.
 */
export class CompletionChannel implements AnswerChannel {
  readonly committed = false;
  readonly gone = false;
  readonly #target: CompletionTarget;
  readonly #builder = new CompletionBuilder();

  constructor(target: CompletionTarget) {
    this.#target = target;
  }

  open(): void {}

  text(text: string): undefined {
    this.#builder.add({ type: 'text', text });
    return undefined;
  }

  toolCallStart(callId: string, name: string): void {
    this.#builder.add({ type: 'tool-call-start', callId, name });
  }

  toolCallDelta(callId: string, argumentsDelta: string): void {
    this.#builder.add({ type: 'tool-call-delta', callId, argumentsDelta });
  }

  async finish(reason: FinishReason, usage: TokenUsage | undefined): Promise<void> {
    if (usage) this.#builder.add({ type: 'usage', usage });
    this.#builder.add({ type: 'finish', reason });
    const { send, id, created, model } = this.#target;
    await send(this.#builder.build(id, created, model));
  }

  /** The route sends the error through the reply (its error handler). */
  fail(): void {}

  cut(reason: unknown): TurnEnding {
    return { how: 'cancelled', reason };
  }
}
