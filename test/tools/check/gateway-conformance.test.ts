import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { demoConfigSource } from '../../../src/config/demo-config.ts';
import { CHECK_CASES, runConformanceSuite, type CheckReport } from '../../../tools/check/suite.ts';
import {
  startMockUpstream,
  textEvents,
  toolCallEvents,
  type MockUpstream,
  type RecordedRequest,
} from '../../../tools/testing/mock-upstream.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../../support/gateway-harness.ts';

/** Every fail and warn of a report, readable in an assertion message. */
function problems(report: CheckReport): string {
  return report.cases.flatMap((c) => c.findings.map((f) => `${f.status} ${c.id} [${f.rule}] ${f.message} | ${f.quote ?? ''}`)).join('\n');
}

function assertCleanPass(report: CheckReport): void {
  assert.equal(report.counts.fail, 0, problems(report));
  assert.equal(report.counts.warn, 0, problems(report));
  assert.deepEqual(
    report.cases.map((c) => c.id),
    CHECK_CASES.map((c) => c.id),
  );
  for (const c of report.cases) {
    // What could not be exercised (an answer done before the barge-in close) is a skip, never a pass.
    assert.equal(c.status, /not exercised|nothing to check/.test(c.summary) ? 'skip' : 'pass', `${c.id}: ${c.summary}`);
    assert.ok(c.durationMs >= 0, `${c.id} is timed`);
  }
  // Every streaming case reports its time to first token.
  for (const id of [
    'stream-basic',
    'path-alternate',
    'history-20',
    'extend-data-phone',
    'extend-data-minimal',
    'user-data-not-json',
    'multimodal',
    'barge-in',
    'usage',
    'tool-calls',
  ]) {
    const c = report.cases.find((x) => x.id === id)!;
    assert.equal(typeof c.ttftMs, 'number', `${id} has a TTFT`);
  }
}

describe('check against the real gateway: the built-in demo agent (scripted provider)', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway(structuredClone(demoConfigSource) as Record<string, unknown>);
  });
  after(async () => {
    await gateway.close();
  });

  it('passes every case with the base URL given with /v1', async () => {
    const report = await runConformanceSuite({ baseUrl: `${gateway.url}/v1`, apiKey: TEST_KEY, model: 'demo' });
    assertCleanPass(report);
    assert.equal(report.alternateBaseUrl, gateway.url);
    assert.match(report.cases.find((c) => c.id === 'tool-calls')!.summary, /goodbye turn made a tool call/);
  });

  it('passes every case with the base URL given without /v1, any ModelId (the demo is the default agent)', async () => {
    const report = await runConformanceSuite({
      baseUrl: gateway.url,
      apiKey: TEST_KEY,
      model: 'whatever-the-console-says',
      concurrency: 8,
    });
    assertCleanPass(report);
    assert.equal(report.alternateBaseUrl, `${gateway.url}/v1`);
  });
});

describe('check against the real gateway: openai-compatible agents in front of the mock upstream', () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;
  const lastUserText = (request: RecordedRequest): string => {
    const messages = (request.body as { messages?: Array<{ role: string; content: unknown }> }).messages ?? [];
    const last = messages.filter((m) => m.role === 'user').at(-1);
    return typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? '');
  };

  before(async () => {
    upstream = await startMockUpstream((request) => {
      const text = lastUserText(request);
      if (/goodbye/i.test(text)) {
        return { events: toolCallEvents([{ name: 'end_call', arguments: '{}' }], { leadingText: 'Goodbye, thanks for calling.' }) };
      }
      if (/three or four sentences/.test(text)) {
        // The barge-in question: a slow answer, so the suite really closes it mid-stream.
        return {
          events: textEvents('I can help with orders, deliveries, refunds and opening hours. '.repeat(4), { usage: true }),
          eventIntervalMs: 25,
        };
      }
      return { events: textEvents('Yes, I can hear you clearly. How can I help?', { usage: true }), eventIntervalMs: 2 };
    });
    gateway = await startTestGateway({
      providers: { mock: { type: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-upstream', retry: { maxRetries: 0 } } },
      agents: {
        support: { provider: 'mock', model: 'qwen-plus', systemPrompt: 'You are a phone assistant.', endCall: { mode: 'tool' } },
        'support-text': { provider: 'mock', model: 'qwen-plus', endCall: { mode: 'text' } },
      },
    });
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  it('passes every case (end call as a hangup tool call)', async () => {
    const report = await runConformanceSuite({ baseUrl: `${gateway.url}/v1`, apiKey: TEST_KEY, model: 'support' });
    assertCleanPass(report);
    assert.match(report.cases.find((c) => c.id === 'tool-calls')!.summary, /goodbye turn made a tool call/);
    assert.match(report.cases.find((c) => c.id === 'barge-in')!.summary, /^closed after \d+ ms .*; next turn 200/);
    await upstream.waitForAbort(upstream.requests.findIndex((r) => /three or four sentences/.test(lastUserText(r))));
    assert.ok(
      upstream.requests.some((r) => JSON.stringify(r.body).includes('data:image/jpeg;base64,')),
      'the image part reached the upstream',
    );
  });

  it('passes every case (end call as the <imsagent_hangup/> text command)', async () => {
    const report = await runConformanceSuite({ baseUrl: gateway.url, apiKey: TEST_KEY, model: 'support-text' });
    assertCleanPass(report);
  });
});
