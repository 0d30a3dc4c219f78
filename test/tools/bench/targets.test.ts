import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { targetsTable, type CellReport } from '../../../tools/bench/bench-report.ts';
import { judgeTargets, type TargetRow } from '../../../tools/bench/targets.ts';

interface Figures {
  addedP50Ms?: number | null;
  cpuUs?: number;
  heapKiB?: number;
}

function report(path: CellReport['path'], concurrency: number, figures: Figures): CellReport {
  return {
    path,
    concurrency,
    streams: 10,
    errors: 0,
    ttftMs: { p50: 1, p90: 1, p99: 1, mean: 1 },
    addedP50Ms: figures.addedP50Ms ?? null,
    addedP99Ms: null,
    streamMsP50: 1,
    streamsPerSec: 1,
    chunksPerSec: 1,
    chunksPerStream: 1,
    cpu:
      figures.cpuUs === undefined
        ? null
        : { usPerStream: figures.cpuUs, userUsPerStream: 0, systemUsPerStream: 0, upstreamUsPerStream: null, clientUsPerStream: 0 },
    memoryPerStream:
      figures.heapKiB === undefined
        ? null
        : { streams: 64, rssBytes: 0, heapUsedBytes: figures.heapKiB * 1024, externalBytes: 0, arrayBuffersBytes: 0 },
    clientUsPerStream: 0,
  };
}

const row = (rows: TargetRow[], id: TargetRow['id'], concurrency: number): TargetRow => {
  const found = rows.find((r) => r.id === id && r.concurrency === concurrency);
  assert.ok(found, `${id} at ${concurrency}`);
  return found;
};

describe('judgeTargets', () => {
  it('judges each target as a gateway ÷ pipe relay ratio against its limit', () => {
    const rows = judgeTargets([
      report('direct', 1, { addedP50Ms: 0, cpuUs: 500, heapKiB: 5 }),
      report('pipe-relay', 1, { addedP50Ms: 0.8, cpuUs: 1000, heapKiB: 14 }),
      report('gateway', 1, { addedP50Ms: 1, cpuUs: 1500, heapKiB: 28.5 }),
      report('pipe-relay', 64, { cpuUs: 400, heapKiB: 14 }),
      report('gateway', 64, { cpuUs: 601, heapKiB: 28 }),
    ]);
    assert.equal(rows.length, 7, 'added TTFT at 1; CPU and heap at 1, 64 and 1024');

    const ttft = row(rows, 'added-ttft', 1);
    assert.deepEqual([ttft.gateway, ttft.relay, ttft.ratio, ttft.status], [1, 0.8, 1.25, 'met'], 'the limit itself is met');
    assert.deepEqual([row(rows, 'cpu-per-stream', 1).ratio, row(rows, 'cpu-per-stream', 1).status], [1.5, 'met']);
    assert.equal(row(rows, 'cpu-per-stream', 64).status, 'missed', '601 / 400 is above 1.5');
    assert.deepEqual([row(rows, 'heap-per-call', 1).ratio, row(rows, 'heap-per-call', 1).status], [2.04, 'missed']);
    assert.deepEqual([row(rows, 'heap-per-call', 64).ratio, row(rows, 'heap-per-call', 64).status], [2, 'met']);

    for (const id of ['cpu-per-stream', 'heap-per-call'] as const) {
      const absent = row(rows, id, 1024);
      assert.equal(absent.status, 'not measured', 'concurrency 1024 was not swept');
      assert.equal(absent.ratio, null);
      assert.match(absent.note ?? '', /1024 not run/);
    }
  });

  it('says "not measured" without a relay, without CPU figures, or when the relay adds nothing', () => {
    const external = judgeTargets([report('direct', 1, { addedP50Ms: 0 }), report('gateway', 1, { addedP50Ms: 2 })]);
    assert.ok(external.every((r) => r.status === 'not measured'));

    const noCpu = judgeTargets([report('pipe-relay', 1, { addedP50Ms: 1 }), report('gateway', 1, { addedP50Ms: 1 })]);
    assert.equal(row(noCpu, 'added-ttft', 1).status, 'met');
    assert.equal(row(noCpu, 'cpu-per-stream', 1).status, 'not measured');
    assert.match(row(noCpu, 'cpu-per-stream', 1).note ?? '', /not measurable/);

    const flat = judgeTargets([report('pipe-relay', 1, { addedP50Ms: -0.1 }), report('gateway', 1, { addedP50Ms: 0.5 })]);
    assert.equal(row(flat, 'added-ttft', 1).status, 'not measured');
    assert.match(row(flat, 'added-ttft', 1).note ?? '', /≤ 0/);
  });

  it('renders one row per target with its ratio and result', () => {
    const table = targetsTable(
      judgeTargets([report('pipe-relay', 1, { addedP50Ms: 1, cpuUs: 100 }), report('gateway', 1, { addedP50Ms: 2, cpuUs: 120 })]),
    );
    assert.match(table, /^\| target \| gateway \| pipe relay \| ratio \| result \|/);
    assert.match(
      table,
      /\| added TTFT p50 \(minus direct's\) at c=1: gateway ≤ 1\.25 × pipe relay \| 2 ms \| 1 ms \| ×2\.00 \| \*\*missed\*\* \|/,
    );
    assert.match(table, /\| CPU per stream at c=1: gateway ≤ 1\.5 × pipe relay \| 120 µs \| 100 µs \| ×1\.20 \| met \|/);
    assert.match(
      table,
      /\| heap per open call at c=1024: .* \| – \| – \| – \| not measured \(concurrency 1024 not run for both paths\) \|/,
    );
  });
});
