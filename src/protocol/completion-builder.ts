import type { ToolCall } from '../core/chat-types.ts';
import type { FinishReason, StreamPart, TokenUsage } from '../core/stream-part.ts';

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] };
    finish_reason: FinishReason;
  }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** Collects a turn's parts into one `chat.completion` object (for `stream: false`). */
export class CompletionBuilder {
  private content = '';
  private readonly toolCalls = new Map<string, ToolCall>();
  private usage: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  private finishReason: FinishReason = 'stop';

  add(part: StreamPart): void {
    switch (part.type) {
      case 'text':
        this.content += part.text;
        break;
      case 'tool-call-start':
        this.toolCalls.set(part.callId, {
          id: part.callId,
          type: 'function',
          function: { name: part.name, arguments: '' },
        });
        break;
      case 'tool-call-delta': {
        const call = this.toolCalls.get(part.callId);
        if (call) call.function.arguments += part.argumentsDelta;
        break;
      }
      case 'usage':
        this.usage = part.usage;
        break;
      case 'finish':
        this.finishReason = part.reason;
        break;
      case 'reasoning':
      case 'tool-call-end':
        break;
    }
  }

  build(id: string, created: number, model: string): ChatCompletion {
    const message: ChatCompletion['choices'][0]['message'] = {
      role: 'assistant',
      content: this.content === '' && this.toolCalls.size > 0 ? null : this.content,
    };
    if (this.toolCalls.size > 0) message.tool_calls = [...this.toolCalls.values()];
    return {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message, finish_reason: this.finishReason }],
      usage: {
        prompt_tokens: this.usage.promptTokens,
        completion_tokens: this.usage.completionTokens,
        total_tokens: this.usage.totalTokens,
      },
    };
  }
}
