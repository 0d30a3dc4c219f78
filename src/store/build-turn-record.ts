import type { FinishedTurn } from '../telemetry/turn-report.ts';
import { maskPhoneNumber } from './mask-phone-number.ts';
import type { PhoneLookup } from './phone-lookup.ts';
import type { TurnRecord, TurnTimings } from './turn-record.ts';

/** The record of a finished turn, from what its report measured. */
export function buildTurnRecord(
  report: FinishedTurn,
  options: { maskPhoneNumbers: boolean; phoneLookup?: PhoneLookup | undefined },
): TurnRecord {
  const { call, outcome, endedAt } = report;
  const mask = (value: string | undefined) => (value === undefined ? null : options.maskPhoneNumbers ? maskPhoneNumber(value) : value);
  const record: TurnRecord = {
    id: report.id,
    startedAt: new Date(report.startedAtWall).toISOString(),
    endedAt: new Date(report.startedAtWall + (endedAt - report.startedAt)).toISOString(),
    instanceId: call.instanceId ?? call.channelId ?? null,
    channelId: call.channelId ?? null,
    sentenceId: call.sentenceId ?? null,
    callerNumber: mask(call.callerNumber),
    calleeNumber: mask(call.calleeNumber),
    userData: call.userDataRaw ?? null,
    agent: report.agent,
    provider: report.attempts.some((a) => a.outcome === 'committed') ? report.provider : null,
    attempts: report.attempts.map((a, i) => ({
      provider: a.provider,
      model: a.model ?? null,
      outcome: a.outcome,
      errorCode: a.error?.code ?? null,
      ms: round(a.ms),
      ...since(report, report.attemptEndedAt[i], a.ms),
    })),
    callerText: report.callerText,
    answerText: report.answer,
    toolRuns: report.toolRuns.map((run, i) => ({
      name: run.call.tool.name,
      arguments: run.call.argumentsJson,
      ok: run.result.ok,
      error: run.result.error ?? null,
      status: run.result.status ?? null,
      result: run.result.content,
      ms: round(run.result.durationMs),
      ...since(report, report.toolRunEndedAt[i], run.result.durationMs),
    })),
    signal: report.signal ?? null,
    finishReason: report.finishReason ?? null,
    outcome: outcome.status,
    httpStatus: outcome.httpStatus,
    ttftMs: report.firstTextAt === undefined ? null : round(report.firstTextAt - report.startedAt),
    firstSentenceMs: report.firstSentenceAt === undefined ? null : round(report.firstSentenceAt - report.startedAt),
    totalMs: round(endedAt - report.startedAt),
    promptTokens: report.usage?.promptTokens ?? null,
    completionTokens: report.usage?.completionTokens ?? null,
    cancellation: outcome.cancellation ?? null,
    errorCode: outcome.errorCode ?? null,
    errorMessage: outcome.errorMessage ?? null,
    synthetic: report.synthetic ?? null,
    platform: report.platform ?? null,
    timings: turnTimings(report, endedAt),
  };
  if (options.phoneLookup) record.numberHashes = options.phoneLookup.hashes(call.callerNumber, call.calleeNumber);
  return record;
}

/** `startMs` of something that ended at `endedAt` after `ms`, from the turn's start. */
function since(report: FinishedTurn, endedAt: number | undefined, ms: number): { startMs?: number } {
  return endedAt === undefined ? {} : { startMs: round(Math.max(0, endedAt - ms - report.startedAt)) };
}

function turnTimings(report: FinishedTurn, endedAt: number): TurnTimings {
  const at = (time: number | undefined) => (time === undefined ? null : round(time - report.startedAt));
  const index = report.attempts.findIndex((a) => a.outcome === 'committed');
  const committedAt = index < 0 ? undefined : report.attemptEndedAt[index];
  const committed = report.attempts[index];
  return {
    upstreamSentMs: committed && committedAt !== undefined ? at(committedAt - committed.ms) : null,
    firstUpstreamTokenMs: at(committedAt),
    // A non-streamed answer leaves in one piece when the turn ends.
    firstByteMs: at(report.firstByteAt ?? (report.stream ? undefined : endedAt)),
    lastByteMs: at(report.lastByteAt ?? (report.stream ? undefined : endedAt)),
    ...(report.fillerAt === undefined ? {} : { fillerMs: round(report.fillerAt - report.startedAt) }),
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
