/**
 * Cancellation latency: how long an upstream request lives on once nobody wants its answer.
 *
 * The requests of these runs get the mock upstream's slow answer (several seconds), and the mock
 * reports over IPC when their connection closes, timestamped with `performance.timeOrigin +
 * performance.now()` like this process's side of the interval (both processes read the machine's
 * clock; a probe checks that they agree).
 *
 *   client close  the client reads to the first content, then aborts (destroys its connection):
 *                 client abort → the mock sees that request's connection close. Gateway and, as
 *                 the floor, the pipe relay.
 *   barge-in      the client reads turn 1 of a call to the first content, then sends turn 2 of the
 *                 same call (extendData.instanceId): sending turn 2 → the mock sees turn 1's
 *                 connection close. Gateway only (the pipe relay knows no calls). Turn 1 must still
 *                 end with [DONE] and turn 2 must succeed, else the run is an error.
 *
 * Runs go one at a time, the kinds interleaved (rotating order), on otherwise idle servers.
 */

import type { Agent } from 'node:http';
import { CANCEL_MARKER } from './ipc.ts';
import { followTurn, nextId, PATH_LABELS, STREAM_TIMEOUT_MS, turnBody, type PathName, type Target } from './load.ts';
import { wallClock, type ServerProcess } from './server-processes.ts';
import { BenchError } from './settings.ts';
import { percentile, round3 } from './stats.ts';
import { endsWithDone } from './sse-scan.ts';

export type CancelKind = 'client-close' | 'barge-in';

export interface CancelReport {
  kind: CancelKind;
  path: PathName;
  runs: number;
  errors: number;
  /** Cancel (client abort, or turn 2 sent) → the mock upstream saw the upstream connection close. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

/** Untimed runs of each kind before the measured ones. */
export const CANCEL_WARMUP = 3;
/** A cancellation the upstream has not seen after this long is an error (its slow answer lasts longer). */
const CANCEL_TIMEOUT_MS = 3_000;

interface CancelContext {
  agent: Agent;
  /** The process running the mock upstream. */
  upstream: ServerProcess;
}

/** Client close: client abort → the mock saw the upstream connection close, in ms. */
async function clientCloseRun(target: Target, context: CancelContext): Promise<number> {
  const n = nextId();
  const requestId = `close-${n}`;
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(STREAM_TIMEOUT_MS)]);
  try {
    const turn = await followTurn(target, turnBody(target, `${CANCEL_MARKER}${requestId}`, `bench-close-inst-${n}`), context.agent, signal);
    await turn.firstContent;
    const abortedAt = wallClock();
    controller.abort(); // node:http destroys the connection: the answer is not wanted any more
    const closedAt = await context.upstream.closedAt(requestId, CANCEL_TIMEOUT_MS);
    return closedAt - abortedAt;
  } finally {
    controller.abort();
  }
}

/** Barge-in: sending turn 2 of the same call → the mock saw turn 1's upstream connection close, in ms. */
async function bargeInRun(target: Target, context: CancelContext): Promise<number> {
  const n = nextId();
  const requestId = `barge-${n}`;
  const instanceId = `bench-barge-inst-${n}`;
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(STREAM_TIMEOUT_MS)]);
  let finished = false;
  const label = PATH_LABELS[target.path];
  try {
    const turn1 = await followTurn(target, turnBody(target, `${CANCEL_MARKER}${requestId}`, instanceId, 1), context.agent, signal);
    await turn1.firstContent;
    const sentAt = wallClock();
    const turn2 = followTurn(target, turnBody(target, target.prompt, instanceId, 2), context.agent, signal);
    turn2.catch(() => undefined);
    const closedAt = await context.upstream.closedAt(requestId, CANCEL_TIMEOUT_MS);
    const text1 = await turn1.text;
    if (!endsWithDone(text1)) throw new BenchError(`${label}: superseded turn ended without [DONE]: …${text1.slice(-200)}`);
    const second = await turn2;
    await second.firstContent;
    const text2 = await second.text;
    if (!endsWithDone(text2)) throw new BenchError(`${label}: the superseding turn ended without [DONE]: …${text2.slice(-200)}`);
    finished = true;
    return closedAt - sentAt;
  } finally {
    if (!finished) controller.abort();
  }
}

function summarise(kind: CancelKind, path: PathName, latencies: number[], errors: number): CancelReport {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    kind,
    path,
    runs: latencies.length,
    errors,
    latencyMs: {
      p50: round3(percentile(sorted, 50)),
      p90: round3(percentile(sorted, 90)),
      p99: round3(percentile(sorted, 99)),
      max: round3(sorted.at(-1) ?? Number.NaN),
    },
  };
}

/**
 * `runs` measured runs of each kind (after CANCEL_WARMUP untimed ones), interleaved.
 * `onRun` after every run (for progress); `onError` for every failed one.
 */
export async function measureCancellation(options: {
  gateway: Target;
  pipeRelay: Target;
  upstream: ServerProcess;
  agent: Agent;
  runs: number;
  onError: (err: unknown) => void;
  onRun: () => void;
}): Promise<CancelReport[]> {
  const context: CancelContext = { agent: options.agent, upstream: options.upstream };
  const cases = [
    { kind: 'client-close' as const, target: options.gateway, run: clientCloseRun, latencies: [] as number[], errors: 0 },
    { kind: 'client-close' as const, target: options.pipeRelay, run: clientCloseRun, latencies: [] as number[], errors: 0 },
    { kind: 'barge-in' as const, target: options.gateway, run: bargeInRun, latencies: [] as number[], errors: 0 },
  ];
  for (let i = 0; i < CANCEL_WARMUP + options.runs; i++) {
    for (let k = 0; k < cases.length; k++) {
      const cancelCase = cases[(i + k) % cases.length]!;
      try {
        const latency = await cancelCase.run(cancelCase.target, context);
        if (i >= CANCEL_WARMUP) cancelCase.latencies.push(latency);
      } catch (err) {
        if (i >= CANCEL_WARMUP) cancelCase.errors++;
        options.onError(err);
      }
      options.onRun();
    }
  }
  return cases.map((c) => summarise(c.kind, c.target.path, c.latencies, c.errors));
}
