import { turnLanguage } from '../../../agent/language/caller-language.ts';
import { PHRASES } from '../../../agent/language/phrases.ts';
import { cancellation } from '../../../calls/cancellation.ts';
import { lastUserText, type ChatMessage } from '../../../core/chat-types.ts';
import type { ExtendDataInput } from '../../../protocol/extend-data.ts';
import type { TurnServices } from '../../platform-turn.ts';
import { idField, isRecord } from '../../../platforms/call-data.ts';
import { withCallDetails } from '../socket/call-details.ts';
import { parseFrame } from '../socket/json-socket.ts';
import { SocketCallTurns } from '../socket/socket-answer.ts';
import type { SocketSignal } from '../socket/socket-signals.ts';
import type { SocketCall } from '../socket/socket-turn.ts';
import { retellEventSchema, type RetellReply, type RetellResponseEvent, type RetellUtterance } from './retell-messages.ts';

export interface RetellSessionOptions {
  call: SocketCall;
  /** Said as the call begins; empty: wait for the caller. */
  greeting: string;
  /** Sends one event to Retell. */
  send(event: RetellReply): void;
}

/**
 * One Retell call on one socket. Retell sends the whole transcript with each `response_required`
 * (and `reminder_required`, when the caller has been silent), so the conversation is Retell's;
 * the gateway keeps only the newest `response_id`: a newer one supersedes the turn still
 * answering (its upstream aborted at once), and an older one is ignored. The answer streams as
 * `response` events; the last one is `content_complete` and carries `end_call`,
 * `transfer_number` or `digit_to_press` (one key), which Retell acts on once the words are spoken.
 */
export class RetellSession {
  private readonly turns: SocketCallTurns;
  private readonly options: RetellSessionOptions;
  private latestResponseId = -1;

  constructor(services: TurnServices, options: RetellSessionOptions) {
    this.options = options;
    this.turns = new SocketCallTurns(services, options.call);
  }

  /** The config event, then the begin message (response 0): the greeting, or nothing (the caller speaks first). */
  open(greet: boolean): void {
    this.options.send({ response_type: 'config', config: { auto_reconnect: true, call_details: true } });
    this.options.send({
      response_type: 'response',
      response_id: 0,
      content: greet ? this.options.greeting : '',
      content_complete: true,
      end_call: false,
    });
  }

  /** One text frame from Retell; what is not a Retell event the gateway reads is ignored. */
  receive(frame: string): void {
    const event = retellEventSchema.safeParse(parseFrame(frame));
    if (!event.success) return;
    const data = event.data;
    switch (data.interaction_type) {
      case 'ping_pong':
        this.options.send({ response_type: 'ping_pong', timestamp: data.timestamp });
        break;
      case 'call_details':
        this.takeCallDetails(data.call);
        break;
      case 'update_only':
        break;
      case 'response_required':
      case 'reminder_required':
        this.respond(data.response_id, conversation(data.transcript), data.interaction_type === 'reminder_required');
        break;
    }
  }

  /** The socket closed: the turn still answering stops. */
  close(): void {
    this.turns.stop(cancellation('client_closed'));
  }

  private respond(responseId: number, messages: ChatMessage[], reminder: boolean): void {
    if (responseId < this.latestResponseId) return;
    this.latestResponseId = responseId;
    // A silent caller (or an empty transcript) gets a prompt to speak, in the caller's language.
    if (reminder || messages.length === 0) {
      const language = turnLanguage(this.turns.agentConfig()?.language ?? 'auto', lastUserText(messages));
      messages.push({ role: 'system', content: PHRASES[language].silenceNote });
    }
    const send = (content: string, complete: boolean, extra: Partial<RetellResponseEvent> = {}) =>
      this.options.send({ response_type: 'response', response_id: responseId, content, content_complete: complete, ...extra });
    void this.turns.answer(
      messages,
      {
        text: (text) => send(text, false),
        done: (result) => send('', true, actionFields(result.signal)),
        apologize: (text) => send(text, true),
      },
      responseId,
    );
  }

  /** The numbers and the call's data (metadata over dynamic variables); kept only when valid as extendData. */
  private takeCallDetails(details: Record<string, unknown>): void {
    const variables = isRecord(details.retell_llm_dynamic_variables) ? details.retell_llm_dynamic_variables : {};
    const metadata = isRecord(details.metadata) ? details.metadata : {};
    const userData = { ...variables, ...metadata };
    const data: ExtendDataInput = {
      ...this.turns.call.data,
      callerNumber: idField(details, 'from_number'),
      calleeNumber: idField(details, 'to_number'),
      ...(Object.keys(userData).length > 0 ? { userData } : {}),
    };
    this.turns.call = withCallDetails(this.turns.call, data);
  }
}

/** Retell's transcript as chat messages: `agent` is the assistant; tool-call entries are left out. */
function conversation(transcript: readonly RetellUtterance[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const { role, content } of transcript) {
    if (content === undefined) continue;
    if (role === 'agent') messages.push({ role: 'assistant', content });
    else if (role === 'user') messages.push({ role: 'user', content });
  }
  return messages;
}

/** Retell acts on these after the content is spoken; they exclude each other. */
function actionFields(signal: SocketSignal | undefined): Partial<RetellResponseEvent> {
  if (signal?.kind === 'hangup') return { end_call: true };
  if (signal?.kind === 'transfer') return { transfer_number: signal.destination.callee };
  if (signal?.kind === 'digits') return { digit_to_press: signal.digits };
  return {};
}
