import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runConformanceSuite } from '../../tools/check/suite.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../support/gateway-harness.ts';

/** An agent whose upstream is down: every turn is answered with the gateway's apology. */
const config = {
  providers: {
    down: {
      type: 'openai-compatible',
      baseUrl: 'http://127.0.0.1:9/v1',
      retry: { maxRetries: 0 },
      timeouts: { connectMs: 500, firstTokenMs: 1000 },
    },
  },
  agents: { support: { provider: 'down', model: 'qwen-plus', onFailure: { message: 'We are sorry, please call again later.' } } },
  defaultAgent: 'support',
};

describe('the apology is visible to machines (e2e)', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway(config);
  });
  after(() => gateway.close());

  const turn = (stream: boolean) => ({
    model: 'support',
    stream,
    messages: [{ role: 'user', content: 'hello' }],
    extendData: { instanceId: `apology-${stream}` },
  });

  it('marks a streamed and a non-streamed apology with x-vlg-outcome, even with a configured message', async () => {
    for (const stream of [true, false]) {
      const response = await gateway.post('/v1/chat/completions', turn(stream), { headers: { 'x-vlg-synthetic': 'check' } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-vlg-outcome'), 'apology');
      assert.match(await response.text(), /We are sorry/);
    }
  });

  it('records the synthetic marker of test traffic, and nothing for other callers', async () => {
    await (await gateway.post('/v1/chat/completions', turn(true), { headers: { 'x-vlg-synthetic': 'bogus' } })).text();
    await gateway.records!.flush();
    const detail = await gateway.records!.getCall('apology-true');
    const marks = detail!.turnRecords.map((t) => t.synthetic ?? null);
    assert.deepEqual(marks, ['check', null]);
    assert.ok(gateway.logs.some((line) => line.synthetic === 'check' && line.status === 'apologized'));
  });

  it('check fails the cases whose answer was the apology, instead of passing them', async () => {
    const report = await runConformanceSuite({ baseUrl: `${gateway.url}/v1`, apiKey: TEST_KEY, model: 'support', timeoutMs: 5000 });
    const basic = report.cases.find((c) => c.id === 'stream-basic')!;
    assert.equal(basic.status, 'fail');
    assert.deepEqual(
      basic.findings.map((f) => f.rule),
      ['apology'],
    );
    assert.match(basic.findings[0]!.fix, /doctor/);
  });
});
