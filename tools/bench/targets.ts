/**
 * The project's performance targets, judged from one run. Each is a ratio of the gateway to the
 * pipe relay measured in the same run, on the same machine, so that it holds whatever the machine:
 *   - added first-token latency (TTFT p50 minus direct's) at concurrency 1: at most 1.25×;
 *   - CPU per stream at 1, 64 and 1,024 concurrent calls: at most 1.5×;
 *   - heap per open call at 1, 64 and 1,024 concurrent calls: at most 2×.
 * A cell the run did not measure (a concurrency not in the sweep, an external server) is "not
 * measured", never met.
 */

import type { CellReport } from './bench-report.ts';
import type { PathName } from './load.ts';
import { ratioOf } from './phases.ts';

export type TargetStatus = 'met' | 'missed' | 'not measured';

export type TargetId = 'added-ttft' | 'cpu-per-stream' | 'heap-per-call';

export interface TargetRow {
  id: TargetId;
  concurrency: number;
  /** What is promised, in words. */
  target: string;
  /** The largest gateway ÷ pipe relay ratio that meets it. */
  limit: number;
  unit: 'ms' | 'µs' | 'KiB';
  gateway: number | null;
  relay: number | null;
  /** gateway ÷ relay; null when either is missing or the relay's figure is ≤ 0. */
  ratio: number | null;
  status: TargetStatus;
  /** Why a row is not measured. */
  note?: string;
}

interface TargetSpec {
  id: TargetId;
  concurrencies: readonly number[];
  limit: number;
  unit: TargetRow['unit'];
  words: (c: number) => string;
  /** The figure compared, from one path's cell; null when the cell lacks it. */
  figure: (cell: CellReport) => number | null;
}

export const TARGETS: readonly TargetSpec[] = [
  {
    id: 'added-ttft',
    concurrencies: [1],
    limit: 1.25,
    unit: 'ms',
    words: (c) => `added TTFT p50 (minus direct's) at c=${c}: gateway ≤ 1.25 × pipe relay`,
    figure: (cell) => cell.addedP50Ms,
  },
  {
    id: 'cpu-per-stream',
    concurrencies: [1, 64, 1024],
    limit: 1.5,
    unit: 'µs',
    words: (c) => `CPU per stream at c=${c}: gateway ≤ 1.5 × pipe relay`,
    figure: (cell) => cell.cpu?.usPerStream ?? null,
  },
  {
    id: 'heap-per-call',
    concurrencies: [1, 64, 1024],
    limit: 2,
    unit: 'KiB',
    words: (c) => `heap per open call at c=${c}: gateway ≤ 2 × pipe relay`,
    figure: (cell) => (cell.memoryPerStream ? Math.round(cell.memoryPerStream.heapUsedBytes / 102.4) / 10 : null),
  },
];

export function judgeTargets(reports: readonly CellReport[]): TargetRow[] {
  const cell = (path: PathName, c: number): CellReport | undefined => reports.find((r) => r.path === path && r.concurrency === c);
  return TARGETS.flatMap((spec) =>
    spec.concurrencies.map((c): TargetRow => {
      const gatewayCell = cell('gateway', c);
      const relayCell = cell('pipe-relay', c);
      const gateway = gatewayCell ? spec.figure(gatewayCell) : null;
      const relay = relayCell ? spec.figure(relayCell) : null;
      const row = { id: spec.id, concurrency: c, target: spec.words(c), limit: spec.limit, unit: spec.unit, gateway, relay };
      if (gateway === null || relay === null) {
        const missing = !gatewayCell || !relayCell ? `concurrency ${c} not run for both paths` : 'the figure is not measurable here';
        return { ...row, ratio: null, status: 'not measured', note: missing };
      }
      const ratio = ratioOf(gateway, relay);
      if (ratio === null) return { ...row, ratio, status: 'not measured', note: `the pipe relay's figure (${relay}) is ≤ 0: no ratio` };
      // Judged on the exact ratio: the rounded one shown could round a miss down onto the limit.
      return { ...row, ratio, status: gateway / relay <= spec.limit ? 'met' : 'missed' };
    }),
  );
}
