import { randomBytes, randomUUID } from 'node:crypto';

/**
 * One simulated call as the Alibaba Cloud IMS real-time workflow holds it: the conversation it
 * keeps, the ids it sends, and the request it builds for each thing the caller says.
 *
 * - `messages`: the newest {@link IMS_HISTORY_WINDOW} records of the conversation, oldest first,
 *   the caller's new utterance last (the oldest records are dropped, even when that leaves an
 *   assistant message first). A system prompt, when given, is sent first and is NOT one of the
 *   20 records: it is configuration of the LLM node, not conversation, and pinning it makes the
 *   request the larger of the two possibilities (21 messages).
 * - `extendData`: `instanceId` (32 lowercase hex digits, like the vendor's ids), `channelId`,
 *   `sentenceId` (1 for the first question, +1 per question; the answer reuses it),
 *   `callerNumber` / `calleeNumber` when known, and `userData` as a STRING (the JSON the business
 *   passed when it started the instance), only when given.
 * - An answer is recorded as an assistant message holding the text received. When the caller cut
 *   in (barge-in), by default the text received before the cut is kept as is; with
 *   `historySyncTts` (the workflow's HistorySyncWithTTS) the text received before the cut is
 *   followed by {@link INTERRUPTION_MARKER}. Tool calls are not recorded (the workflow acts on the
 *   hangup function only, and a hangup ends the call). An answer that was not interrupted and
 *   carried no text is not recorded.
 */

/** The most records the workflow keeps in `messages`. */
export const IMS_HISTORY_WINDOW = 20;

/** Where the caller cut in, in an assistant message, with HistorySyncWithTTS on. */
export const INTERRUPTION_MARKER = '<ims_agent_interrupted>';

export interface SimMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ImsExtendData {
  instanceId: string;
  channelId: string;
  sentenceId: number | string;
  callerNumber?: string;
  calleeNumber?: string;
  userData?: string;
}

export interface ImsChatRequest {
  model: string;
  stream: true;
  messages: SimMessage[];
  extendData: ImsExtendData;
}

export interface ImsSessionOptions {
  model: string;
  /** Sent as the first message of every request, outside the 20-record window. */
  systemPrompt?: string;
  /** Default: 32 random hex digits. */
  instanceId?: string;
  /** Default: a random UUID. */
  channelId?: string;
  callerNumber?: string;
  calleeNumber?: string;
  /** Sent as is: a string (normally JSON), never an object. */
  userData?: string;
  /** HistorySyncWithTTS: an interrupted answer ends with the interruption marker. */
  historySyncTts?: boolean;
  /** Send sentenceId as a numeric string ("3", as in the vendor's example) instead of an integer. */
  sentenceIdAsString?: boolean;
  /** Default {@link IMS_HISTORY_WINDOW}. */
  historyWindow?: number;
}

export interface ImsTurn {
  sentenceId: number;
  body: ImsChatRequest;
}

export interface RecordAnswerOptions {
  /** The caller cut in before the answer finished. */
  interrupted?: boolean;
}

/** An instance id shaped like the vendor's: 32 lowercase hex digits. */
export function newInstanceId(): string {
  return randomBytes(16).toString('hex');
}

export class ImsSession {
  readonly model: string;
  readonly instanceId: string;
  readonly channelId: string;
  readonly historySyncTts: boolean;
  readonly #options: ImsSessionOptions;
  readonly #window: number;
  /** Every record of the call so far (the window is cut from it when a request is built). */
  readonly #records: SimMessage[] = [];
  #sentenceId = 0;

  constructor(options: ImsSessionOptions) {
    this.model = options.model;
    this.instanceId = options.instanceId ?? newInstanceId();
    this.channelId = options.channelId ?? randomUUID();
    this.historySyncTts = options.historySyncTts ?? false;
    this.#window = options.historyWindow ?? IMS_HISTORY_WINDOW;
    this.#options = options;
  }

  /** The sentenceId of the latest question (0 before the first). */
  get sentenceId(): number {
    return this.#sentenceId;
  }

  /** The whole conversation so far, oldest first (not windowed, no system prompt). */
  get transcript(): readonly SimMessage[] {
    return this.#records;
  }

  /** The messages the next request would carry before the new utterance is added. */
  messages(): SimMessage[] {
    const window = this.#records.slice(-this.#window).map((m) => ({ ...m }));
    const system = this.#options.systemPrompt;
    return system === undefined || system === '' ? window : [{ role: 'system', content: system }, ...window];
  }

  /** The caller said `utterance`: records it, starts a new question-and-answer pair, builds the request. */
  ask(utterance: string): ImsTurn {
    this.#records.push({ role: 'user', content: utterance });
    const sentenceId = ++this.#sentenceId;
    return { sentenceId, body: this.#request(sentenceId) };
  }

  /** Records the answer to the latest question as the workflow keeps it. */
  recordAnswer(text: string, options: RecordAnswerOptions = {}): SimMessage | undefined {
    const content = options.interrupted && this.historySyncTts ? text + INTERRUPTION_MARKER : text;
    if (content === '') return undefined;
    const message: SimMessage = { role: 'assistant', content };
    this.#records.push(message);
    return message;
  }

  #request(sentenceId: number): ImsChatRequest {
    const options = this.#options;
    const extendData: ImsExtendData = {
      instanceId: this.instanceId,
      channelId: this.channelId,
      sentenceId: options.sentenceIdAsString ? String(sentenceId) : sentenceId,
    };
    if (options.callerNumber !== undefined) extendData.callerNumber = options.callerNumber;
    if (options.calleeNumber !== undefined) extendData.calleeNumber = options.calleeNumber;
    if (options.userData !== undefined) extendData.userData = options.userData;
    return { model: this.model, stream: true, messages: this.messages(), extendData };
  }
}
