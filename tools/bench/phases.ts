/**
 * Phase timings of the hot path, seen from outside the process measured:
 *   to upstream  the client sent the request → the mock upstream received it (the path's request
 *                handling: parsing, auth, prompt, the upstream request);
 *   to client    the mock wrote its first content event → the client received the first bytes
 *                holding content (the path's answer handling: parsing, transforms, re-encoding).
 * Both ends stamp with `process.hrtime.bigint()` (CLOCK_MONOTONIC: one clock for every process on
 * a Linux machine). A stream is matched with the mock's stamps by the tag its user message carries
 * (tools/bench/ipc.ts PHASE_MARKER). Direct's figures are the floor of loopback HTTP; subtracting
 * them leaves what the relay or the gateway adds.
 */

import type { UpstreamStamp } from './ipc.ts';
import type { PathName } from './load.ts';
import { percentile, round1, round2 } from './stats.ts';

/** The client's side of one tagged stream. */
export interface ClientStamp {
  tag: string;
  /** The request was handed to node:http. */
  sentNs: bigint;
  /** The first bytes holding content arrived. */
  firstContentNs: bigint;
}

/** One stream's two phases, in microseconds. */
export interface PhaseSample {
  toUpstreamUs: number;
  toClientUs: number;
}

export interface Matched {
  samples: PhaseSample[];
  /** Client stamps the mock has no stamp for (e.g. a request it never saw tagged). */
  unmatched: number;
}

const usBetween = (from: bigint, to: bigint): number => Number(to - from) / 1000;

/** Joins the client's stamps with the mock's by tag; the mock's without a client stamp are ignored. */
export function matchStamps(client: readonly ClientStamp[], upstream: readonly UpstreamStamp[]): Matched {
  const byTag = new Map<string, UpstreamStamp>();
  for (const stamp of upstream) byTag.set(stamp.tag, stamp);
  const samples: PhaseSample[] = [];
  let unmatched = 0;
  for (const stamp of client) {
    const other = byTag.get(stamp.tag);
    if (!other) {
      unmatched++;
      continue;
    }
    samples.push({
      toUpstreamUs: usBetween(stamp.sentNs, BigInt(other.receivedNs)),
      toClientUs: usBetween(BigInt(other.firstContentNs), stamp.firstContentNs),
    });
  }
  return { samples, unmatched };
}

/** What was matched for one path at one concurrency. */
export interface PhaseCell {
  path: PathName;
  concurrency: number;
  samples: PhaseSample[];
  unmatched: number;
}

export interface P50P90 {
  p50: number;
  p90: number;
}

export interface PhaseReport {
  path: PathName;
  concurrency: number;
  /** Streams with both sides' stamps. */
  streams: number;
  unmatched: number;
  /** Raw, in µs. */
  toUpstreamUs: P50P90;
  toClientUs: P50P90;
  /** Minus direct's at the same concurrency: what the path adds (null for direct, or with no direct path). */
  addedToUpstreamUs: P50P90 | null;
  addedToClientUs: P50P90 | null;
}

function p50p90(values: readonly number[]): P50P90 {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: round1(percentile(sorted, 50)), p90: round1(percentile(sorted, 90)) };
}

const minus = (a: P50P90, b: P50P90): P50P90 => ({ p50: round1(a.p50 - b.p50), p90: round1(a.p90 - b.p90) });

export function summarisePhases(cells: readonly PhaseCell[]): PhaseReport[] {
  const reports = cells.map(
    (cell): PhaseReport => ({
      path: cell.path,
      concurrency: cell.concurrency,
      streams: cell.samples.length,
      unmatched: cell.unmatched,
      toUpstreamUs: p50p90(cell.samples.map((s) => s.toUpstreamUs)),
      toClientUs: p50p90(cell.samples.map((s) => s.toClientUs)),
      addedToUpstreamUs: null,
      addedToClientUs: null,
    }),
  );
  for (const report of reports) {
    if (report.path === 'direct' || report.streams === 0) continue;
    const direct = reports.find((r) => r.path === 'direct' && r.concurrency === report.concurrency && r.streams > 0);
    if (!direct) continue;
    report.addedToUpstreamUs = minus(report.toUpstreamUs, direct.toUpstreamUs);
    report.addedToClientUs = minus(report.toClientUs, direct.toClientUs);
  }
  return reports;
}

/** `a ÷ b`, or null when b adds nothing measurable (≤ 0): no ratio means anything then. */
export const ratioOf = (a: number, b: number): number | null => (b > 0 && Number.isFinite(a) ? round2(a / b) : null);

export interface PhaseRatio {
  concurrency: number;
  toUpstream: { p50: number | null; p90: number | null };
  toClient: { p50: number | null; p90: number | null };
}

/** Gateway ÷ pipe relay of what each adds, per concurrency both were measured at. */
export function gatewayOverRelay(reports: readonly PhaseReport[]): PhaseRatio[] {
  const out: PhaseRatio[] = [];
  for (const gateway of reports) {
    if (gateway.path !== 'gateway' || !gateway.addedToUpstreamUs || !gateway.addedToClientUs) continue;
    const relay = reports.find((r) => r.path === 'pipe-relay' && r.concurrency === gateway.concurrency);
    if (!relay?.addedToUpstreamUs || !relay.addedToClientUs) continue;
    out.push({
      concurrency: gateway.concurrency,
      toUpstream: {
        p50: ratioOf(gateway.addedToUpstreamUs.p50, relay.addedToUpstreamUs.p50),
        p90: ratioOf(gateway.addedToUpstreamUs.p90, relay.addedToUpstreamUs.p90),
      },
      toClient: {
        p50: ratioOf(gateway.addedToClientUs.p50, relay.addedToClientUs.p50),
        p90: ratioOf(gateway.addedToClientUs.p90, relay.addedToClientUs.p90),
      },
    });
  }
  return out;
}
