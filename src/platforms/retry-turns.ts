import { cancellation, cancellationKind } from '../calls/cancellation.ts';
import type { PartStream, StreamPart } from '../core/stream-part.ts';
import type { PlatformAdapter } from './platform-adapter.ts';
import { platformRequest } from './platforms.ts';

export interface RetryTurnsOptions {
  /** Turns kept for their retries, running or finished; the oldest is forgotten first. */
  maxTurns: number;
  /** A finished turn is forgotten after this long. */
  keepMs: number;
  /** A turn whose every request has gone keeps running this long for a retry to join (the platform's own wait before retrying). */
  graceMs: number;
  /** Output kept per turn; a longer answer is not replayed (a retry then runs the turn itself). */
  maxChars: number;
}

export const DEFAULT_RETRY_OPTIONS: RetryTurnsOptions = { maxTurns: 1000, keepMs: 60_000, graceMs: 3_000, maxChars: 16_000 };

/** One request's part in a turn that retries of it share. */
export interface RetryTurn {
  /** This request joined a turn already running or finished (it is a retry). */
  readonly joined: boolean;
  /** What the model runs under: aborted once every request of the turn has gone (after the grace period when they hung up). */
  readonly signal: AbortSignal;
  /** This request's copy of the turn's output, from the start; `parts` (lazy, never pulled for a retry) is the turn's, for the first request only. */
  share(parts: PartStream): PartStream;
}

/**
 * Platforms retry a request the gateway is still answering (TRTC after its 3 s timeout, with the
 * same X-Request-Id; LiveKit up to four identical requests). A retry must not run the model
 * again: it joins the first request's turn and is sent its output from the start, live. The
 * turn keeps running while any of its requests is connected, and for `graceMs` after the last
 * one hung up (the platform's retry may be on its way); a newer turn of the call or a shutdown
 * stops it at once. The retry takes the request's place in the call (the request it retries is
 * abandoned), so barge-in still reaches the turn through it. Keyed by API key, platform and retry key; bounded in turns, time and size.
 */
export class RetryTurns {
  private readonly turns = new Map<string, SharedTurn>();
  private readonly options: RetryTurnsOptions;

  constructor(options: Partial<RetryTurnsOptions> = {}) {
    this.options = { ...DEFAULT_RETRY_OPTIONS, ...options };
  }

  /** The request's part in the turn `key` names; `requestSignal` is the request's own (its client, barge-in, shutdown). */
  open(key: string, requestSignal: AbortSignal): RetryTurn {
    this.forgetExpired();
    const known = this.turns.get(key);
    const joinable = known?.replayable === true;
    const turn = joinable ? known : new SharedTurn(this.options);
    if (!joinable) {
      this.turns.delete(key);
      this.turns.set(key, turn);
      if (this.turns.size > this.options.maxTurns) this.turns.delete(this.turns.keys().next().value!);
    }
    turn.hold(requestSignal);
    return {
      joined: joinable,
      signal: turn.signal,
      share: (parts) => {
        if (!joinable) turn.start(parts);
        return turn.follow(requestSignal);
      },
    };
  }

  /** Turns kept now (for tests and metrics). */
  get size(): number {
    return this.turns.size;
  }

  private forgetExpired(): void {
    const now = Date.now();
    // A finished turn too long to replay is of no use to a retry: its memory goes at once.
    for (const [key, turn] of this.turns)
      if (turn.expiresAt <= now || (turn.expiresAt !== Infinity && !turn.replayable)) this.turns.delete(key);
  }
}

class SharedTurn {
  private readonly parts: StreamPart[] = [];
  private readonly controller = new AbortController();
  private readonly options: RetryTurnsOptions;
  private error: { value: unknown } | undefined;
  private done = false;
  private chars = 0;
  private holders = 0;
  private stopTimer: NodeJS.Timeout | undefined;
  private waiters: Array<() => void> = [];
  /** Set when the turn ends. */
  expiresAt = Number.POSITIVE_INFINITY;

  constructor(options: RetryTurnsOptions) {
    this.options = options;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** A retry can still be given the whole answer. */
  get replayable(): boolean {
    return !this.controller.signal.aborted && this.chars <= this.options.maxChars;
  }

  hold(requestSignal: AbortSignal): void {
    this.holders++;
    clearTimeout(this.stopTimer);
    const release = () => {
      if (--this.holders > 0 || this.done) return;
      // A hang-up may be the platform's timeout before its retry; anything else stops the model now.
      if (cancellationKind(requestSignal.reason) === 'client_closed') {
        this.stopTimer = setTimeout(() => this.controller.abort(cancellation('client_closed')), this.options.graceMs);
        this.stopTimer.unref();
      } else {
        this.controller.abort(requestSignal.reason);
      }
    };
    if (requestSignal.aborted) release();
    else requestSignal.addEventListener('abort', release, { once: true });
  }

  /** Runs the turn in the background, keeping its output. */
  start(source: PartStream): void {
    void (async () => {
      try {
        for await (const part of source) {
          if (part.type === 'text') this.chars += part.text.length;
          this.parts.push(part);
          this.wake();
        }
      } catch (error) {
        this.error = { value: error };
      } finally {
        this.done = true;
        clearTimeout(this.stopTimer);
        this.expiresAt = Date.now() + this.options.keepMs;
        this.wake();
      }
    })();
  }

  /** The output from the start, then live as it comes, until the turn ends or `signal` aborts. */
  async *follow(signal: AbortSignal): PartStream {
    let next = 0;
    for (;;) {
      while (next < this.parts.length) yield this.parts[next++]!;
      if (this.done) break;
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    if (this.error) throw this.error.value;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** The request's part in a turn its platform may retry; undefined when the platform does not retry. Scoped by API key. */
export function openRetryTurn(
  turns: RetryTurns | undefined,
  platform: PlatformAdapter,
  request: Parameters<typeof platformRequest>[0],
  keyId: string,
  signal: AbortSignal,
): RetryTurn | undefined {
  const key = platform.retryKey?.(platformRequest(request));
  return key === undefined || turns === undefined ? undefined : turns.open(`${keyId}\n${platform.name}\n${key}`, signal);
}
