import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDoctor } from '../../src/cli/commands/doctor.ts';
import { startFakeUpstream, UPSTREAM_KEY } from '../diagnostics/fake-upstream.ts';
import { redisSkipReason, TEST_REDIS_URL } from '../support/redis.ts';
import { textSink } from '../support/text-sink.ts';

function configFolder(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vlg-doctor-'));
  writeFileSync(join(dir, 'config.yaml'), yaml);
  return dir;
}

const yaml = (baseUrl: string, model: string) => `
server: { apiKeys: ["\${GATEWAY_KEY}"] }
providers:
  qwen: { type: openai-compatible, baseUrl: "${baseUrl}", apiKey: "\${LLM_KEY}" }
agents:
  support:
    provider: qwen
    model: ${model}
    systemPrompt: "Caller {{callerNumber}} at {{now}}."
    tools:
      - name: lookup_order
        description: Look an order up
        url: "${baseUrl}/orders"
`;

describe('voice-llm-gateway doctor', () => {
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  before(async () => {
    upstream = await startFakeUpstream(['qwen-plus']);
  });
  after(() => upstream.close());
  const env = { GATEWAY_KEY: 'gateway-key-0123456789abcdef', LLM_KEY: UPSTREAM_KEY };

  it('passes a configuration that works end to end', async () => {
    const output = textSink();
    const code = await runDoctor([], { output, env, cwd: configFolder(yaml(upstream.baseUrl, 'qwen-plus')) });
    assert.equal(code, 0, output.text());
    assert.match(output.text(), /^PASS {2}config: .*config\.yaml$/m);
    assert.match(output.text(), /^PASS {2}server\.apiKeys: 1 key\(s\)/m);
    assert.match(output.text(), /^PASS {2}agents\.support\.systemPrompt: renders with sample call data: "Caller 13800000001 at /m);
    assert.match(output.text(), /^PASS {2}providers\.qwen model "qwen-plus": listed by the upstream$/m);
    assert.match(output.text(), /^PASS {2}agents\.support\.tools\[0\] lookup_order: .* is reachable \(HEAD answered 405\)$/m);
    assert.equal(output.text().includes(UPSTREAM_KEY), false);
  });

  it('fails, exit 1, on a wrong model and a misspelt template variable', async () => {
    const output = textSink();
    const broken = yaml(upstream.baseUrl, 'qwen-plsu').replace('{{callerNumber}}', '{{callerNumer}}');
    const code = await runDoctor([], { output, env, cwd: configFolder(broken) });
    assert.equal(code, 1, output.text());
    assert.match(output.text(), /^FAIL {2}providers\.qwen model "qwen-plsu": unknown model.*did you mean "qwen-plus"/m);
    assert.match(
      output.text(),
      /^FAIL {2}agents: agents\.support\.systemPrompt: unknown template variable \{\{callerNumer\}\} \(did you mean \{\{callerNumber\}\}\?\)/m,
    );
  });

  it('checks Redis with state.store redis: PASS with its version, FAIL when it does not answer, the password never shown', async (t) => {
    const skip = await redisSkipReason();
    if (skip) return t.skip(skip);
    const withState = (url: string) => `${yaml(upstream.baseUrl, 'qwen-plus')}state: { store: redis, url: "${url}", timeoutMs: 1000 }\n`;
    const output = textSink();
    assert.equal(await runDoctor([], { output, env, cwd: configFolder(withState(TEST_REDIS_URL)) }), 0, output.text());
    assert.match(output.text(), /^PASS {2}state\.url: Redis \d+\.\d+\.\d+ at .* answers in [\d.]+ ms \(state\.timeoutMs 1000\)$/m);
    const closed = textSink();
    assert.equal(await runDoctor([], { output: closed, env, cwd: configFolder(withState('redis://:hunter2-secret@127.0.0.1:1')) }), 1);
    assert.match(closed.text(), /^FAIL {2}state\.url: Redis at 127\.0\.0\.1:1 does not answer .*degraded/m);
    assert.equal(closed.text().includes('hunter2-secret'), false);
  });

  it('fails on an invalid config, and warns about the demo', async () => {
    const output = textSink();
    assert.equal(await runDoctor([], { output, env: {}, cwd: configFolder('agents: { a: { provider: nowhere } }') }), 1);
    assert.match(output.text(), /^FAIL {2}config: agents\.a\.provider: unknown provider "nowhere"/m);
    const demo = textSink();
    assert.equal(await runDoctor([], { output: demo, env: {}, cwd: mkdtempSync(join(tmpdir(), 'vlg-doctor-')) }), 0);
    assert.match(demo.text(), /^WARN {2}config: built-in demo \(no config\.yaml in /m);
  });
});
