import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.ts';
import { parsePrometheusText } from '../support/prometheus.ts';

const config = {
  providers: { script: { type: 'scripted', fallback: 'ok {{heard}}' } },
  agents: { alpha: { provider: 'script' }, beta: { provider: 'script' } },
};
const turn = { model: 'alpha', stream: true, messages: [{ role: 'user', content: 'hi' }] };
const PROVIDER_KEY = 'sk-provider-key-that-must-never-be-logged';

/** The real server on a free port: every setup mistake is refused, logged once a minute with a count, and counted. */
describe('refused requests (e2e)', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway(config);
  });
  after(() => gateway.close());

  const refusals = (reason: string) =>
    gateway.logs.filter((line) => line.reason === reason && String(line.msg).startsWith('request refused'));

  it('logs a wrong key once per minute, with what to do and without the key', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await gateway.post('/v1/chat/completions', turn, { headers: { authorization: `Bearer ${PROVIDER_KEY}` } });
      assert.equal(response.status, 401);
      assert.match(((await response.json()) as { error: { message: string } }).error.message, /not the model provider's key/);
    }
    const lines = refusals('wrong_api_key');
    assert.equal(lines.length, 1);
    assert.match(String(lines[0]!.msg), /the console's API-KEY must be one of `server.apiKeys`, not the model provider's key/);
    assert.equal(gateway.logText().includes(PROVIDER_KEY), false);
  });

  it('logs a missing key separately', async () => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(response.status, 401);
    assert.equal(refusals('missing_api_key').length, 1);
  });

  it('names the known models for an unknown ModelId when there is no defaultAgent', async () => {
    const response = await gateway.post('/v1/chat/completions', { ...turn, model: 'qwen-plus' });
    assert.equal(response.status, 404);
    const [line] = refusals('unknown_model');
    assert.ok(line);
    assert.match(String(line.msg), /unknown ModelId "qwen-plus".*alpha, beta.*defaultAgent/);
  });

  it('says what the base URL should be for a doubled path', async () => {
    const response = await gateway.post('/v1/chat/completions/chat/completions', turn);
    assert.equal(response.status, 404);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /without \/chat\/completions/);
    const [line] = refusals('unknown_route');
    assert.ok(line);
    assert.match(String(line.msg), /base URL ending in \/v1/);
  });

  it('counts every refusal by reason, logged or not', async () => {
    const response = await fetch(`${gateway.url}/metrics`);
    const family = parsePrometheusText(await response.text()).find((f) => f.name === 'vlg_refused_requests_total');
    const count = (reason: string) => Number(family?.metrics.find((m) => m.labels?.reason === reason)?.value ?? 0);
    assert.equal(count('wrong_api_key'), 3);
    assert.equal(count('missing_api_key'), 1);
    assert.equal(count('unknown_model'), 1);
    assert.equal(count('unknown_route'), 1);
  });
});
