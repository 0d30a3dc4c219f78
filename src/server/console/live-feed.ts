/**
 * The console's live view: turns as they happen (start, each piece of text sent to the platform,
 * end), fanned out to the browsers watching over SSE. It keeps the calls seen recently so a new
 * watcher starts with what is in progress. With nobody watching, a turn costs a few field
 * writes (no events, no copies, no sweep) and its text pieces nothing.
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

/**
 * A call as the feed keeps it: plain numbers and references, turned into a `LiveCall` (dates,
 * masked numbers, the text so far) only when someone looks, so a turn nobody watches costs a
 * few field writes.
 */
interface TrackedCall {
  instanceId: string;
  agent: string;
  callerNumber: string | undefined;
  calleeNumber: string | undefined;
  firstSeenAt: number;
  /** Wall-clock start of the call's latest turn. */
  lastTurnAt: number;
  turns: number;
  /** The turn streaming now: its report has the text sent so far. */
  current: TurnReport | null;
  last: LiveCall['last'];
  seenAt: number;
  endedAt?: number;
}

export class LiveFeed {
  readonly #calls = new Map<string, TrackedCall>();
  readonly #listeners = new Set<LiveListener>();
  readonly #mask: (value: string | undefined) => string | null;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: { mask: (value: string | undefined) => string | null }) {
    this.#mask = options.mask;
  }

  /** Calls in progress now, newest first. */
  snapshot(now = Date.now()): LiveCall[] {
    this.#expire(now);
    return [...this.#calls.values()].map((call) => this.#publicCall(call)).reverse();
  }

  subscribe(listener: LiveListener): () => void {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) {
      // Turns already streaming start telling their text now.
      for (const call of this.#calls.values()) if (call.current !== null) this.#watchText(call.current, call.instanceId);
    }
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
    const watched = this.#listeners.size > 0;
    // Nobody watching: nothing to tell, only the bound to keep (a snapshot expires the rest).
    if (watched) this.#expire(now);
    else this.#bound();
    const instanceId = report.call.instanceId ?? report.call.channelId ?? '-';
    let call = this.#calls.get(instanceId);
    if (call) {
      // Most recent last (Map order), so the snapshot is newest first.
      this.#calls.delete(instanceId);
      delete call.endedAt;
    } else {
      call = {
        instanceId,
        agent: report.agent,
        callerNumber: report.call.callerNumber,
        calleeNumber: report.call.calleeNumber,
        firstSeenAt: now,
        lastTurnAt: 0,
        turns: 0,
        current: null,
        last: null,
        seenAt: now,
      };
    }
    this.#calls.set(instanceId, call);
    call.seenAt = now;
    call.lastTurnAt = report.startedAtWall;
    call.turns += 1;
    call.agent = report.agent;
    call.current = report;
    if (!watched) return;
    this.#watchText(report, instanceId);
    this.#emit({ type: 'turn', instanceId, call: this.#publicCall(call) });
  }

  ended(record: TurnRecord): void {
    const instanceId = record.instanceId ?? record.channelId ?? '-';
    const call = this.#calls.get(instanceId);
    if (!call) return;
    if (call.current?.id === record.id) call.current = null;
    call.last = { id: record.id, outcome: record.outcome, signal: record.signal, ttftMs: record.ttftMs, answerText: record.answerText };
    call.seenAt = Date.now();
    if (record.signal !== null) call.endedAt = call.seenAt;
    if (this.#listeners.size > 0) this.#emit({ type: 'ended', instanceId, call: this.#publicCall(call) });
  }

  /** Each piece of the turn's text is told to the watchers while there are any. */
  #watchText(report: TurnReport, instanceId: string): void {
    const turnId = report.id;
    report.onText = (chunk) => {
      if (this.#listeners.size > 0) this.#emit({ type: 'text', instanceId, turnId, text: chunk });
    };
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

  /** At most MAX_CALLS kept, the oldest dropped first (as `#expire` does), in O(1) per turn. */
  #bound(): void {
    while (this.#calls.size > MAX_CALLS) {
      const oldest = this.#calls.keys().next();
      if (oldest.done === true) return;
      this.#calls.delete(oldest.value);
      this.#emit({ type: 'gone', instanceId: oldest.value });
    }
  }

  #emit(event: LiveEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  #publicCall(call: TrackedCall): LiveCall {
    const turn = call.current;
    const lastTurnAt = new Date(call.lastTurnAt).toISOString();
    return {
      instanceId: call.instanceId,
      agent: call.agent,
      callerNumber: this.#mask(call.callerNumber),
      calleeNumber: this.#mask(call.calleeNumber),
      firstSeenAt: new Date(call.firstSeenAt).toISOString(),
      lastTurnAt,
      turns: call.turns,
      current:
        turn === null
          ? null
          : {
              id: turn.id,
              agent: turn.agent,
              startedAt: new Date(turn.startedAtWall).toISOString(),
              callerText: turn.callerText,
              text: turn.answer,
              synthetic: turn.synthetic ?? null,
            },
      last: call.last,
    };
  }
}
