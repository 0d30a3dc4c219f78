import { callsSchema, type CallsConfig } from '../config/schema.ts';
import type { ChatMessage } from '../core/chat-types.ts';
import { EMPTY_MEMORY, rememberNewest, type CallMemory } from './call-memory.ts';
import { cancellation } from './cancellation.ts';
import type { ConversationOpening } from './conversation-opening.ts';
import { placeTurn } from './new-call-rule.ts';

/** One live call (an IMS agent instance of one API key), as a turn sees it. */
export interface LiveCall {
  readonly id: string;
  /** memory.mode full: the newest messages of the call, oldest first, text only; else empty. */
  readonly transcript: readonly ChatMessage[];
  /** Turns in a row that ended in an apology (every provider failed). */
  failedTurns: number;
}

export interface CallTurn {
  readonly call: LiveCall;
  /** Stores the conversation after this turn (memory.mode full only): what came before, then the answer actually sent. */
  remember(conversation: ChatMessage[], answer: string): void;
  /** The turn is over: the call no longer has a live turn (unless a newer one took over). */
  end(): void;
}

export interface TurnStart {
  /** The call's identity (see callIdentity); undefined for a request that names no call. */
  id: string | undefined;
  controller: AbortController;
  /** The call is forgotten after this long without a turn (the agent's memory.idleMinutes). */
  idleMs: number;
  sentenceId?: number | undefined;
  /** How the turn's conversation begins (see placeTurn). */
  opening: ConversationOpening;
  /** The agent's memory.mode is full: keep the conversation. Otherwise nothing of it is kept. */
  keepTranscript: boolean;
}

/** Why a call was forgotten (or, for memory_limit, lost its memory). */
export type CallEvictionReason = 'idle' | 'memory_limit' | 'call_limit' | 'new_call' | 'ended';

interface CallState extends LiveCall {
  transcript: readonly ChatMessage[];
  memoryBytes: number;
  /** What the entry costs besides its memory: the entry itself, its id, its opening. */
  fixedBytes: number;
  opening: ConversationOpening;
  /** When a turn last began or ended (a turn dropped as late does not count). */
  lastSeenAt: number;
  idleMs: number;
  liveTurn: AbortController | undefined;
  /** The newest sentenceId accepted: a late request for an older question never cancels a newer one. */
  latestSentenceId: number | undefined;
}

/** Approximate heap bytes of a call entry without its id, opening and memory. */
const CALL_OVERHEAD_BYTES = 512;
/** One hash of the opening: a 16-character string and its slot. */
const OPENING_HASH_BYTES = 64;
const SWEEP_INTERVAL_MS = 60_000;

const DEFAULT_LIMITS: CallsConfig = callsSchema.parse(undefined);

/**
 * The live calls, keyed by API key and instanceId (or channelId). A new turn of a call whose
 * previous turn is still streaming cancels that turn: the caller has spoken over it, nobody will
 * hear the rest. In memory, per process, bounded in count and in bytes:
 * - the Map is kept in order of last activity (a turn beginning or ending moves its call to the
 *   end), so the idlest call is always the first: eviction is O(1) a call;
 * - a call keeps its conversation only when its agent's memory.mode is full, at most
 *   `maxMemoryBytesPerCall` of it (the newest messages); all calls together stay within
 *   `maxMemoryBytes`, the idlest forgotten first;
 * - calls idle for their agent's `memory.idleMinutes` are forgotten (checked every minute).
 * A call with a turn in progress is never forgotten (its turn must stay cancellable); over the
 * byte budget it loses its memory only.
 */
export class CallRegistry {
  /** Idlest first. */
  private readonly calls = new Map<string, CallState>();
  private readonly limits: CallsConfig;
  private bytes = 0;
  private readonly sweeper: NodeJS.Timeout;
  private readonly evicted: Record<CallEvictionReason, number> = { idle: 0, memory_limit: 0, call_limit: 0, new_call: 0, ended: 0 };

  constructor(limits: CallsConfig = DEFAULT_LIMITS) {
    this.limits = limits;
    this.sweeper = setInterval(() => this.sweep(Date.now()), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /**
   * Starts a turn. Undefined when the request names no call, or when it is a late request for an
   * older question of a live call: its controller is then already aborted (superseded).
   */
  beginTurn(start: TurnStart): CallTurn | undefined {
    const { id, controller } = start;
    if (id === undefined) return undefined;
    const now = Date.now();
    let call = this.calls.get(id);
    if (call) {
      const progress = { ...call, turnInProgress: call.liveTurn !== undefined };
      const place = placeTurn(progress, start, now, this.limits.newCallAfterIdleSeconds * 1000);
      if (place === 'late') {
        controller.abort(cancellation('superseded'));
        return undefined;
      }
      call.liveTurn?.abort(cancellation('superseded'));
      if (place === 'new_call') {
        this.forget(call, 'new_call');
        call = undefined;
      }
    }
    call ??= this.admit(id);
    call.liveTurn = controller;
    if (start.sentenceId !== undefined) call.latestSentenceId = start.sentenceId;
    call.idleMs = start.idleMs;
    this.setOpening(call, start.opening);
    // The call may have moved to an agent that does not use memory: keep nothing it will not read.
    if (!start.keepTranscript) this.setMemory(call, EMPTY_MEMORY);
    this.touch(call, now);
    this.shrink(call);
    return this.turnOf(call, start);
  }

  get(id: string): LiveCall | undefined {
    return this.calls.get(id);
  }

  get size(): number {
    return this.calls.size;
  }

  /** Calls forgotten (or, for memory_limit, emptied) since start, by reason. */
  get evictions(): Readonly<Record<CallEvictionReason, number>> {
    return this.evicted;
  }

  /** Approximate heap bytes held by all calls (entries and memory). */
  get memoryBytes(): number {
    return this.bytes;
  }

  /** Cancels the call's turn in progress, if any (a newer turn of the call began elsewhere). */
  supersede(id: string): void {
    this.calls.get(id)?.liveTurn?.abort(cancellation('superseded'));
  }

  /** The call ended (the platform said so): a later call under its id starts fresh. */
  endCall(id: string): void {
    const call = this.calls.get(id);
    if (call) this.forget(call, 'ended');
  }

  /** Forgets calls idle past their limit (never one with a turn in progress). */
  sweep(now: number): void {
    for (const call of this.calls.values()) {
      if (call.liveTurn === undefined && now - call.lastSeenAt > call.idleMs) this.forget(call, 'idle');
    }
  }

  /** Cancels every live turn (shutdown) and stops the sweeper. */
  close(reason: unknown): void {
    clearInterval(this.sweeper);
    for (const call of this.calls.values()) call.liveTurn?.abort(reason);
  }

  private turnOf(call: CallState, start: TurnStart): CallTurn {
    const { controller, sentenceId } = start;
    return {
      call,
      remember: (conversation, answer) => {
        // Not a call that was since forgotten or replaced by a new call under the same id.
        if (!start.keepTranscript || this.calls.get(call.id) !== call) return;
        // A late answer to an older question must not roll the memory back.
        if (sentenceId !== undefined && call.latestSentenceId !== undefined && sentenceId < call.latestSentenceId) return;
        const said: ChatMessage[] = answer === '' ? conversation : [...conversation, { role: 'assistant', content: answer }];
        this.setMemory(call, rememberNewest(said, this.limits.maxMemoryBytesPerCall));
        this.shrink(call);
      },
      end: () => {
        if (call.liveTurn === controller) call.liveTurn = undefined;
        if (this.calls.get(call.id) === call) this.touch(call, Date.now());
      },
    };
  }

  private admit(id: string): CallState {
    if (this.calls.size >= this.limits.maxCalls) this.evictIdlest();
    const call: CallState = {
      id,
      transcript: [],
      memoryBytes: 0,
      fixedBytes: CALL_OVERHEAD_BYTES + 2 * id.length,
      opening: [],
      lastSeenAt: 0,
      idleMs: 0,
      liveTurn: undefined,
      failedTurns: 0,
      latestSentenceId: undefined,
    };
    this.calls.set(id, call);
    this.bytes += call.fixedBytes;
    return call;
  }

  /** Moves the call to the end of the order: it is now the least idle. */
  private touch(call: CallState, now: number): void {
    call.lastSeenAt = now;
    this.calls.delete(call.id);
    this.calls.set(call.id, call);
  }

  private setOpening(call: CallState, opening: ConversationOpening): void {
    const fixed = CALL_OVERHEAD_BYTES + 2 * call.id.length + OPENING_HASH_BYTES * opening.length;
    this.bytes += fixed - call.fixedBytes;
    call.fixedBytes = fixed;
    call.opening = opening;
  }

  private setMemory(call: CallState, memory: CallMemory): void {
    this.bytes += memory.bytes - call.memoryBytes;
    call.memoryBytes = memory.bytes;
    call.transcript = memory.messages;
  }

  /**
   * Idlest first, until all calls fit in maxMemoryBytes: a call without a turn in progress is
   * forgotten, one with a turn loses its memory. `keep` (the call being served) is left alone;
   * it fits on its own (maxMemoryBytesPerCall <= maxMemoryBytes). Calls with a turn in progress
   * are passed over each time, and there are at most as many as streams admitted.
   */
  private shrink(keep: CallState): void {
    for (const call of this.calls.values()) {
      if (this.bytes <= this.limits.maxMemoryBytes) return;
      if (call === keep) continue;
      if (call.liveTurn === undefined) {
        this.forget(call, 'memory_limit');
      } else if (call.memoryBytes > 0) {
        this.setMemory(call, EMPTY_MEMORY);
        this.evicted.memory_limit++;
      }
    }
  }

  /** Makes room for one more call: the idlest without a turn in progress is forgotten. */
  private evictIdlest(): void {
    for (const call of this.calls.values()) {
      if (call.liveTurn === undefined) {
        this.forget(call, 'call_limit');
        return;
      }
    }
  }

  private forget(call: CallState, reason: CallEvictionReason): void {
    this.calls.delete(call.id);
    this.bytes -= call.fixedBytes + call.memoryBytes;
    this.evicted[reason]++;
  }
}
