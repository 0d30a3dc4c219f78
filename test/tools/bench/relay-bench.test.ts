import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startBenchGateway } from '../../../tools/bench/bench-gateway.ts';
import { BENCH_KEY, BENCH_MODEL } from '../../../tools/bench/ipc.ts';
import { startBenchUpstream } from '../../../tools/bench/bench-upstream.ts';

const BENCH = fileURLToPath(new URL('../../../tools/bench/relay-bench.ts', import.meta.url));

interface CellReport {
  path: string;
  concurrency: number;
  streams: number;
  errors: number;
  ttftMs: { p50: number; p90: number; p99: number; mean: number };
  addedP50Ms: number | null;
  streamsPerSec: number;
  chunksPerSec: number;
  chunksPerStream: number;
  cpu: { usPerStream: number; userUsPerStream: number; systemUsPerStream: number; clientUsPerStream: number } | null;
  memoryPerStream: { streams: number; rssBytes: number; heapUsedBytes: number } | null;
}

interface BenchReport {
  mode: string;
  node: string;
  cpu: string;
  cores: number;
  settings: { concurrency: number[]; streamsPerPath: Record<string, number> };
  upstream: { chunks?: number; chunkChars?: number };
  results: CellReport[];
  phases: {
    unit: string;
    results: Array<{
      path: string;
      concurrency: number;
      streams: number;
      unmatched: number;
      toUpstreamUs: { p50: number; p90: number };
      toClientUs: { p50: number; p90: number };
      addedToUpstreamUs: { p50: number; p90: number } | null;
      addedToClientUs: { p50: number; p90: number } | null;
    }>;
    gatewayOverRelay: Array<{ concurrency: number }>;
  };
  targets: Array<{ id: string; concurrency: number; ratio: number | null; status: string }>;
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
  } | null;
  errors: number;
}

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BENCH, ...args], { timeout: 150_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function assertTiming(cell: CellReport, where: string): void {
  assert.equal(cell.errors, 0, where);
  for (const value of [cell.ttftMs.p50, cell.ttftMs.p90, cell.ttftMs.p99, cell.streamsPerSec, cell.chunksPerSec]) {
    assert.ok(Number.isFinite(value) && value > 0, `${where}: ${JSON.stringify(cell)}`);
  }
  assert.ok(cell.ttftMs.p50 <= cell.ttftMs.p90 && cell.ttftMs.p90 <= cell.ttftMs.p99, where);
  assert.ok(cell.chunksPerStream > 0, where);
}

// Only the shape of the report is checked here: speed lives in the bench, never in tests.
describe('tools/bench/relay-bench.ts (npm run bench)', () => {
  it('measures every path at every concurrency, CPU, memory and cancellation latency, and exits cleanly', {
    timeout: 180_000,
  }, async () => {
    const { code, stdout, stderr } = await runBench([
      '--requests',
      '12',
      '--concurrency',
      '1,4',
      '--warmup',
      '5',
      '--cancel-runs',
      '2',
      '--chunks',
      '10',
      '--chunk-chars',
      '3',
      '--first-token-ms',
      '5',
      '--json',
    ]);
    assert.equal(code, 0, `the bench failed:\n${stderr}`);
    const report = JSON.parse(stdout) as BenchReport;
    assert.equal(report.mode, 'built-in');
    assert.equal(report.node, process.version);
    assert.ok(report.cores >= 1 && report.cpu.length > 0);
    assert.equal(report.errors, 0);
    assert.deepEqual(report.upstream.chunks, 10);
    assert.deepEqual(report.settings.streamsPerPath, { 1: 12, 4: 40 });

    const cells = report.results.map((r) => `${r.path}/${r.concurrency}`).sort();
    assert.deepEqual(cells, ['direct/1', 'direct/4', 'gateway/1', 'gateway/4', 'pipe-relay/1', 'pipe-relay/4']);
    for (const cell of report.results) {
      const where = `${cell.path} at concurrency ${cell.concurrency}`;
      assertTiming(cell, where);
      assert.equal(cell.streams, cell.concurrency === 1 ? 12 : 40, where);
      assert.equal(cell.chunksPerStream, 10, `${where}: every content event arrives`);
      assert.equal(typeof cell.addedP50Ms, 'number', where);
      assert.ok(cell.cpu && Number.isFinite(cell.cpu.usPerStream) && cell.cpu.usPerStream > 0, `${where}: ${JSON.stringify(cell.cpu)}`);
      assert.ok(cell.memoryPerStream, where);
      assert.ok(cell.memoryPerStream.streams >= cell.concurrency, where);
      assert.ok(Number.isFinite(cell.memoryPerStream.heapUsedBytes) && Number.isFinite(cell.memoryPerStream.rssBytes), where);
    }
    assert.deepEqual(report.verdicts, [], 'the shared-state verdict needs --state redis');

    // Every measured stream is matched with the mock's stamps; direct is the floor the others subtract.
    assert.equal(report.phases.unit, 'µs');
    assert.deepEqual(report.phases.results.map((r) => `${r.path}/${r.concurrency}`).sort(), cells);
    for (const phase of report.phases.results) {
      const where = `phases of ${phase.path} at concurrency ${phase.concurrency}`;
      assert.equal(phase.streams, phase.concurrency === 1 ? 12 : 40, where);
      assert.equal(phase.unmatched, 0, where);
      for (const value of [phase.toUpstreamUs.p50, phase.toUpstreamUs.p90, phase.toClientUs.p50, phase.toClientUs.p90]) {
        assert.ok(Number.isFinite(value) && value > 0, `${where}: ${JSON.stringify(phase)}`);
      }
      assert.equal(phase.addedToUpstreamUs === null, phase.path === 'direct', where);
    }
    assert.deepEqual(
      report.phases.gatewayOverRelay.map((r) => r.concurrency),
      [1, 4],
    );

    // Concurrency 1 was swept: its rows are judged; 64 and 1024 were not.
    assert.deepEqual(
      report.targets.map((t) => `${t.id}/${t.concurrency}`),
      [
        'added-ttft/1',
        'cpu-per-stream/1',
        'cpu-per-stream/64',
        'cpu-per-stream/1024',
        'heap-per-call/1',
        'heap-per-call/64',
        'heap-per-call/1024',
      ],
    );
    for (const target of report.targets) {
      const where = `${target.id} at ${target.concurrency}`;
      if (target.concurrency === 1) {
        // The relay's added TTFT may come out ≤ 0 on a tiny run: then there is no ratio to judge.
        if (target.ratio !== null) assert.ok(['met', 'missed'].includes(target.status), where);
        else assert.equal(target.status, 'not measured', where);
      } else assert.equal(target.status, 'not measured', where);
    }

    const { cancellation } = report;
    assert.ok(cancellation);
    assert.equal(cancellation.runs, 2);
    assert.ok(Number.isFinite(cancellation.clock.offsetMs) && Number.isFinite(cancellation.clock.roundTripMs));
    const kinds = cancellation.results.map((r) => `${r.kind}/${r.path}`).sort();
    assert.deepEqual(kinds, ['barge-in/gateway', 'client-close/gateway', 'client-close/pipe-relay']);
    for (const result of cancellation.results) {
      const where = `${result.kind} via ${result.path}`;
      assert.equal(result.errors, 0, where);
      assert.equal(result.runs, 2, where);
      const { p50, p90, p99, max } = result.latencyMs;
      for (const value of [p50, p90, p99, max]) assert.ok(Number.isFinite(value), `${where}: ${JSON.stringify(result)}`);
      assert.ok(p50 <= p90 && p90 <= p99 && p99 <= max, where);
    }
  });

  it('prints markdown tables with the machine and the targets by default', { timeout: 180_000 }, async () => {
    const { code, stdout, stderr } = await runBench([
      '--requests',
      '5',
      '--concurrency',
      '1',
      '--warmup',
      '2',
      '--cancel-runs',
      '1',
      '--layout',
      'shared',
    ]);
    assert.equal(code, 0, `the bench failed:\n${stderr}`);
    assert.match(stdout, /^# voice-llm-gateway bench/);
    assert.match(stdout, new RegExp(`Node ${process.version.replace(/\./g, '\\.')}`));
    assert.match(stdout, /core\(s\) available/);
    assert.match(stdout, /\| path \| conc\. \| streams \| TTFT p50 \(ms\) \| p90 \| p99 \|/);
    assert.match(stdout, /\| gateway \| 1 \| 5 \|/);
    assert.match(stdout, /## Phases \(µs\): what the pipe relay and the gateway add over direct/);
    assert.match(stdout, /\| 1 \| gateway ÷ pipe relay \|/);
    assert.match(stdout, /## Against the targets/);
    assert.match(stdout, /\| CPU per stream at c=64: gateway ≤ 1\.5 × pipe relay \| – \| – \| – \| not measured/);
    assert.match(stdout, /Gateway as users run it: records on \(SQLite/);
    assert.match(stdout, /\| client close \| pipe relay \| 1 \|/);
    assert.match(stderr, /\[\s*\d+%\] c=1: measuring 5 streams per path/, 'plain progress lines when stderr is not a terminal');
  });

  it('measures an already-running server against its upstream (--gateway-url, --upstream-url)', { timeout: 120_000 }, async () => {
    const upstream = await startBenchUpstream({ firstTokenMs: 2, chunks: 8, chunkChars: 4, intervalMs: 0 });
    const gateway = await startBenchGateway(upstream.url);
    try {
      const { code, stdout, stderr } = await runBench([
        '--gateway-url',
        `${gateway.url}/chat/completions`,
        '--api-key',
        BENCH_KEY,
        '--model',
        BENCH_MODEL,
        '--upstream-url',
        upstream.url,
        '--upstream-model',
        'any',
        '--requests',
        '6',
        '--concurrency',
        '1,3',
        '--json',
      ]);
      assert.equal(code, 0, `the bench failed:\n${stderr}`);
      const report = JSON.parse(stdout) as BenchReport;
      assert.equal(report.mode, 'external');
      assert.equal(report.errors, 0);
      assert.equal(report.cancellation, null);
      assert.deepEqual(report.results.map((r) => `${r.path}/${r.concurrency}`).sort(), ['direct/1', 'direct/3', 'gateway/1', 'gateway/3']);
      for (const cell of report.results) {
        assertTiming(cell, `${cell.path} at concurrency ${cell.concurrency}`);
        assert.equal(cell.cpu, null);
        assert.equal(cell.memoryPerStream, null);
      }
      assert.ok(report.targets.length > 0);
      for (const target of report.targets) assert.equal(target.status, 'not measured', `${target.id}: no pipe relay to compare with`);
      assert.deepEqual(report.phases.results, [], 'phases need the built-in mock upstream');
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });

  it('rejects bad options with exit code 2 and the usage', async () => {
    for (const args of [
      ['--concurrency', '0'],
      ['--nope'],
      ['--model', 'x'],
      ['--gateway-url', 'http://127.0.0.1:1/v1'],
      ['--layout', 'odd'],
    ]) {
      const { code, stderr } = await runBench(args);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, /Usage: voice-llm-gateway bench/, args.join(' '));
    }
    const help = await runBench(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--gateway-url URL/);
    assert.match(help.stdout, /--first-token-ms N/);
  });
});
