import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { PLATFORM_NAMES, platformRequestShape, type PlatformRequestShape } from '../../tools/platforms/platform-requests.ts';
import { TEST_KEY } from './gateway-harness.ts';

type Message = { role: 'user' | 'assistant'; content: string };

/** How one platform asks for a turn of a call (shared with the tools). */
export type PlatformCall = PlatformRequestShape;

/** The same call (caller +16505550199, customer Ada) as each HTTP platform sends it, under the id `call-<platform>`. */
export function platformCalls(): PlatformCall[] {
  return PLATFORM_NAMES.map(
    (name) => platformRequestShape(name, { callId: `call-${name}`, callerNumber: '+16505550199', userData: { customerName: 'Ada' } })!,
  );
}

export interface HeardTurn {
  text: string;
  finishReason: string | null | undefined;
  tool: { name: string | undefined; arguments: string };
}

/** Holds one call on a platform with the official `openai` client, as the platform would. */
export class PlatformCaller {
  readonly history: Message[] = [];
  private turn = 0;
  private readonly client: OpenAI;
  private readonly call: PlatformCall;
  private readonly model: string;

  constructor(gatewayUrl: string, call: PlatformCall, model = 'support') {
    this.call = call;
    this.model = model;
    this.client = new OpenAI({ baseURL: gatewayUrl + call.base, apiKey: TEST_KEY, maxRetries: 0 });
  }

  async say(words: string, signal?: AbortSignal): Promise<HeardTurn> {
    this.turn += 1;
    this.history.push({ role: 'user', content: words });
    const params = {
      model: this.model,
      stream: true,
      ...this.call.body([...this.history], this.turn),
    } as unknown as ChatCompletionCreateParamsStreaming;
    const stream = await this.client.chat.completions.create(params, {
      headers: this.call.headers(this.turn),
      ...(signal ? { signal } : {}),
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    this.history.push({ role: 'assistant', content: text });
    return {
      text,
      finishReason: chunks.filter((c) => c.choices.length > 0).at(-1)?.choices[0]?.finish_reason,
      tool: { name: deltas[0]?.function?.name, arguments: deltas.map((d) => d.function?.arguments ?? '').join('') },
    };
  }
}
