import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openAICompatibleProviderSchema } from '../../src/config/schema.ts';
import { probeUpstream } from '../../src/diagnostics/probe-upstreams.ts';
import { startFakeUpstream, UPSTREAM_KEY } from './fake-upstream.ts';

describe('probeUpstream', () => {
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  before(async () => {
    upstream = await startFakeUpstream(['qwen-plus', 'qwen-max']);
  });
  after(() => upstream.close());

  const target = (apiKey: string, models: string[], baseUrl = upstream.baseUrl) => ({
    name: 'qwen',
    config: openAICompatibleProviderSchema.parse({ type: 'openai-compatible', baseUrl, apiKey }),
    models,
  });

  it('passes a reachable upstream that takes the key and lists the model', async () => {
    const results = await probeUpstream(target(UPSTREAM_KEY, ['qwen-plus']));
    assert.deepEqual(
      results.map((r) => r.status),
      ['PASS', 'PASS'],
    );
    assert.match(results[0]!.message, /2 models listed/);
  });

  it('fails a model the upstream does not know, with the likely name', async () => {
    const results = await probeUpstream(target(UPSTREAM_KEY, ['qwen-plsu']));
    assert.equal(results[1]!.status, 'FAIL');
    assert.equal(results[1]!.subject, 'providers.qwen model "qwen-plsu"');
    assert.match(results[1]!.message, /unknown model.*HTTP 404.*did you mean "qwen-plus"/);
  });

  it('fails a refused key without naming it', async () => {
    const wrong = 'sk-wrong-key-9876543210';
    const results = await probeUpstream(target(wrong, ['qwen-plus']));
    assert.equal(results.length, 1);
    assert.equal(results[0]!.status, 'FAIL');
    assert.match(results[0]!.message, /refused the key \(HTTP 401.*check providers\.qwen\.apiKey/);
    assert.equal(JSON.stringify(results).includes(wrong), false);
  });

  it('fails an unreachable upstream', async () => {
    const results = await probeUpstream(target(UPSTREAM_KEY, ['qwen-plus'], 'http://127.0.0.1:9/v1'), { timeoutMs: 2000 });
    assert.equal(results[0]!.status, 'FAIL');
    assert.match(results[0]!.message, /unreachable at http:\/\/127\.0\.0\.1:9\/v1 \(ECONNREFUSED\)/);
  });
});
