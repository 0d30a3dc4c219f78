import { SYNTHETIC_HEADER } from '../../src/protocol/synthetic-traffic.ts';
import { JsonSocket, RefusedUpgrade } from '../client/json-socket-client.ts';
import { judgeRetellAnswer } from '../check/socket-rules.ts';
import { retell, retellCallUrl, type RetellUtterance, type SocketCallIdentity } from '../platforms/socket-messages.ts';
import { callOutcome, type CallSignal } from './call-signals.ts';
import type { SimMessage } from './ims-session.ts';
import type { CallOpening, CallerTurn, SimulatedCall } from './simulated-call.ts';
import type { TurnResult, TurnRunOptions } from './simulate-turn.ts';
import { addViolations, closedProblem, readAnswer, socketTurnResult } from './read-socket-answer.ts';

/** Retell pings every 2 s when the server asks for auto_reconnect, and reconnects after 5 s without a pong. */
const PING_EVERY_MS = 2_000;
const PONG_WITHIN_MS = 5_000;

export interface SocketCallSettings {
  /** The URL as the platform is given it (ws, wss, or http(s) taken as ws(s)). */
  url: URL;
  /** Shown in reports: the agent is the server's to choose on a socket platform. */
  model: string;
  call: SocketCallIdentity;
  timeoutMs: number;
  /** Called with each message sent (for --show-requests). */
  onSend?: (message: unknown) => void;
}

/**
 * A call held as Retell holds it: dials `{url}/{call_id}`, waits for the begin message (response
 * 0), sends `call_details` when the server's config asks, pings when it asks for auto_reconnect,
 * and sends each turn as `response_required` (or `reminder_required`) with the whole transcript.
 * A barge-in is an `update_only` with what was spoken of the answer; the next turn's newer
 * response_id supersedes it. `end_call` and `transfer_number` end the call; `digit_to_press` is
 * shown as the keys pressed.
 */
export class RetellCall implements SimulatedCall {
  readonly platform = 'retell';
  readonly baseUrl: string;
  readonly model: string;
  readonly instanceId: string;
  readonly channelId = '';
  readonly historySyncTts = false;
  readonly events = ['reminder'] as const;
  private readonly settings: SocketCallSettings;
  private socket: JsonSocket | undefined;
  private readonly transcript: RetellUtterance[] = [];
  private responseId = 0;
  private pinger: NodeJS.Timeout | undefined;
  /** Pings sent and not yet answered, by timestamp. */
  private readonly unanswered = new Map<number, number>();
  private pongLate = false;

  constructor(settings: SocketCallSettings) {
    this.settings = settings;
    this.baseUrl = retellCallUrl(settings.url, settings.call.callId);
    this.model = settings.model;
    this.instanceId = settings.call.callId;
  }

  describe(): string {
    return `Simulated Retell call to ${this.baseUrl} (Retell's custom LLM WebSocket)\ncall_id ${this.instanceId}`;
  }

  async open(): Promise<CallOpening> {
    const opening: CallOpening = { problems: [], warnings: [], fatal: false };
    try {
      this.socket = await JsonSocket.connect(this.baseUrl, { [SYNTHETIC_HEADER]: 'simulate' }, this.settings.timeoutMs);
    } catch (error) {
      opening.fatal = true;
      opening.problems.push(
        error instanceof RefusedUpgrade
          ? `${error.message}: check the URL (Retell's LLM WebSocket URL, with its secret) and the server's address allowlist`
          : `no socket: ${error instanceof Error ? error.message : String(error)}`,
      );
      return opening;
    }
    const socket = this.socket;
    const config = await socket.next((e) => e.response_type === 'config', 0, 1_000);
    const settings = (config?.event.config ?? {}) as Record<string, unknown>;
    if (settings.call_details === true) this.send(retell.callDetails(this.settings.call));
    if (settings.auto_reconnect === true) this.startPinging();
    const begin = await socket.next(
      (e) => e.response_type === 'response' && e.response_id === 0 && e.content_complete === true,
      0,
      this.settings.timeoutMs,
    );
    if (begin === undefined) {
      opening.warnings.push('socket rule "retell-begin": no begin message (a response with response_id 0 and content_complete true)');
      if (socket.closed !== undefined) {
        opening.fatal = true;
        opening.problems.push(`the server closed the socket with ${socket.closed.code} as the call began`);
      }
      return opening;
    }
    const greeting = socket.received
      .filter((r) => r.event.response_type === 'response' && r.event.response_id === 0 && typeof r.event.content === 'string')
      .map((r) => r.event.content as string)
      .join('');
    opening.greeting = greeting;
    if (greeting !== '') this.transcript.push({ role: 'agent', content: greeting });
    return opening;
  }

  async turn(said: CallerTurn, options: TurnRunOptions = {}): Promise<TurnResult> {
    const socket = this.socket;
    const responseId = ++this.responseId;
    if (said.event === 'speech') this.transcript.push({ role: 'user', content: said.say });
    const transcript = [...this.transcript];
    const from = socket?.received.length ?? 0;
    const sentAt = performance.now();
    const sent =
      socket !== undefined &&
      this.send(
        said.event === 'reminder' ? retell.reminderRequired(responseId, transcript) : retell.responseRequired(responseId, transcript),
      );
    const read = sent
      ? await readAnswer({
          socket,
          from,
          sentAt,
          timeoutMs: this.settings.timeoutMs,
          piece: (e) =>
            e.response_type === 'response' && e.response_id === responseId && typeof e.content === 'string' ? e.content : undefined,
          ends: (e) => e.response_type === 'response' && e.response_id === responseId && e.content_complete === true,
          bargeInMs: options.bargeInMs,
          signal: options.signal,
          onText: options.onText,
          cut: (heard) =>
            this.send(retell.updateOnly([...transcript, ...(heard === '' ? [] : [{ role: 'agent' as const, content: heard }])])),
        })
      : { text: '', ttftMs: null, totalMs: 0, events: [], last: undefined, timedOut: false, closed: true };
    const result = socketTurnResult(responseId, said.say, read, this.settings.timeoutMs, transcript.length);
    if (read.closed) {
      result.fatal = true;
      result.problems.push(socket === undefined ? 'no socket' : closedProblem(socket, 'retell'));
    }
    addViolations(result, judgeRetellAnswer(read.events, responseId, read.cutBy !== undefined || read.timedOut || read.closed).violations);
    if (this.pongLate) {
      this.pongLate = false;
      result.problems.push(`socket rule "retell-ping-pong": a ping_pong went unanswered for ${PONG_WITHIN_MS} ms (Retell would reconnect)`);
    }
    // Retell's transcript holds what was spoken: the words up to the cut.
    if (read.text !== '') {
      this.transcript.push({ role: 'agent', content: read.text });
      result.historyRecord = read.text;
    }
    result.signals = retellSignals(read.last);
    result.outcome = callOutcome(result.signals);
    // A key pressed with no words is an answer to a menu, not silence.
    const pressed = result.signals.some((s) => s.type === 'digits');
    if (!result.fatal && !result.interrupted && read.text.trim() === '' && result.outcome.type === 'continues' && !pressed) {
      result.problems.push('silence: the answer carried no words, no end_call, transfer_number or digit_to_press');
    }
    return result;
  }

  history(): readonly SimMessage[] {
    return this.transcript.map((u) => ({ role: u.role === 'agent' ? 'assistant' : 'user', content: u.content }));
  }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    await this.socket?.close();
  }

  private send(message: unknown): boolean {
    this.settings.onSend?.(message);
    return this.socket?.send(message) ?? false;
  }

  private startPinging(): void {
    const socket = this.socket!;
    socket.onEvent(({ event }) => {
      if (event.response_type === 'ping_pong' && typeof event.timestamp === 'number') this.unanswered.delete(event.timestamp);
    });
    this.pinger = setInterval(() => {
      const now = Date.now();
      for (const sentAt of this.unanswered.values()) if (now - sentAt > PONG_WITHIN_MS) this.pongLate = true;
      if (this.pongLate) this.unanswered.clear();
      const ping = retell.pingPong(now);
      this.unanswered.set(ping.timestamp, now);
      // Pings are not shown with --show-requests: one every 2 s would drown the turns.
      socket.send(ping);
    }, PING_EVERY_MS);
    this.pinger.unref();
  }
}

/**
 * What Retell acts on in the answer's last response: end_call, or transfer_number, or
 * digit_to_press (end_call wins, as Retell documents).
 */
function retellSignals(last: Record<string, unknown> | undefined): CallSignal[] {
  if (last?.end_call === true) return [{ type: 'hangup', via: 'message', message: 'Retell end_call' }];
  if (typeof last?.transfer_number === 'string' && last.transfer_number !== '') {
    return [{ type: 'transfer', callee: last.transfer_number }];
  }
  if (typeof last?.digit_to_press === 'string') return [{ type: 'digits', digits: last.digit_to_press, message: 'Retell digit_to_press' }];
  return [];
}
