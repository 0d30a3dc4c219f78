import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RULES } from '../../../tools/check/check-rules.ts';
import { runConformanceSuite, type CheckCaseResult, type CheckReport } from '../../../tools/check/suite.ts';

/**
 * A custom-LLM server that gets everything wrong a strict client cares about: it streams as
 * text/plain, changes the id on every chunk, never sends the role, puts finish_reason on every
 * chunk, sends "\{\}" as the tool arguments, never sends [DONE], crashes with an HTML 500 on a
 * body that is not JSON, and takes any key (or none).
 */
function brokenHandler(request: IncomingMessage, response: ServerResponse): void {
  let raw = '';
  request.setEncoding('utf8');
  request.on('data', (piece: string) => (raw += piece));
  request.on('end', () => {
    let body: { model?: string };
    try {
      body = JSON.parse(raw) as { model?: string };
    } catch {
      response.writeHead(500, { 'content-type': 'text/html' });
      response.end('<html><body><h1>Internal Server Error</h1><pre>Traceback: JSONDecodeError</pre></body></html>');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    const words = ['Sure', ', ', 'I ', 'can ', 'hear ', 'you.'];
    const created = Math.floor(Date.now() / 1000);
    words.forEach((word, i) => {
      const delta: Record<string, unknown> = { content: word };
      if (i === words.length - 1) {
        delta.tool_calls = [{ index: 0, id: 'call_1', type: 'function', function: { name: 'hangup', arguments: '\\{\\}' } }];
      }
      const chunk = {
        id: `chatcmpl-${i}`,
        object: 'chat.completion.chunk',
        created,
        model: body.model ?? 'x',
        choices: [{ index: 0, delta, finish_reason: 'stop' }],
      };
      response.write(`data: ${JSON.stringify(chunk)}\n\n`);
    });
    response.end(); // no [DONE]
  });
}

function byId(report: CheckReport, id: string): CheckCaseResult {
  const found = report.cases.find((c) => c.id === id);
  assert.ok(found, `case ${id}`);
  return found;
}

/** Asserts the case reports exactly these rules (with their status) and that each carries its fix. */
function assertRules(report: CheckReport, id: string, expected: Record<string, 'fail' | 'warn'>): void {
  const c = byId(report, id);
  const actual = Object.fromEntries(c.findings.map((f) => [f.rule, f.status]));
  assert.deepEqual(actual, expected, `${id}: ${JSON.stringify(c.findings, null, 1)}`);
  for (const f of c.findings) {
    assert.equal(f.fix, RULES[f.rule]!.fix, `${id} [${f.rule}] carries its fix`);
    assert.ok(f.fix.length > 20);
  }
  const clean = /not exercised|nothing to check/.test(c.summary) ? 'skip' : 'pass';
  assert.equal(c.status, Object.values(expected).includes('fail') ? 'fail' : Object.keys(expected).length > 0 ? 'warn' : clean);
}

describe('check against a deliberately broken server', () => {
  let server: Server;
  let baseUrl: string;
  let report: CheckReport;

  before(async () => {
    server = createServer(brokenHandler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    report = await runConformanceSuite({ baseUrl, apiKey: 'right-key', model: 'broken', timeoutMs: 5000 });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fails the key cases: requests without a key or with a wrong key are served', () => {
    assertRules(report, 'auth-missing-key', { 'auth-required': 'fail' });
    assertRules(report, 'auth-wrong-key', { 'auth-required': 'fail' });
    const finding = byId(report, 'auth-missing-key').findings[0]!;
    assert.match(finding.message, /without an Authorization header was answered with 200/);
    assert.match(finding.quote!, /^data: \{"id":"chatcmpl-0"/, 'quotes the event it got');
  });

  it('fails the content type and still judges the events in the text/plain body', () => {
    assertRules(report, 'content-type', { 'content-type': 'fail' });
    const finding = byId(report, 'content-type').findings[0]!;
    assert.equal(finding.quote, 'Content-Type: text/plain; charset=utf-8');
    assert.match(finding.message, /strict clients refuse to read it/);
  });

  it('fails the changing id, the missing role and finish_reason on every chunk, quoting the event', () => {
    assertRules(report, 'stable-id', { 'stable-id': 'fail' });
    const stable = byId(report, 'stable-id').findings[0]!;
    assert.match(stable.message, /id changed from chatcmpl-0 to chatcmpl-1/);
    assert.match(stable.quote!, /"id":"chatcmpl-1"/);
    assert.match(stable.where!, /event #1/);

    assertRules(report, 'role-first', { 'role-first': 'fail' });
    assert.match(byId(report, 'role-first').findings[0]!.quote!, /"delta":\{"content":"Sure"\}/);

    assertRules(report, 'finish-reason', { 'after-finish': 'fail' });
    assert.match(byId(report, 'finish-reason').findings[0]!.message, /follows the finish chunk \(event 0\)/);
    assert.ok(byId(report, 'finish-reason').findings[0]!.occurrences! >= 5, 'counted in every stream');
  });

  it('fails the "\\{\\}" tool arguments with the explanation', () => {
    assertRules(report, 'tool-calls', {
      'tool-call-arguments-json': 'fail',
      'tool-call-finish-reason': 'warn',
    });
    const args = byId(report, 'tool-calls').findings.find((f) => f.rule === 'tool-call-arguments-json')!;
    assert.match(args.message, /are \\\{\\\} \(4 characters\), which is not valid JSON/);
    assert.match(args.message, /backslash-escaped braces .* that is not "\{\}"/);
    assert.match(args.quote!, /"arguments":"\\\\\{\\\\\}"/);
    assert.match(args.fix, /json\.dumps\(\{\}\)/);
  });

  it('fails the missing [DONE]', () => {
    assertRules(report, 'done', { done: 'fail' });
    assert.match(byId(report, 'done').findings[0]!.quote!, /^last chunk: data: .*"content":"you\."/);
  });

  it('fails the HTML 500 on a body that is not JSON', () => {
    assertRules(report, 'malformed-json', { 'bad-json-5xx': 'fail' });
    const finding = byId(report, 'malformed-json').findings[0]!;
    assert.match(finding.message, /fail with 500, and the error body is not JSON \(Content-Type text\/html\)/);
    assert.match(finding.quote!, /^HTTP 500 text\/html: <html>/);
  });

  it('warns that include_usage is ignored; the request-level cases pass (every request was answered)', () => {
    assertRules(report, 'usage', { 'usage-ignored': 'warn' });
    for (const id of [
      'stream-basic',
      'path-alternate',
      'history-20',
      'extend-data-phone',
      'extend-data-minimal',
      'user-data-not-json',
      'multimodal',
      'barge-in',
      'event-json',
    ]) {
      assertRules(report, id, {});
    }
  });

  it('counts the fails (the CLI exits non-zero)', () => {
    assert.equal(report.counts.fail, 9);
    assert.equal(report.counts.warn, 1, 'usage (tool-calls is a fail with a warning inside)');
  });
});

describe('check against a server that hangs or is not there', () => {
  it('reports a timeout per request and a refused connection', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(': hanging\n\n'); // headers and a comment, then nothing
    });
    server.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const report = await runConformanceSuite({
        baseUrl: `http://127.0.0.1:${port}`,
        apiKey: 'k',
        model: 'm',
        timeoutMs: 300,
        concurrency: 19,
      });
      const basic = byId(report, 'stream-basic');
      assert.equal(basic.status, 'fail');
      assert.equal(basic.findings[0]!.rule, 'timeout');
      assert.match(basic.findings[0]!.message, /not complete after 300 ms/);
      assert.equal(byId(report, 'barge-in').findings[0]!.rule, 'timeout');
      assert.ok(report.durationMs < 5000, 'requests ran in parallel and were cut at the timeout');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
    // A port nothing listens on (never connected to, so no pooled socket is reused).
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const freePort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const gone = await runConformanceSuite({ baseUrl: `http://127.0.0.1:${freePort}/v1`, apiKey: 'k', model: 'm', timeoutMs: 1000 });
    const basic = byId(gone, 'stream-basic');
    assert.equal(basic.findings[0]!.rule, 'request-failed');
    assert.match(basic.findings[0]!.message, /ECONNREFUSED/);
  });
});
