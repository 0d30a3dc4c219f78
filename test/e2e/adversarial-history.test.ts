import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { startMockUpstream, textEvents, type MockUpstream } from '../../tools/testing/mock-upstream.ts';
import { imsRequest, readStream, startTestGateway, type TestGateway } from '../support/gateway-harness.ts';

const MARKER = '<ims_agent_interrupted>';
/** The other call's answer drips one event per interval. */
const DRIP_MS = 50;
const DRIP_EVENTS = 30;

/**
 * What HistorySyncWithTTS could send after an answer of mostly whitespace: ~80 KB of it around
 * the marker. The patterns that used to find the marker needed seconds for this, during which
 * every stream of the process stood still.
 */
function adversarialHistory(): Array<{ role: string; content: string }> {
  return [
    { role: 'user', content: '我家宽带断了。' },
    { role: 'assistant', content: `好的，我帮您查一下${' '.repeat(80_000)}x${MARKER} ${MARKER}` },
    { role: 'user', content: '查到了吗？' },
  ];
}

/** Reads a response body, noting when each piece arrived. */
async function arrivals(response: Response): Promise<number[]> {
  const times: number[] = [];
  for await (const _piece of response.body as unknown as AsyncIterable<Uint8Array>) times.push(performance.now());
  return times;
}

describe('an adversarial history does not stall the process', () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;

  before(async () => {
    upstream = await startMockUpstream();
    upstream.respondWith((request) =>
      JSON.stringify(request.body).includes('keep talking')
        ? { events: textEvents('One word after another, for a while.', { chunkSize: 2 }).slice(0, DRIP_EVENTS), eventIntervalMs: DRIP_MS }
        : { events: textEvents('已经查到了。') },
    );
    gateway = await startTestGateway({
      providers: { mock: { type: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-x', retry: { maxRetries: 0 } } },
      agents: { support: { provider: 'mock', model: 'm', history: { markInterruptions: true, mergeConsecutiveRoles: true } } },
    });
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  it('answers an 80 KB whitespace-and-marker history promptly while another call keeps streaming', async () => {
    const flowing = await gateway.post(
      '/v1/chat/completions',
      imsRequest('support', 'keep talking', { extendData: { instanceId: 'other-call' } }),
    );
    const flowingTimes = arrivals(flowing);
    await upstream.waitForRequests(1);

    const body = { ...imsRequest('support', ''), messages: adversarialHistory() };
    assert.ok(JSON.stringify(body).length > 80_000);
    const started = performance.now();
    const answer = await readStream(await gateway.post('/v1/chat/completions', body));
    const answerMs = performance.now() - started;
    const times = await flowingTimes;

    assert.equal(answer.text, '已经查到了。');
    const sent = JSON.stringify(upstream.requests.at(-1)!.body);
    assert.doesNotMatch(sent, /ims_agent_interrupted/);
    assert.ok(sent.includes('x…'), 'the answer is cut at the first marker');

    // Generous bounds against the mock's own pace: the former patterns took seconds here.
    const budget = DRIP_MS * DRIP_EVENTS * 2;
    assert.ok(answerMs < budget, `the adversarial turn took ${answerMs.toFixed(0)} ms`);
    const longestGap = Math.max(...times.slice(1).map((t, i) => t - times[i]!));
    assert.ok(longestGap < budget, `the other call's stream stood still for ${longestGap.toFixed(0)} ms`);
  });
});
