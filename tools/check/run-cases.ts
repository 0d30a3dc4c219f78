import { ruleInfo, type CheckStatus } from './check-rules.ts';
import type { CheckCaseResult, CheckFinding, CheckReport } from './suite.ts';

/** What one case found; no findings and not skipped is a pass. */
export interface Judged {
  summary: string;
  findings: CheckFinding[];
  skipped?: boolean;
}

/** One case of a platform's suite, run against a context the suite builds. */
export interface CheckCase<Context> {
  id: string;
  title: string;
  run(context: Context): Promise<Judged>;
}

export const fail = (rule: string, message: string, fix: string = ruleInfo(rule).fix, quote?: string): CheckFinding => ({
  status: 'fail',
  rule,
  message,
  fix,
  ...(quote === undefined ? {} : { quote }),
});

/** A finding at the rule's own severity (warn or fail). */
export const finding = (rule: string, message: string, quote?: string): CheckFinding => ({
  status: ruleInfo(rule).severity,
  rule,
  message,
  fix: ruleInfo(rule).fix,
  ...(quote === undefined ? {} : { quote }),
});

export const skip = (summary: string): Judged => ({ summary, findings: [], skipped: true });

/**
 * Runs the cases one after another (a platform holds one turn of a call at a time) and builds the
 * report: a case that throws fails with `request-failed`; a case with a fail finding fails, with
 * only warnings warns, skipped without findings skips, else passes.
 */
export async function runCases<Context>(
  cases: readonly CheckCase<Context>[],
  context: Context,
  report: Pick<CheckReport, 'baseUrl' | 'alternateBaseUrl' | 'model' | 'timeoutMs'> & { target?: string },
): Promise<CheckReport> {
  const started = performance.now();
  const startedAt = new Date();
  const results: CheckCaseResult[] = [];
  for (const checkCase of cases) {
    const t0 = performance.now();
    let judged: Judged;
    try {
      judged = await checkCase.run(context);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      judged = { summary: 'no answer', findings: [fail('request-failed', message)] };
    }
    const status: CheckStatus = judged.findings.some((f) => f.status === 'fail')
      ? 'fail'
      : judged.findings.length > 0
        ? 'warn'
        : judged.skipped
          ? 'skip'
          : 'pass';
    results.push({
      id: checkCase.id,
      title: checkCase.title,
      status,
      durationMs: Math.round(performance.now() - t0),
      summary: judged.summary,
      findings: judged.findings,
    });
  }
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of results) counts[c.status]++;
  return {
    ...report,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    counts,
    cases: results,
  };
}
