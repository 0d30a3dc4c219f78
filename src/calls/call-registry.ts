import type { ChatMessage } from '../protocol/chat-types.ts';
import { supersededError } from './cancellation.ts';

/** One live call (an IMS agent instance): its turn in progress and what was said so far. */
export interface LiveCall {
  readonly key: string;
  /** The conversation as the gateway last knew it, oldest first (bounded). */
  transcript: ChatMessage[];
  lastSeenAt: number;
  /** Forgotten after this long without a turn. */
  idleMs: number;
  liveTurn: AbortController | undefined;
  /** Turns in a row that ended in an apology (every provider failed). */
  failedTurns: number;
  /** The newest sentenceId seen: a late request for an older question never cancels a newer one. */
  latestSentenceId: number | undefined;
}

export interface CallTurn {
  readonly call: LiveCall;
  /** Stores the conversation after this turn: what came before, then the answer actually sent. */
  remember(conversation: ChatMessage[], answer: string): void;
  /** The turn is over: the call no longer has a live turn (unless a newer one took over). */
  end(): void;
}

const MAX_TRANSCRIPT_MESSAGES = 400;
/** Calls remembered at most; past it the least recently started idle calls are forgotten first. */
const MAX_CALLS = 50_000;
const SWEEP_INTERVAL_MS = 60_000;

/**
 * The live calls, keyed by instanceId (or channelId). A new turn of a call whose previous turn is
 * still streaming cancels that turn: the caller has spoken over it, nobody will hear the rest.
 * In memory, per process; calls idle for their agent's `memory.idleMinutes` are forgotten.
 */
export class CallRegistry {
  private readonly calls = new Map<string, LiveCall>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(Date.now()), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** Starts a turn; returns undefined for a request that names no call (a plain OpenAI client). */
  beginTurn(
    key: string | undefined,
    controller: AbortController,
    idleMs: number,
    sentenceId?: number,
  ): CallTurn | undefined {
    if (key === undefined || key === '') return undefined;
    let call = this.calls.get(key);
    if (!call) {
      if (this.calls.size >= MAX_CALLS) this.evictOldestIdle();
      call = { key, transcript: [], lastSeenAt: 0, idleMs, liveTurn: undefined, failedTurns: 0, latestSentenceId: undefined };
      this.calls.set(key, call);
    }
    if (sentenceId !== undefined && call.latestSentenceId !== undefined && sentenceId < call.latestSentenceId) {
      // A request for an earlier question that arrived late: the caller has moved on.
      controller.abort(supersededError());
    } else {
      if (sentenceId !== undefined) call.latestSentenceId = sentenceId;
      call.liveTurn?.abort(supersededError());
      call.liveTurn = controller;
    }
    call.lastSeenAt = Date.now();
    call.idleMs = idleMs;
    const live = call;
    return {
      call: live,
      remember(before, answer) {
        // A late answer to an older question must not roll the memory back.
        if (sentenceId !== undefined && live.latestSentenceId !== undefined && sentenceId < live.latestSentenceId) return;
        const conversation: ChatMessage[] = answer === '' ? before : [...before, { role: 'assistant', content: answer }];
        live.transcript =
          conversation.length > MAX_TRANSCRIPT_MESSAGES ? conversation.slice(-MAX_TRANSCRIPT_MESSAGES) : conversation;
      },
      end() {
        if (live.liveTurn === controller) live.liveTurn = undefined;
        live.lastSeenAt = Date.now();
      },
    };
  }

  get(key: string): LiveCall | undefined {
    return this.calls.get(key);
  }

  get size(): number {
    return this.calls.size;
  }

  private evictOldestIdle(): void {
    for (const [key, call] of this.calls) {
      if (call.liveTurn === undefined) {
        this.calls.delete(key);
        return;
      }
    }
  }

  /** Forgets calls idle past their limit (never one with a turn in progress). */
  sweep(now: number): void {
    for (const [key, call] of this.calls) {
      if (call.liveTurn === undefined && now - call.lastSeenAt > call.idleMs) this.calls.delete(key);
    }
  }

  /** Cancels every live turn (shutdown) and stops the sweeper. */
  close(reason: unknown): void {
    clearInterval(this.sweeper);
    for (const call of this.calls.values()) call.liveTurn?.abort(reason);
  }
}
