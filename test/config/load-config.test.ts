import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import { configProblems } from '../support/config-problems.ts';

function folderWith(yaml?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vlg-config-'));
  if (yaml !== undefined) writeFileSync(join(dir, 'config.yaml'), yaml);
  return dir;
}

const VALID = `
server: { port: 9000, apiKeys: ["\${GATEWAY_API_KEY}"] }
providers:
  qwen: { type: openai-compatible, baseUrl: "https://llm.example.com/v1", apiKey: "\${LLM_KEY}" }
agents:
  support:
    provider: qwen
    model: qwen-plus
    systemPrompt: "You are a friendly phone assistant."
defaultAgent: support
`;

describe('loadConfig', () => {
  it('runs the built-in demo with no file and no variables', () => {
    const loaded = loadConfig({ env: {}, cwd: folderWith() });
    assert.equal(loaded.source, 'demo');
    assert.equal(loaded.config.defaultAgent, 'demo');
    assert.equal(loaded.config.server.port, 8083);
  });

  it('reads ./config.yaml with ${ENV} secrets', () => {
    const loaded = loadConfig({ env: { GATEWAY_API_KEY: 'k1', LLM_KEY: 'sk-upstream' }, cwd: folderWith(VALID) });
    assert.equal(loaded.source, 'file');
    assert.deepEqual(loaded.config.server.apiKeys, ['k1']);
    const provider = loaded.config.providers.qwen;
    assert.equal(provider?.type === 'openai-compatible' && provider.apiKey, 'sk-upstream');
    assert.equal(loaded.config.server.port, 9000);
  });

  it('names an unset variable with its path; ${VAR:-default} allows it', () => {
    const found = configProblems(() => loadConfig({ env: { LLM_KEY: 'x' }, cwd: folderWith(VALID) }));
    assert.deepEqual(found, [
      'server.apiKeys[0]: environment variable GATEWAY_API_KEY is not set (write ${GATEWAY_API_KEY:-} to allow it to be empty)',
    ]);
    const loaded = loadConfig({ env: { LLM_KEY: 'x' }, cwd: folderWith(VALID.replace('${GATEWAY_API_KEY}', '${GATEWAY_API_KEY:-}')) });
    assert.deepEqual(loaded.config.server.apiKeys, ['']);
  });

  it('lets one API key use the whole gateway unless a per-key limit is set', () => {
    const limitsOf = (limits: string) => {
      const yaml = VALID.replace('apiKeys: ["${GATEWAY_API_KEY}"] }', `apiKeys: ["k1"], limits: { ${limits} } }`);
      return loadConfig({ env: { LLM_KEY: 'sk-upstream' }, cwd: folderWith(yaml) }).config.server.limits;
    };
    assert.deepEqual([limitsOf('').maxConcurrentStreams, limitsOf('').maxConcurrentStreamsPerKey], [2000, 2000]);
    assert.equal(limitsOf('maxConcurrentStreams: 5000').maxConcurrentStreamsPerKey, 5000, 'unset follows the global limit');
    assert.equal(limitsOf('maxConcurrentStreams: 5000, maxConcurrentStreamsPerKey: 40').maxConcurrentStreamsPerKey, 40);
  });

  it('reports schema problems with their paths', () => {
    const yaml = `
server: { port: "eighty" }
providers:
  qwen: { type: openai-compatible, baseUrl: "ftp://x" }
  other: { type: telepathy }
agents:
  support: { provider: qwen }
  sales: { provider: nowhere, model: m, colour: blue }
defaultAgent: nobody
`;
    const found = configProblems(() => loadConfig({ env: {}, cwd: folderWith(yaml) }));
    const text = found.join('\n');
    assert.match(text, /^server\.port: /m);
    assert.match(text, /^providers\.qwen\.baseUrl: must be an http\(s\) URL/m);
    assert.match(text, /^providers\.other\.type: /m);
    assert.match(text, /^agents\.sales: unknown key "colour"/m);
  });

  it('reports cross-references: unknown provider, missing model, unknown default agent', () => {
    const yaml = `
providers:
  qwen: { type: openai-compatible, baseUrl: "https://x/v1" }
agents:
  support: { provider: qwen }
  sales: { provider: nowhere, model: m }
defaultAgent: nobody
`;
    const text = configProblems(() => loadConfig({ env: {}, cwd: folderWith(yaml) })).join('\n');
    assert.match(text, /agents\.support\.model: .*needs "model"/);
    assert.match(text, /agents\.sales\.provider: unknown provider "nowhere" \(configured: qwen\)/);
    assert.match(text, /defaultAgent: unknown agent "nobody"/);
  });

  it('never takes an inherited property name ("constructor", "toString") for a configured provider or agent', () => {
    const yaml = `
providers:
  qwen: { type: openai-compatible, baseUrl: "https://x/v1" }
agents:
  support: { provider: constructor, model: m, fallbacks: [{ provider: hasOwnProperty, model: m }] }
defaultAgent: toString
`;
    const text = configProblems(() => loadConfig({ env: {}, cwd: folderWith(yaml) })).join('\n');
    assert.match(text, /agents\.support\.provider: unknown provider "constructor" \(configured: qwen\)/);
    assert.match(text, /agents\.support\.fallbacks\[0\]\.provider: unknown provider "hasOwnProperty"/);
    assert.match(text, /defaultAgent: unknown agent "toString"/);
  });

  it('reports YAML syntax errors and unreadable files', () => {
    assert.match(configProblems(() => loadConfig({ env: {}, cwd: folderWith('agents: [unclosed') }))[0]!, /^YAML: /);
    assert.match(configProblems(() => loadConfig({ configPath: '/nonexistent/x.yaml', env: {} }))[0]!, /cannot read the file: ENOENT/);
  });

  it('builds a quick-start agent from UPSTREAM_* variables', () => {
    const loaded = loadConfig({
      env: {
        UPSTREAM_BASE_URL: 'https://api.deepseek.com/v1',
        UPSTREAM_API_KEY: 'sk-1',
        UPSTREAM_MODEL: 'deepseek-chat',
        GATEWAY_API_KEYS: 'a, b',
        PORT: '9100',
      },
      cwd: folderWith(),
    });
    assert.equal(loaded.source, 'environment');
    assert.equal(loaded.config.defaultAgent, 'deepseek-chat');
    const agent = loaded.config.agents['deepseek-chat']!;
    assert.equal(agent.provider, 'upstream');
    assert.equal(agent.model, 'deepseek-chat');
    assert.deepEqual(loaded.config.server.apiKeys, ['a', 'b']);
    assert.equal(loaded.config.server.port, 9100);
    assert.match(configProblems(() => loadConfig({ env: { UPSTREAM_BASE_URL: 'https://x/v1' }, cwd: folderWith() }))[0]!, /UPSTREAM_MODEL/);
  });

  it('GATEWAY_CONFIG names the file; PORT must be a number', () => {
    const dir = folderWith(VALID);
    const loaded = loadConfig({ env: { GATEWAY_CONFIG: join(dir, 'config.yaml'), GATEWAY_API_KEY: 'k', LLM_KEY: 'l' }, cwd: folderWith() });
    assert.equal(loaded.source, 'file');
    assert.match(configProblems(() => loadConfig({ env: { PORT: 'abc' }, cwd: folderWith() }))[0]!, /^server\.port: /);
  });
});
