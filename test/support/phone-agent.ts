import {
  startMockUpstream,
  textEvents,
  toolCallEvents,
  type MockScenario,
  type MockUpstream,
  type RecordedRequest,
} from '../../tools/testing/mock-upstream.ts';
import { startTestGateway, type TestGateway } from './gateway-harness.ts';

/**
 * One platform-neutral phone agent behind a scripted mock model, for whole calls through the real
 * gateway: it greets, answers, says a long answer slowly (to be cut off), transfers on "human",
 * ends the call on "bye" and presses the keys a menu names ("press 1").
 */
export const PHONE_AGENT = {
  provider: 'mock',
  model: 'm',
  systemPrompt: 'You are the Example Shop assistant. Caller {{callerNumber}}, call {{instanceId}}, name {{userData.customerName}}.',
  endCall: { farewell: 'Goodbye from Example Shop.' },
  transfer: {
    destinations: { sales: { callee: '+14155550100', msg: 'Putting you through to sales.', errMsg: 'Sorry, sales is not available.' } },
  },
};

export const GREETING = 'Hi, this is Example Shop.';
export const ANSWER = 'Your order ships tomorrow.';

/** What the mock model says to the caller's newest words. */
export function phoneScenario(request: RecordedRequest): MockScenario {
  const messages = (request.body as { messages: Array<{ role: string; content?: unknown }> }).messages;
  const words = String(messages.findLast((m) => m.role === 'user')?.content ?? '').toLowerCase();
  if (words.includes('bye'))
    return { events: toolCallEvents([{ name: 'end_call', arguments: '{}' }], { leadingText: 'Thanks for calling!' }) };
  // A phone menu read out: "press 1" presses the key through the keypad function; "say press 1" only writes keys as text.
  const press = /press ([0-9*#w]+)/.exec(words);
  if (press && words.includes('say')) return { events: textEvents(`I will press ${press[1]}. {"digits": "${press[1]}"}`) };
  if (press)
    return {
      events: toolCallEvents([{ name: 'press_digits', arguments: JSON.stringify({ digits: press[1] }) }], {
        leadingText: 'Choosing that.',
      }),
    };
  if (words.includes('human')) return { events: toolCallEvents([{ name: 'transfer_call', arguments: '{}' }]) };
  if (words.includes('tell me everything')) return { events: textEvents('Well, there is a lot to say. '.repeat(40)), eventIntervalMs: 20 };
  if (words.includes('order')) return { events: textEvents(ANSWER) };
  return { events: textEvents(GREETING) };
}

export interface PhoneAgentSetup {
  upstream: MockUpstream;
  gateway: TestGateway;
  close(): Promise<void>;
}

export async function startPhoneAgent(): Promise<PhoneAgentSetup> {
  const upstream = await startMockUpstream(phoneScenario);
  const gateway = await startTestGateway({
    providers: { mock: { type: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-upstream-secret' } },
    agents: { support: PHONE_AGENT },
  });
  return {
    upstream,
    gateway,
    async close() {
      await gateway.close();
      await upstream.close();
    },
  };
}

/** The system prompt the model received in a recorded upstream request. */
export function systemPromptOf(request: RecordedRequest): string {
  const messages = (request.body as { messages: Array<{ role: string; content?: unknown }> }).messages;
  return String(messages.find((m) => m.role === 'system')?.content ?? '');
}
