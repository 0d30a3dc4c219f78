import type { TurnEnding } from '../../../telemetry/turn-outcome.ts';
import type { TurnReport } from '../../../telemetry/turn-report.ts';
import type { AnswerChannel } from '../../write-answer.ts';

/**
 * An answer spoken over a platform's socket: each piece of text handed on as it comes (the
 * session wraps it in the platform's message). Words said are committed; a turn that said nothing
 * and failed is the session's to apologise for (`runSocketTurn` throws its error).
 */
export class SocketChannel implements AnswerChannel {
  readonly gone = false;
  readonly #report: TurnReport;
  readonly #signal: AbortSignal;
  readonly #onText: (text: string) => void;

  constructor(report: TurnReport, signal: AbortSignal, onText: (text: string) => void) {
    this.#report = report;
    this.#signal = signal;
    this.#onText = onText;
  }

  get committed(): boolean {
    return this.#report.answer !== '';
  }

  open(): void {}

  text(text: string): undefined {
    // A newer turn owns the socket now: not a word more from this one.
    this.#signal.throwIfAborted();
    this.#onText(text);
    return undefined;
  }

  toolCallStart(): void {}

  toolCallDelta(): void {}

  finish(): undefined {
    return undefined;
  }

  fail(): void {}

  cut(reason: unknown): TurnEnding {
    return { how: 'cancelled', reason };
  }
}
