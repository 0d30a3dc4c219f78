import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatReportJUnit, formatReportTable } from '../../../tools/check/check-report.ts';
import { alternateBase, type CheckReport } from '../../../tools/check/suite.ts';

const report: CheckReport = {
  baseUrl: 'http://h/v1',
  alternateBaseUrl: 'http://h',
  model: 'm',
  timeoutMs: 10_000,
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 1234,
  counts: { pass: 1, warn: 1, fail: 1, skip: 0 },
  cases: [
    { id: 'stream-basic', title: 'a plain turn', status: 'pass', durationMs: 12.3, ttftMs: 4.5, summary: '200, 5 events', findings: [] },
    {
      id: 'path-alternate',
      title: 'other path',
      status: 'warn',
      durationMs: 3,
      summary: '/chat/completions not found (404)',
      findings: [
        {
          status: 'warn',
          rule: 'path-missing',
          message: 'POST /chat/completions answered 404',
          quote: 'HTTP 404 text/html: <h1>Not & Found</h1>',
          fix: 'Serve both.',
        },
      ],
    },
    {
      id: 'tool-calls',
      title: 'tool calls',
      status: 'fail',
      durationMs: 20,
      summary: 's',
      findings: [
        {
          status: 'fail',
          rule: 'tool-call-arguments-json',
          message: 'arguments are \\{\\} "x"',
          where: 'stream-basic, event #0',
          quote: 'data: {"a":"\\\\{\\\\}"}\u0001',
          fix: 'Send "{}".',
          occurrences: 3,
        },
        { status: 'warn', rule: 'tool-call-finish-reason', message: 'finished with stop', fix: 'Use tool_calls.' },
      ],
    },
  ],
};

describe('report formats', () => {
  it('prints one row per case, then the details of every warn and fail with quote and fix', () => {
    const text = formatReportTable(report);
    const lines = text.split('\n');
    assert.match(lines[2]!, /^ {2}STATUS +CASE +TIME +TTFT +RESULT$/);
    assert.match(lines[3]!, /^ {2}PASS +stream-basic +12 ms +5 ms +200, 5 events$/);
    assert.match(lines[4]!, /^ {2}WARN +path-alternate +3 ms +- +\/chat\/completions not found \(404\)$/);
    assert.match(text, /3 cases: 1 pass, 1 warn, 1 fail/);
    assert.match(
      text,
      /FAIL {2}tool-calls {2}\[tool-call-arguments-json\] {2}x3\n {4}arguments are .*\n {4}where: stream-basic, event #0\n {4}quote: data: .*\n {4}fix: {3}Send "\{\}"\./,
    );
    assert.match(text, /WARN {2}path-alternate {2}\[path-missing\]/);
  });

  it('writes JUnit XML: one testcase per case, fails as <failure>, warnings in system-out, escaped', () => {
    const xml = formatReportJUnit(report);
    assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites [^>]*tests="3" failures="1"/);
    assert.equal(xml.match(/<testcase /g)!.length, 3);
    assert.equal(xml.match(/<failure /g)!.length, 1);
    assert.match(
      xml,
      /<testcase classname="conformance" name="tool-calls: tool calls" time="0.020">\n {6}<failure message="\[tool-call-arguments-json\] arguments are \\\{\\\} &quot;x&quot;" type="tool-call-arguments-json">/,
    );
    assert.match(xml, /&lt;h1&gt;Not &amp; Found&lt;\/h1&gt;/);
    assert.match(xml, /WARN \[tool-call-finish-reason\] finished with stop/);
    assert.ok(!xml.includes('\u0001'), 'characters XML forbids are dropped');
  });

  it('derives the other path form', () => {
    assert.equal(alternateBase('http://h:1/v1'), 'http://h:1');
    assert.equal(alternateBase('http://h:1/v1/'), 'http://h:1');
    assert.equal(alternateBase('http://h:1'), 'http://h:1/v1');
    assert.equal(alternateBase('https://h/api/'), 'https://h/api/v1');
  });
});
