import type { ToolRun } from '../agent/converse.ts';
import type { ModelCommandEvent } from '../agent/transforms/guard-model-commands.ts';
import type { CallMetadata } from '../protocol/extend-data.ts';
import type { AttemptEvent } from '../resilience/provider-chain.ts';
import type { TurnSpan } from './tracing.ts';
import type { FinishReason, TokenUsage } from '../core/stream-part.ts';

export type TurnStatus = 'ok' | 'apologized' | 'error' | 'client_closed' | 'superseded' | 'shutdown' | 'upstream_broken';

/** What one turn did, measured as it streams; logged once at the end (off the hot path). */
export class TurnReport {
  readonly startedAt = performance.now();
  readonly startedAtWall = Date.now();
  status: TurnStatus = 'ok';
  httpStatus = 200;
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
  errorCode: string | undefined;
  errorMessage: string | undefined;
  /** 'check' or 'simulate': the gateway's own test traffic (the x-vlg-synthetic header). */
  synthetic: string | undefined;
  /** The voice platform that asked (ims, vapi, ...). */
  platform: string | undefined;
  /** The platform's retry of a request, given the output of the turn already answering it. */
  retry: boolean | undefined;

  readonly agent: string;
  /** The provider that answered (the agent's own until a fallback commits). */
  provider: string;
  readonly attempts: AttemptEvent[] = [];
  /** When each attempt ended (performance.now()), for the waterfall. */
  readonly attemptEndedAt: number[] = [];
  readonly toolRuns: ToolRun[] = [];
  /** When each tool run was reported finished (performance.now()). */
  readonly toolRunEndedAt: number[] = [];
  /** The response's first and last bytes to the client (performance.now()). */
  firstByteAt: number | undefined;
  lastByteAt: number | undefined;
  /** When a filler phrase was said (the answer was slow to start). */
  fillerAt: number | undefined;
  /** Told each piece of text as it is sent (the console's live view); unset: nobody watches. */
  onText: ((chunk: string) => void) | undefined;
  /** IMS commands the model wrote itself, and what became of each. */
  readonly modelCommands: ModelCommandEvent[] = [];
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

  /** Time spent in the gateway itself: the turn minus waiting on upstreams and tools. */
  overheadMs(now = performance.now()): number {
    const tools = this.toolRuns.reduce((sum, run) => sum + run.result.durationMs, 0);
    return Math.max(0, now - this.startedAt - this.upstreamWaitMs - tools);
  }

  fail(status: TurnStatus, code: string, message: string, httpStatus?: number): void {
    this.status = status;
    this.errorCode = code;
    this.errorMessage = message;
    if (httpStatus !== undefined) this.httpStatus = httpStatus;
  }

  attempt(event: AttemptEvent): void {
    this.attempts.push(event);
    this.attemptEndedAt.push(performance.now());
    if (event.outcome === 'committed') this.provider = event.provider;
    this.span?.recordAttempt(event);
  }

  toolRun(run: ToolRun): void {
    this.toolRuns.push(run);
    this.toolRunEndedAt.push(performance.now());
    this.span?.recordTool(run.call.tool.name, run.result.durationMs, run.result.ok, run.result.error);
  }

  /** The fields of the per-turn log line. */
  toLogFields(): Record<string, unknown> {
    const { call } = this;
    return {
      instanceId: call.instanceId,
      channelId: call.channelId,
      sentenceId: call.sentenceId,
      platform: this.platform,
      retry: this.retry || undefined,
      agent: this.agent,
      provider: this.provider,
      stream: this.stream,
      status: this.status,
      httpStatus: this.httpStatus,
      ttftMs: this.firstTextAt === undefined ? undefined : round(this.firstTextAt - this.startedAt),
      durationMs: round(performance.now() - this.startedAt),
      charsOut: this.charsOut,
      finishReason: this.finishReason,
      errorCode: this.errorCode,
      error: this.errorMessage,
      synthetic: this.synthetic,
      turnId: this.id,
      attempts:
        this.attempts.length > 1 || this.attempts[0]?.outcome !== 'committed'
          ? this.attempts.map((a) => `${a.provider}:${a.outcome}${a.error ? `(${a.error.code})` : ''}`).join(' ')
          : undefined,
      tools:
        this.toolRuns.length > 0
          ? this.toolRuns.map((run) => `${run.call.tool.name}:${run.result.ok ? 'ok' : run.result.error}`).join(' ')
          : undefined,
      modelCommands:
        this.modelCommands.length > 0 ? this.modelCommands.map((event) => `${event.command}:${event.action}`).join(' ') : undefined,
    };
  }
}

const SENTENCE_END = /[.!?。！？…]/u;

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
