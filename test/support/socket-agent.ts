import { startMockUpstream, type MockScenario, type MockUpstream, type RecordedRequest } from '../../tools/testing/mock-upstream.ts';
import { startTestGateway, type TestGateway } from './gateway-harness.ts';
import { PHONE_AGENT, phoneScenario } from './phone-agent.ts';

/** The phone agent's model, which also fails outright (HTTP 500) when the caller says "break". */
export function breakableScenario(request: RecordedRequest): MockScenario {
  const messages = (request.body as { messages: Array<{ role: string; content?: unknown }> }).messages;
  const words = String(messages.findLast((m) => m.role === 'user')?.content ?? '');
  return words.includes('break') ? { status: 500, body: '{"error":{"message":"boom"}}' } : phoneScenario(request);
}

export interface SocketAgentSetup {
  upstream: MockUpstream;
  gateway: TestGateway;
  /** The gateway's ws:// origin. */
  base: string;
  close(): Promise<void>;
}

/** The phone agent (`support`, with `agent` over it) behind the breakable mock model, answering the WebSocket platforms in `platforms`. */
export async function startSocketAgent(platforms: Record<string, unknown>, agent: Record<string, unknown> = {}): Promise<SocketAgentSetup> {
  const upstream = await startMockUpstream(breakableScenario);
  const gateway = await startTestGateway({
    // No retry: a broken upstream is apologised for at once.
    providers: { mock: { type: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-upstream-secret', retry: { maxRetries: 0 } } },
    agents: { support: { ...PHONE_AGENT, ...agent } },
    platforms,
  });
  return {
    upstream,
    gateway,
    base: gateway.url.replace('http', 'ws'),
    async close() {
      await gateway.close();
      await upstream.close();
    },
  };
}
