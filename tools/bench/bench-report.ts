/**
 * The bench's report: per-cell figures from the raw measurements, and their rendering as markdown
 * (tables meant to be pasted into docs/benchmarks.md): results, phases, the targets
 * (tools/bench/targets.ts), the shared-state verdict, cancellation.
 */

import { availableParallelism, cpus, totalmem } from 'node:os';
import type { CancelReport } from './cancel-latency.ts';
import type { CpuSample } from './ipc.ts';
import { PATH_LABELS, type PathName, type StreamResult } from './load.ts';
import type { MemoryPerStream } from './memory-hold.ts';
import { gatewayOverRelay, type PhaseReport } from './phases.ts';
import { mean, percentiles, round1, round2 } from './stats.ts';
import type { TargetRow } from './targets.ts';

/** What was measured for one path at one concurrency. */
export interface Cell {
  path: PathName;
  concurrency: number;
  samples: StreamResult[];
  errors: number;
  wallMs: number;
  /** CPU time of the process serving the path over the measured streams; null when not measurable. */
  serverCpu: CpuSample | null;
  /** CPU time of the mock upstream's process over them; null when not separable or not measurable. */
  upstreamCpu: CpuSample | null;
  /** CPU time of the load generator over them. */
  clientCpu: CpuSample;
  memory: MemoryPerStream | null;
}

export interface CellReport {
  path: PathName;
  concurrency: number;
  streams: number;
  errors: number;
  ttftMs: { p50: number; p90: number; p99: number; mean: number };
  /** TTFT minus direct's at the same concurrency (null without a direct path). */
  addedP50Ms: number | null;
  addedP99Ms: number | null;
  streamMsP50: number;
  streamsPerSec: number;
  /** Non-empty content events received per second, all streams of the cell together. */
  chunksPerSec: number;
  chunksPerStream: number;
  /** Microseconds of CPU (user + system) per measured stream; null when the server is not ours. */
  cpu: {
    usPerStream: number;
    userUsPerStream: number;
    systemUsPerStream: number;
    /** The mock upstream's share (null when it shares the process, or for direct where it is the server). */
    upstreamUsPerStream: number | null;
    /** The load generator's. */
    clientUsPerStream: number;
  } | null;
  /** Memory growth per open stream of the serving process; null when not measured. */
  memoryPerStream: MemoryPerStream | null;
  /** Microseconds of the load generator's own CPU per measured stream (kept small by the lean client). */
  clientUsPerStream: number;
}

export interface Verdict {
  name: string;
  target: string;
  /** null: not measured in this run. */
  pass: boolean | null;
  detail: string;
}

export interface Machine {
  cpu: string;
  cores: number;
  logicalCpus: number;
  memoryGiB: number;
  node: string;
  platform: string;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() || 'unknown',
    cores: availableParallelism(),
    logicalCpus: list.length,
    memoryGiB: round1(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
  };
}

const cpuTotal = (cpu: CpuSample): number => cpu.user + cpu.system;

export function summariseCells(cells: Cell[]): CellReport[] {
  const reports = cells.map((cell): CellReport => {
    const ttft = cell.samples.map((s) => s.ttftMs);
    const total = cell.samples.map((s) => s.totalMs);
    const events = cell.samples.reduce((sum, s) => sum + s.contentEvents, 0);
    const seconds = cell.wallMs / 1000;
    const count = Math.max(1, cell.samples.length + cell.errors);
    const perStream = (us: number): number => round1(us / count);
    return {
      path: cell.path,
      concurrency: cell.concurrency,
      streams: cell.samples.length,
      errors: cell.errors,
      ttftMs: { ...percentiles(ttft), mean: round2(mean(ttft)) },
      addedP50Ms: null,
      addedP99Ms: null,
      streamMsP50: percentiles(total).p50,
      streamsPerSec: round1(cell.samples.length / seconds),
      chunksPerSec: Math.round(events / seconds),
      chunksPerStream: round2(events / Math.max(1, cell.samples.length)),
      cpu: cell.serverCpu
        ? {
            usPerStream: perStream(cpuTotal(cell.serverCpu)),
            userUsPerStream: perStream(cell.serverCpu.user),
            systemUsPerStream: perStream(cell.serverCpu.system),
            upstreamUsPerStream: cell.upstreamCpu ? perStream(cpuTotal(cell.upstreamCpu)) : null,
            clientUsPerStream: perStream(cpuTotal(cell.clientCpu)),
          }
        : null,
      memoryPerStream: cell.memory,
      clientUsPerStream: perStream(cpuTotal(cell.clientCpu)),
    };
  });
  for (const report of reports) {
    const direct = reports.find((r) => r.path === 'direct' && r.concurrency === report.concurrency);
    if (direct) {
      report.addedP50Ms = round2(report.ttftMs.p50 - direct.ttftMs.p50);
      report.addedP99Ms = round2(report.ttftMs.p99 - direct.ttftMs.p99);
    }
  }
  return reports;
}

/** The shared-state verdict (`--state redis`): a gateway on Redis state adds < 0.5 ms at concurrency 1. */
export function verdicts(reports: CellReport[]): Verdict[] {
  const cell = (path: PathName, concurrency: number) => reports.find((r) => r.path === path && r.concurrency === concurrency);
  const signed = (value: number): string => `${value >= 0 ? '+' : ''}${value}`;
  const redis1 = cell('gateway-redis', 1);
  const gateway1 = cell('gateway', 1);
  if (!redis1 || !gateway1) return [];
  const added = round2(redis1.ttftMs.p50 - gateway1.ttftMs.p50);
  return [
    {
      name: 'Shared state overhead at concurrency 1',
      target: 'a gateway on Redis state adds < 0.5 ms to the median TTFT vs in-memory state',
      pass: added < 0.5,
      detail: `Redis state p50 ${redis1.ttftMs.p50} ms vs memory ${gateway1.ttftMs.p50} ms: ${signed(added)} ms (p99 ${signed(round2(redis1.ttftMs.p99 - gateway1.ttftMs.p99))} ms)`,
    },
  ];
}

function markdownTable(header: string[], rows: string[][], textColumns: number): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i < textColumns ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

const kib = (bytes: number): string => (bytes / 1024).toFixed(1);

export function resultsTable(reports: CellReport[]): string {
  const header = [
    'path',
    'conc.',
    'streams',
    'TTFT p50 (ms)',
    'p90',
    'p99',
    'added p50 vs direct',
    'stream p50 (ms)',
    'streams/s',
    'chunks/s',
    'CPU/stream (µs)',
    'heap/open stream (KiB)',
    'RSS/open stream (KiB)',
    'errors',
  ];
  const rows = reports.map((r) => [
    PATH_LABELS[r.path],
    String(r.concurrency),
    String(r.streams),
    r.ttftMs.p50.toFixed(2),
    r.ttftMs.p90.toFixed(2),
    r.ttftMs.p99.toFixed(2),
    r.addedP50Ms === null ? '–' : `${r.addedP50Ms >= 0 ? '+' : ''}${r.addedP50Ms.toFixed(2)}`,
    r.streamMsP50.toFixed(2),
    r.streamsPerSec.toFixed(1),
    String(r.chunksPerSec),
    r.cpu === null ? '–' : r.cpu.usPerStream.toFixed(0),
    r.memoryPerStream === null ? '–' : kib(r.memoryPerStream.heapUsedBytes),
    r.memoryPerStream === null ? '–' : kib(r.memoryPerStream.rssBytes),
    String(r.errors),
  ]);
  return markdownTable(header, rows, 1);
}

/** Replicas against one gateway on the same Redis state, per concurrency: throughput and median TTFT. */
export function replicaLines(reports: CellReport[], replicas: number): string[] {
  return reports
    .filter((r) => r.path === 'replicas')
    .flatMap((many) => {
      const one = reports.find((r) => r.path === 'gateway-redis' && r.concurrency === many.concurrency);
      if (!one) return [];
      const ratio = one.streamsPerSec > 0 ? (many.streamsPerSec / one.streamsPerSec).toFixed(2) : '–';
      return [
        `- c=${many.concurrency}: ${replicas} replicas ${many.streamsPerSec} streams/s (TTFT p50 ${many.ttftMs.p50} ms) vs one ${one.streamsPerSec} streams/s (${one.ttftMs.p50} ms): ×${ratio}`,
      ];
    });
}

export function verdictLines(checks: Verdict[]): string[] {
  return checks.map((check) => {
    const mark = check.pass === null ? 'N/A' : check.pass ? 'PASS' : 'MISS';
    return `- **${mark}** ${check.name} — ${check.target}: ${check.detail}`;
  });
}

export function cancelTable(reports: CancelReport[]): string {
  const header = ['cancellation', 'path', 'runs', 'p50 (ms)', 'p90', 'p99', 'max', 'errors'];
  const rows = reports.map((r) => [
    r.kind === 'client-close' ? 'client close' : 'barge-in (superseded)',
    PATH_LABELS[r.path],
    String(r.runs),
    r.latencyMs.p50.toFixed(3),
    r.latencyMs.p90.toFixed(3),
    r.latencyMs.p99.toFixed(3),
    r.latencyMs.max.toFixed(3),
    String(r.errors),
  ]);
  return markdownTable(header, rows, 2);
}

const us = (value: number | undefined): string => (value === undefined ? '–' : value.toFixed(1));
const times = (ratio: number | null): string => (ratio === null ? '–' : `×${ratio.toFixed(2)}`);

/**
 * Phases per concurrency: direct's raw figures (the floor), then what each other path adds over
 * them, then the gateway ÷ pipe relay ratio of what they add.
 */
export function phaseTable(reports: PhaseReport[]): string {
  const header = ['conc.', 'path', 'request → upstream: added p50 (µs)', 'p90', 'first content → client: added p50 (µs)', 'p90', 'streams'];
  const rows: string[][] = [];
  const ratios = gatewayOverRelay(reports);
  for (const c of [...new Set(reports.map((r) => r.concurrency))]) {
    for (const r of reports.filter((report) => report.concurrency === c)) {
      if (r.path === 'direct') {
        const raw = [r.toUpstreamUs.p50, r.toUpstreamUs.p90, r.toClientUs.p50, r.toClientUs.p90].map((v) => `(${us(v)})`);
        rows.push([String(c), 'direct (raw: the floor subtracted)', ...raw, String(r.streams)]);
        continue;
      }
      const up = r.addedToUpstreamUs;
      const down = r.addedToClientUs;
      rows.push([String(c), PATH_LABELS[r.path], us(up?.p50), us(up?.p90), us(down?.p50), us(down?.p90), String(r.streams)]);
    }
    const ratio = ratios.find((x) => x.concurrency === c);
    if (ratio) {
      rows.push([
        String(c),
        'gateway ÷ pipe relay',
        times(ratio.toUpstream.p50),
        times(ratio.toUpstream.p90),
        times(ratio.toClient.p50),
        times(ratio.toClient.p90),
        '',
      ]);
    }
  }
  return markdownTable(header, rows, 2);
}

/** The targets table: one row per target and concurrency. */
export function targetsTable(rows: TargetRow[]): string {
  const header = ['target', 'gateway', 'pipe relay', 'ratio', 'result'];
  const figure = (value: number | null, unit: string): string => (value === null ? '–' : `${value} ${unit}`);
  const body = rows.map((row) => [
    row.target,
    figure(row.gateway, row.unit),
    figure(row.relay, row.unit),
    times(row.ratio),
    row.status === 'met' ? 'met' : row.status === 'missed' ? '**missed**' : `not measured${row.note ? ` (${row.note})` : ''}`,
  ]);
  return markdownTable(header, body, 1);
}

/** The load generator's own CPU per stream, per concurrency and path: it must stay small beside the servers'. */
export function clientCpuLine(reports: CellReport[]): string {
  const parts = reports.map((r) => `${PATH_LABELS[r.path]} c=${r.concurrency}: ${r.clientUsPerStream.toFixed(0)}`);
  return parts.length === 0 ? '' : `- Load generator CPU per stream (µs): ${parts.join('; ')}.`;
}
