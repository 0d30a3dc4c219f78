/**
 * The one stream vocabulary shared by providers, output transforms and the SSE encoder.
 * Providers produce these parts; transforms map AsyncIterable<StreamPart> to AsyncIterable<StreamPart>;
 * the encoder turns them into OpenAI `chat.completion.chunk` events.
 */

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** Text meant for the caller's ears. */
export interface TextPart {
  type: 'text';
  text: string;
}

/** Model "thinking". Never spoken, never sent to the client; kept for records. */
export interface ReasoningPart {
  type: 'reasoning';
  text: string;
}

/** A tool call begins. `callId` is unique within the turn; the encoder assigns the wire index. */
export interface ToolCallStartPart {
  type: 'tool-call-start';
  callId: string;
  name: string;
}

/** A piece of a tool call's JSON arguments string. */
export interface ToolCallDeltaPart {
  type: 'tool-call-delta';
  callId: string;
  argumentsDelta: string;
}

/** A tool call's arguments are complete. */
export interface ToolCallEndPart {
  type: 'tool-call-end';
  callId: string;
}

/** Token usage as reported by the upstream (may arrive before or without `finish`). */
export interface UsagePart {
  type: 'usage';
  usage: TokenUsage;
}

/** The model finished. Always the last part of a well-formed stream. */
export interface FinishPart {
  type: 'finish';
  reason: FinishReason;
}

/**
 * The call should end once what was said has been spoken. Produced by a built-in engine or by the
 * model's end-call function; turned into the workflow's hangup signal at the end of the pipeline.
 */
export interface EndCallPart {
  type: 'end-call';
  /** What to say if nothing was said this turn. */
  farewell?: string;
}

/** Transfer the call to a human at one of the agent's configured destinations. */
export interface TransferPart {
  type: 'transfer';
  destination: string;
}

/**
 * Press keys on the phone's keypad once what was said has been spoken (the agent navigating a
 * phone menu). Only the model's call of the agent's keypad function makes one, validated: `0-9 * #`
 * and `w` (a half-second pause).
 */
export interface DigitsPart {
  type: 'digits';
  digits: string;
}

export type StreamPart =
  | TextPart
  | ReasoningPart
  | ToolCallStartPart
  | ToolCallDeltaPart
  | ToolCallEndPart
  | UsagePart
  | EndCallPart
  | TransferPart
  | DigitsPart
  | FinishPart;

export type PartStream = AsyncIterable<StreamPart>;

/**
 * The one shape of every stage of a round and a turn: parts in, parts out. Each stage's factory
 * builds one from its options; `pipe` (`core/pipe.ts`) runs an ordered list of them.
 */
export type PartTransform = (parts: PartStream) => PartStream;
