import type { ToolRun } from '../agent/converse.ts';
import type { CallMetadata } from '../protocol/extend-data.ts';
import type { AttemptEvent } from '../resilience/provider-chain.ts';
import type { FinishReason } from '../providers/stream-part.ts';

export type TurnStatus = 'ok' | 'apologized' | 'error' | 'client_closed' | 'superseded' | 'shutdown' | 'upstream_broken';

/** What one turn did, measured as it streams; logged once at the end (off the hot path). */
export class TurnReport {
  readonly startedAt = performance.now();
  status: TurnStatus = 'ok';
  httpStatus = 200;
  firstTextAt: number | undefined;
  charsOut = 0;
  finishReason: FinishReason | undefined;
  errorCode: string | undefined;
  errorMessage: string | undefined;

  readonly agent: string;
  /** The provider that answered (the agent's own until a fallback commits). */
  provider: string;
  readonly attempts: AttemptEvent[] = [];
  readonly toolRuns: ToolRun[] = [];
  readonly call: CallMetadata;
  readonly stream: boolean;

  constructor(agent: string, provider: string, call: CallMetadata, stream: boolean) {
    this.agent = agent;
    this.provider = provider;
    this.call = call;
    this.stream = stream;
  }

  /** Counts spoken text; the first call stamps the time to first token. */
  text(length: number): void {
    if (this.firstTextAt === undefined) this.firstTextAt = performance.now();
    this.charsOut += length;
  }

  fail(status: TurnStatus, code: string, message: string, httpStatus?: number): void {
    this.status = status;
    this.errorCode = code;
    this.errorMessage = message;
    if (httpStatus !== undefined) this.httpStatus = httpStatus;
  }

  attempt(event: AttemptEvent): void {
    this.attempts.push(event);
    if (event.outcome === 'committed') this.provider = event.provider;
  }

  /** The fields of the per-turn log line. */
  toLogFields(): Record<string, unknown> {
    const { call } = this;
    return {
      instanceId: call.instanceId,
      channelId: call.channelId,
      sentenceId: call.sentenceId,
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
      attempts:
        this.attempts.length > 1 || this.attempts[0]?.outcome !== 'committed'
          ? this.attempts.map((a) => `${a.provider}:${a.outcome}${a.error ? `(${a.error.code})` : ''}`).join(' ')
          : undefined,
      tools: this.toolRuns.length > 0 ? this.toolRuns.map((run) => `${run.call.tool.name}:${run.result.ok ? 'ok' : run.result.error}`).join(' ') : undefined,
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
