import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CHECK_USAGE, runCheck } from '../../../tools/cli/commands/check.ts';
import { demoConfigSource } from '../../../src/config/demo-config.ts';
import type { CheckReport } from '../../../tools/check/suite.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../../support/gateway-harness.ts';

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return { stream, text: () => text };
}

async function check(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const code = await runCheck(argv, { output: out.stream, error: err.stream });
  return { code, out: out.text(), err: err.text() };
}

describe('voice-llm-gateway check: options', () => {
  it('prints the usage for --help', async () => {
    const { code, out } = await check(['check', '--help']);
    assert.equal(code, 0);
    assert.equal(out, CHECK_USAGE);
    assert.match(CHECK_USAGE, /--base-url URL[\s\S]*--api-key KEY[\s\S]*--model ID[\s\S]*--timeout-ms N[\s\S]*--json[\s\S]*--junit FILE/);
  });

  it('refuses missing or bad options with exit code 2', async () => {
    let result = await check(['--base-url', 'http://127.0.0.1:1']);
    assert.equal(result.code, 2);
    assert.match(result.err, /^Missing --api-key, --model\./);
    result = await check(['--base-url', 'ftp://x', '--api-key', 'k', '--model', 'm']);
    assert.equal(result.code, 2);
    assert.match(result.err, /--base-url must be an http\(s\) URL/);
    result = await check(['--base-url', 'http://x', '--api-key', 'k', '--model', 'm', '--timeout-ms', '0']);
    assert.equal(result.code, 2);
    assert.match(result.err, /--timeout-ms must be a positive whole number, got "0"/);
    result = await check(['--base-url', 'http://x', '--api-key', 'k', '--model', 'm', '--nope']);
    assert.equal(result.code, 2);
    assert.match(result.err, /Unknown option '--nope'/);
  });
});

describe('voice-llm-gateway check against servers', () => {
  let gateway: TestGateway;
  let open: Server;
  let openUrl: string;
  let dir: string;
  before(async () => {
    gateway = await startTestGateway(structuredClone(demoConfigSource) as Record<string, unknown>);
    // A server that streams a correct answer to anyone, key or not.
    open = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        if (request.headers['content-type'] !== 'application/json') return void response.writeHead(415).end();
        const head = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm' };
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(
          `data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi.' }, finish_reason: null }] })}\n\n`,
        );
        response.write(`data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
        response.end('data: [DONE]\n\n');
      });
    });
    await new Promise<void>((resolve) => open.listen(0, '127.0.0.1', resolve));
    openUrl = `http://127.0.0.1:${(open.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'vlg-check-cli-'));
  });
  after(async () => {
    await gateway.close();
    open.closeAllConnections();
    await new Promise((resolve) => open.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 against the gateway, with --json on stdout and a JUnit file', async () => {
    const junit = join(dir, 'reports', 'check.xml');
    const { code, out, err } = await check([
      'check',
      '--base-url',
      `${gateway.url}/v1`,
      '--api-key',
      TEST_KEY,
      '--model',
      'demo',
      '--json',
      '--junit',
      junit,
    ]);
    assert.equal(err, '');
    const report = JSON.parse(out) as CheckReport;
    assert.equal(code, 0, out);
    // The demo's answer is complete before the barge-in close: not exercised, so a skip.
    assert.deepEqual(report.counts, { pass: 18, warn: 0, fail: 0, skip: 1 });
    assert.equal(report.model, 'demo');
    const xml = readFileSync(junit, 'utf8');
    assert.equal(xml.match(/<testcase /g)!.length, 19);
    assert.ok(!xml.includes('<failure'));
    assert.match(xml, /<testcase classname="conformance" name="auth-missing-key: [^"]+" time="\d+\.\d{3}">/);
  });

  it('exits 1 and prints the table with details when a case fails; warnings alone do not fail', async () => {
    const junit = join(dir, 'open.xml');
    const { code, out } = await check([
      '--base-url',
      openUrl,
      '--api-key',
      'secret',
      '--model',
      'm',
      '--timeout-ms',
      '5000',
      '--junit',
      junit,
    ]);
    assert.equal(code, 1, out);
    assert.match(out, /^Conformance check of POST http:\/\/127\.0\.0\.1:\d+\/chat\/completions, model "m" \(timeout 5000 ms per request\)/);
    assert.match(out, /\n {2}FAIL +auth-missing-key +\d+ ms +- +accepted without an Authorization header \(200\)\n/);
    assert.match(out, /\n {2}PASS +stream-basic +\d+ ms +\d+ ms +200, 3 events, 3 chars, \[DONE\]\n/);
    assert.match(out, /\n {2}WARN +usage /);
    assert.match(out, /19 cases: 13 pass, 1 warn, 3 fail, 2 skip \(not exercised\)/);
    assert.match(out, /\n {2}SKIP +tool-calls .*nothing to check\n/);
    assert.match(
      out,
      /FAIL {2}auth-wrong-key {2}\[auth-required\]\n {4}a request with a wrong key was answered with 200[^\n]*\n {4}where: [^\n]+\n {4}quote: data: \{"id":"chatcmpl-1"[^\n]+\n {4}fix: {3}Check "Authorization: Bearer <key>"/,
    );
    const xml = readFileSync(junit, 'utf8');
    assert.equal(xml.match(/<failure /g)!.length, 3, 'no key, wrong key, bad JSON accepted');
    assert.match(xml, /<failure message="\[auth-required\] a request without an Authorization header was answered with 200/);
  });
});
