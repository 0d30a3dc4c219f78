import type { ChatMessage } from '../core/chat-types.ts';
import type { PartStream } from '../core/stream-part.ts';

/** What one turn asks of a provider. */
export interface ProviderRequest {
  /** The upstream model name from the agent's config (built-in engines may ignore it). */
  model: string | undefined;
  /** The prompt, already built by the agent: system prompt first, newest user message last. */
  messages: ChatMessage[];
  /**
   * Standard OpenAI parameters (temperature, max_tokens, stop, tools, tool_choice, ...), the
   * client's over the agent's defaults. Providers add their own defaults underneath.
   */
  params: Readonly<Record<string, unknown>>;
  /** Fired by client disconnect, barge-in, timeouts and shutdown. Every await honours it. */
  signal: AbortSignal;
}

/** What a provider does beyond streaming an answer: declared by the provider, never inferred from its type. */
export interface ProviderCapabilities {
  /** It ends calls by itself (an `end-call` part without any function offered), as the built-in engines do. */
  endsCalls: boolean;
}

/**
 * One upstream kind behind one interface. `stream` yields parts as they arrive and ends with a
 * `finish` part. Failures are thrown as GatewayError (see upstream-errors.ts); an abort throws
 * `signal.reason`.
 */
export interface Provider {
  /** The provider's name in the config (e.g. "qwen"). */
  readonly name: string;
  /** The provider type (e.g. "openai-compatible", "scripted"). */
  readonly type: string;
  readonly capabilities: ProviderCapabilities;
  stream(request: ProviderRequest): PartStream;
  /** Releases pooled connections. */
  close(): Promise<void>;
}
