import type { FinishReason, TokenUsage } from '../core/stream-part.ts';

/** Where the shared start of every event turns into a choice's. */
const CHOICE_TAIL = '"choices":[{"index":0,"delta":';

/**
 * Writes one stream's `chat.completion.chunk` SSE events, following the rules strict clients
 * enforce: the same id/created/model on every chunk, role on the first, finish_reason null until
 * the last choice chunk, stable tool-call indexes, usage only in a final chunk with `choices: []`,
 * and `data: [DONE]` at the end.
 *
 * Hot path: the invariant part of every event is serialised once; each event then costs one
 * JSON.stringify of its small delta object.
 */
export class ChunkEncoder {
  readonly id: string;
  readonly created: number;
  private readonly choicePrefix: string;
  private rolePending = true;
  /** Made at the first tool call: most answers have none. */
  private toolIndexes: Map<string, number> | undefined;

  constructor(id: string, created: number, model: string) {
    this.id = id;
    this.created = created;
    // Joined, not concatenated: one flat string instead of a rope of pieces, held the whole stream.
    this.choicePrefix = [
      'data: {"id":',
      JSON.stringify(id),
      ',"object":"chat.completion.chunk","created":',
      String(created),
      ',"model":',
      JSON.stringify(model),
      ',',
      CHOICE_TAIL,
    ].join('');
  }

  /** The role chunk; emitted automatically before the first delta, or explicitly to open a stream. */
  role(): string {
    this.rolePending = false;
    return `${this.choicePrefix}{"role":"assistant","content":""},"finish_reason":null}]}\n\n`;
  }

  text(text: string): string {
    return this.delta(`{"content":${JSON.stringify(text)}}`);
  }

  toolCallStart(callId: string, name: string): string {
    this.toolIndexes ??= new Map();
    const index = this.toolIndexes.size;
    this.toolIndexes.set(callId, index);
    return this.delta(
      `{"tool_calls":[{"index":${index},"id":${JSON.stringify(callId)},"type":"function","function":{"name":${JSON.stringify(name)},"arguments":""}}]}`,
    );
  }

  toolCallDelta(callId: string, argumentsDelta: string): string {
    const index = this.toolIndexes?.get(callId);
    if (index === undefined) throw new Error(`tool call ${callId} was not started`);
    return this.delta(`{"tool_calls":[{"index":${index},"function":{"arguments":${JSON.stringify(argumentsDelta)}}}]}`);
  }

  finish(reason: FinishReason): string {
    return `${this.rolePending ? this.role() : ''}${this.choicePrefix}{},"finish_reason":"${reason}"}]}\n\n`;
  }

  usage(usage: TokenUsage): string {
    // The usage chunk comes once, at the end: its prefix is made then.
    const usagePrefix = `${this.choicePrefix.slice(0, -CHOICE_TAIL.length)}"choices":[],"usage":`;
    return `${usagePrefix}{"prompt_tokens":${usage.promptTokens},"completion_tokens":${usage.completionTokens},"total_tokens":${usage.totalTokens}}}\n\n`;
  }

  done(): string {
    return 'data: [DONE]\n\n';
  }

  private delta(deltaJson: string): string {
    const event = `${this.choicePrefix}${deltaJson},"finish_reason":null}]}\n\n`;
    return this.rolePending ? this.role() + event : event;
  }
}
