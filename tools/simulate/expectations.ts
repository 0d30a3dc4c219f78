import type { TurnExpectation } from './script.ts';
import type { TurnResult } from './simulate-turn.ts';

export interface ExpectationResult {
  /** e.g. `contains "hello"`, `hangup`. */
  check: string;
  pass: boolean;
  /** What was found, when the check failed. */
  detail?: string;
}

/**
 * Checks one answer against its turn's `expect`. Text checks look at what the caller hears (the
 * spoken text: commands replaced by their endword / msg), ignoring letter case.
 */
export function evaluateExpectations(expect: TurnExpectation | undefined, turn: TurnResult): ExpectationResult[] {
  if (!expect) return [];
  const results: ExpectationResult[] = [];
  const heard = turn.spoken.toLowerCase();
  const shown = JSON.stringify(excerpt(turn.spoken));
  const add = (check: string, pass: boolean, detail: string) => results.push(pass ? { check, pass } : { check, pass, detail });

  for (const needle of expect.contains ?? []) {
    add(`contains ${JSON.stringify(needle)}`, heard.includes(needle.toLowerCase()), `the caller heard ${shown}`);
  }
  for (const needle of expect.notContains ?? []) {
    add(`does not contain ${JSON.stringify(needle)}`, !heard.includes(needle.toLowerCase()), `the caller heard ${shown}`);
  }
  if (expect.matches !== undefined) {
    add(`matches /${expect.matches}/i`, new RegExp(expect.matches, 'iu').test(turn.spoken), `the caller heard ${shown}`);
  }
  if (expect.hangup !== undefined) {
    const hungUp = turn.outcome.type === 'hangup';
    add(
      expect.hangup ? 'hangup' : 'no hangup',
      hungUp === expect.hangup,
      hungUp ? `the call was hung up (${turn.outcome.type === 'hangup' ? turn.outcome.via : ''})` : `no hangup (${describeOutcome(turn)})`,
    );
  }
  if (expect.transfer !== undefined) {
    const transferred = turn.outcome.type === 'transfer';
    add(
      expect.transfer ? 'transfer' : 'no transfer',
      transferred === expect.transfer,
      transferred ? 'the call was transferred' : `no transfer (${describeOutcome(turn)})`,
    );
  }
  if (expect.digits !== undefined) {
    const pressed = turn.signals.flatMap((s) => (s.type === 'digits' ? [s.digits] : [])).join('');
    const wanted = expect.digits;
    add(
      wanted === true ? 'keys pressed' : wanted === false ? 'no keys pressed' : `keys ${JSON.stringify(wanted)} pressed`,
      typeof wanted === 'string' ? pressed === wanted : (pressed !== '') === wanted,
      pressed === '' ? 'no keys were pressed' : `the agent pressed ${JSON.stringify(pressed)}`,
    );
  }
  if (expect.language !== undefined) {
    const switches = turn.signals.flatMap((s) => (s.type === 'language' ? [s] : []));
    const wanted = expect.language;
    const found = switches.map((s) => `${s.ttsLanguage}/${s.transcriptionLanguage}`).join(', ');
    add(
      wanted === true ? 'language switched' : wanted === false ? 'no language switch' : `language switched to ${wanted}`,
      typeof wanted === 'string'
        ? switches.some((s) => s.ttsLanguage === wanted || s.transcriptionLanguage === wanted)
        : switches.length > 0 === wanted,
      switches.length === 0 ? 'no language message came' : `switched to ${found}`,
    );
  }
  if (expect.interrupted !== undefined) {
    add(
      expect.interrupted ? 'interrupted' : 'not interrupted',
      turn.interrupted === expect.interrupted,
      turn.interrupted ? 'the answer was cut' : 'the answer ended before any cut',
    );
  }
  if (expect.finishReason !== undefined) {
    add(`finish reason ${expect.finishReason}`, turn.finishReason === expect.finishReason, `finish reason ${String(turn.finishReason)}`);
  }
  if (expect.maxTtftMs !== undefined) {
    add(
      `first token within ${expect.maxTtftMs} ms`,
      turn.ttftMs !== null && turn.ttftMs <= expect.maxTtftMs,
      turn.ttftMs === null ? 'no content came' : `first token after ${turn.ttftMs} ms`,
    );
  }
  return results;
}

function describeOutcome(turn: TurnResult): string {
  if (turn.fatal) return 'no answer';
  return turn.outcome.type === 'continues' ? 'the call goes on' : `the call ended by ${turn.outcome.type}`;
}

function excerpt(text: string, max = 160): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
