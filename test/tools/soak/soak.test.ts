import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SOAK = fileURLToPath(new URL('../../../tools/soak/soak.ts', import.meta.url));

interface SoakSummary {
  durationSec: number;
  concurrency: number;
  turns: {
    total: number;
    byOutcome: Record<string, number>;
    bargeIns: number;
    disconnects: number;
  };
  upstream: { requests: number; faultsTotal: number; faults: Record<string, number> };
  unexpected: { count: number; byKind: Record<string, number>; samples: Array<{ error: string; trace: string[] }> };
  ttftMs: { all: { p50: number | null; p99: number | null; count: number } };
  gateway: {
    start: { rssMB: number; heapUsedMB: number; tcpSockets: number };
    end: { rssMB: number; heapUsedMB: number; tcpSockets: number };
    growth: { rssMB: number; heapUsedMB: number };
    peakRssMB: number;
  };
  sockets: { start: number; end: number; tolerance: number; leak: boolean };
  pass: boolean;
}

function runSoak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SOAK, ...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

// A short soak: what it checks is the shape of the run (faults, hang-ups, no unexpected result,
// memory figures), never its speed.
describe('tools/soak/soak.ts', () => {
  it('survives injected faults and hang-ups without an unexpected result, reports memory and sockets, and exits by itself', {
    timeout: 90_000,
  }, async () => {
    const { code, stdout, stderr } = await runSoak(['--calls', '8', '--minutes', '0.15', '--json']);
    let summary: SoakSummary;
    try {
      summary = JSON.parse(stdout) as SoakSummary;
    } catch {
      assert.fail(`the soak printed no JSON summary (exit ${code}):\n${stdout}\n${stderr}`);
    }
    const detail = JSON.stringify({ unexpected: summary.unexpected, sockets: summary.sockets }, null, 2);
    assert.equal(summary.unexpected.count, 0, `unexpected results:\n${detail}`);
    assert.equal(summary.sockets.leak, false, `socket leak:\n${detail}`);
    assert.equal(code, 0, `the soak exited with ${code}:\n${stderr}`);
    assert.equal(summary.pass, true);

    assert.equal(summary.concurrency, 8);
    assert.ok(summary.turns.total > 0, 'no turn was made');
    const outcomes = Object.values(summary.turns.byOutcome).reduce((a, b) => a + b, 0);
    assert.equal(outcomes, summary.turns.total, 'every turn has an outcome');
    assert.ok(summary.upstream.faultsTotal >= 1, `no fault was injected: ${JSON.stringify(summary.upstream)}`);
    assert.ok(summary.turns.disconnects >= 1, `no client disconnect: ${JSON.stringify(summary.turns)}`);
    assert.equal(summary.turns.byOutcome['client-aborted'], summary.turns.disconnects);

    const { start, end, growth, peakRssMB } = summary.gateway;
    for (const [name, value] of Object.entries({
      'start rss': start.rssMB,
      'start heap': start.heapUsedMB,
      'end rss': end.rssMB,
      'end heap': end.heapUsedMB,
      'rss growth': growth.rssMB,
      'heap growth': growth.heapUsedMB,
      'peak rss': peakRssMB,
    })) {
      assert.ok(typeof value === 'number' && Number.isFinite(value), `${name}: ${String(value)}`);
    }
    assert.ok(start.rssMB > 0 && end.rssMB > 0 && start.heapUsedMB > 0 && end.heapUsedMB > 0);
    assert.ok(Number.isInteger(summary.sockets.start) && Number.isInteger(summary.sockets.end));
  });
});
