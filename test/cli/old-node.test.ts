import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cleanEnv, killGroup, waitForBanner } from '../support/cli-process.ts';
import { findOldNode } from '../support/old-node.ts';

/**
 * The README's commands (`node bin/voice-llm-gateway.js <command>`, or an `npm link`ed
 * `voice-llm-gateway`) on a machine whose own Node.js is older than the gateway needs: the
 * launcher hands over to the Node.js 24 that `npm ci` installed, as `npm start` does.
 */

const CLI = resolve(import.meta.dirname, '../../bin/voice-llm-gateway.js');
const OLD_NODE = findOldNode();
const skip = OLD_NODE === undefined && 'no Node.js older than the engines field on this machine (which -a node, /usr/bin/node)';

function run(args: string[], cwd: string) {
  return spawnSync(OLD_NODE!, [CLI, ...args], { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 30_000 });
}

describe(`the CLI run with the machine's old Node.js (${OLD_NODE ?? 'none'})`, { skip, timeout: 60_000 }, () => {
  let cwd: string;
  before(() => {
    cwd = mkdtempSync(join(tmpdir(), 'vlg-old-node-'));
    const version = spawnSync(OLD_NODE!, ['--version'], { encoding: 'utf8' }).stdout.trim();
    assert.ok(version.startsWith('v'), `the old Node.js runs: ${version}`);
  });

  it('--help and simulate --help print their usage and exit 0', () => {
    const help = run(['--help'], cwd);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: voice-llm-gateway <command>/);
    const simulate = run(['simulate', '--help'], cwd);
    assert.equal(simulate.status, 0, simulate.stderr);
    assert.match(simulate.stdout, /^Usage: voice-llm-gateway simulate/);
  });

  it("an unknown command's exit status comes through", () => {
    const result = run(['no-such-command'], cwd);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /Unknown command "no-such-command"/);
  });

  it('serve records a turn, drains on SIGTERM to the launcher and exits 0; calls export then lists the turn', async () => {
    const child = spawn(OLD_NODE!, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1'], { cwd, env: cleanEnv(), detached: true });
    const exit = once(child, 'exit');
    const { url, output } = await waitForBanner(child);
    try {
      const key = readFileSync(join(cwd, 'data', 'api-key'), 'utf8').trim();
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: 'demo', stream: true, messages: [{ role: 'user', content: 'hello' }] }),
      });
      assert.match(await response.text(), /data: \[DONE\]\n\n$/);
      child.kill('SIGTERM'); // to the launcher alone: it passes the signal on to the server
      const [code] = await exit;
      assert.equal(code, 0, output());
    } finally {
      killGroup(child); // the launcher and the server it started, if the test failed half-way
    }

    const exported = run(['calls', 'export', '--since', '1h', '--format', 'jsonl'], cwd);
    assert.equal(exported.status, 0, exported.stderr);
    const turns = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { callerText: string; outcome: string });
    assert.deepEqual(
      turns.map((t) => [t.callerText, t.outcome]),
      [['hello', 'ok']],
    );
  });
});
