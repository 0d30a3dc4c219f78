import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMockUpstream, textEvents, type MockUpstream } from '../../tools/testing/mock-upstream.ts';

/**
 * The server started as users start it (through the launcher, or `npm start`), in a process group
 * of its own like a terminal's or a systemd unit's, stopped while it streams a slow answer.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const KEY = 'shutdown-test-key';
const NPM = spawnSync('npm', ['--version']).status === 0;

/** About 2 s of answer, well within the default 10 s drain. */
const SLOW_ANSWER = textEvents('one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen.', {
  chunkSize: 5,
});

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(UPSTREAM_|GATEWAY_|PORT$|npm_)/.test(key)) env[key] = value;
  }
  return env;
}

interface Started {
  child: ChildProcess;
  url: string;
  exit: Promise<number | null>;
}

async function start(how: 'launcher' | 'npm', configFile: string): Promise<Started> {
  const serveArgs = ['--config', configFile, '--port', '0', '--host', '127.0.0.1'];
  const [command, args] =
    how === 'npm'
      ? ['npm', ['start', '--silent', '--', ...serveArgs]]
      : [process.execPath, [join(ROOT, 'bin/node24.js'), 'src/cli/main.ts', 'serve', ...serveArgs]];
  // detached: the leader of a new process group, as a shell job or a service is.
  const child = spawn(command, args, { cwd: ROOT, env: cleanEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const match = /Voice LLM Gateway listening on .*?(http:\/\/\S+)\/v1/.exec(output);
    if (match) return { child, url: match[1]!, exit };
    if (child.exitCode !== null || Date.now() > deadline) {
      killGroup(child, 'SIGKILL');
      assert.fail(`the server did not start:\n${output}`);
    }
    await sleep(20);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

/** Opens a streaming turn and resolves once its first bytes arrived; `rest` is the whole body. */
async function openStream(url: string): Promise<{ rest: Promise<string> }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'count' }] }),
  });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const first = await reader.read();
  let text = decoder.decode(first.value);
  const rest = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      return text; // the connection was cut
    }
  })();
  return { rest };
}

/** The answer's text, joined from its content deltas. */
function spoken(body: string): string {
  return [...body.matchAll(/"content":"([^"]*)"/g)].map((m) => m[1]).join('');
}

async function portClosed(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/healthz`);
    return false;
  } catch {
    return true;
  }
}

describe('graceful shutdown as users start the server', { timeout: 120_000 }, () => {
  let upstream: MockUpstream;
  let configFile: string;

  before(async () => {
    upstream = await startMockUpstream({ events: SLOW_ANSWER, eventIntervalMs: 100 });
    const dir = mkdtempSync(join(tmpdir(), 'vlg-shutdown-'));
    configFile = join(dir, 'config.yaml');
    writeFileSync(
      configFile,
      [
        'server:',
        `  apiKeys: [${KEY}]`,
        `  dataDir: ${JSON.stringify(join(dir, 'data'))}`,
        '  logLevel: warn',
        'records: { enabled: false }',
        'providers:',
        `  mock: { type: openai-compatible, baseUrl: ${JSON.stringify(upstream.url)} }`,
        'agents:',
        '  slow: { provider: mock, model: m }',
        'defaultAgent: slow',
        '',
      ].join('\n'),
    );
  });
  after(() => upstream.close());

  const drains: Array<{ name: string; how: 'launcher' | 'npm'; send: (child: ChildProcess) => Promise<void> }> = [
    { name: 'Ctrl-C (SIGINT to the process group)', how: 'launcher', send: async (c) => killGroup(c, 'SIGINT') },
    { name: 'SIGTERM to the process group (systemd KillMode=control-group)', how: 'launcher', send: async (c) => killGroup(c, 'SIGTERM') },
    { name: 'SIGTERM to the launcher alone', how: 'launcher', send: async (c) => void c.kill('SIGTERM') },
    {
      name: 'SIGTERM twice in a row, to the group then to the launcher',
      how: 'launcher',
      send: async (c) => {
        killGroup(c, 'SIGTERM');
        await sleep(50);
        c.kill('SIGTERM');
      },
    },
    { name: 'npm start: SIGTERM to npm alone', how: 'npm', send: async (c) => void c.kill('SIGTERM') },
    { name: 'npm start: Ctrl-C (SIGINT to the process group)', how: 'npm', send: async (c) => killGroup(c, 'SIGINT') },
    { name: 'npm start: SIGTERM to the process group', how: 'npm', send: async (c) => killGroup(c, 'SIGTERM') },
  ];

  for (const { name, how, send } of drains) {
    it(`${name}: the running answer ends with [DONE], then the process exits 0`, {
      skip: how === 'npm' && !NPM && 'npm is not on PATH',
    }, async () => {
      const server = await start(how, configFile);
      try {
        const stream = await openStream(server.url);
        await send(server.child);
        const body = await stream.rest;
        assert.ok(spoken(body).endsWith('fifteen.'), `the whole answer was streamed: "${spoken(body)}"`);
        assert.ok(body.endsWith('data: [DONE]\n\n'), 'the stream ends with [DONE]');
        assert.equal(await server.exit, 0);
        assert.ok(await portClosed(server.url), 'nothing is left holding the port');
      } finally {
        killGroup(server.child, 'SIGKILL');
      }
    });
  }

  it('a deliberate second Ctrl-C, a moment after the first, stops at once', async () => {
    upstream.respondWith({ events: SLOW_ANSWER, eventIntervalMs: 1000 }); // ~20 s: no drain finishes it
    const server = await start('launcher', configFile);
    try {
      const stream = await openStream(server.url);
      killGroup(server.child, 'SIGINT');
      await sleep(1500);
      assert.equal(server.child.exitCode, null, 'the first Ctrl-C drains');
      const forcedAt = Date.now();
      killGroup(server.child, 'SIGINT');
      assert.notEqual(await server.exit, 0);
      assert.ok(Date.now() - forcedAt < 2000, 'no waiting for the drain');
      assert.ok(!spoken(await stream.rest).includes('fifteen'), 'the answer was cut');
    } finally {
      killGroup(server.child, 'SIGKILL');
      upstream.respondWith({ events: SLOW_ANSWER, eventIntervalMs: 100 });
    }
  });
});
