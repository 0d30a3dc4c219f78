import { gatewayConfigSchema, type GatewayConfig } from './schema.ts';

/**
 * The zero-configuration default: what the server runs when the user gives no config at all.
 * A built-in scripted agent answers every ModelId (it is the default agent), so a voice console
 * can be pointed at the gateway and tested before any upstream model is set up.
 *
 * Everything here is spoken: plain sentences, no markdown, no emoji.
 */

export const DEMO_AGENT_ID = 'demo';
export const DEMO_PROVIDER_ID = 'demo-script';

/**
 * The unparsed, YAML-equivalent object (parse it with `gatewayConfigSchema` so defaults apply).
 * Rule order matters, the first match wins: goodbye rules come first so "hi, bye" ends the call,
 * and help comes before hello so "hi, what can you do?" gets the explanation.
 */
export const demoConfigSource: Record<string, unknown> = deepFreeze({
  providers: {
    [DEMO_PROVIDER_ID]: {
      type: 'scripted',
      greeting: 'Hi, this is the Voice LLM Gateway demo agent. Your connection works.',
      rules: [
        {
          keywords: ['bye', 'goodbye', 'good bye', 'bye bye', 'see you', 'hang up'],
          reply: 'Goodbye, thanks for calling.',
          endCall: true,
        },
        {
          keywords: ['再见', '拜拜', '挂了', '挂断'],
          reply: '再见，感谢您的来电。',
          endCall: true,
        },
        {
          keywords: ['help', 'what can you do'],
          reply:
            'This is a demo agent with scripted answers, built into the gateway. ' +
            'To talk to a real model, set UPSTREAM_BASE_URL, UPSTREAM_API_KEY and UPSTREAM_MODEL, then restart the gateway.',
        },
        {
          keywords: ['你能做什么', '你会做什么', '帮助'],
          reply:
            '这是网关内置的演示智能体，回答都是预设的。' +
            '设置 UPSTREAM_BASE_URL、UPSTREAM_API_KEY 和 UPSTREAM_MODEL 并重启网关，就能接入真正的大模型。',
        },
        {
          keywords: ['hello', 'hi', 'hey'],
          reply: 'Hello! I can hear you. Ask me what I can do, or say goodbye to end the call.',
        },
        {
          keywords: ['你好', '您好'],
          reply: '你好，我能听到您。可以问我能做什么，或者说再见结束通话。',
        },
      ],
      fallback: 'You said: {{heard}}. Say goodbye to end the call.',
    },
  },
  agents: {
    // The workflow hangs up on a `hangup` tool call (FunctionMap: hangup -> hangup).
    [DEMO_AGENT_ID]: { provider: DEMO_PROVIDER_ID, endCall: { mode: 'tool', hangupFunctionName: 'hangup' } },
  },
  defaultAgent: DEMO_AGENT_ID,
});

/** The demo config, parsed and with every default applied. */
export function demoConfig(): GatewayConfig {
  return gatewayConfigSchema.parse(demoConfigSource);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
