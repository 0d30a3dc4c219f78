import type { PlatformName } from '../../src/platforms/platform-adapter.ts';

/** A tool as a platform offers it in `tools`. */
const offer = (name: string) => ({ type: 'function', function: { name, parameters: { type: 'object', properties: {} } } });

export interface PlatformMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Who is on the call, as every platform is told it. */
export interface PlatformCallIdentity {
  callId: string;
  callerNumber: string;
  userData: Record<string, unknown>;
}

/** How one platform asks for a turn of a call: its address, its headers and its body. */
export interface PlatformRequestShape {
  platform: PlatformName;
  /** The base URL path the console is given (the client appends /chat/completions). */
  base: string;
  headers(turn: number): Record<string, string>;
  /** The body without `model` and `stream` (every platform sends those the same way). */
  body(messages: PlatformMessage[], turn: number): Record<string, unknown>;
  /** The function the platform ends the call on. */
  endTool: string;
  /** The function the platform transfers on; undefined for a text command (IMS). */
  transferTool: string | undefined;
}

/** Every HTTP platform's request shape for one call, IMS first. */
export function platformRequestShapes(call: PlatformCallIdentity): PlatformRequestShape[] {
  const { callId, callerNumber, userData } = call;
  const app = { endTool: 'hangup', transferTool: 'transfer_call' };
  const appTools = [offer('hangup'), offer('transfer_call')];
  return [
    {
      platform: 'ims',
      base: '/v1',
      headers: () => ({}),
      body: (messages, turn) => ({
        messages,
        extendData: { instanceId: callId, sentenceId: turn, callerNumber, userData: JSON.stringify(userData) },
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
        call: { id: callId, orgId: 'org-1', type: 'inboundPhoneCall' },
        customer: { number: callerNumber },
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
        elevenlabs_extra_body: { call_id: callId, caller_number: callerNumber, ...userData },
      }),
      endTool: 'end_call',
      transferTool: 'transfer_to_number',
    },
    {
      platform: 'trtc',
      base: '/trtc/v1',
      headers: (turn) => ({ 'x-task-id': callId, 'x-room-id': 'room-1', 'x-request-id': `${callId}-${turn}`, 'x-user-id': callerNumber }),
      body: (messages) => ({ messages, tools: appTools, MetaInfo: userData }),
      ...app,
    },
    {
      platform: 'volcengine',
      base: '/volcengine/v1',
      headers: () => ({}),
      body: (messages, turn) => ({ messages, tools: appTools, round_id: turn, call_id: callId, user_data: userData, maxTokens: 500 }),
      ...app,
    },
    {
      platform: 'agora',
      base: '/agora/v1',
      headers: () => ({ 'x-agora-customllm-channel': callId, 'x-agora-customllm-uid': '1001' }),
      body: (messages, turn) => ({
        messages: messages.map((m, i) => (i === messages.length - 1 ? { ...m, turn_id: turn } : m)),
        tools: appTools,
        context: userData,
      }),
      ...app,
    },
    {
      platform: 'livekit',
      base: '/livekit/v1',
      headers: () => ({ 'x-call-id': callId, 'x-caller-number': callerNumber, 'x-user-data': JSON.stringify(userData) }),
      body: (messages) => ({ messages, tools: appTools }),
      ...app,
    },
    {
      platform: 'pipecat',
      base: '/pipecat/v1',
      headers: () => ({ 'x-call-id': callId, 'x-caller-number': callerNumber, 'x-user-data': JSON.stringify(userData) }),
      body: (messages) => ({ messages, tools: appTools }),
      ...app,
    },
  ];
}

/** The names `--platform` takes, IMS (the default) first. */
export const PLATFORM_NAMES: readonly PlatformName[] = platformRequestShapes({ callId: '', callerNumber: '', userData: {} }).map(
  (s) => s.platform,
);

/** One platform's request shape for a call; undefined for a name no HTTP platform has. */
export function platformRequestShape(name: string, call: PlatformCallIdentity): PlatformRequestShape | undefined {
  return platformRequestShapes(call).find((shape) => shape.platform === name);
}
