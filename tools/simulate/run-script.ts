import { describeSignal, type CallOutcome } from './call-signals.ts';
import { evaluateExpectations, type ExpectationResult } from './expectations.ts';
import type { ScriptTurn } from './script.ts';
import type { CallOpening, SimulatedCall } from './simulated-call.ts';
import type { TurnResult } from './simulate-turn.ts';

export interface ConversationSettings {
  /** The call, over HTTP or a platform's socket: opened, driven turn after turn, closed. */
  call: SimulatedCall;
  /** Cut every answer this long after its first content, unless a turn says otherwise. */
  bargeInMs?: number;
}

export interface TurnReport extends TurnResult {
  /** 1-based position in the script. */
  turn: number;
  /** The cut applied to this answer, null when none. */
  bargeInMs: number | null;
  expectations: ExpectationResult[];
  /** No problem and every expectation passed. */
  ok: boolean;
}

export interface ConversationReport {
  /** The conversation ran to its end (or to an expected end of call), every turn ok. */
  ok: boolean;
  baseUrl: string;
  model: string;
  instanceId: string;
  channelId: string;
  historySyncTts: boolean;
  /** The platform the call was held as; absent for IMS. */
  platform?: string;
  /** What the agent said as the call began (Retell's begin message), when it said something. */
  greeting?: string;
  turns: TurnReport[];
  /** Turns of the script that never ran (the call ended or failed first). */
  notRun: Array<{ turn: number; say: string }>;
  /** How the call ended: by the agent (hangup, transfer), or null when the script ran out first. */
  ended: (Exclude<CallOutcome, { type: 'continues' }> & { turn: number }) | null;
  /** Problems of the conversation as a whole. */
  problems: string[];
  totalMs: number;
}

export interface RunConversationOptions {
  /** Called once the call is set up (for live printing of a begin message). */
  onOpen?: (opening: CallOpening) => void;
  /** Called after each turn (for live printing). */
  onTurn?: (turn: TurnReport) => void;
}

/** Runs a scripted conversation through one simulated call, turn after turn. */
export async function runConversation(
  turns: readonly ScriptTurn[],
  settings: ConversationSettings,
  options: RunConversationOptions = {},
): Promise<ConversationReport> {
  const started = performance.now();
  const { call } = settings;
  const report: ConversationReport = {
    ok: false,
    baseUrl: call.baseUrl,
    model: call.model,
    instanceId: call.instanceId,
    channelId: call.channelId,
    historySyncTts: call.historySyncTts,
    turns: [],
    notRun: [],
    ended: null,
    problems: [],
    totalMs: 0,
  };
  if (call.platform !== undefined) report.platform = call.platform;

  const opening = await call.open();
  options.onOpen?.(opening);
  if (opening.greeting !== undefined) report.greeting = opening.greeting;
  report.problems.push(...opening.problems);
  let stoppedAt: number | undefined = opening.fatal ? 0 : undefined;
  for (let i = 0; i < turns.length && stoppedAt === undefined; i++) {
    const step = turns[i]!;
    const bargeInMs = step.bargeInMs === null ? undefined : (step.bargeInMs ?? settings.bargeInMs);
    const result = await call.turn(step, bargeInMs === undefined ? {} : { bargeInMs });
    const expectations = evaluateExpectations(step.expect, result);
    const turn: TurnReport = {
      turn: i + 1,
      ...result,
      bargeInMs: bargeInMs ?? null,
      expectations,
      ok: result.problems.length === 0 && expectations.every((e) => e.pass),
    };
    report.turns.push(turn);
    options.onTurn?.(turn);
    if (result.fatal) {
      report.problems.push(`turn ${i + 1} got no usable answer: the call cannot go on`);
      stoppedAt = i + 1;
      break;
    }
    if (result.outcome.type !== 'continues') {
      report.ended = { ...result.outcome, turn: i + 1 };
      stoppedAt = i + 1;
      break;
    }
  }
  await call.close();
  if (stoppedAt !== undefined && stoppedAt < turns.length) {
    report.notRun = turns.slice(stoppedAt).map((t, k) => ({ turn: stoppedAt! + k + 1, say: t.say }));
    if (report.ended) {
      const how = report.ended.type === 'transfer' ? 'was transferred' : 'was hung up';
      report.problems.push(`the call ${how} at turn ${report.ended.turn}; ${report.notRun.length} turn(s) did not run`);
    }
  }
  report.ok = report.problems.length === 0 && report.turns.every((t) => t.ok);
  report.totalMs = Math.round(performance.now() - started);
  return report;
}

/** One turn of the report as text, for people. */
export function formatTurnReport(turn: TurnReport): string {
  const lines = [`Turn ${turn.turn} (sentenceId ${turn.sentenceId})${turn.ok ? '' : '  FAILED'}`];
  lines.push(`  caller: ${turn.said}`);
  // 200: an HTTP answer; 101: a socket's.
  if (turn.status === 200 || turn.status === 101) lines.push(`  agent:  ${turn.answer === '' ? '(no text)' : turn.answer}`);
  if (turn.spoken !== turn.answer) lines.push(`  heard:  ${turn.spoken === '' ? '(nothing)' : turn.spoken}`);
  const timing = [
    `status ${turn.status || 'none'}`,
    `TTFT ${turn.ttftMs === null ? '-' : `${turn.ttftMs} ms`}`,
    `total ${turn.totalMs} ms`,
    `finish ${turn.finishReason ?? '-'}`,
  ];
  if (turn.interrupted) timing.push(turn.interruptedBy === 'barge-in' ? `cut by barge-in after ${turn.bargeInMs} ms` : 'cut by the caller');
  else if (turn.bargeInMs !== null) timing.push(`barge-in at ${turn.bargeInMs} ms (answer ended first)`);
  lines.push(`  ${timing.join(' · ')}`);
  lines.push(`  signals: ${turn.signals.length === 0 ? 'none' : turn.signals.map(describeSignal).join('; ')}`);
  if (turn.interrupted) lines.push(`  kept in history: ${turn.historyRecord === null ? '(nothing)' : JSON.stringify(turn.historyRecord)}`);
  for (const problem of turn.problems) lines.push(`  problem: ${problem}`);
  for (const warning of turn.warnings) lines.push(`  warning: ${warning}`);
  for (const e of turn.expectations) lines.push(`  expect ${e.check}: ${e.pass ? 'pass' : `FAIL (${e.detail})`}`);
  return lines.join('\n');
}

/** The call's opening as text, for people: the begin message and any problem; '' when there is nothing to say. */
export function formatOpening(opening: CallOpening): string {
  const lines: string[] = [];
  if (opening.greeting !== undefined)
    lines.push(`Call opened; the agent says: ${opening.greeting === '' ? '(nothing: the caller speaks first)' : opening.greeting}`);
  for (const problem of opening.problems) lines.push(`  problem: ${problem}`);
  for (const warning of opening.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}

/** The conversation's summary line(s), for people. */
export function formatConversationSummary(report: ConversationReport): string {
  const lines: string[] = [];
  const ended = report.ended;
  // Another platform acts on the agent's signal itself: say so in its name.
  const platform = report.platform;
  const how =
    ended === null
      ? 'the script ended with the call still open'
      : platform !== undefined
        ? ended.type === 'transfer'
          ? `${platform} transfers the call at turn ${ended.turn}${ended.callee ? ` to ${ended.callee}` : ''}`
          : `${platform} hangs up at turn ${ended.turn}`
        : ended.type === 'transfer'
          ? `the call was transferred at turn ${ended.turn}${ended.callee ? ` to ${ended.callee}` : ''}`
          : `the agent hung up at turn ${ended.turn}`;
  for (const problem of report.problems) lines.push(`problem: ${problem}`);
  const failed = report.turns.filter((t) => !t.ok).length;
  lines.push(
    `${report.ok ? 'PASS' : 'FAIL'}: ${report.turns.length} turn(s) in ${report.totalMs} ms, ${how}` +
      (failed > 0 ? `; ${failed} turn(s) failed` : '') +
      ` (instanceId ${report.instanceId})`,
  );
  return lines.join('\n');
}
