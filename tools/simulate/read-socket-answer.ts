import type { JsonSocket } from '../client/json-socket-client.ts';
import type { StreamViolation } from '../check/stream-rules.ts';
import { newTurnResult, type TurnResult } from './simulate-turn.ts';

type Event = Record<string, unknown>;

/** How one answer is read off a platform's socket. */
export interface AnswerReading {
  socket: JsonSocket;
  /** Index in `socket.received` where the answer's events begin (the request was sent just before). */
  from: number;
  /** When the request was sent (performance clock). */
  sentAt: number;
  timeoutMs: number;
  /** The words an event adds to this answer; undefined for an event of another answer or kind. */
  piece(event: Event): string | undefined;
  /** Whether this event ends the answer. */
  ends(event: Event): boolean;
  /** Cut the answer this long after its first words, like a caller speaking over it. */
  bargeInMs?: number | undefined;
  /** Aborting it cuts the answer now (the interactive /interrupt). */
  signal?: AbortSignal | undefined;
  onText?: ((text: string) => void) | undefined;
  /** The caller cut in: tell the platform's side (Retell update_only, Twilio interrupt) what was heard. */
  cut(heard: string, afterMs: number): void;
}

export interface AnswerRead {
  text: string;
  /** ms from the request to the first words; null when none came. */
  ttftMs: number | null;
  totalMs: number;
  /** The answer's events, from `from` to its end (or the cut). */
  events: Event[];
  /** The event that ended it, when one did. */
  last: Event | undefined;
  cutBy?: 'barge-in' | 'caller';
  timedOut: boolean;
  /** The socket closed before the answer ended. */
  closed: boolean;
}

/**
 * Reads one answer as it streams: its words (printed as they come), until the event that ends it,
 * a cut (barge-in or the caller), the timeout, or the socket closing.
 */
export function readAnswer(reading: AnswerReading): Promise<AnswerRead> {
  const { socket, from, sentAt } = reading;
  return new Promise((resolve) => {
    let text = '';
    let firstAt: number | undefined;
    let bargeTimer: NodeJS.Timeout | undefined;
    let next = from;
    let settled = false;
    const finish = (result: Omit<AnswerRead, 'text' | 'ttftMs' | 'totalMs' | 'events'>, end = socket.received.length) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      clearTimeout(bargeTimer);
      stop();
      stopClose();
      reading.signal?.removeEventListener('abort', onAbort);
      resolve({
        text,
        ttftMs: firstAt === undefined ? null : Math.round(firstAt - sentAt),
        totalMs: Math.round(performance.now() - sentAt),
        events: socket.received.slice(from, end).map((r) => r.event),
        ...result,
      });
    };
    const cut = (by: 'barge-in' | 'caller') => {
      reading.cut(text, firstAt === undefined ? 0 : performance.now() - firstAt);
      finish({ last: undefined, cutBy: by, timedOut: false, closed: false });
    };
    const take = () => {
      for (; next < socket.received.length && !settled; next++) {
        const { event, at } = socket.received[next]!;
        const piece = reading.piece(event);
        if (piece !== undefined && piece !== '') {
          if (firstAt === undefined) {
            firstAt = at;
            if (reading.bargeInMs !== undefined) bargeTimer = setTimeout(() => cut('barge-in'), reading.bargeInMs);
          }
          text += piece;
          reading.onText?.(piece);
        }
        if (reading.ends(event)) finish({ last: event, timedOut: false, closed: false }, next + 1);
      }
    };
    const stop = socket.onEvent(() => take());
    const onAbort = () => cut('caller');
    reading.signal?.addEventListener('abort', onAbort, { once: true });
    const timeout = setTimeout(() => finish({ last: undefined, timedOut: true, closed: false }), reading.timeoutMs);
    const closed = () => finish({ last: undefined, timedOut: false, closed: true });
    const stopClose = socket.onClose(closed);
    take();
    if (socket.closed !== undefined) closed();
    if (reading.signal?.aborted) onAbort();
  });
}

/** A socket turn's result, before its signals and rules are added: status 101 (a socket, not an HTTP answer). */
export function socketTurnResult(turn: number, said: string, read: AnswerRead, timeoutMs: number, messagesSent: number): TurnResult {
  const result: TurnResult = {
    ...newTurnResult(turn, said, messagesSent),
    status: 101,
    answer: read.text,
    spoken: read.text,
    ttftMs: read.ttftMs,
    totalMs: read.totalMs,
    sawDone: read.last !== undefined,
    interrupted: read.cutBy !== undefined,
  };
  if (read.cutBy !== undefined) result.interruptedBy = read.cutBy;
  if (read.timedOut) {
    result.problems.push(`socket rule "socket-timeout": the answer did not end within ${timeoutMs} ms`);
    result.fatal = true;
  }
  return result;
}

/** Adds the rules an answer broke to its problems (a cut answer is not blamed for its missing end). */
export function addViolations(result: TurnResult, violations: readonly StreamViolation[]): void {
  result.violations = [...violations];
  for (const v of violations) {
    result.problems.push(`socket rule "${v.rule}": ${v.message}${v.quote === undefined ? '' : `: ${v.quote}`}`);
  }
}

/** What the socket's close means to the call, as a problem. */
export function closedProblem(socket: JsonSocket, platform: string): string {
  const code = socket.closed?.code;
  const meaning = code === 1000 && platform === 'retell' ? ' (Retell takes a close with 1000 as a hang-up)' : '';
  return `socket rule "socket-closed": the server closed the socket${code === undefined ? '' : ` with ${code}`}${meaning} before the answer ended`;
}
