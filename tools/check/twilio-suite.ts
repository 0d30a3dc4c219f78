/**
 * `check --platform twilio`: a server checked against the rules Twilio ConversationRelay holds
 * its WebSocket to, each case on its own socket (its own call): the handshake signed when an Auth
 * Token is given, then `setup`, then prompts.
 */

import { SYNTHETIC_HEADER } from '../../src/protocol/synthetic-traffic.ts';
import { JsonSocket, RefusedUpgrade } from '../client/json-socket-client.ts';
import { twilio, twilioHandshakeHeaders, twilioSignedUrl } from '../platforms/socket-messages.ts';
import { fail, finding, runCases, skip, type CheckCase } from './run-cases.ts';
import { ASK_FOR_A_HUMAN, GOODBYE, IN_CHINESE, LONG_QUESTION, PRESS_A_KEY } from './check-questions.ts';
import { closeCase, newCheckCallId, onCall, violationFindings, wordFindings, type SocketCheckOptions } from './socket-suite.ts';
import { endShapeProblem, judgeTwilioAnswer, quoteEvent } from './socket-rules.ts';
import type { CheckFinding, CheckReport } from './suite.ts';

type Event = Record<string, unknown>;

/** Words of the answer still in flight when the interrupt was sent may arrive this long after it. */
const INTERRUPT_GRACE_MS = 500;
/** How long the interrupt case watches for the answer going on. */
const INTERRUPT_WATCH_MS = 1_500;
/** How long after an answer's last text an `end` may follow. */
const END_GRACE_MS = 250;

function signedUrl(options: SocketCheckOptions): string {
  return options.signedUrl ?? twilioSignedUrl(options.url);
}

async function openCall(options: SocketCheckOptions): Promise<{ socket: JsonSocket }> {
  const socket = await JsonSocket.connect(
    options.url.toString(),
    { ...twilioHandshakeHeaders(options.authToken, signedUrl(options)), [SYNTHETIC_HEADER]: 'check' },
    options.timeoutMs,
  );
  socket.send(
    twilio.setup({
      callId: newCheckCallId('CA'),
      callerNumber: '+16505550199',
      calleeNumber: '+14155550123',
      userData: { customerName: 'Ada' },
    }),
  );
  return { socket };
}

/** Sends a prompt and reads the answer: the events up to its `last: true` text, and an `end` right after it. */
async function ask(
  socket: JsonSocket,
  words: string,
  timeoutMs: number,
): Promise<{ events: Event[]; text: string; complete: boolean; end: Event | undefined }> {
  const from = socket.received.length;
  socket.send(twilio.prompt(words));
  const last = await socket.next((e) => (e.type === 'text' && e.last === true) || e.type === 'end', from, timeoutMs);
  let upTo = last === undefined ? socket.received.length : socket.received.indexOf(last) + 1;
  let end = last?.event.type === 'end' ? last.event : undefined;
  if (last !== undefined && end === undefined) {
    const after = await socket.next((e) => e.type === 'end', upTo, END_GRACE_MS);
    if (after !== undefined) {
      end = after.event;
      upTo = socket.received.indexOf(after) + 1;
    }
  }
  const events = socket.received.slice(from, upTo).map((r) => r.event);
  const text = events
    .filter((e) => e.type === 'text' && typeof e.token === 'string')
    .map((e) => e.token)
    .join('');
  return { events, text, complete: last !== undefined, end };
}

type Case = CheckCase<SocketCheckOptions>;

const answerCase: Case = {
  id: 'twilio-answer',
  title: 'a prompt is answered with text tokens, the last with last: true',
  run: (options) =>
    onCall(openCall(options), async ({ socket }) => {
      const answer = await ask(socket, 'Hello, can you hear me?', options.timeoutMs);
      const findings = [
        ...violationFindings(judgeTwilioAnswer(answer.events, answer.end !== undefined).violations),
        ...wordFindings(answer.text, answer.complete),
      ];
      const tokens = answer.events.filter((e) => e.type === 'text').length;
      return {
        summary: answer.complete ? `${tokens} text message(s): ${JSON.stringify(answer.text).slice(0, 80)}` : 'no last: true',
        findings,
      };
    }),
};

const interruptCase: Case = {
  id: 'twilio-interrupt',
  title: 'an interrupt stops the answer, and the next prompt is answered',
  run: (options) =>
    onCall(openCall(options), async ({ socket }) => {
      const from = socket.received.length;
      socket.send(twilio.prompt(LONG_QUESTION));
      const words = await socket.next((e) => e.type === 'text' && typeof e.token === 'string' && e.token !== '', from, options.timeoutMs);
      if (words === undefined)
        return { summary: 'no answer', findings: [finding('socket-timeout', `no words within ${options.timeoutMs} ms`)] };
      const heard = () =>
        socket.received
          .slice(from)
          .map((r) => r.event)
          .filter((e) => e.type === 'text')
          .map((e) => String(e.token))
          .join('');
      if (socket.received.slice(from).some((r) => r.event.type === 'text' && r.event.last === true)) {
        return skip('the answer was complete before the interrupt could be sent: not exercised');
      }
      const interruptAt = performance.now();
      const watchFrom = socket.received.length;
      socket.send(twilio.interrupt(heard(), interruptAt - words.at));
      await socket.next((e) => e.type === 'text' && e.last === true, watchFrom, INTERRUPT_WATCH_MS);
      const late = socket.received.slice(watchFrom).filter((r) => r.event.type === 'text' && r.at - interruptAt > INTERRUPT_GRACE_MS);
      const findings: CheckFinding[] = [];
      if (late.length > 0) {
        findings.push(
          fail(
            'twilio-interrupt',
            `${late.length} text message(s) of the interrupted answer came more than ${INTERRUPT_GRACE_MS} ms after the interrupt`,
            undefined,
            quoteEvent(late[0]!.event),
          ),
        );
      }
      const next = await ask(socket, 'Are you still there?', options.timeoutMs);
      findings.push(...violationFindings(judgeTwilioAnswer(next.events, next.end !== undefined).violations));
      return {
        summary: late.length === 0 ? 'the answer stopped; the next prompt was answered' : 'the answer went on after the interrupt',
        findings,
      };
    }),
};

/** The `end` message an answer closed with, if any. */
async function endAnswer(options: SocketCheckOptions, words: string): Promise<{ end: Event | undefined; findings: CheckFinding[] }> {
  const { socket } = await openCall(options);
  const findings: CheckFinding[] = [];
  try {
    const answer = await ask(socket, words, options.timeoutMs);
    findings.push(
      ...violationFindings(
        judgeTwilioAnswer(answer.events, answer.end !== undefined).violations.filter((v) => v.rule !== 'twilio-end-shape'),
      ),
    );
    return { end: answer.end, findings };
  } finally {
    await closeCase(socket, findings);
  }
}

const endCase: Case = {
  id: 'twilio-end',
  title: 'an end message carries handoffData as a JSON string',
  async run(options) {
    const bye = await endAnswer(options, GOODBYE);
    const human = await endAnswer(options, ASK_FOR_A_HUMAN);
    const findings = [...bye.findings, ...human.findings];
    const ends = [bye.end, human.end].filter((e): e is Event => e !== undefined);
    if (ends.length === 0) return { ...skip('the agent sent no end on a goodbye or a request for a human: not exercised'), findings };
    for (const end of ends) {
      const problem = endShapeProblem(end);
      if (problem) findings.push(finding('twilio-end-shape', problem, quoteEvent(end)));
    }
    return { summary: ends.map((e) => (typeof e.handoffData === 'string' ? e.handoffData : quoteEvent(e))).join('; '), findings };
  },
};

const badMessagesCase: Case = {
  id: 'twilio-bad-messages',
  title: 'messages the server cannot read leave the session open, and the next prompt is answered',
  run: (options) =>
    onCall(openCall(options), async ({ socket }) => {
      socket.send('this is not JSON', true);
      socket.send({ type: 'something_new', detail: 1 });
      socket.send({ type: 'prompt', voicePrompt: 42 });
      const answer = await ask(socket, 'Hello, are you there?', options.timeoutMs);
      if (socket.closed !== undefined) return { summary: `closed with ${socket.closed.code}`, findings: [] };
      return {
        summary: answer.complete ? 'still open, the next prompt answered' : 'still open, the next prompt unanswered',
        findings: violationFindings(judgeTwilioAnswer(answer.events, answer.end !== undefined).violations),
      };
    }),
};

const signatureCase: Case = {
  id: 'twilio-signature',
  title: 'a handshake with a wrong X-Twilio-Signature is refused',
  async run(options) {
    if (options.authToken === undefined) return skip('no Auth Token given (--api-key): the signature rule is not exercised');
    const forged = { ...twilioHandshakeHeaders(`${options.authToken}-wrong`, signedUrl(options)), [SYNTHETIC_HEADER]: 'check' };
    try {
      const socket = await JsonSocket.connect(options.url.toString(), forged, options.timeoutMs);
      await socket.close();
      return {
        summary: 'accepted',
        findings: [fail('twilio-signature', 'a handshake signed with another token was accepted: anyone who finds the URL can open calls')],
      };
    } catch (error) {
      if (error instanceof RefusedUpgrade) return { summary: `refused with HTTP ${error.status}`, findings: [] };
      throw error;
    }
  },
};

/** The messages of an answer, and what follows its last text within the grace (a sendDigits comes after it). */
async function answerAndAfter(socket: JsonSocket, words: string, lang: string, timeoutMs: number): Promise<Event[]> {
  const from = socket.received.length;
  socket.send(twilio.prompt(words, lang));
  const last = await socket.next((e) => (e.type === 'text' && e.last === true) || e.type === 'end', from, timeoutMs);
  if (last !== undefined) await socket.next(() => false, socket.received.length, END_GRACE_MS);
  return socket.received.slice(from).map((r) => r.event);
}

/**
 * A menu read out (an agent that presses keys sends sendDigits) and, on another call set up in
 * en-US, a prompt in Chinese (an auto-language agent switches the session with `language`): each
 * message that comes is held to its shape, and sendDigits to coming after the answer's text.
 */
const digitsCase: Case = {
  id: 'twilio-send-digits-language',
  title: "sendDigits carries only 0-9*#w after the answer's text; language carries ttsLanguage and transcriptionLanguage",
  async run(options) {
    const seen: string[] = [];
    const unseen: string[] = [];
    const judged = (events: Event[]) =>
      violationFindings(
        judgeTwilioAnswer(events).violations.filter((v) => v.rule === 'twilio-send-digits' || v.rule === 'twilio-language'),
      );
    const keypad = await onCall(openCall(options), async ({ socket }) => {
      const events = await answerAndAfter(socket, PRESS_A_KEY, 'en-US', options.timeoutMs);
      const presses = events.filter((e) => e.type === 'sendDigits');
      if (presses.length === 0)
        unseen.push(`no sendDigits when the caller said ${JSON.stringify(PRESS_A_KEY)} (not every agent presses keys)`);
      else seen.push(`sendDigits ${presses.map((e) => JSON.stringify(e.digits)).join(', ')}`);
      return { summary: '', findings: judged(events) };
    });
    const switching = await onCall(openCall(options), async ({ socket }) => {
      const events = await answerAndAfter(socket, IN_CHINESE, 'en-US', options.timeoutMs);
      const switches = events.filter((e) => e.type === 'language');
      if (switches.length === 0)
        unseen.push('no language message for a prompt in Chinese on an en-US session (the agent may keep one language)');
      else seen.push(`language ${switches.map((e) => `${String(e.ttsLanguage)}/${String(e.transcriptionLanguage)}`).join(', ')}`);
      return { summary: '', findings: judged(events) };
    });
    const findings = [...keypad.findings, ...switching.findings];
    if (seen.length === 0) return { ...skip(`not exercised: ${unseen.join('; ')}`), findings };
    return { summary: [...seen, ...unseen.map((u) => `not exercised: ${u}`)].join('; '), findings };
  },
};

export const TWILIO_CASES: readonly Case[] = [answerCase, interruptCase, endCase, badMessagesCase, signatureCase, digitsCase];

export function runTwilioSuite(options: SocketCheckOptions): Promise<CheckReport> {
  return runCases(TWILIO_CASES, options, {
    target: `Twilio ConversationRelay WebSocket at ${options.url.toString()}${options.authToken === undefined ? ' (unsigned)' : ' (signed)'}`,
    baseUrl: options.url.toString(),
    alternateBaseUrl: options.url.toString(),
    model: "(the server's agent)",
    timeoutMs: options.timeoutMs,
  });
}
