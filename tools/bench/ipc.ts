/**
 * What the bench's server processes (tools/bench/server-child.ts) and the load generator
 * (tools/bench/server-processes.ts) say to each other over the `child_process.fork` IPC channel.
 * Types only, plus the few constants both sides must agree on.
 */

/**
 * What a server process runs:
 *   upstream    the built-in mock upstream LLM
 *   pipe-relay  a minimal node:http pipe relay in front of --upstream
 *   gateway     the real gateway (openai-compatible provider) in front of --upstream
 *   all         all three in one process (`--layout shared`)
 */
export type ServerRole = 'upstream' | 'pipe-relay' | 'gateway' | 'all';

/** The bearer key the built-in gateway accepts (the mock and the pipe relay ignore it). */
export const BENCH_KEY = 'bench-key';
/** The agent (model id) the built-in gateway serves. */
export const BENCH_MODEL = 'bench';

/** A user message starting with this gets the slow answer of cancellation runs; the request id follows. */
export const CANCEL_MARKER = 'bench-cancel ';
/** A user message starting with this gets half the answer, then the mock holds the stream open. */
export const HOLD_MARKER = 'bench-hold';

/**
 * Measured streams end their user message with this and a tag (digits): the mock upstream stamps
 * such requests (phase timings). No `bench-` in it: that prefix makes the mock parse the body.
 */
export const PHASE_MARKER = 'phase-tag:';

/**
 * The mock upstream's side of one tagged request: `process.hrtime.bigint()` (CLOCK_MONOTONIC, one
 * clock for every process on a Linux machine) as decimal strings, since IPC carries JSON.
 */
export interface UpstreamStamp {
  tag: string;
  /** The request arrived (its headers parsed). */
  receivedNs: string;
  /** Just before the first content event was written. */
  firstContentNs: string;
}

/** The slow answer of cancellation runs: long enough that only a cancellation ends it early. */
export interface SlowAnswer {
  contentEvents: number;
  firstEventDelayMs: number;
  eventIntervalMs: number;
}

export interface CpuSample {
  /** Microseconds, as process.cpuUsage() reports them. */
  user: number;
  system: number;
}

export interface MemorySample {
  /** Bytes, as process.memoryUsage() reports them. */
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** Child → parent. */
export type ServerMessage =
  | {
      type: 'ready';
      role: ServerRole;
      pid: number;
      /** Base URLs ending in /v1 (POST `${url}/chat/completions`), for what this process runs. */
      upstreamUrl?: string;
      relayUrl?: string;
      gatewayUrl?: string;
      /** The mock upstream's answer, and in how many non-empty content events it comes. */
      text?: string;
      contentEvents?: number;
      slowAnswer?: SlowAnswer;
      /** What the gateway runs with (records, metrics, log), in words. */
      gatewaySetup?: string;
    }
  | { type: 'error'; message: string }
  /** A cancellation run's upstream connection closed before its answer was over (`at`: wall clock, see below). */
  | { type: 'upstream-closed'; requestId: string; at: number }
  /** The answer to a clock probe: `performance.timeOrigin + performance.now()`, comparable across processes. */
  | { type: 'clock'; id: number; at: number }
  /** The answer to a usage probe. `openHolds`: streams the mock upstream holds open now (mock processes only). */
  | { type: 'usage'; id: number; cpu: CpuSample; memory: MemorySample; openHolds?: number }
  /** The answer to a phases probe: the stamps of the tagged requests answered since the last one (mock processes only). */
  | { type: 'phases'; id: number; stamps: UpstreamStamp[] };

/** Parent → child. `gc`: run a full garbage collection before sampling (the child runs with --expose-gc). */
export type ControlMessage =
  | { type: 'stop' }
  | { type: 'clock'; id: number }
  | { type: 'usage'; id: number; gc: boolean }
  | { type: 'phases'; id: number };
