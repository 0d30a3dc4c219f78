import type { IncomingHttpHeaders } from 'node:http';
import type { EndCallConfig, TransferDestination } from '../config/schema.ts';
import type { StreamPart } from '../providers/stream-part.ts';
import type { JoinPhrase } from './signal-parts.ts';

/** The voice platforms the gateway speaks to; `ims` is the default. */
export type PlatformName = 'ims' | 'vapi' | 'elevenlabs' | 'trtc' | 'volcengine' | 'agora' | 'livekit' | 'pipecat';

/** What an adapter reads of a request: its headers and its parsed JSON body. */
export interface PlatformRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: Readonly<Record<string, unknown>>;
}

/** What the signal form needs to know about the turn. */
export interface SignalContext {
  /** The agent's end-call settings (IMS reads `mode` and `hangupFunctionName`). */
  endCall: EndCallConfig;
  /** The function names the platform offered in the request's `tools`. */
  offeredTools: ReadonlySet<string>;
}

/**
 * How one platform is told to end or transfer the call, after everything else the turn said.
 * Each returns the parts that close the stream, its `finish` included. Phrases arrive already
 * shaped for speech.
 */
export interface CallSignalForm {
  /**
   * The platform's own functions that carry these signals (Vapi's `endCall`, ...). An agent that
   * decides a signal itself does not offer the model the platform's function for it too: one way
   * to end a call, with the agent's farewell rules and on the record.
   */
  readonly functions: { end?: string; transfer?: string };
  /** `farewell` may be empty; `say` joins a phrase to what the turn said before (never a space next to Chinese). */
  hangup(farewell: string, say: JoinPhrase): StreamPart[];
  transfer(destination: TransferDestination, say: JoinPhrase): StreamPart[];
}

/**
 * One voice platform: how its requests are recognised, how they map into the gateway's call
 * model (a body in the gateway's own form, `extendData` carrying the call), and how the agent's
 * signals map back. Agents never see which platform asked. A WebSocket platform implements the
 * same mapping from its own messages.
 */
export interface PlatformAdapter {
  readonly name: PlatformName;
  /** The path prefix of its own routes (`/vapi` serves `/vapi/v1/chat/completions`); none for IMS. */
  readonly prefix?: string;
  /** Also serve `…/chat/completions/chat/completions`, the address the platform's own guide leads to. */
  readonly acceptsDoubledPath?: boolean;
  /** Whether a request on the shared routes is unmistakably this platform's. */
  detect?(request: PlatformRequest): boolean;
  /** The body in the gateway's form: the platform's call data in `extendData`, OpenAI fields as OpenAI names them. */
  toChatBody(request: PlatformRequest): Record<string, unknown>;
  /** How this platform is told to end or transfer the call. */
  signalForm(context: SignalContext): CallSignalForm;
  /** Identifies a retry of a request already received (the same answer is owed); none when the platform does not retry. */
  retryKey?(request: PlatformRequest): string | undefined;
}
