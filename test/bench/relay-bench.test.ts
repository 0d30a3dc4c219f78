import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../../bench/relay-bench.ts', import.meta.url));

interface BenchReport {
  node: string;
  cores: number;
  results: Array<{
    path: string;
    concurrency: number;
    streams: number;
    errors: number;
    ttftMs: { p50: number; p90: number; p99: number };
    addedP50Ms: number | null;
    streamsPerSec: number;
    contentEventsPerSec: number;
    contentEventsPerStream: number;
  }>;
  verdicts: Array<{ name: string; pass: boolean | null; detail: string }>;
  cancellation: {
    runs: number;
    clock: { offsetMs: number; roundTripMs: number };
    results: Array<{
      kind: string;
      path: string;
      runs: number;
      errors: number;
      latencyMs: { p50: number; p90: number; p99: number; max: number };
    }>;
  };
  errors: number;
}

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BENCH, ...args], { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

// Only the shape of the report is checked here: speed lives in the bench, never in tests.
describe('bench/relay-bench.ts', () => {
  it('measures all three paths at every concurrency, and cancellation latency, and exits cleanly', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await runBench(['--requests', '20', '--concurrency', '1,4', '--cancel-runs', '3', '--json']);
    assert.equal(code, 0, `the bench failed:\n${stderr}`);
    const report = JSON.parse(stdout) as BenchReport;
    assert.equal(report.node, process.version);
    assert.ok(report.cores >= 1);
    assert.equal(report.errors, 0);

    const cells = report.results.map((r) => `${r.path}/${r.concurrency}`).sort();
    assert.deepEqual(cells, ['direct/1', 'direct/4', 'gateway/1', 'gateway/4', 'pipe-relay/1', 'pipe-relay/4']);
    for (const cell of report.results) {
      const where = `${cell.path} at concurrency ${cell.concurrency}`;
      assert.equal(cell.errors, 0, where);
      assert.equal(cell.streams, cell.concurrency === 1 ? 20 : 40, where);
      for (const value of [cell.ttftMs.p50, cell.ttftMs.p90, cell.ttftMs.p99, cell.streamsPerSec, cell.contentEventsPerSec]) {
        assert.ok(Number.isFinite(value) && value > 0, `${where}: ${JSON.stringify(cell)}`);
      }
      assert.ok(cell.ttftMs.p50 <= cell.ttftMs.p90 && cell.ttftMs.p90 <= cell.ttftMs.p99, where);
      assert.ok(cell.contentEventsPerStream > 0, where);
      assert.equal(typeof cell.addedP50Ms, 'number', where);
    }
    assert.equal(report.verdicts.length, 2);
    for (const verdict of report.verdicts) assert.equal(typeof verdict.pass, 'boolean', verdict.name);

    const { cancellation } = report;
    assert.equal(cancellation.runs, 3);
    assert.ok(Number.isFinite(cancellation.clock.offsetMs) && Number.isFinite(cancellation.clock.roundTripMs));
    const kinds = cancellation.results.map((r) => `${r.kind}/${r.path}`).sort();
    assert.deepEqual(kinds, ['barge-in/gateway', 'client-close/gateway', 'client-close/pipe-relay']);
    for (const result of cancellation.results) {
      const where = `${result.kind} via ${result.path}`;
      assert.equal(result.errors, 0, where);
      assert.equal(result.runs, 3, where);
      const { p50, p90, p99, max } = result.latencyMs;
      for (const value of [p50, p90, p99, max]) {
        assert.ok(typeof value === 'number' && Number.isFinite(value), `${where}: ${JSON.stringify(result)}`);
      }
      assert.ok(p50 <= p90 && p90 <= p99 && p99 <= max, where);
    }
  });
});
