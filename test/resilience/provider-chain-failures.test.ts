import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { openAICompatibleProviderSchema } from '../../src/config/schema.ts';
import { GatewayError } from '../../src/core/gateway-error.ts';
import { OpenAICompatibleProvider } from '../../src/providers/openai-compatible.ts';
import { streamWithFallbacks } from '../../src/resilience/provider-chain.ts';
import { guardProvider, type ProviderTarget } from '../../src/resilience/provider-target.ts';
import { startMockUpstream, type MockUpstream } from '../../tools/testing/mock-upstream.ts';

function target(name: string, baseUrl: string, model: string, apiKey: string): ProviderTarget {
  const config = openAICompatibleProviderSchema.parse({
    type: 'openai-compatible',
    baseUrl,
    apiKey,
    retry: { maxRetries: 0 },
    circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 },
  });
  return { ...guardProvider(new OpenAICompatibleProvider(name, config), config), model, params: {} };
}

async function failure(targets: ProviderTarget[]): Promise<GatewayError> {
  try {
    for await (const _part of streamWithFallbacks(
      targets,
      { messages: [{ role: 'user', content: 'hi' }], params: {} },
      new AbortController().signal,
    )) {
      // Every target fails before its first part.
    }
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    return error;
  }
  assert.fail('every provider failed, yet the chain did not throw');
}

describe('streamWithFallbacks when every provider fails', () => {
  let down: MockUpstream;
  let refusing: MockUpstream;
  before(async () => {
    down = await startMockUpstream({ status: 503, body: '{"error":{"message":"overloaded, key sk-abcdefghijkl"}}' });
    refusing = await startMockUpstream({ status: 401, body: '{"error":{"message":"bad key sk-abcdefghijkl"}}' });
  });
  after(async () => {
    await down.close();
    await refusing.close();
  });

  it("answers with the last provider's error, carrying each provider's failure (no secrets, no raw bodies)", async () => {
    const primary = target('primary', down.url, 'big-model', 'sk-primary-secret');
    const backup = target('backup', refusing.url, 'small-model', 'sk-backup-secret');
    const error = await failure([primary, backup]);
    // What the client hears is the last provider's error, as before.
    assert.equal(error.code, 'upstream_auth_failed');
    assert.equal(error.status, 502);
    assert.deepEqual(
      error.failures?.map(({ provider, model, code, status }) => ({ provider, model, code, status })),
      [
        { provider: 'primary', model: 'big-model', code: 'upstream_error', status: 502 },
        { provider: 'backup', model: 'small-model', code: 'upstream_auth_failed', status: 502 },
      ],
    );
    assert.match(error.failures![0]!.message, /Upstream provider "primary" failed with HTTP 503: overloaded/);
    const said = JSON.stringify(error.failures);
    for (const secret of ['sk-primary-secret', 'sk-backup-secret', 'sk-abcdefghijkl', '{"error"'])
      assert.ok(!said.includes(secret), secret);

    // The breakers opened (threshold 1): the next turn skips both, and says so for each.
    const skipped = await failure([primary, backup]);
    assert.deepEqual(
      skipped.failures?.map(({ provider, code, status }) => ({ provider, code, status })),
      [
        { provider: 'primary', code: 'circuit_open', status: 503 },
        { provider: 'backup', code: 'circuit_open', status: 503 },
      ],
    );
  });
});
