import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runConformanceSuite, type CheckCaseResult, type CheckReport } from '../../../tools/check/suite.ts';

/**
 * The vendor's own sample server (the Python/Flask code on the IMS "LLM standard interface" page),
 * extracted from /work/shared/reference/llm-standard-interface.txt at test time and run unchanged
 * but for its port. The suite must report its deviations as they are.
 */
/** The vendor's page: shared/ sits beside the checkout (in CI too); IMS_REFERENCE_FILE overrides. */
const REFERENCE =
  [
    process.env.IMS_REFERENCE_FILE,
    fileURLToPath(new URL('../../../../shared/reference/llm-standard-interface.txt', import.meta.url)),
    '/work/shared/reference/llm-standard-interface.txt',
  ].find((candidate) => candidate !== undefined && existsSync(candidate)) ?? '../shared/reference/llm-standard-interface.txt';
const SAMPLE_KEY = 'YOURAPIKEY';

/** The first interpreter that can import flask and loguru (pyenv's python3 often cannot see Debian's packages). */
function findPython(): string | undefined {
  const candidates = [process.env.CHECK_PYTHON, 'python3', '/usr/bin/python3', '/usr/local/bin/python3'].filter(
    (c): c is string => typeof c === 'string' && c !== '',
  );
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-c', 'import flask, loguru'], { stdio: 'ignore', timeout: 20_000 });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/** The Python code of the page: from `import json` to the `app.run(...)` line. */
function extractSample(page: string): string {
  const lines = page.split(/\r?\n/);
  const start = lines.findIndex((line) => line.startsWith('import json'));
  const end = lines.findIndex((line, i) => i > start && /^\s+app\.run\(/.test(line));
  assert.ok(start >= 0 && end > start, 'the reference page holds the Python sample');
  return `${lines.slice(start, end + 1).join('\n')}\n`;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) assert.fail(`the sample server did not start:\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const python = findPython();
const reference = (() => {
  try {
    return readFileSync(REFERENCE, 'utf8');
  } catch {
    return undefined;
  }
})();
const skip =
  reference === undefined
    ? `the reference page ${REFERENCE} is missing`
    : python === undefined
      ? 'no python3 can import flask and loguru (tried $CHECK_PYTHON, python3, /usr/bin/python3, /usr/local/bin/python3); on Debian: apt-get install -y python3-flask python3-loguru'
      : false;

describe('check against the vendor Python sample server', { skip }, () => {
  let dir: string;
  let child: ChildProcess;
  let report: CheckReport;
  let output = '';
  const byId = (id: string): CheckCaseResult => report.cases.find((c) => c.id === id)!;
  const rules = (id: string) => Object.fromEntries(byId(id).findings.map((f) => [f.rule, f.status]));

  before(async () => {
    const source = extractSample(reference!);
    assert.match(source, /app\.run\(port=8083, debug=True\)/);
    const port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'vlg-vendor-sample-'));
    writeFileSync(join(dir, 'server.py'), source.replace('app.run(port=8083', `app.run(port=${port}`));
    // Its own process group: debug=True runs Werkzeug's reloader, which forks the real server.
    child = spawn(python!, ['server.py'], { cwd: dir, detached: true, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitForPort(port, child, () => output);
    // Its answer takes ~10 s (0.1 s per character): all requests at once, with room to finish.
    report = await runConformanceSuite({
      baseUrl: `http://127.0.0.1:${port}/v1`,
      apiKey: SAMPLE_KEY,
      model: 'abc',
      timeoutMs: 30_000,
      concurrency: 19,
    });
  });
  after(() => {
    if (child?.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fails: no role first, created changes every second, tool_calls without index repeated on every chunk with "\\{\\}" arguments', () => {
    assert.equal(
      report.counts.fail,
      3,
      JSON.stringify(
        report.cases.filter((c) => c.status === 'fail'),
        null,
        1,
      ),
    );
    assert.deepEqual(rules('role-first'), { 'role-first': 'fail' });
    assert.deepEqual(rules('stable-id'), { 'stable-created': 'fail' }, 'the fixed id "chatcmpl-123" is stable, created is read per chunk');
    assert.deepEqual(rules('tool-calls'), {
      'tool-call-index': 'fail',
      'tool-call-repeated': 'fail',
      'tool-call-arguments-json': 'fail',
      'tool-call-finish-reason': 'warn',
      'tool-call-before-content': 'warn',
    });
    const args = byId('tool-calls').findings.find((f) => f.rule === 'tool-call-arguments-json')!;
    assert.match(args.message, /\\\{\\\}\\\{\\\}.*not valid JSON/);
    assert.match(args.message, /backslash-escaped braces/);
    assert.match(args.quote!, /"arguments": "\\\\\{\\\\\}"/);
    const repeated = byId('tool-calls').findings.find((f) => f.rule === 'tool-call-repeated')!;
    assert.match(repeated.message, /"hangup"\) names its function again in \d+ later deltas/);
  });

  it('warns: {"error":"Unauthorized"} bodies, no /chat/completions without /v1, HTML 400 on bad JSON, include_usage ignored', () => {
    assert.deepEqual(rules('auth-missing-key'), { 'error-shape': 'warn' });
    assert.deepEqual(rules('auth-wrong-key'), { 'error-shape': 'warn' });
    assert.match(byId('auth-missing-key').summary, /refused with 401/);
    assert.match(byId('auth-missing-key').findings[0]!.message, /"error" is "Unauthorized"/);
    assert.deepEqual(rules('path-alternate'), { 'path-missing': 'warn' });
    assert.match(byId('path-alternate').summary, /^\/chat\/completions not found \(404\)/);
    assert.deepEqual(rules('malformed-json'), { 'error-shape': 'warn' });
    assert.match(byId('malformed-json').findings[0]!.quote!, /^HTTP 400 text\/html/);
    assert.deepEqual(rules('usage'), { 'usage-ignored': 'warn' });
    assert.equal(report.counts.warn, 5);
  });

  it('passes the rest: event-stream, JSON fields, finish_reason stop on the last chunk only, [DONE], every request shape accepted', () => {
    for (const id of [
      'stream-basic',
      'content-type',
      'event-json',
      'finish-reason',
      'done',
      'history-20',
      'extend-data-phone',
      'extend-data-minimal',
      'user-data-not-json',
      'multimodal',
      'barge-in',
    ]) {
      assert.equal(byId(id).status, 'pass', `${id}: ${JSON.stringify(byId(id).findings)}`);
    }
    assert.ok(byId('stream-basic').ttftMs! < 2000, 'first character at once');
    assert.ok(byId('stream-basic').durationMs > 8000, 'the whole answer takes ~10 s (0.1 s per character)');
  });
});
