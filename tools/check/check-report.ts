/** Renders a conformance report: a readable table with details, JSON, and JUnit XML. */

import type { CheckCaseResult, CheckFinding, CheckReport } from './suite.ts';

/** One row per case, then the details of every warn and fail. */
export function formatReportTable(report: CheckReport): string {
  const lines: string[] = [];
  lines.push(
    report.target === undefined
      ? `Conformance check of POST ${report.baseUrl}/chat/completions, model "${report.model}" (timeout ${report.timeoutMs} ms per request)`
      : `Conformance check of ${report.target} (timeout ${report.timeoutMs} ms per answer)`,
  );
  lines.push('');
  const rows = report.cases.map((c) => [
    c.status.toUpperCase(),
    c.id,
    ms(c.durationMs),
    c.ttftMs === undefined ? '-' : ms(c.ttftMs),
    c.summary,
  ]);
  const header = ['STATUS', 'CASE', 'TIME', 'TTFT', 'RESULT'];
  const widths = header.map((h, i) => (i === header.length - 1 ? 0 : Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  lines.push(line(header));
  for (const row of rows) lines.push(line(row));
  lines.push('');
  const { pass, warn, fail, skip } = report.counts;
  const skipped = skip > 0 ? `, ${skip} skip (not exercised)` : '';
  lines.push(`${report.cases.length} cases: ${pass} pass, ${warn} warn, ${fail} fail${skipped} (${ms(report.durationMs)})`);
  const flagged = report.cases.filter((c) => c.findings.length > 0);
  if (flagged.length > 0) {
    lines.push('', 'Details:');
    for (const c of flagged) {
      for (const f of c.findings) lines.push('', ...formatFinding(c, f));
    }
  }
  return `${lines.join('\n')}\n`;
}

function formatFinding(c: CheckCaseResult, f: CheckFinding): string[] {
  const out = [`${f.status.toUpperCase()}  ${c.id}  [${f.rule}]${f.occurrences ? `  x${f.occurrences}` : ''}`, `    ${f.message}`];
  if (f.where) out.push(`    where: ${f.where}`);
  if (f.quote) out.push(`    quote: ${f.quote}`);
  out.push(`    fix:   ${f.fix}`);
  return out;
}

export function formatReportJson(report: CheckReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** JUnit XML: one testcase per case; fails as <failure>, warnings in <system-out>. */
export function formatReportJUnit(report: CheckReport): string {
  const failures = report.counts.fail;
  const seconds = (value: number) => (value / 1000).toFixed(3);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const suiteName = `voice-llm-gateway check ${report.baseUrl} model=${report.model}`;
  out.push(
    `<testsuites name="${xml(suiteName)}" tests="${report.cases.length}" failures="${failures}" errors="0" time="${seconds(report.durationMs)}">`,
  );
  out.push(
    `  <testsuite name="${xml(suiteName)}" tests="${report.cases.length}" failures="${failures}" errors="0" skipped="${report.counts.skip}" time="${seconds(report.durationMs)}" timestamp="${xml(report.startedAt.replace(/\.\d+Z$/, ''))}">`,
  );
  for (const c of report.cases) {
    const name = `${c.id}: ${c.title}`;
    const attrs = `classname="conformance" name="${xml(name)}" time="${seconds(c.durationMs)}"`;
    const fails = c.findings.filter((f) => f.status === 'fail');
    const warns = c.findings.filter((f) => f.status === 'warn');
    if (fails.length === 0 && warns.length === 0) {
      const skipped = c.status === 'skip' ? [`      <skipped message="${xml(c.summary)}"/>`] : [];
      out.push(`    <testcase ${attrs}>`, ...skipped, `      <system-out>${xml(summaryLine(c))}</system-out>`, '    </testcase>');
      continue;
    }
    out.push(`    <testcase ${attrs}>`);
    if (fails.length > 0) {
      const message = fails.map((f) => `[${f.rule}] ${f.message}`).join(' | ');
      out.push(
        `      <failure message="${xml(message)}" type="${xml(fails.map((f) => f.rule).join(','))}">${xml(fails.map(findingText).join('\n\n'))}</failure>`,
      );
    }
    const systemOut = [summaryLine(c), ...warns.map((f) => `WARN ${findingText(f)}`)].join('\n\n');
    out.push(`      <system-out>${xml(systemOut)}</system-out>`, '    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>');
  return `${out.join('\n')}\n`;
}

function summaryLine(c: CheckCaseResult): string {
  return `${c.status.toUpperCase()} ${c.id}: ${c.summary}${c.ttftMs === undefined ? '' : ` (TTFT ${ms(c.ttftMs)})`}`;
}

function findingText(f: CheckFinding): string {
  return [`[${f.rule}] ${f.message}`, f.where && `where: ${f.where}`, f.quote && `quote: ${f.quote}`, `fix: ${f.fix}`]
    .filter(Boolean)
    .join('\n');
}

function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/** Escapes text for XML attributes and content, dropping characters XML 1.0 forbids. */
function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
