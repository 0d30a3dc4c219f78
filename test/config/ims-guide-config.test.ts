import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentRegistry } from '../../src/agent/agent-registry.ts';
import { loadConfig } from '../../src/config/load-config.ts';

const GUIDE = fileURLToPath(new URL('../../docs/ims.md', import.meta.url));

/** The complete phone agent of docs/ims.md: the YAML block that defines `providers`. */
function guideConfig(): string {
  const blocks = [...readFileSync(GUIDE, 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const config = blocks.find((block) => /^providers:/m.test(block));
  assert.ok(config, 'docs/ims.md has a complete config');
  return config;
}

describe('docs/ims.md', () => {
  it('its Chinese phone agent loads as written, with the variables it names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlg-ims-guide-'));
    try {
      const path = join(dir, 'config.yaml');
      writeFileSync(path, guideConfig());
      const env = { GATEWAY_API_KEY: 'vlg-test-gateway-key-0123456789', DASHSCOPE_API_KEY: 'sk-test', ORDER_API_TOKEN: 'token' };
      const { config } = loadConfig({ configPath: path, env });
      const agent = config.agents['support-zh'];
      assert.ok(agent);
      assert.equal(config.defaultAgent, 'support-zh');
      assert.equal(agent.endCall?.mode, 'text');
      assert.equal(agent.language, 'zh');
      assert.equal(agent.transfer?.destinations['人工客服']?.callee, '4001000001');
      assert.ok(agent.tools.some((tool) => tool.name === 'lookup_order'));
      assert.doesNotThrow(() => new AgentRegistry(config));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
