import type { SimMessage } from './ims-session.ts';
import type { TurnResult, TurnRunOptions } from './simulate-turn.ts';

/** What the caller does in a turn: speaks, presses keys (Twilio), or stays silent until prompted (Retell). */
export type CallerEvent = 'speech' | 'dtmf' | 'reminder';

export interface CallerTurn {
  /** The words, the digits, or '' for silence. */
  say: string;
  event: CallerEvent;
}

/** What happened as the call was set up: a socket platform's begin message, or why it could not start. */
export interface CallOpening {
  /** What the agent said first (Retell's begin message), when it said something. */
  greeting?: string;
  problems: string[];
  warnings: string[];
  /** The call could not start (refused, no socket): no turn can run. */
  fatal: boolean;
}

/**
 * One simulated call as some platform holds it: over HTTP (IMS and the HTTP platforms, one request
 * a turn) or over the platform's WebSocket (Retell, Twilio). The interactive and scripted runners
 * drive any of them the same way, turn after turn.
 */
export interface SimulatedCall {
  /** The platform, or undefined for IMS. */
  readonly platform: string | undefined;
  /** Where the call goes, as shown in reports. */
  readonly baseUrl: string;
  readonly model: string;
  readonly instanceId: string;
  readonly channelId: string;
  readonly historySyncTts: boolean;
  /** The caller events this platform takes besides speech. */
  readonly events: readonly CallerEvent[];
  /** The first line(s) of an interactive call. */
  describe(): string;
  open(): Promise<CallOpening>;
  turn(said: CallerTurn, options?: TurnRunOptions): Promise<TurnResult>;
  /** The conversation as the platform keeps it (what the next turn would carry). */
  history(): readonly SimMessage[];
  close(): Promise<void>;
}
