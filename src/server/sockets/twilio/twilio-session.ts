import { cancellation } from '../../../calls/cancellation.ts';
import { rememberNewest } from '../../../calls/call-memory.ts';
import type { ChatMessage } from '../../../core/chat-types.ts';
import type { TurnServices } from '../../platform-turn.ts';
import { withCallDetails } from '../socket/call-details.ts';
import { interruptedAnswer } from '../socket/interrupted-answer.ts';
import { parseFrame } from '../socket/json-socket.ts';
import { SocketCallTurns } from '../socket/socket-answer.ts';
import type { SocketSignal } from '../socket/socket-signals.ts';
import type { SocketCall } from '../socket/socket-turn.ts';
import { LanguageFollower, type TwilioLanguageCodes } from './twilio-language.ts';
import { twilioEventSchema, type TwilioEndEvent, type TwilioReply } from './twilio-messages.ts';

export interface TwilioSessionOptions {
  call: SocketCall;
  /** The conversation kept for the call, at most (approximate heap bytes, as call memory counts them). */
  maxHistoryBytes: number;
  send(event: TwilioReply): void;
  /** The codes a caller's change of language switches the session to; unset: never switched. */
  languages?: TwilioLanguageCodes | undefined;
  /** Twilio reported an error about something the gateway sent. */
  onError(description: string): void;
}

/** The answer being spoken: what was sent of it, and where the caller cut in, if they did. */
interface Answer {
  said: string;
  heard?: string;
}

/**
 * One Twilio ConversationRelay call on one socket. Twilio sends only the caller's newest words, so
 * the conversation is kept here, bounded in bytes (the newest messages). A prompt is answered as
 * `text` tokens, the last with `last: true`; a new prompt supersedes the answer still streaming;
 * an `interrupt` stops it and cuts the answer in the history where the caller cut in (the IMS
 * interruption marker, so the model is told). The agent's end of call or transfer is an `end`
 * message whose `handoffData` the <Connect action> URL receives; its key presses a `sendDigits`
 * message. With an agent whose language is `auto`, a caller who changes language gets a
 * `language` message before the answer.
 */
export class TwilioSession {
  private readonly turns: SocketCallTurns;
  private readonly options: TwilioSessionOptions;
  private history: ChatMessage[] = [];
  /** The caller's words so far, while partial prompts arrive. */
  private prompt = '';
  private answering: Answer | undefined;
  private readonly language: LanguageFollower | undefined;

  constructor(services: TurnServices, options: TwilioSessionOptions) {
    this.options = options;
    this.turns = new SocketCallTurns(services, options.call);
    this.language = options.languages ? new LanguageFollower(options.languages) : undefined;
  }

  receive(frame: string): void {
    const event = twilioEventSchema.safeParse(parseFrame(frame));
    if (!event.success) return;
    const data = event.data;
    switch (data.type) {
      case 'setup':
        this.turns.call = withCallDetails(this.turns.call, {
          instanceId: data.callSid,
          callerNumber: data.from,
          calleeNumber: data.to,
          ...(data.customParameters ? { userData: data.customParameters } : {}),
        });
        break;
      case 'prompt':
        this.prompt = joinPrompt(this.prompt, data.voicePrompt);
        if (data.last !== false) {
          const words = this.prompt;
          this.prompt = '';
          if (words.trim() !== '') {
            this.followLanguage(words, data.lang);
            this.ask(words);
          }
        }
        break;
      case 'dtmf':
        // A key press is the caller's answer to a menu: the digit is their words.
        this.ask(data.digit);
        break;
      case 'interrupt':
        this.interrupt(data.utteranceUntilInterrupt);
        break;
      case 'error':
        this.options.onError(data.description ?? '');
        break;
    }
  }

  /** The socket closed: the turn still answering stops. */
  close(): void {
    this.turns.stop(cancellation('client_closed'));
  }

  /** The conversation as kept now (for tests). */
  get conversation(): readonly ChatMessage[] {
    return this.history;
  }

  private ask(words: string): void {
    // An answer still streaming ends here: the caller spoke again. What was sent of it stays in the history.
    this.settle();
    this.remember({ role: 'user', content: words });
    const answer: Answer = { said: '' };
    this.answering = answer;
    const { send } = this.options;
    void this.turns
      .answer([...this.history], {
        text: (token) => {
          answer.said += token;
          send({ type: 'text', token, last: false });
        },
        done: (result) => {
          send({ type: 'text', token: '', last: true });
          if (result.signal?.kind === 'digits') send({ type: 'sendDigits', digits: result.signal.digits });
          else if (result.signal) send(endEvent(result.signal));
        },
        apologize: (text) => {
          answer.said = text;
          send({ type: 'text', token: text, last: true });
        },
      })
      .then(() => {
        if (this.answering === answer) this.settle();
      });
  }

  /** A caller who changed language: the session speaks and transcribes in theirs from this answer on. */
  private followLanguage(words: string, lang: string | undefined): void {
    const setting = this.turns.agentConfig()?.language ?? 'auto';
    const change = this.language?.follow(words, lang, setting);
    if (change) this.options.send(change);
  }

  /** The caller cut in: the answer still streaming stops, and the history keeps only what they heard. */
  private interrupt(heard: string): void {
    if (this.answering) {
      this.answering.heard = heard;
      this.turns.stop(cancellation('superseded'));
      this.settle();
      return;
    }
    // The answer had been sent and was being spoken.
    const last = this.history.at(-1);
    if (last?.role === 'assistant' && typeof last.content === 'string') {
      this.history[this.history.length - 1] = { ...last, content: interruptedAnswer(last.content, heard) };
    }
  }

  /** The answer being spoken joins the history (cut where the caller cut in). */
  private settle(): void {
    const answer = this.answering;
    if (answer === undefined) return;
    this.answering = undefined;
    const content = answer.heard === undefined ? answer.said : interruptedAnswer(answer.said, answer.heard);
    if (content !== '') this.remember({ role: 'assistant', content });
  }

  private remember(message: ChatMessage): void {
    this.history.push(message);
    this.history = [...rememberNewest(this.history, this.options.maxHistoryBytes).messages];
  }
}

/** With partial prompts, each piece may repeat the words so far or add to them. */
function joinPrompt(sofar: string, piece: string): string {
  if (sofar === '' || piece.startsWith(sofar)) return piece;
  return `${sofar} ${piece}`;
}

/** The agent's decision for the <Connect action> URL: hang up, or dial the destination. */
function endEvent(signal: Exclude<SocketSignal, { kind: 'digits' }>): TwilioEndEvent {
  if (signal.kind === 'hangup') return { type: 'end', handoffData: JSON.stringify({ reasonCode: 'end-call' }) };
  const { callee, caller } = signal.destination;
  return {
    type: 'end',
    handoffData: JSON.stringify({ reasonCode: 'live-agent-handoff', callee, ...(caller === undefined ? {} : { caller }) }),
  };
}
