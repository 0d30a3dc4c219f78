/**
 * The console's live view: turns as they happen (start, each piece of text sent to the platform,
 * end), fanned out to the browsers watching over SSE. It keeps the calls seen recently so a new
 * watcher starts with what is in progress. Nothing here runs unless a turn starts; with nobody
 * watching, a text piece costs one string append.
 */

import type { TurnReport } from '../../telemetry/turn-report.ts';
import type { TurnRecord } from '../../store/turn-record.ts';

export interface LiveTurn {
  id: string;
  agent: string;
  startedAt: string;
  callerText: string;
  /** What has been sent to the platform so far. */
  text: string;
  synthetic: string | null;
}

export interface LiveCall {
  /** The call's instance id (or channel id); turns of plain clients are grouped under "-". */
  instanceId: string;
  agent: string;
  callerNumber: string | null;
  calleeNumber: string | null;
  firstSeenAt: string;
  lastTurnAt: string;
  turns: number;
  /** The turn streaming now, if any. */
  current: LiveTurn | null;
  /** How the last turn ended: its outcome, signal (hangup, transfer:…) and time to first text. */
  last: { id: string; outcome: string; signal: string | null; ttftMs: number | null; answerText: string } | null;
}

export type LiveEvent =
  | { type: 'turn'; instanceId: string; call: LiveCall }
  | { type: 'text'; instanceId: string; turnId: string; text: string }
  | { type: 'ended'; instanceId: string; call: LiveCall }
  | { type: 'gone'; instanceId: string };

export type LiveListener = (event: LiveEvent) => void;

/** A call leaves the live view this long after its last turn (or at once after a hangup or transfer, plus a moment). */
const IDLE_MS = 120_000;
const AFTER_END_MS = 15_000;
const MAX_CALLS = 1000;
const SWEEP_MS = 5000;

export class LiveFeed {
  readonly #calls = new Map<string, LiveCall & { endedAt?: number; seenAt: number }>();
  readonly #listeners = new Set<LiveListener>();
  readonly #mask: (value: string | undefined) => string | null;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: { mask: (value: string | undefined) => string | null }) {
    this.#mask = options.mask;
  }

  /** Calls in progress now, newest first. */
  snapshot(now = Date.now()): LiveCall[] {
    this.#expire(now);
    return [...this.#calls.values()].map(publicCall).reverse();
  }

  subscribe(listener: LiveListener): () => void {
    this.#listeners.add(listener);
    // While someone watches, calls that went quiet leave the view on time, not at the next turn.
    this.#sweeper ??= setInterval(() => this.#expire(Date.now()), SWEEP_MS).unref();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    };
  }

  get watchers(): number {
    return this.#listeners.size;
  }

  started(report: TurnReport): void {
    const now = Date.now();
    this.#expire(now);
    const instanceId = report.call.instanceId ?? report.call.channelId ?? '-';
    let call = this.#calls.get(instanceId);
    if (!call) {
      call = {
        instanceId,
        agent: report.agent,
        callerNumber: this.#mask(report.call.callerNumber),
        calleeNumber: this.#mask(report.call.calleeNumber),
        firstSeenAt: new Date(now).toISOString(),
        lastTurnAt: '',
        turns: 0,
        current: null,
        last: null,
        seenAt: now,
      };
    }
    // Most recent last (Map order), so the snapshot is newest first.
    this.#calls.delete(instanceId);
    this.#calls.set(instanceId, call);
    delete call.endedAt;
    call.seenAt = now;
    call.lastTurnAt = new Date(report.startedAtWall).toISOString();
    call.turns += 1;
    call.agent = report.agent;
    const turn: LiveTurn = {
      id: report.id,
      agent: report.agent,
      startedAt: call.lastTurnAt,
      callerText: report.callerText,
      text: '',
      synthetic: report.synthetic ?? null,
    };
    call.current = turn;
    report.onText = (chunk) => {
      turn.text += chunk;
      if (this.#listeners.size > 0) this.#emit({ type: 'text', instanceId, turnId: turn.id, text: chunk });
    };
    this.#emit({ type: 'turn', instanceId, call: publicCall(call) });
  }

  ended(record: TurnRecord): void {
    const instanceId = record.instanceId ?? record.channelId ?? '-';
    const call = this.#calls.get(instanceId);
    if (!call) return;
    if (call.current?.id === record.id) call.current = null;
    call.last = { id: record.id, outcome: record.outcome, signal: record.signal, ttftMs: record.ttftMs, answerText: record.answerText };
    call.seenAt = Date.now();
    if (record.signal !== null) call.endedAt = call.seenAt;
    this.#emit({ type: 'ended', instanceId, call: publicCall(call) });
  }

  #expire(now: number): void {
    for (const [id, call] of this.#calls) {
      const gone =
        call.current === null && (now - call.seenAt > IDLE_MS || (call.endedAt !== undefined && now - call.endedAt > AFTER_END_MS));
      if (gone || this.#calls.size > MAX_CALLS) {
        this.#calls.delete(id);
        this.#emit({ type: 'gone', instanceId: id });
      }
    }
  }

  #emit(event: LiveEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}

function publicCall(call: LiveCall): LiveCall {
  return {
    instanceId: call.instanceId,
    agent: call.agent,
    callerNumber: call.callerNumber,
    calleeNumber: call.calleeNumber,
    firstSeenAt: call.firstSeenAt,
    lastTurnAt: call.lastTurnAt,
    turns: call.turns,
    current: call.current ? { ...call.current } : null,
    last: call.last,
  };
}
