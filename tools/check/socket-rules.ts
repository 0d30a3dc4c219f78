/**
 * The rules Retell and Twilio ConversationRelay hold a custom-LLM WebSocket to, judged on the
 * events a server sent for one answer. Shared by `simulate --platform retell|twilio` (a turn that
 * breaks one fails) and `check --platform retell|twilio` (each finding quotes the message).
 * Sources: docs/platforms/retell.md, docs/platforms/twilio.md and the vendors' pages they cite.
 */

import type { RuleInfo } from './check-rules.ts';
import type { StreamViolation } from './stream-rules.ts';

type Event = Record<string, unknown>;

/** Each socket rule: which case reports it, how serious it is, how to fix it. */
export const SOCKET_RULES: Readonly<Record<string, RuleInfo>> = {
  'socket-json': { caseId: '', severity: 'fail', fix: 'Send every message as one JSON object in a text frame.' },
  'socket-closed': {
    caseId: '',
    severity: 'fail',
    fix: 'Keep the socket open for the whole call: the platform ends the call itself (for Retell a close with 1000 is a hang-up).',
  },
  'socket-close-1000': {
    caseId: '',
    severity: 'fail',
    fix: 'Never close the socket with 1000 on your own errors (Retell hangs up on it): answer with an apology and keep the socket open; close with 1011 or 1012 only to make Retell reconnect.',
  },
  'socket-timeout': {
    caseId: '',
    severity: 'fail',
    fix: 'Answer every turn, and finish the answer, within the timeout: a turn left unanswered is silence on the call.',
  },
  'retell-begin': {
    caseId: 'retell-begin',
    severity: 'warn',
    fix: 'Send a "response" with response_id 0 and content_complete true as soon as the socket opens (empty content to let the caller speak first).',
  },
  'retell-response-shape': {
    caseId: 'retell-response',
    severity: 'fail',
    fix: 'Give every "response" an integer response_id, a string content and a boolean content_complete (Retell drops events with other types).',
  },
  'retell-response-id': {
    caseId: 'retell-response',
    severity: 'fail',
    fix: 'Answer each response_required (or reminder_required) with events carrying its response_id, and no other.',
  },
  'retell-content-complete': {
    caseId: 'retell-response',
    severity: 'fail',
    fix: 'End every answer with a "response" whose content_complete is true (with empty content if the words were all sent).',
  },
  'retell-after-complete': {
    caseId: 'retell-response',
    severity: 'fail',
    fix: 'Send nothing more for a response_id once its content_complete event was sent.',
  },
  'retell-superseded': {
    caseId: 'retell-supersede',
    severity: 'fail',
    fix: 'When a newer response_id arrives, stop the older answer at once: Retell drops its content, and the model keeps running for nothing.',
  },
  'retell-action-shape': {
    caseId: 'retell-call-actions',
    severity: 'fail',
    fix: 'Put end_call (boolean) or transfer_number (a phone number string), never both, on the content_complete event of the answer.',
  },
  'retell-response-type': {
    caseId: 'retell-response',
    severity: 'warn',
    fix: 'Send only Retell response types: config, response, ping_pong, agent_interrupt, tool_call_invocation, tool_call_result, update_agent, metadata.',
  },
  'retell-ping-pong': {
    caseId: 'retell-ping-pong',
    severity: 'fail',
    fix: 'Answer every ping_pong at once with {"response_type":"ping_pong","timestamp":<the same timestamp>}: Retell reconnects after 5 s without one.',
  },
  'retell-digit-to-press': {
    caseId: 'retell-digit-to-press',
    severity: 'fail',
    fix: 'Send digit_to_press as exactly one key ("0"-"9", "*" or "#") on a "response" with the turn\'s response_id (Retell presses it once the content is spoken), never with end_call or transfer_number; for several keys, press one per answer.',
  },
  'twilio-message-type': {
    caseId: 'twilio-answer',
    severity: 'fail',
    fix: 'Send only ConversationRelay messages: text, play, sendDigits, language, end (Twilio rejects others with error 64107).',
  },
  'twilio-text-shape': {
    caseId: 'twilio-answer',
    severity: 'fail',
    fix: 'Send each piece as {"type":"text","token":"<words>","last":false}: token a string, last a boolean.',
  },
  'twilio-last': {
    caseId: 'twilio-answer',
    severity: 'fail',
    fix: 'End every answer with a text message whose last is true (token "" if the words were all sent): Twilio waits for it.',
  },
  'twilio-after-last': {
    caseId: 'twilio-answer',
    severity: 'warn',
    fix: 'Send no more text for an answer after its last: true.',
  },
  'twilio-end-shape': {
    caseId: 'twilio-end',
    severity: 'fail',
    fix: 'Send {"type":"end","handoffData":"<JSON text>"}: handoffData is a string holding JSON (e.g. JSON.stringify({reasonCode:"end-call"})), never an object.',
  },
  'twilio-send-digits': {
    caseId: 'twilio-send-digits-language',
    severity: 'fail',
    fix: 'Send {"type":"sendDigits","digits":"<keys>"} with digits made only of 0-9, *, # and w (a half-second pause), after the answer\'s text ended with last: true.',
  },
  'twilio-language': {
    caseId: 'twilio-send-digits-language',
    severity: 'fail',
    fix: 'Send {"type":"language","ttsLanguage":"<code>","transcriptionLanguage":"<code>"} with both codes as non-empty strings (e.g. "cmn-CN" and "zh-CN").',
  },
  'twilio-signature': {
    caseId: 'twilio-signature',
    severity: 'fail',
    fix: 'Check X-Twilio-Signature (base64 HMAC-SHA1 of the URL Twilio requested, keyed with the Auth Token) on every handshake, and refuse a wrong one with 401 or 403.',
  },
  'twilio-interrupt': {
    caseId: 'twilio-interrupt',
    severity: 'fail',
    fix: 'On an interrupt message, stop the answer at once (abort the model): Twilio has stopped speaking it.',
  },
};

/** The Retell response types a server may send. */
const RETELL_RESPONSE_TYPES = new Set([
  'config',
  'response',
  'ping_pong',
  'agent_interrupt',
  'tool_call_invocation',
  'tool_call_result',
  'update_agent',
  'metadata',
]);
const TWILIO_MESSAGE_TYPES = new Set(['text', 'play', 'sendDigits', 'language', 'end']);

/** The message as the finding quotes it. */
export function quoteEvent(event: Event, max = 300): string {
  const text = typeof event.unparsed === 'string' ? event.unparsed : JSON.stringify(event);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export interface RetellAnswerJudgement {
  violations: StreamViolation[];
  /** The answer's content_complete event came. */
  complete: boolean;
}

/**
 * The events received since `response_required` (or `reminder_required`) `responseId` was sent,
 * judged: every response well typed and for this id (an older id only until this one starts),
 * ending with content_complete, and its actions well shaped. `cut`: the answer was cut on
 * purpose (barge-in, timeout), so a missing content_complete is not blamed.
 */
export function judgeRetellAnswer(events: readonly Event[], responseId: number, cut = false): RetellAnswerJudgement {
  const violations: StreamViolation[] = [];
  const add = (rule: string, message: string, index: number, event: Event) =>
    violations.push({ rule, message, eventIndex: index, quote: quoteEvent(event) });
  let started = false;
  let complete = false;
  events.forEach((event, index) => {
    if (typeof event.unparsed === 'string') return add('socket-json', 'a frame is not a JSON object', index, event);
    const type = event.response_type;
    if (typeof type !== 'string' || !RETELL_RESPONSE_TYPES.has(type)) {
      return add('retell-response-type', `response_type ${JSON.stringify(type)} is not one Retell knows`, index, event);
    }
    if (type !== 'response') return;
    const id = event.response_id;
    if (!Number.isInteger(id) || typeof event.content !== 'string' || typeof event.content_complete !== 'boolean') {
      return add(
        'retell-response-shape',
        'a response needs an integer response_id, a string content and a boolean content_complete',
        index,
        event,
      );
    }
    if (id !== responseId) {
      const older = (id as number) < responseId;
      if (!older) add('retell-response-id', `a response for response_id ${id}, which Retell never asked for`, index, event);
      else if (started && (event.content !== '' || event.content_complete === true))
        add('retell-superseded', `more of the answer to response_id ${id} after the answer to ${responseId} began`, index, event);
      return;
    }
    if (complete) return add('retell-after-complete', `response_id ${id} goes on after its content_complete`, index, event);
    started = true;
    const shape = actionShapeProblem(event);
    if (shape) add('retell-action-shape', shape, index, event);
    const digit = digitToPressProblem(event, responseId);
    if (digit) add('retell-digit-to-press', digit, index, event);
    if (event.content_complete === true) complete = true;
  });
  if (!complete && !cut) {
    violations.push({ rule: 'retell-content-complete', message: `no response for response_id ${responseId} had content_complete true` });
  }
  return { violations, complete };
}

/** The keys Retell presses. */
const RETELL_KEY = /^[0-9*#]$/;

/**
 * What is wrong with an event's digit_to_press, if anything: exactly one key, on a `response`
 * for the turn's response_id, not with end_call or transfer_number (they exclude each other).
 */
export function digitToPressProblem(event: Event, responseId: number): string | undefined {
  const digit = event.digit_to_press;
  if (digit === undefined) return undefined;
  if (event.response_type !== 'response') return `digit_to_press is on a ${JSON.stringify(event.response_type)} event, not a "response"`;
  if (event.response_id !== responseId)
    return `digit_to_press is on response_id ${JSON.stringify(event.response_id)}, not the turn's ${responseId}`;
  if (typeof digit !== 'string') return `digit_to_press is ${typeof digit}, not a string of one key`;
  if (!RETELL_KEY.test(digit)) return `digit_to_press ${JSON.stringify(digit)} is not exactly one key of 0-9, * or #`;
  if (event.end_call === true || event.transfer_number !== undefined)
    return 'digit_to_press excludes end_call and transfer_number (end_call wins)';
  return undefined;
}

/** What is wrong with an end_call / transfer_number, if anything. */
function actionShapeProblem(event: Event): string | undefined {
  const endCall = event.end_call;
  const transfer = event.transfer_number;
  if (endCall !== undefined && typeof endCall !== 'boolean') return 'end_call must be a boolean';
  if (transfer !== undefined && (typeof transfer !== 'string' || transfer.trim() === ''))
    return 'transfer_number must be a non-empty phone number string';
  const acts = endCall === true || transfer !== undefined;
  if (endCall === true && transfer !== undefined) return 'end_call and transfer_number exclude each other';
  if (acts && event.content_complete !== true) return 'end_call / transfer_number belong on the content_complete event';
  return undefined;
}

export interface TwilioAnswerJudgement {
  violations: StreamViolation[];
  /** The answer's `last: true` text came. */
  complete: boolean;
}

/** The events received since a `prompt` (or `dtmf`) was sent, judged by ConversationRelay's rules. */
export function judgeTwilioAnswer(events: readonly Event[], cut = false): TwilioAnswerJudgement {
  const violations: StreamViolation[] = [];
  const add = (rule: string, message: string, index: number, event: Event) =>
    violations.push({ rule, message, eventIndex: index, quote: quoteEvent(event) });
  let complete = false;
  events.forEach((event, index) => {
    if (typeof event.unparsed === 'string') return add('socket-json', 'a frame is not a JSON object', index, event);
    const type = event.type;
    if (typeof type !== 'string' || !TWILIO_MESSAGE_TYPES.has(type)) {
      return add('twilio-message-type', `type ${JSON.stringify(type)} is not a ConversationRelay message`, index, event);
    }
    if (type === 'end') {
      const problem = endShapeProblem(event);
      if (problem) add('twilio-end-shape', problem, index, event);
      return;
    }
    if (type === 'sendDigits') {
      const problem = sendDigitsProblem(event);
      if (problem) add('twilio-send-digits', problem, index, event);
      else if (!complete) add('twilio-send-digits', "sendDigits came before the answer's text ended (last: true)", index, event);
      return;
    }
    if (type === 'language') {
      const problem = languageProblem(event);
      if (problem) add('twilio-language', problem, index, event);
      return;
    }
    if (type !== 'text') return;
    if (typeof event.token !== 'string' || (event.last !== undefined && typeof event.last !== 'boolean')) {
      return add('twilio-text-shape', 'a text message needs a string token and a boolean last', index, event);
    }
    if (complete) return add('twilio-after-last', 'text after the answer ended with last: true', index, event);
    if (event.last === true) complete = true;
  });
  if (!complete && !cut) violations.push({ rule: 'twilio-last', message: 'no text message with last: true ended the answer' });
  return { violations, complete };
}

/** The keys ConversationRelay sends: digits, * and #, and w for a half-second pause. */
const TWILIO_KEYS = /^[0-9*#w]+$/;

/** What is wrong with a `sendDigits` message's digits, if anything. */
export function sendDigitsProblem(event: Event): string | undefined {
  const digits = event.digits;
  if (typeof digits !== 'string') return `digits is ${digits === undefined ? 'missing' : typeof digits}, not a string of keys`;
  if (!TWILIO_KEYS.test(digits)) return `digits ${JSON.stringify(digits)} holds more than 0-9, *, # and w`;
  return undefined;
}

/** What is wrong with a `language` message, if anything: both codes are non-empty strings. */
export function languageProblem(event: Event): string | undefined {
  const missing = (['ttsLanguage', 'transcriptionLanguage'] as const).filter(
    (field) => typeof event[field] !== 'string' || (event[field] as string).trim() === '',
  );
  return missing.length === 0 ? undefined : `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not a non-empty string`;
}

/** What is wrong with an `end` message, if anything: handoffData, when there, is a string holding JSON. */
export function endShapeProblem(event: Event): string | undefined {
  const data = event.handoffData;
  if (data === undefined) return undefined;
  if (typeof data !== 'string') return `handoffData is ${Array.isArray(data) ? 'an array' : typeof data}, not a string`;
  try {
    JSON.parse(data);
    return undefined;
  } catch {
    return 'handoffData is not JSON text';
  }
}
