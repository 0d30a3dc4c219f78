import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';

const CLI = resolve(import.meta.dirname, '../../bin/voice-llm-gateway.js');

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(UPSTREAM_|GATEWAY_|PORT$)/.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Starts the CLI and waits for its banner; returns the URL and everything printed so far. */
async function serve(cwd: string, args: string[], env = cleanEnv()): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', ...args], { cwd, env });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const match = /Voice LLM Gateway listening on .*?(http:\/\/\S+)\/v1/.exec(output);
    if (match) return { child, url: match[1]!, output: () => output };
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      assert.fail(`the server did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('voice-llm-gateway serve', () => {
  it('starts the demo with no configuration, generates and keeps a key, stops cleanly on SIGTERM', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'vlg-cli-'));
    const { child, url, output } = await serve(cwd, []);
    const key = readFileSync(join(cwd, 'data', 'api-key'), 'utf8').trim();
    assert.match(key, /^vlg-/);
    // Not a terminal: the key stays out of the log stream, the banner says where it is kept.
    assert.ok(!output().includes(key), 'the generated key is not printed to a log stream');
    assert.match(output(), /API key: kept in data[/\\]api-key/);
    assert.match(output(), /demo/);
    assert.match(output(), /listening on 127\.0\.0\.1:\d+ \(this machine only\); clients: http/);
    assert.match(output(), /Running the BUILT-IN DEMO agent/);
    assert.ok(output().includes(cwd), 'names the folder searched for config.yaml');
    assert.match(output(), /default agent: demo/);

    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'anything', stream: true, messages: [{ role: 'user', content: 'bye' }] }),
    });
    assert.equal(response.status, 200);
    const body = await response.text();
    assert.match(body, /"name":"hangup"/);
    assert.match(body, /data: \[DONE\]\n\n$/);
    assert.equal((await fetch(`${url}/v1/models`)).status, 401, 'never an open server');

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);

    // A second start reuses the same key.
    const again = await serve(cwd, []);
    assert.match(again.output(), /generated earlier, read from data[/\\]api-key/);
    assert.ok(!again.output().includes(key));
    assert.equal(readFileSync(join(cwd, 'data', 'api-key'), 'utf8').trim(), key);
    again.child.kill('SIGTERM');
    await once(again.child, 'exit');
  });

  it('refuses an invalid config file with the path and the problem, exit code 78', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'vlg-cli-'));
    writeFileSync(join(cwd, 'bad.yaml'), 'agents:\n  support: { provider: nowhere, model: m }\n');
    const child = spawn(process.execPath, [CLI, 'serve', '--config', 'bad.yaml'], { cwd, env: cleanEnv() });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = await once(child, 'exit');
    assert.equal(code, 78);
    assert.match(stderr, /bad\.yaml/);
    assert.match(stderr, /agents\.support\.provider: unknown provider "nowhere"/);
  });

  it('serves the UPSTREAM_* quick-start agent under its model name', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'vlg-cli-'));
    const env = cleanEnv({ UPSTREAM_BASE_URL: 'http://127.0.0.1:9/v1', UPSTREAM_MODEL: 'qwen-plus', GATEWAY_API_KEYS: 'k1,k2' });
    const { child, url, output } = await serve(cwd, [], env);
    assert.doesNotMatch(output(), /API key:/, 'configured keys are not printed');
    assert.match(output(), /Config: UPSTREAM_\* environment variables/);
    assert.match(output(), /default agent: qwen-plus/);
    // The startup probe runs in the background and says what is wrong with the upstream.
    for (
      const deadline = Date.now() + 10_000;
      !/upstream probe: providers\.upstream: unreachable/.test(output()) && Date.now() < deadline;
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(output(), /upstream probe: providers\.upstream: unreachable at http:\/\/127\.0\.0\.1:9\/v1 \(ECONNREFUSED\)/);
    const models = await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer k2' } });
    assert.deepEqual(
      ((await models.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id),
      ['qwen-plus'],
    );
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });
});
