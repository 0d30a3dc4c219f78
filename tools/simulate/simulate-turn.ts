import { streamChat, type StreamedTurn } from '../client/stream-chat.ts';
import { SYNTHETIC_HEADER } from '../../src/protocol/synthetic-traffic.ts';
import { checkStreamRules, type StreamViolation } from '../check/stream-rules.ts';
import {
  callOutcome,
  DEFAULT_HANGUP_FUNCTION,
  describeSignal,
  detectCallSignals,
  spokenText,
  type CallOutcome,
  type CallSignal,
} from './call-signals.ts';
import { INTERRUPTION_MARKER, type ImsChatRequest, type ImsSession } from './ims-session.ts';
import type { PlatformRequestShape } from '../platforms/platform-requests.ts';

/** Where the simulated workflow sends its requests, and how it reads the answers. */
export interface SimulatorConnection {
  /** The base URL typed into the console; `/chat/completions` is appended. */
  baseUrl: string;
  apiKey: string;
  /** OpenAIExtraQuery, e.g. `task_id=1&room_id=2`. */
  query?: string;
  /** The FunctionMap's MatchFunction for hangup (default `hangup`). */
  hangupFunction?: string;
  /** Give up on a turn that has not finished after this long (default {@link DEFAULT_TURN_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Called with each request before it is sent (for --show-requests). */
  onRequest?: (body: ImsChatRequest | PlatformChatRequest) => void;
  /** Another platform than IMS: each turn goes in its shape, to its path under baseUrl (the server's root). */
  platform?: PlatformRequestShape;
}

/** A turn's request in another platform's shape. */
export interface PlatformChatRequest extends Record<string, unknown> {
  model: string;
  stream: true;
}

export const DEFAULT_TURN_TIMEOUT_MS = 60_000;

export interface TurnRunOptions {
  /** Close the connection this long after the first content, like a caller speaking over the answer. */
  bargeInMs?: number;
  /** Aborting it cuts the answer like a caller speaking over it (the interactive `/interrupt`). */
  signal?: AbortSignal;
  /** Each piece of content as it arrives. */
  onText?: (text: string) => void;
}

export interface TurnResult {
  sentenceId: number;
  said: string;
  /** HTTP status; 0 when no response came. */
  status: number;
  /** The content received, as sent (text commands included). */
  answer: string;
  /** What the caller hears: commands replaced by their endword / msg. */
  spoken: string;
  /** ms from the request to the first content; null when none came. */
  ttftMs: number | null;
  totalMs: number;
  finishReason: string | null;
  sawDone: boolean;
  /** The connection was closed before the answer ended. */
  interrupted: boolean;
  interruptedBy?: 'barge-in' | 'caller';
  toolCalls: Array<{ name: string; arguments: string; id?: string }>;
  signals: CallSignal[];
  outcome: CallOutcome;
  violations: StreamViolation[];
  /** What makes the turn fail. */
  problems: string[];
  /** Worth knowing, not a failure. */
  warnings: string[];
  /** No usable answer came (network error, non-200, not a stream, timeout): the call cannot go on. */
  fatal: boolean;
  /** The assistant message the workflow keeps for this answer (null when none). */
  historyRecord: string | null;
  /** How many messages the request carried. */
  messagesSent: number;
}

/** Rules that an answer cut on purpose cannot meet: they are not checked on interrupted turns. */
const RULES_OF_A_WHOLE_STREAM = new Set(['done', 'finish', 'non-empty']);

/**
 * One question and answer: the caller says `utterance`, the request is built by the session and
 * sent with {@link streamChat}, the answer is read (and cut, for a barge-in), checked against the
 * stream rules, its call signals detected, and recorded in the session's history.
 */
export async function simulateTurn(
  session: ImsSession,
  connection: SimulatorConnection,
  utterance: string,
  options: TurnRunOptions = {},
): Promise<TurnResult> {
  const { sentenceId, body: imsBody } = session.ask(utterance);
  const platform = connection.platform;
  // The same conversation, in the platform's own body, headers and path.
  const body = platform ? { model: imsBody.model, stream: true as const, ...platform.body(imsBody.messages, sentenceId) } : imsBody;
  const baseUrl = platform ? connection.baseUrl.replace(/\/+$/, '') + platform.base : connection.baseUrl;
  connection.onRequest?.(body);
  const timeoutMs = connection.timeoutMs ?? DEFAULT_TURN_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const result = newTurnResult(sentenceId, utterance, imsBody.messages.length);

  const started = performance.now();
  let turn: StreamedTurn;
  try {
    turn = await streamChat({
      baseUrl,
      apiKey: connection.apiKey,
      body,
      headers: { ...platform?.headers(sentenceId), [SYNTHETIC_HEADER]: 'simulate' },
      ...(connection.query ? { query: connection.query } : {}),
      signal,
      ...(options.onText ? { onText: options.onText } : {}),
      ...(options.bargeInMs !== undefined ? { stopAfterFirstContentMs: options.bargeInMs } : {}),
    });
  } catch (error) {
    result.totalMs = round(performance.now() - started);
    if (timeout.aborted) {
      result.problems.push(`no answer within ${timeoutMs} ms`);
      result.fatal = true;
    } else if (options.signal?.aborted) {
      // The caller spoke before any answer came: nothing was heard, nothing to keep.
      result.interrupted = true;
      result.interruptedBy = 'caller';
      result.historyRecord = session.recordAnswer('', { interrupted: true })?.content ?? null;
    } else {
      result.problems.push(`no answer: ${describeError(error)}`);
      result.fatal = true;
    }
    return result;
  }

  result.status = turn.status;
  result.totalMs = round(turn.totalMs);
  if (turn.status !== 200) {
    result.problems.push(`HTTP ${turn.status}${turn.body ? `: ${excerpt(turn.body)}` : ''}`);
    result.fatal = true;
    return result;
  }
  if (turn.body !== undefined) {
    result.problems.push(`the answer is ${turn.contentType || 'of no content type'}, not an SSE stream (text/event-stream)`);
    result.fatal = true;
    return result;
  }

  result.answer = turn.text;
  result.spoken = spokenText(turn.text);
  result.ttftMs = turn.ttftMs === undefined ? null : round(turn.ttftMs);
  result.finishReason = turn.finishReason;
  result.sawDone = turn.sawDone;
  result.toolCalls = turn.toolCalls.map((c) => ({ name: c.name, arguments: c.arguments, ...(c.id ? { id: c.id } : {}) }));
  result.interrupted = turn.stopped && !turn.sawDone;
  if (result.interrupted) {
    if (timeout.aborted) {
      result.problems.push(`the answer did not end within ${timeoutMs} ms`);
      result.fatal = true;
      result.interrupted = false;
    } else {
      result.interruptedBy = options.signal?.aborted ? 'caller' : 'barge-in';
    }
  }

  const violations = checkStreamRules(turn.chunks, turn.sawDone);
  result.violations = result.interrupted ? violations.filter((v) => !RULES_OF_A_WHOLE_STREAM.has(v.rule)) : violations;
  for (const v of result.violations) {
    result.problems.push(`stream rule "${v.rule}": ${v.message}${v.eventIndex === undefined ? '' : ` (event ${v.eventIndex})`}`);
  }
  if (turn.afterDone > 0) result.problems.push(`${turn.afterDone} event(s) after data: [DONE]`);

  result.signals = detectCallSignals(
    turn.text,
    result.toolCalls,
    connection.hangupFunction ?? platform?.endTool ?? DEFAULT_HANGUP_FUNCTION,
    platform?.transferTool,
  );
  result.outcome = callOutcome(result.signals);
  for (const signal of result.signals) {
    if (signal.type === 'ignored-tool-call') result.warnings.push(describeSignal(signal));
  }
  if (turn.outcome === 'apology') {
    result.warnings.push(
      "the answer is the gateway's apology: every upstream model failed (check the upstream with voice-llm-gateway doctor)",
    );
  }
  if (turn.text.toLowerCase().includes('ims_agent_interrupted')) {
    result.problems.push(`the answer contains the interruption marker ${INTERRUPTION_MARKER}: it would be spoken`);
  }
  const heard = result.spoken.trim() !== '';
  if (!result.interrupted && !result.fatal && !heard) {
    if (result.outcome.type === 'continues') result.problems.push('silence: the answer carried no text and no call signal');
    else if (result.outcome.type === 'hangup') result.warnings.push('the call ended without a word to the caller');
  }

  if (!result.fatal) {
    result.historyRecord = session.recordAnswer(turn.text, { interrupted: result.interrupted })?.content ?? null;
  }
  return result;
}

function round(ms: number): number {
  return Math.round(ms);
}

function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  const detail = cause instanceof Error ? cause.message : cause !== undefined ? String(cause) : '';
  return detail && detail !== error.message ? `${error.message} (${detail})` : error.message;
}

/** A turn's result before anything was heard: no answer, no signal, no finding yet. */
export function newTurnResult(sentenceId: number, said: string, messagesSent: number): TurnResult {
  return {
    sentenceId,
    said,
    status: 0,
    answer: '',
    spoken: '',
    ttftMs: null,
    totalMs: 0,
    finishReason: null,
    sawDone: false,
    interrupted: false,
    toolCalls: [],
    signals: [],
    outcome: { type: 'continues' },
    violations: [],
    problems: [],
    warnings: [],
    fatal: false,
    historyRecord: null,
    messagesSent,
  };
}
