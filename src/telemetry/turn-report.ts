import type { KeyPressDropEvent } from '../agent/call-control/press-digits.ts';
import type { ToolRun } from '../agent/converse.ts';
import type { ModelCommandEvent } from '../agent/transforms/guard-model-commands.ts';
import type { CallMetadata } from '../protocol/extend-data.ts';
import type { AttemptEvent } from '../resilience/provider-chain.ts';
import type { TurnSpan } from './tracing.ts';
import type { FinishReason, TokenUsage } from '../core/stream-part.ts';
import type { GatewayError } from '../core/gateway-error.ts';
import type { TurnOutcome } from './turn-outcome.ts';

/**
 * A turn as it ended: what its log line, metrics, trace and record read. Fixed by `TurnReport.end`;
 * its lists are the report's own, which take nothing more once the turn has ended.
 */
export interface FinishedTurn {
  readonly outcome: TurnOutcome;
  /** performance.now() when the turn ended. */
  readonly endedAt: number;
  /** Time spent in the gateway itself: the turn minus waiting on upstreams and tools. */
  readonly overheadMs: number;
  readonly startedAt: number;
  readonly startedAtWall: number;
  readonly id: string;
  readonly agent: string;
  readonly provider: string;
  readonly platform: string | undefined;
  readonly retry: boolean | undefined;
  readonly synthetic: string | undefined;
  readonly stream: boolean;
  readonly call: CallMetadata;
  readonly callerText: string;
  readonly answer: string;
  readonly charsOut: number;
  readonly usage: TokenUsage | undefined;
  readonly signal: string | undefined;
  readonly finishReason: FinishReason | undefined;
  readonly firstTextAt: number | undefined;
  readonly firstSentenceAt: number | undefined;
  readonly firstByteAt: number | undefined;
  readonly lastByteAt: number | undefined;
  readonly fillerAt: number | undefined;
  readonly attempts: readonly AttemptEvent[];
  readonly attemptEndedAt: readonly number[];
  readonly toolRuns: readonly ToolRun[];
  readonly toolRunEndedAt: readonly number[];
  readonly modelCommands: readonly ModelCommandEvent[];
  /** Key presses the model asked for that were not made, and why. */
  readonly keyPressesDropped: readonly KeyPressDropEvent[];
  readonly span: TurnSpan | undefined;
}

/**
 * What one turn did, measured as it streams. It ends once (`end`), with the outcome `classifyTurn`
 * decided; everything after the turn reads the `FinishedTurn` that produces (off the hot path).
 */
export class TurnReport {
  readonly startedAt = performance.now();
  readonly startedAtWall = Date.now();
  firstTextAt: number | undefined;
  /** When the first full sentence had been sent. */
  firstSentenceAt: number | undefined;
  charsOut = 0;
  /** The text actually sent to the client. */
  answer = '';
  usage: TokenUsage | undefined;
  /** 'hangup' or 'transfer:<destination>'. */
  signal: string | undefined;
  /** Time spent waiting on upstream providers (for the gateway-overhead figure). */
  upstreamWaitMs = 0;
  /** The completion id sent to the client. */
  id = '';
  /** The caller's newest words. */
  callerText = '';
  /** The turn's trace span, when tracing is on. */
  span: TurnSpan | undefined;
  /** The caller's W3C trace context header, so the turn joins the caller's trace. */
  traceparent: string | undefined;
  finishReason: FinishReason | undefined;
  /** 'check' or 'simulate': the gateway's own test traffic (the x-vlg-synthetic header). */
  synthetic: string | undefined;
  /** The voice platform that asked (ims, vapi, ...). */
  platform: string | undefined;
  /** The platform's retry of a request, given the output of the turn already answering it. */
  retry: boolean | undefined;

  readonly agent: string;
  /** The provider that answered (the agent's own until a fallback commits). */
  provider: string;
  // The lists are made at their first entry (most turns have one attempt and nothing else), each
  // as a one-element literal: an open call holds no empty lists and no spare capacity.
  #attempts: AttemptEvent[] | undefined;
  /** When each attempt ended (performance.now()), for the waterfall. */
  #attemptEndedAt: number[] | undefined;
  #toolRuns: ToolRun[] | undefined;
  /** When each tool run was reported finished (performance.now()). */
  #toolRunEndedAt: number[] | undefined;
  /** The response's first and last bytes to the client (performance.now()). */
  firstByteAt: number | undefined;
  lastByteAt: number | undefined;
  /** When a filler phrase was said (the answer was slow to start). */
  fillerAt: number | undefined;
  /** Told each piece of text as it is sent (the console's live view); unset: nobody watches. */
  onText: ((chunk: string) => void) | undefined;
  /** IMS commands the model wrote itself, and what became of each. */
  #modelCommands: ModelCommandEvent[] | undefined;
  /** Key presses the model asked for that were not made. */
  #keyPressesDropped: KeyPressDropEvent[] | undefined;
  /** The failure the caller heard an apology for instead of an answer. */
  #apology: GatewayError | undefined;
  #finished: FinishedTurn | undefined;
  readonly call: CallMetadata;
  readonly stream: boolean;

  constructor(agent: string, provider: string, call: CallMetadata, stream: boolean) {
    this.agent = agent;
    this.provider = provider;
    this.call = call;
    this.stream = stream;
  }

  /** Keeps what was sent; the first call stamps the time to first token. */
  text(chunk: string): void {
    if (this.firstTextAt === undefined) {
      this.firstTextAt = performance.now();
      this.span?.firstToken();
    }
    if (this.firstSentenceAt === undefined && SENTENCE_END.test(chunk)) this.firstSentenceAt = performance.now();
    this.charsOut += chunk.length;
    this.answer += chunk;
    this.onText?.(chunk);
  }

  get apology(): GatewayError | undefined {
    return this.#apology;
  }

  /** The turn as it ended; undefined while it runs. */
  get finished(): FinishedTurn | undefined {
    return this.#finished;
  }

  attempt(event: AttemptEvent): void {
    // A platform's retry may keep the model running after this request's turn ended: that is not this turn's.
    if (this.#finished) return;
    this.#attempts = append(this.#attempts, event);
    this.#attemptEndedAt = append(this.#attemptEndedAt, performance.now());
    if (event.outcome === 'committed') this.provider = event.provider;
    this.span?.recordAttempt(event);
  }

  toolRun(run: ToolRun): void {
    if (this.#finished) return;
    this.#toolRuns = append(this.#toolRuns, run);
    this.#toolRunEndedAt = append(this.#toolRunEndedAt, performance.now());
    this.span?.recordTool(run.call.tool.name, run.result.durationMs, run.result.ok, run.result.error);
  }

  modelCommand(event: ModelCommandEvent): void {
    if (!this.#finished) this.#modelCommands = append(this.#modelCommands, event);
  }

  keyPressDropped(event: KeyPressDropEvent): void {
    if (!this.#finished) this.#keyPressesDropped = append(this.#keyPressesDropped, event);
  }

  /** Every provider failed and the caller heard an apology instead (`error` as the client would see it). */
  apologized(error: GatewayError): void {
    if (!this.#finished) this.#apology = error;
  }

  /** The turn is over, with `outcome`: once only (a second end is a programming error). */
  end(outcome: TurnOutcome, endedAt = performance.now()): FinishedTurn {
    if (this.#finished) throw new Error(`turn ${this.id} ended twice (${this.#finished.outcome.status}, then ${outcome.status})`);
    const tools = (this.#toolRuns ?? NONE).reduce((sum, run) => sum + run.result.durationMs, 0);
    this.#finished = Object.freeze({
      outcome,
      endedAt,
      overheadMs: Math.max(0, endedAt - this.startedAt - this.upstreamWaitMs - tools),
      startedAt: this.startedAt,
      startedAtWall: this.startedAtWall,
      id: this.id,
      agent: this.agent,
      provider: this.provider,
      platform: this.platform,
      retry: this.retry,
      synthetic: this.synthetic,
      stream: this.stream,
      call: this.call,
      callerText: this.callerText,
      answer: this.answer,
      charsOut: this.charsOut,
      usage: this.usage,
      signal: this.signal,
      finishReason: this.finishReason,
      firstTextAt: this.firstTextAt,
      firstSentenceAt: this.firstSentenceAt,
      firstByteAt: this.firstByteAt,
      lastByteAt: this.lastByteAt,
      fillerAt: this.fillerAt,
      attempts: this.#attempts ?? NONE,
      attemptEndedAt: this.#attemptEndedAt ?? NONE,
      toolRuns: this.#toolRuns ?? NONE,
      toolRunEndedAt: this.#toolRunEndedAt ?? NONE,
      modelCommands: this.#modelCommands ?? NONE,
      keyPressesDropped: this.#keyPressesDropped ?? NONE,
      span: this.span,
    });
    return this.#finished;
  }
}

/** The fields of the per-turn log line. */
export function turnLogFields(turn: FinishedTurn): Record<string, unknown> {
  const { call, outcome } = turn;
  return {
    instanceId: call.instanceId,
    channelId: call.channelId,
    sentenceId: call.sentenceId,
    platform: turn.platform,
    retry: turn.retry || undefined,
    agent: turn.agent,
    provider: turn.provider,
    stream: turn.stream,
    status: outcome.status,
    httpStatus: outcome.httpStatus,
    ttftMs: turn.firstTextAt === undefined ? undefined : round(turn.firstTextAt - turn.startedAt),
    durationMs: round(turn.endedAt - turn.startedAt),
    charsOut: turn.charsOut,
    finishReason: turn.finishReason,
    errorCode: outcome.errorCode,
    error: outcome.errorMessage,
    providerFailures: outcome.failures,
    synthetic: turn.synthetic,
    turnId: turn.id,
    attempts:
      turn.attempts.length > 1 || turn.attempts[0]?.outcome !== 'committed'
        ? turn.attempts.map((a) => `${a.provider}:${a.outcome}${a.error ? `(${a.error.code})` : ''}`).join(' ')
        : undefined,
    tools:
      turn.toolRuns.length > 0
        ? turn.toolRuns.map((run) => `${run.call.tool.name}:${run.result.ok ? 'ok' : run.result.error}`).join(' ')
        : undefined,
    modelCommands:
      turn.modelCommands.length > 0 ? turn.modelCommands.map((event) => `${event.command}:${event.action}`).join(' ') : undefined,
    keyPressesDropped: turn.keyPressesDropped.length > 0 ? turn.keyPressesDropped.map((event) => event.reason).join(' ') : undefined,
  };
}

/** The list of a turn that had none of a thing. */
const NONE: readonly never[] = Object.freeze([]);

function append<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}

const SENTENCE_END = /[.!?。！？…]/u;

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
