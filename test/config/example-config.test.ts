import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { AgentRegistry } from '../../src/agent/agent-registry.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { agentConfigSchema, type GatewayConfig } from '../../src/config/schema.ts';

const EXAMPLE = fileURLToPath(new URL('../../config.example.yaml', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** A dummy value for every ${VAR} config.example.yaml uses, and nothing else from the environment. */
const ENV = {
  GATEWAY_API_KEY: 'test-gateway-key',
  DASHSCOPE_API_KEY: 'sk-test-dashscope',
  DEEPSEEK_API_KEY: 'sk-test-deepseek',
  AZURE_OPENAI_KEY: 'test-azure-key',
  ORDER_API_TOKEN: 'test-order-token',
  ADMIN_API_KEY: 'test-admin-key',
  METRICS_API_KEY: 'test-metrics-key',
  IMS_CALLBACK_TOKEN: 'test-callback-token',
};

function loadExample(): GatewayConfig {
  return loadConfig({ configPath: EXAMPLE, env: ENV }).config;
}

describe('config.example.yaml', () => {
  it('uses exactly the environment variables the test provides', () => {
    const used = new Set<string>();
    const walk = (value: unknown): void => {
      if (typeof value === 'string') for (const m of value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) used.add(m[1]!);
      else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
    };
    walk(parse(readFileSync(EXAMPLE, 'utf8')));
    assert.deepEqual([...used].sort(), Object.keys(ENV).sort());
  });

  it('validates', () => {
    const config = loadExample();
    assert.equal(config.defaultAgent, 'support');
    assert.deepEqual(config.server.apiKeys, ['test-gateway-key']);
    assert.ok(config.agents['front-desk'], 'the scripted agent is there');
    assert.equal(config.providers['front-desk-script']?.type, 'scripted');
  });

  it('makes "support" a complete phone agent: templated prompt, HTTP tool, endCall, transfer', () => {
    const agent = loadExample().agents.support;
    assert.ok(agent);

    assert.match(agent.systemPrompt ?? '', /\{\{callerNumber\}\}/);
    assert.match(agent.systemPrompt ?? '', /\{\{userData\.customerName\}\}/);
    assert.match(agent.systemPrompt ?? '', /\{\{now\}\}/);
    assert.ok(agent.variables['userData.customerName'], 'customerName has a declared default');
    assert.equal(agent.timezone, 'Asia/Shanghai');

    const tool = agent.tools.find((t) => t.name === 'lookup_order');
    assert.ok(tool, 'the lookup_order tool');
    assert.equal(tool.method, 'POST');
    assert.match(tool.url, /^https:\/\//);
    assert.equal(tool.headers.authorization, 'Bearer test-order-token', '${ORDER_API_TOKEN} is substituted');
    assert.equal((tool.parameters as { type?: string }).type, 'object');
    assert.ok(tool.say);
    assert.ok(tool.timeoutMs > 0);

    assert.ok(agent.endCall, 'an endCall section');
    assert.equal(agent.endCall.enabled, true);
    assert.equal(agent.endCall.mode, 'tool');
    assert.equal(agent.endCall.functionName, 'end_call');
    assert.equal(agent.endCall.hangupFunctionName, 'hangup');
    assert.ok(agent.endCall.farewell);

    assert.ok(agent.transfer, 'a transfer section');
    assert.deepEqual(Object.keys(agent.transfer.destinations), ['sales', 'billing']);
    for (const destination of Object.values(agent.transfer.destinations)) assert.ok(destination.callee);
  });

  it('is accepted by the agent registry (providers build, templates parse)', async () => {
    const registry = new AgentRegistry(loadExample());
    try {
      assert.deepEqual(registry.ids().sort(), ['deepseek-chat', 'front-desk', 'support']);
      assert.equal(registry.resolve('anything-else').id, 'support', 'defaultAgent');
    } finally {
      await registry.close();
    }
  });

  it('holds the same phone agent as the README', () => {
    const readme = readFileSync(README, 'utf8');
    const section = readme.indexOf('### A complete phone agent');
    assert.ok(section >= 0, 'the README has the section');
    const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(section));
    assert.ok(block, 'with a YAML block');
    const fromReadme = (parse(block[1]!) as { agents: Record<string, unknown> }).agents.support;
    const fromExample = (parse(readFileSync(EXAMPLE, 'utf8')) as { agents: Record<string, unknown> }).agents.support;
    assert.deepEqual(agentConfigSchema.parse(fromReadme), agentConfigSchema.parse(fromExample));
  });
});
