import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRegistry } from '../../src/agent/agent-registry.ts';
import { loadConfig, parseConfig } from '../../src/config/load-config.ts';
import { closestName } from '../../src/text/did-you-mean.ts';
import { configProblems } from '../support/config-problems.ts';

function folderWith(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vlg-hints-'));
  writeFileSync(join(dir, 'config.yaml'), yaml);
  return dir;
}

const provider = { type: 'openai-compatible', baseUrl: 'https://llm.example.com/v1' };
const parse = (raw: Record<string, unknown>, env: Record<string, string> = {}) => parseConfig(raw, env, 'test');

describe('config mistakes come with the fix', () => {
  it('says where a misplaced key belongs', () => {
    const found = configProblems(() =>
      parse({
        providers: { qwen: { ...provider, model: 'qwen-plus' } },
        agents: { support: { provider: 'qwen', model: 'm', temperature: 0.7 } },
        port: 9000,
      }),
    );
    assert.ok(
      found.includes('agents.support: unknown key "temperature" (did you mean agents.support.params.temperature?)'),
      found.join('\n'),
    );
    assert.ok(
      found.some((line) => /^providers.qwen: unknown key "model" \(it belongs under agents\.<name>\.model\)/.test(line)),
      found.join('\n'),
    );
    assert.ok(found.includes('(top level): unknown key "port" (it belongs under server.port)'), found.join('\n'));
  });

  it('suggests the spelling of a mistyped key', () => {
    const found = configProblems(() =>
      parse({ providers: { qwen: provider }, agents: { support: { provider: 'qwen', model: 'm', systemprompt: 'x' } } }),
    );
    assert.ok(found.includes('agents.support: unknown key "systemprompt" (did you mean "systemPrompt"?)'), found.join('\n'));
  });

  it('advises quoting a number where text is expected (a phone number loses its leading 0)', () => {
    const yaml = `
providers: { s: { type: scripted } }
agents:
  support:
    provider: s
    transfer:
      destinations:
        人工客服: { callee: 05712345678 }
`;
    const found = configProblems(() => loadConfig({ env: {}, cwd: folderWith(yaml) }));
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(
      found[0]!,
      /^agents\.support\.transfer\.destinations\.人工客服\.callee: expected text, got the number 5712345678: quote it/,
    );
    assert.match(found[0]!, /leading 0/);
  });

  it('accepts names in any language', () => {
    const config = parse({
      providers: { s: { type: 'scripted' } },
      agents: { 客服: { provider: 's', transfer: { destinations: { 人工客服: { callee: '0571' } } } } },
    });
    assert.deepEqual(Object.keys(config.agents.客服!.transfer!.destinations), ['人工客服']);
  });

  it('refuses a baseUrl that already ends in /chat/completions', () => {
    const found = configProblems(() =>
      parse({
        providers: { qwen: { ...provider, baseUrl: 'https://llm.example.com/v1/chat/completions' } },
        agents: { a: { provider: 'qwen', model: 'm' } },
      }),
    );
    assert.match(found[0]!, /^providers\.qwen\.baseUrl: ends in \/chat\/completions, which the gateway appends itself: drop it/);
  });

  it('names every missing environment variable at once', () => {
    const found = configProblems(() =>
      parse({
        server: { apiKeys: ['${KEY_A}'] },
        providers: { qwen: { ...provider, apiKey: '${KEY_B}' } },
        agents: { a: { provider: 'qwen', model: '${MODEL_C}' } },
      }),
    );
    assert.equal(found[0], '3 environment variables are not set: KEY_A, KEY_B, MODEL_C (set them all before starting)');
    assert.equal(found.length, 4);
  });

  it('warns about keys short enough to guess, and UPSTREAM_* variables a config file overrides', () => {
    const yaml = `
server: { apiKeys: [short-key] }
privacy: { lookupKey: tiny-secret }
providers: { s: { type: scripted } }
agents: { a: { provider: s } }
`;
    const loaded = loadConfig({ env: { UPSTREAM_MODEL: 'qwen-plus' }, cwd: folderWith(yaml) });
    assert.equal(loaded.warnings.length, 3);
    assert.match(loaded.warnings[0]!, /^UPSTREAM_MODEL is set but ignored: the config file .*config\.yaml wins/);
    assert.match(loaded.warnings[1]!, /^server\.apiKeys\[0\]: a key of 9 characters can be guessed/);
    assert.match(loaded.warnings[2]!, /^privacy\.lookupKey: a key of 11 characters can be guessed/);
    assert.equal(loaded.warnings.join('').includes('short-key') || loaded.warnings.join('').includes('tiny-secret'), false);
  });

  it('refuses template variables no call can fill, with the likely spelling', () => {
    const config = parse({
      providers: { s: { type: 'scripted' } },
      agents: {
        a: {
          provider: 's',
          systemPrompt: 'Caller {{callerNumer}}, {{userData.name}}, {{query.x}}, {{shop}}, {{vip}}',
          variables: { shop: 'Example' },
        },
      },
    });
    const found = configProblems(() => new AgentRegistry(config));
    assert.equal(found.length, 2, found.join('\n'));
    assert.match(
      found[0]!,
      /^agents\.a\.systemPrompt: unknown template variable \{\{callerNumer\}\} \(did you mean \{\{callerNumber\}\}\?\)/,
    );
    assert.match(found[1]!, /\{\{vip\}\}: it would render empty/);
  });

  it('closestName tolerates a few edits only', () => {
    assert.equal(closestName('callerNumer', ['callerNumber', 'calleeNumber']), 'callerNumber');
    assert.equal(closestName('zzz', ['callerNumber']), undefined);
  });
});
