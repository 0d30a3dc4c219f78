import { SYNTHETIC_HEADER } from '../../src/protocol/synthetic-traffic.ts';
import { JsonSocket, RefusedUpgrade } from '../client/json-socket-client.ts';
import { judgeTwilioAnswer } from '../check/socket-rules.ts';
import { twilio, twilioHandshakeHeaders, twilioSignedUrl } from '../platforms/socket-messages.ts';
import { callOutcome, type CallSignal } from './call-signals.ts';
import type { SimMessage } from './ims-session.ts';
import type { SocketCallSettings } from './retell-call.ts';
import type { CallOpening, CallerTurn, SimulatedCall } from './simulated-call.ts';
import type { TurnResult, TurnRunOptions } from './simulate-turn.ts';
import { addViolations, closedProblem, readAnswer, socketTurnResult } from './read-socket-answer.ts';

/** How long after an answer's `last: true` an `end` or `sendDigits` may still come (a server sends it right after). */
const END_GRACE_MS = 250;

export interface TwilioCallSettings extends SocketCallSettings {
  /** The account's Auth Token: the handshake is signed with it (X-Twilio-Signature). */
  authToken?: string;
  /** The URL Twilio signs (the <ConversationRelay url>); default the socket's URL with wss. */
  signedUrl?: string;
}

/**
 * A call held as Twilio ConversationRelay holds it: the handshake signed when an Auth Token is
 * given, `setup`, then each turn a `prompt` (`last: true`) or `dtmf` keys; the answer is the
 * `text` tokens up to `last: true`. A barge-in is an `interrupt` with what was spoken. An `end`
 * ends the call: a transfer when its handoffData asks for a live agent (or names a callee), else a
 * hangup. `sendDigits` (after the answer) and `language` (before it) are shown as the keys
 * pressed and the language switched. Twilio keeps no conversation: the server does.
 */
export class TwilioCall implements SimulatedCall {
  readonly platform = 'twilio';
  readonly baseUrl: string;
  readonly model: string;
  readonly instanceId: string;
  readonly channelId = '';
  readonly historySyncTts = false;
  readonly events = ['dtmf'] as const;
  private readonly settings: TwilioCallSettings;
  private socket: JsonSocket | undefined;
  private readonly conversation: SimMessage[] = [];
  private turns = 0;

  constructor(settings: TwilioCallSettings) {
    this.settings = settings;
    this.baseUrl = settings.url.toString();
    this.model = settings.model;
    this.instanceId = settings.call.callId;
  }

  describe(): string {
    const signed = this.settings.authToken === undefined ? 'unsigned' : 'signed with X-Twilio-Signature';
    return `Simulated Twilio ConversationRelay call to ${this.baseUrl} (${signed})\ncallSid ${this.instanceId}`;
  }

  async open(): Promise<CallOpening> {
    const opening: CallOpening = { problems: [], warnings: [], fatal: false };
    const signedUrl = this.settings.signedUrl ?? twilioSignedUrl(this.settings.url);
    try {
      this.socket = await JsonSocket.connect(
        this.baseUrl,
        { ...twilioHandshakeHeaders(this.settings.authToken, signedUrl), [SYNTHETIC_HEADER]: 'simulate' },
        this.settings.timeoutMs,
      );
    } catch (error) {
      opening.fatal = true;
      const hint =
        this.settings.authToken === undefined
          ? 'the server may check X-Twilio-Signature: give the Auth Token with --api-key'
          : `the signature signs ${signedUrl}: the server must check that URL (its public URL) with the same Auth Token`;
      opening.problems.push(
        error instanceof RefusedUpgrade
          ? `${error.message}: ${hint}`
          : `no socket: ${error instanceof Error ? error.message : String(error)}`,
      );
      return opening;
    }
    this.send(twilio.setup(this.settings.call));
    return opening;
  }

  async turn(said: CallerTurn, options: TurnRunOptions = {}): Promise<TurnResult> {
    const socket = this.socket;
    const turn = ++this.turns;
    const from = socket?.received.length ?? 0;
    const sentAt = performance.now();
    let sent = false;
    if (said.event === 'dtmf') for (const digit of said.say) sent = this.send(twilio.dtmf(digit));
    else sent = this.send(twilio.prompt(said.say));
    this.conversation.push({ role: 'user', content: said.event === 'dtmf' ? `(keys ${said.say})` : said.say });
    const read = sent
      ? await readAnswer({
          socket: socket!,
          from,
          sentAt,
          timeoutMs: this.settings.timeoutMs,
          piece: (e) => (e.type === 'text' && typeof e.token === 'string' ? e.token : undefined),
          ends: (e) => (e.type === 'text' && e.last === true) || e.type === 'end',
          bargeInMs: options.bargeInMs,
          signal: options.signal,
          onText: options.onText,
          cut: (heard, afterMs) => this.send(twilio.interrupt(heard, afterMs)),
        })
      : { text: '', ttftMs: null, totalMs: 0, events: [], last: undefined, timedOut: false, closed: true };
    // The end of the call, or the keys pressed, follow the answer's last text.
    let end = read.last?.type === 'end' ? read.last : undefined;
    if (end === undefined && read.last !== undefined && socket !== undefined) {
      const after = (
        await socket.next((e) => ['end', 'sendDigits', 'text'].includes(String(e.type)), from + read.events.length, END_GRACE_MS)
      )?.event;
      if (after?.type === 'end' || after?.type === 'sendDigits') read.events.push(after);
      if (after?.type === 'end') end = after;
    }
    const result = socketTurnResult(turn, said.say, read, this.settings.timeoutMs, 1);
    if (read.closed) {
      result.fatal = true;
      result.problems.push(socket === undefined ? 'no socket' : closedProblem(socket, 'twilio'));
    }
    // An `end` alone (no last text) also ends the answer: Twilio closes the session on it.
    const cut = read.cutBy !== undefined || read.timedOut || read.closed || end !== undefined;
    addViolations(result, judgeTwilioAnswer(read.events, cut).violations);
    if (read.text !== '') {
      this.conversation.push({ role: 'assistant', content: read.text });
      result.historyRecord = read.text;
    }
    result.signals = [...sessionSignals(read.events), ...(end === undefined ? [] : twilioSignals(end))];
    result.outcome = callOutcome(result.signals);
    // Keys pressed with no words are an answer to a menu, not silence.
    const pressed = result.signals.some((s) => s.type === 'digits');
    if (!result.fatal && !result.interrupted && read.text.trim() === '' && result.outcome.type === 'continues' && !pressed) {
      result.problems.push('silence: the answer carried no words, no end and no sendDigits');
    }
    return result;
  }

  history(): readonly SimMessage[] {
    return this.conversation;
  }

  async close(): Promise<void> {
    await this.socket?.close();
  }

  private send(message: unknown): boolean {
    this.settings.onSend?.(message);
    return this.socket?.send(message) ?? false;
  }
}

/** The answer's language switches and key presses, in order (the call goes on after them). */
function sessionSignals(events: readonly Record<string, unknown>[]): CallSignal[] {
  const signals: CallSignal[] = [];
  for (const event of events) {
    if (event.type === 'language') {
      signals.push({
        type: 'language',
        ttsLanguage: String(event.ttsLanguage),
        transcriptionLanguage: String(event.transcriptionLanguage),
      });
    } else if (event.type === 'sendDigits') {
      signals.push({ type: 'digits', digits: String(event.digits), message: 'Twilio sendDigits' });
    }
  }
  return signals;
}

/** An `end`: a transfer when its handoffData asks for a live agent or names where to, else a hangup. */
function twilioSignals(end: Record<string, unknown>): CallSignal[] {
  const raw = typeof end.handoffData === 'string' ? end.handoffData : '';
  let data: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
  } catch {
    // an end without JSON handoffData still ends the call
  }
  const callee = [data.callee, data.destination, data.transfer_number].find((v): v is string => typeof v === 'string');
  if (data.reasonCode === 'live-agent-handoff' || callee !== undefined) {
    return [
      {
        type: 'transfer',
        ...(callee === undefined ? {} : { callee }),
        ...(typeof data.caller === 'string' ? { caller: data.caller } : {}),
      },
    ];
  }
  return [{ type: 'hangup', via: 'message', message: `Twilio end${raw === '' ? '' : ` ${raw}`}` }];
}
