import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { redisSkipReason, testRedis, TEST_REDIS_URL } from '../../support/redis.ts';

// The full command line (bin/voice-llm-gateway.js is to import it; until then it runs the gateway's alone).
const CLI = resolve(import.meta.dirname, '../../../tools/cli/main.ts');
const MAIN = CLI;

/** The bench command exists once the CLI's dispatcher hands `bench` to runBench (tools/cli/commands/bench.ts). */
const mainSource = readFileSync(MAIN, 'utf8');
const dispatched = /\brunBench\b/.test(mainSource) && /\bbench\b/.test(mainSource.replace(/\brunBench\b/g, ''));
const skip = dispatched ? false : 'tools/cli/main.ts does not dispatch "bench" to runBench yet (tools/cli/commands/bench.ts)';
const noRedis = await redisSkipReason();

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 150_000, maxBuffer: 16 * 1024 * 1024 }, (error, out, err) =>
      done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout: out, stderr: err }),
    );
  });
}

interface Report {
  mode: string;
  results: Array<{
    path: string;
    concurrency: number;
    streams: number;
    errors: number;
    ttftMs: { p50: number; p90: number; p99: number };
    cpu: { usPerStream: number } | null;
    memoryPerStream: { streams: number; heapUsedBytes: number; rssBytes: number } | null;
  }>;
  cancellation: { results: Array<{ errors: number }> } | null;
  errors: number;
}

describe('voice-llm-gateway bench', () => {
  it('runs the sweep as a product command and prints the JSON report', { skip, timeout: 180_000 }, async () => {
    const { code, stdout, stderr } = await runCli(['bench', '--requests', '10', '--concurrency', '1,4', '--cancel-runs', '2', '--json']);
    assert.equal(code, 0, `the bench failed:\n${stderr}`);
    const report = JSON.parse(stdout) as Report;
    assert.equal(report.mode, 'built-in');
    assert.equal(report.errors, 0, stderr);

    const cells = report.results.map((r) => `${r.path}/${r.concurrency}`).sort();
    assert.deepEqual(cells, ['direct/1', 'direct/4', 'gateway/1', 'gateway/4', 'pipe-relay/1', 'pipe-relay/4']);
    for (const cell of report.results) {
      const where = `${cell.path} at concurrency ${cell.concurrency}: ${JSON.stringify(cell)}`;
      assert.equal(cell.errors, 0, where);
      assert.equal(cell.streams, cell.concurrency === 1 ? 10 : 40, where);
      assert.ok(Number.isFinite(cell.ttftMs.p50) && cell.ttftMs.p50 > 0, where);
      assert.ok(cell.cpu !== null && Number.isFinite(cell.cpu.usPerStream) && cell.cpu.usPerStream > 0, where);
      assert.ok(cell.memoryPerStream !== null, where);
      assert.ok(Number.isFinite(cell.memoryPerStream.heapUsedBytes) && Number.isFinite(cell.memoryPerStream.rssBytes), where);
    }
    assert.ok(report.cancellation);
    for (const result of report.cancellation.results) assert.equal(result.errors, 0);
  });

  it('--replicas 2: a gateway on Redis state and two replicas beside the in-memory one, its verdict, no key left', {
    skip: skip || noRedis,
    timeout: 180_000,
  }, async () => {
    const { code, stdout, stderr } = await runCli([
      'bench',
      '--replicas',
      '2',
      '--redis',
      TEST_REDIS_URL,
      '--requests',
      '10',
      '--concurrency',
      '1,4',
      '--cancel-runs',
      '2',
      '--json',
    ]);
    assert.equal(code, 0, `the bench failed:\n${stderr}`);
    const report = JSON.parse(stdout) as Report & {
      verdicts: Array<{ name: string; pass: boolean | null }>;
      processes: Record<string, number>;
      settings: { redisKeyPrefix: string };
    };
    assert.equal(report.errors, 0, stderr);
    const cells = report.results.map((r) => `${r.path}/${r.concurrency}`).sort();
    for (const cell of ['gateway-redis/1', 'gateway-redis/4', 'replicas/1', 'replicas/4'])
      assert.ok(cells.includes(cell), `${cell} in ${cells.join(', ')}`);
    for (const cell of report.results) assert.equal(cell.errors, 0, JSON.stringify(cell));
    assert.equal(report.results.find((r) => r.path === 'replicas')?.cpu, null, 'CPU is per process: none for the replicas together');
    assert.ok(report.verdicts.some((v) => v.name === 'Shared state overhead at concurrency 1' && v.pass !== null));
    assert.ok(report.processes.replica1 && report.processes.replica2 && report.processes.gatewayRedis);
    const redis = testRedis();
    try {
      assert.match(report.settings.redisKeyPrefix, /^vlg-bench:/);
      assert.deepEqual(await redis.keys(`${report.settings.redisKeyPrefix}*`), [], 'the run deleted its keys');
    } finally {
      redis.disconnect();
    }
  });
});
