/**
 * `check --platform retell`: a server checked against the rules Retell holds its custom LLM
 * WebSocket to, each case on its own socket (its own call), the way Retell opens it:
 * `{url}/{call_id}`, then `call_details` when the server's config asks for it.
 */

import { SYNTHETIC_HEADER } from '../../src/protocol/synthetic-traffic.ts';
import { JsonSocket } from '../client/json-socket-client.ts';
import { retell, retellCallUrl, type RetellUtterance } from '../platforms/socket-messages.ts';
import { fail, finding, runCases, skip, type CheckCase } from './run-cases.ts';
import { ASK_FOR_A_HUMAN, GOODBYE, LONG_QUESTION, PRESS_A_KEY } from './check-questions.ts';
import { closeCase, newCheckCallId, onCall, pause, violationFindings, wordFindings, type SocketCheckOptions } from './socket-suite.ts';
import { digitToPressProblem, judgeRetellAnswer, quoteEvent } from './socket-rules.ts';
import type { CheckFinding, CheckReport } from './suite.ts';

type Event = Record<string, unknown>;

interface RetellCase {
  socket: JsonSocket;
  config: Event | undefined;
  /** The begin message's events (response_id 0) once content_complete; undefined when it never came. */
  begin: Event[] | undefined;
}

/** Retell reconnects when a ping goes unanswered this long. */
const PONG_WITHIN_MS = 5_000;

async function openCall(options: SocketCheckOptions): Promise<RetellCase> {
  const callId = newCheckCallId('call_');
  const socket = await JsonSocket.connect(retellCallUrl(options.url, callId), { [SYNTHETIC_HEADER]: 'check' }, options.timeoutMs);
  const config = (await socket.next((e) => e.response_type === 'config', 0, 1_000))?.event;
  const settings = (config?.config ?? {}) as Event;
  if (settings.call_details === true) {
    socket.send(
      retell.callDetails({ callId, callerNumber: '+16505550199', calleeNumber: '+14155550123', userData: { customerName: 'Ada' } }),
    );
  }
  const complete = await socket.next(
    (e) => e.response_type === 'response' && e.response_id === 0 && e.content_complete === true,
    0,
    options.timeoutMs,
  );
  const begin = complete === undefined ? undefined : socket.received.map((r) => r.event).filter((e) => e.response_id === 0);
  return { socket, config, begin };
}

/** The caller's words as Retell's transcript, after the begin message if there was one. */
function transcriptAfter(call: RetellCase, ...said: string[]): RetellUtterance[] {
  const greeting = (call.begin ?? []).map((e) => (typeof e.content === 'string' ? e.content : '')).join('');
  const utterances: RetellUtterance[] = greeting === '' ? [] : [{ role: 'agent', content: greeting }];
  return [...utterances, ...said.map((content) => ({ role: 'user' as const, content }))];
}

/** Sends one turn and reads its answer: the events from the send to its content_complete (or the timeout). */
async function ask(call: RetellCase, message: Event, timeoutMs: number): Promise<{ events: Event[]; text: string; complete: boolean }> {
  const from = call.socket.received.length;
  const id = message.response_id;
  call.socket.send(message);
  const end = await call.socket.next(
    (e) => e.response_type === 'response' && e.response_id === id && e.content_complete === true,
    from,
    timeoutMs,
  );
  const upTo = end === undefined ? call.socket.received.length : call.socket.received.indexOf(end) + 1;
  const events = call.socket.received.slice(from, upTo).map((r) => r.event);
  const text = events
    .filter((e) => e.response_type === 'response' && e.response_id === id && typeof e.content === 'string')
    .map((e) => e.content)
    .join('');
  return { events, text, complete: end !== undefined };
}

type Case = CheckCase<SocketCheckOptions>;

const beginCase: Case = {
  id: 'retell-begin',
  title: 'the socket opens with the begin message (response_id 0, content_complete)',
  run: (options) =>
    onCall(openCall(options), async (call) => {
      if (call.begin === undefined) {
        return {
          summary: 'no begin message',
          findings: [finding('retell-begin', `no response with response_id 0 and content_complete true within ${options.timeoutMs} ms`)],
        };
      }
      const violations = judgeRetellAnswer(call.begin, 0).violations;
      const said = call.begin.map((e) => e.content).join('');
      return {
        summary: said === '' ? 'empty begin message (the caller speaks first)' : `begins: ${JSON.stringify(said).slice(0, 80)}`,
        findings: violationFindings(violations),
      };
    }),
};

const responseCase: Case = {
  id: 'retell-response',
  title: 'response_required is answered with its response_id, ending in content_complete',
  run: (options) =>
    onCall(openCall(options), async (call) => {
      const answer = await ask(call, retell.responseRequired(1, transcriptAfter(call, 'Hello, can you hear me?')), options.timeoutMs);
      const findings = [
        ...violationFindings(judgeRetellAnswer(answer.events, 1).violations),
        ...wordFindings(answer.text, answer.complete),
      ];
      return {
        summary: answer.complete ? `${answer.events.length} event(s): ${JSON.stringify(answer.text).slice(0, 80)}` : 'no content_complete',
        findings,
      };
    }),
};

const reminderCase: Case = {
  id: 'retell-reminder',
  title: 'reminder_required (the caller is silent) is answered like response_required',
  run: (options) =>
    onCall(openCall(options), async (call) => {
      const answer = await ask(call, retell.reminderRequired(1, transcriptAfter(call)), options.timeoutMs);
      const findings = [
        ...violationFindings(judgeRetellAnswer(answer.events, 1).violations),
        ...wordFindings(answer.text, answer.complete),
      ];
      return { summary: answer.complete ? `answered: ${JSON.stringify(answer.text).slice(0, 80)}` : 'no content_complete', findings };
    }),
};

const supersedeCase: Case = {
  id: 'retell-supersede',
  title: 'a newer response_id supersedes the answer still streaming',
  run: (options) =>
    onCall(openCall(options), async (call) => {
      const { socket } = call;
      const first = transcriptAfter(call, LONG_QUESTION);
      const from = socket.received.length;
      socket.send(retell.responseRequired(1, first));
      const words = await socket.next(
        (e) => e.response_id === 1 && typeof e.content === 'string' && e.content !== '',
        from,
        options.timeoutMs,
      );
      if (words === undefined)
        return {
          summary: 'no answer to response_id 1',
          findings: [finding('socket-timeout', `no words for response_id 1 within ${options.timeoutMs} ms`)],
        };
      if (socket.received.slice(from).some((r) => r.event.response_id === 1 && r.event.content_complete === true)) {
        return skip('the answer to response_id 1 was complete before response_id 2 could be sent: not exercised');
      }
      // The caller spoke over it: Retell sends the newer turn, and drops whatever comes for the older one.
      const second = await ask(
        call,
        retell.responseRequired(2, [...first, { role: 'user', content: 'Sorry, just tell me your opening hours.' }]),
        options.timeoutMs,
      );
      // Content of response 1 still in flight may follow for a moment: watch a little longer.
      await pause(300);
      const late = socket.received
        .slice(from)
        .map((r) => r.event)
        .filter(
          (e, i, all) =>
            e.response_id === 1 && (e.content !== '' || e.content_complete === true) && all.slice(0, i).some((x) => x.response_id === 2),
        );
      const findings = violationFindings(judgeRetellAnswer(second.events, 2).violations.filter((v) => v.rule !== 'retell-superseded'));
      if (late.length > 0) {
        findings.push(
          fail(
            'retell-superseded',
            `${late.length} event(s) for response_id 1 after the answer to response_id 2 began`,
            undefined,
            quoteEvent(late[0]!),
          ),
        );
      }
      return { summary: late.length === 0 ? 'response_id 1 stopped once response_id 2 began' : 'response_id 1 went on', findings };
    }),
};

const pingCase: Case = {
  id: 'retell-ping-pong',
  title: 'ping_pong is answered with the same timestamp (auto_reconnect)',
  run: (options) =>
    onCall(openCall(options), async (call) => {
      const settings = (call.config?.config ?? {}) as Event;
      if (settings.auto_reconnect !== true) return skip('the server did not ask for auto_reconnect in its config: Retell sends no pings');
      const timestamp = Date.now();
      const from = call.socket.received.length;
      call.socket.send(retell.pingPong(timestamp));
      const pong = await call.socket.next((e) => e.response_type === 'ping_pong', from, Math.min(PONG_WITHIN_MS, options.timeoutMs));
      if (pong === undefined)
        return {
          summary: 'no pong',
          findings: [finding('retell-ping-pong', `no ping_pong within ${PONG_WITHIN_MS} ms: Retell reconnects`)],
        };
      return pong.event.timestamp === timestamp
        ? { summary: 'pong with the same timestamp', findings: [] }
        : {
            summary: 'pong with another timestamp',
            findings: [finding('retell-ping-pong', "the ping_pong answer does not carry the ping's timestamp", quoteEvent(pong.event))],
          };
    }),
};

const errorsCase: Case = {
  id: 'retell-bad-messages',
  title: 'messages the server cannot read leave the socket open (no close 1000) and the call goes on',
  run: (options) =>
    onCall(openCall(options), async (call) => {
      const { socket } = call;
      socket.send('this is not JSON', true);
      socket.send({ interaction_type: 'something_new', detail: 1 });
      socket.send({ interaction_type: 'response_required', response_id: 'one', transcript: 'not a list' });
      const answer = await ask(call, retell.responseRequired(1, transcriptAfter(call, 'Hello, are you there?')), options.timeoutMs);
      if (socket.closed !== undefined) return { summary: `closed with ${socket.closed.code}`, findings: [] };
      const findings = violationFindings(judgeRetellAnswer(answer.events, 1).violations);
      return { summary: answer.complete ? 'still open, the next turn answered' : 'still open, the next turn unanswered', findings };
    }),
};

/** The last response of an answer that ends or transfers the call, shaped as Retell reads it. */
async function actionAnswer(options: SocketCheckOptions, words: string): Promise<{ action: Event | undefined; findings: CheckFinding[] }> {
  const call = await openCall(options);
  const findings: CheckFinding[] = [];
  try {
    const answer = await ask(call, retell.responseRequired(1, transcriptAfter(call, words)), options.timeoutMs);
    findings.push(...violationFindings(judgeRetellAnswer(answer.events, 1).violations));
    const action = answer.events.find((e) => e.response_type === 'response' && (e.end_call === true || e.transfer_number !== undefined));
    return { action, findings };
  } finally {
    await closeCase(call.socket, findings);
  }
}

const actionsCase: Case = {
  id: 'retell-call-actions',
  title: 'end_call and transfer_number are well shaped, on the content_complete event',
  async run(options) {
    const bye = await actionAnswer(options, GOODBYE);
    const human = await actionAnswer(options, ASK_FOR_A_HUMAN);
    const findings = [...bye.findings, ...human.findings];
    const seen = [bye.action && 'end_call', human.action?.transfer_number !== undefined && 'transfer_number'].filter(Boolean);
    if (bye.action === undefined && human.action === undefined && !findings.some((f) => f.rule === 'retell-action-shape')) {
      return { ...skip('the agent neither ended nor transferred the call on a goodbye or a request for a human: not exercised'), findings };
    }
    return { summary: `seen: ${seen.join(', ') || 'end_call or transfer_number on another answer'}`, findings };
  },
};

/**
 * A menu read out to the agent: an agent that presses keys answers with digit_to_press. Checked
 * on every event of the answer (one put on another event or response_id is a finding too).
 */
const digitCase: Case = {
  id: 'retell-digit-to-press',
  title: "digit_to_press is one key of 0-9*# on a response with the turn's response_id",
  run: (options) =>
    onCall(openCall(options), async (call) => {
      const answer = await ask(call, retell.responseRequired(1, transcriptAfter(call, PRESS_A_KEY)), options.timeoutMs);
      const findings = violationFindings(judgeRetellAnswer(answer.events, 1).violations.filter((v) => v.rule !== 'retell-digit-to-press'));
      const presses = answer.events.filter((e) => e.digit_to_press !== undefined);
      if (presses.length === 0) {
        return {
          ...skip(
            `the agent pressed no key when the caller said ${JSON.stringify(PRESS_A_KEY)}: not every agent can (pressDigits), not exercised`,
          ),
          findings,
        };
      }
      for (const event of presses) {
        const problem = digitToPressProblem(event, 1);
        if (problem) findings.push(finding('retell-digit-to-press', problem, quoteEvent(event)));
      }
      return { summary: `pressed ${presses.map((e) => JSON.stringify(e.digit_to_press)).join(', ')}`, findings };
    }),
};

export const RETELL_CASES: readonly Case[] = [
  beginCase,
  responseCase,
  reminderCase,
  supersedeCase,
  pingCase,
  errorsCase,
  actionsCase,
  digitCase,
];

export function runRetellSuite(options: SocketCheckOptions): Promise<CheckReport> {
  const masked = withoutPathSecret(options.url);
  const shown = retellCallUrl(masked, '{call_id}').replace('%7Bcall_id%7D', '{call_id}').replace('%3Csecret%3E', '<secret>');
  return runCases(RETELL_CASES, options, {
    target: `Retell's custom LLM WebSocket at ${shown}`,
    baseUrl: masked.toString().replace('%3Csecret%3E', '<secret>'),
    alternateBaseUrl: masked.toString().replace('%3Csecret%3E', '<secret>'),
    model: "(the server's agent)",
    timeoutMs: options.timeoutMs,
  });
}

/** The console URL as reports show it: its last path segment is the socket's only credential. */
function withoutPathSecret(url: URL): URL {
  const masked = new URL(url);
  masked.pathname = masked.pathname.replace(/\/[^/]+\/*$/, '/<secret>');
  return masked;
}
