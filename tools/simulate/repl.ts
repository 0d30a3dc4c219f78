import { createInterface } from 'node:readline';
import { describeSignal, type CallOutcome } from './call-signals.ts';
import type { CallerTurn, SimulatedCall } from './simulated-call.ts';
import type { TurnResult } from './simulate-turn.ts';

/**
 * The interactive call: each line read is the caller speaking; the answer prints as it streams,
 * then its timing. Lines read while an answer streams wait their turn, in order, and so do the
 * commands /history (print the conversation the workflow keeps), /help and /quit (end the call).
 * `/interrupt` acts at once: it cuts the answer streaming now, like the caller speaking over it
 * (the connection is closed). In a terminal, Ctrl-C interrupts a streaming answer, or quits
 * when none is streaming.
 * A hangup or a transfer from the agent ends the call. On Retell `/remind` stays silent until
 * Retell prompts the agent (reminder_required); on Twilio `/dtmf DIGITS` presses keys.
 */

export interface InteractiveOptions {
  /** The call, over HTTP or a platform's socket. */
  call: SimulatedCall;
  /** Cut every answer this long after its first content. */
  bargeInMs?: number;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  error: NodeJS.WritableStream;
}

export interface InteractiveResult {
  turns: TurnResult[];
  /** How the agent ended the call; undefined when the caller quit or the input ended. */
  ended?: Exclude<CallOutcome, { type: 'continues' }>;
  /** 0, or 1 when a turn had a problem (no answer, a broken stream, ...). */
  exitCode: number;
}

export const INTERACTIVE_HELP = `Type what the caller says and press Enter. Commands:
  /interrupt  cut the answer now (the caller speaks over it)
  /history    show the conversation the workflow keeps
  /quit       end the call
`;

export async function runInteractive(options: InteractiveOptions): Promise<InteractiveResult> {
  const { call, input, output, error } = options;
  const help = helpFor(call);
  const terminal = Boolean((input as { isTTY?: boolean }).isTTY && (output as { isTTY?: boolean }).isTTY);
  const rl = createInterface({ input, output, terminal, prompt: 'you> ' });
  const write = (text: string) => output.write(text);
  const queue: string[] = [];
  const turns: TurnResult[] = [];
  let current: AbortController | undefined;
  let inputClosed = false;
  let quitting = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const quit = () => {
    quitting = true;
    current?.abort();
    poke();
  };

  rl.on('line', (line: string) => {
    // Only /interrupt acts at once (its point is to act while an answer streams); everything
    // else, commands included, is taken in the order it was typed.
    if (line.trim().toLowerCase() === '/interrupt') {
      if (current) current.abort();
      else write('(nothing to interrupt)\n');
      return;
    }
    queue.push(line);
    poke();
  });
  rl.on('close', () => {
    inputClosed = true;
    poke();
  });
  rl.on('SIGINT', () => {
    if (current) current.abort();
    else quit();
  });

  write(
    `${call.describe()}${options.bargeInMs === undefined ? '' : ` · barge-in ${options.bargeInMs} ms`}${call.historySyncTts ? ' · HistorySyncWithTTS' : ''}\n` +
      (terminal ? help : ''),
  );
  const opening = await call.open();
  if (opening.greeting !== undefined && opening.greeting !== '') write(`agent> ${opening.greeting}\n`);
  for (const problem of opening.problems) error.write(`problem: ${problem}\n`);
  for (const warning of opening.warnings) error.write(`warning: ${warning}\n`);
  if (opening.fatal) quitting = true;

  let ended: InteractiveResult['ended'];
  while (!quitting) {
    const line = queue.shift();
    if (line === undefined) {
      if (inputClosed) break;
      if (terminal) rl.prompt();
      await new Promise<void>((resolve) => (wake = resolve));
      continue;
    }
    const said = line.trim();
    if (said === '') continue;
    let step: CallerTurn = { say: said, event: 'speech' };
    if (said.startsWith('/')) {
      const [command = '', ...rest] = said.split(/\s+/);
      const name = command.toLowerCase();
      if (name === '/quit' || name === '/exit') break;
      const digits = rest.join('');
      if (name === '/remind' && call.events.includes('reminder')) step = { say: '', event: 'reminder' };
      else if (name === '/dtmf' && call.events.includes('dtmf') && /^[0-9*#A-Da-d]+$/.test(digits)) step = { say: digits, event: 'dtmf' };
      else {
        if (name === '/history') write(formatHistory(call));
        else if (name === '/help') write(help);
        else write(`Unknown command ${said}. ${help}`);
        continue;
      }
    }
    if (!terminal) write(`you> ${said}\n`);
    write('agent> ');
    const controller = new AbortController();
    current = controller;
    const turn = await call.turn(step, {
      signal: controller.signal,
      onText: write,
      ...(options.bargeInMs === undefined ? {} : { bargeInMs: options.bargeInMs }),
    });
    current = undefined;
    turns.push(turn);
    write(`\n${formatTurnFooter(turn, options.bargeInMs)}\n`);
    for (const problem of turn.problems) error.write(`problem: ${problem}\n`);
    for (const warning of turn.warnings) error.write(`warning: ${warning}\n`);
    if (turn.outcome.type !== 'continues') {
      ended = turn.outcome;
      write(`${describeEnd(turn.outcome)}\n`);
      break;
    }
  }
  rl.close();
  await call.close();
  if (!ended && !opening.fatal) write('Call ended by the caller.\n');
  const failed = opening.fatal || opening.problems.length > 0 || turns.some((t) => t.problems.length > 0);
  return { turns, ...(ended ? { ended } : {}), exitCode: failed ? 1 : 0 };
}

function formatTurnFooter(turn: TurnResult, bargeInMs: number | undefined): string {
  const parts = [`sentenceId ${turn.sentenceId}`];
  if (turn.status !== 200) parts.push(turn.status === 0 ? 'no response' : `HTTP ${turn.status}`);
  parts.push(`first token ${turn.ttftMs === null ? '-' : `${turn.ttftMs} ms`}`, `total ${turn.totalMs} ms`);
  if (turn.finishReason) parts.push(`finish ${turn.finishReason}`);
  if (turn.interrupted) {
    parts.push(turn.interruptedBy === 'barge-in' ? `cut by barge-in after ${bargeInMs} ms` : 'cut by the caller');
    parts.push(`kept in history: ${turn.historyRecord === null ? 'nothing' : JSON.stringify(turn.historyRecord)}`);
  }
  // Signals the call goes on after: ignored tool calls, keys pressed, language switches.
  const shown = turn.signals.filter((s) => s.type === 'ignored-tool-call' || s.type === 'digits' || s.type === 'language');
  if (shown.length > 0) parts.push(shown.map(describeSignal).join('; '));
  return `  [${parts.join(' · ')}]`;
}

/** What the caller experiences when the agent ends the call. */
export function describeEnd(outcome: Exclude<CallOutcome, { type: 'continues' }>): string {
  if (outcome.type === 'transfer') {
    const to = outcome.callee ? ` to ${outcome.callee}` : '';
    const from = outcome.caller ? ` (caller number ${outcome.caller})` : '';
    const says = outcome.msg ? `, saying ${JSON.stringify(outcome.msg)}` : '';
    const fails = outcome.errMsg ? `; if the transfer fails: ${JSON.stringify(outcome.errMsg)}` : '';
    return `*** The agent transfers the call${to}${from}${says}${fails}. Call ended. ***`;
  }
  if (outcome.via === 'text-command') {
    const says = outcome.endword ? ` saying ${JSON.stringify(outcome.endword)}` : ' without an endword';
    return `*** The agent hangs up${says} (imsagent_hangup). Call ended. ***`;
  }
  if (outcome.via === 'message') return '*** The agent hangs up (its end-of-call message). Call ended. ***';
  return '*** The agent hangs up (hangup tool call). Call ended. ***';
}

/** The commands of this call: /remind and /dtmf only where the platform has them. */
function helpFor(call: SimulatedCall): string {
  const extra = [
    call.events.includes('reminder') ? '  /remind     stay silent until the platform prompts the agent (reminder_required)\n' : '',
    call.events.includes('dtmf') ? '  /dtmf KEYS  press keys (a dtmf message per key)\n' : '',
  ].join('');
  return INTERACTIVE_HELP + extra;
}

function formatHistory(call: SimulatedCall): string {
  const messages = call.history();
  if (messages.length === 0) return '(no conversation yet)\n';
  return `${messages.map((m) => `  ${m.role}: ${JSON.stringify(m.content)}`).join('\n')}\n`;
}
