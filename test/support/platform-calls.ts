import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import type { PlatformName } from '../../src/platforms/platform-adapter.ts';
import { TEST_KEY } from './gateway-harness.ts';

/** A tool as a platform offers it in `tools`. */
const offer = (name: string) => ({ type: 'function', function: { name, parameters: { type: 'object', properties: {} } } });

type Message = { role: 'user' | 'assistant'; content: string };

/** How one platform asks for a turn of a call: its address, its headers and its body. */
export interface PlatformCall {
  platform: PlatformName;
  /** The base URL path the console is given (the client appends /chat/completions). */
  base: string;
  headers(turn: number): Record<string, string>;
  body(messages: Message[], turn: number): Record<string, unknown>;
  /** The function the platform ends the call on; undefined for a text command (IMS). */
  endTool: string;
  /** The function the platform transfers on; undefined for a text command (IMS). */
  transferTool: string | undefined;
}

/** The same call (caller +16505550199, customer Ada) as each HTTP platform sends it, under the id `call-<platform>`. */
export function platformCalls(): PlatformCall[] {
  const app = { endTool: 'hangup', transferTool: 'transfer_call' };
  const appTools = [offer('hangup'), offer('transfer_call')];
  const userData = { customerName: 'Ada' };
  return [
    {
      platform: 'ims',
      base: '/v1',
      headers: () => ({}),
      body: (messages, turn) => ({
        messages,
        extendData: { instanceId: 'call-ims', sentenceId: turn, callerNumber: '+16505550199', userData: JSON.stringify(userData) },
      }),
      endTool: 'hangup',
      transferTool: undefined,
    },
    {
      platform: 'vapi',
      base: '/vapi/v1',
      headers: () => ({}),
      body: (messages) => ({
        messages,
        tools: [offer('endCall'), offer('transferCall')],
        call: { id: 'call-vapi', orgId: 'org-1', type: 'inboundPhoneCall' },
        customer: { number: '+16505550199' },
        metadata: userData,
      }),
      endTool: 'endCall',
      transferTool: 'transferCall',
    },
    {
      platform: 'elevenlabs',
      base: '/elevenlabs/v1',
      headers: () => ({}),
      body: (messages) => ({
        messages,
        tools: [offer('end_call'), offer('transfer_to_number'), offer('skip_turn')],
        elevenlabs_extra_body: { call_id: 'call-elevenlabs', caller_number: '+16505550199', ...userData },
      }),
      endTool: 'end_call',
      transferTool: 'transfer_to_number',
    },
    {
      platform: 'trtc',
      base: '/trtc/v1',
      headers: (turn) => ({ 'x-task-id': 'call-trtc', 'x-room-id': 'room-1', 'x-request-id': `call-trtc-${turn}`, 'x-user-id': '+16505550199' }),
      body: (messages) => ({ messages, tools: appTools, MetaInfo: userData }),
      ...app,
    },
    {
      platform: 'volcengine',
      base: '/volcengine/v1',
      headers: () => ({}),
      body: (messages, turn) => ({ messages, tools: appTools, round_id: turn, call_id: 'call-volcengine', user_data: userData, maxTokens: 500 }),
      ...app,
    },
    {
      platform: 'agora',
      base: '/agora/v1',
      headers: () => ({ 'x-agora-customllm-channel': 'call-agora', 'x-agora-customllm-uid': '1001' }),
      body: (messages, turn) => ({ messages: messages.map((m, i) => (i === messages.length - 1 ? { ...m, turn_id: turn } : m)), tools: appTools, context: userData }),
      ...app,
    },
    {
      platform: 'livekit',
      base: '/livekit/v1',
      headers: () => ({ 'x-call-id': 'call-livekit', 'x-caller-number': '+16505550199', 'x-user-data': JSON.stringify(userData) }),
      body: (messages) => ({ messages, tools: appTools }),
      ...app,
    },
    {
      platform: 'pipecat',
      base: '/pipecat/v1',
      headers: () => ({ 'x-call-id': 'call-pipecat', 'x-caller-number': '+16505550199', 'x-user-data': JSON.stringify(userData) }),
      body: (messages) => ({ messages, tools: appTools }),
      ...app,
    },
  ];
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
    const params = { model: this.model, stream: true, ...this.call.body([...this.history], this.turn) } as unknown as ChatCompletionCreateParamsStreaming;
    const stream = await this.client.chat.completions.create(params, { headers: this.call.headers(this.turn), ...(signal ? { signal } : {}) });
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
