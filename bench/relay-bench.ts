/**
 * Relay benchmark: time to first token (TTFT) and throughput of three paths to the same mock
 * upstream LLM, at several concurrency levels, in one run.
 *
 *   direct      client → mock upstream
 *   pipe-relay  client → minimal node:http pipe relay → mock upstream  (the floor any relay pays)
 *   gateway     client → the real gateway (openai-compatible provider) → mock upstream
 *
 * This process is only the load generator (undici client). The servers run in child processes
 * (bench/bench-servers.ts): by default the mock upstream in one, the pipe relay and the gateway in
 * another (`--layout shared` puts all three in one child), so the client's CPU use never shares an
 * event loop with what it measures.
 *
 * TTFT is measured from sending the request to the first received bytes holding a non-empty
 * `"content":"…"` delta, the same way for every path (the gateway's first event is a role chunk).
 * Paths are interleaved in short segments so that drift (other load on the machine) hits all
 * three alike.
 *
 * Cancellation latency (after the TTFT cells, one run at a time, kinds interleaved): how long an
 * upstream request lives on once nobody wants its answer. The cancellation requests get a slow
 * answer from the mock (seconds long), which reports over IPC when their connection closes, time-
 * stamped with `performance.timeOrigin + performance.now()` like the client's side of the
 * interval (both processes share the machine's clock; a probe checks they agree).
 *   client close  client reads to the first content, then aborts (destroys its connection):
 *                 client abort → the mock sees that request's connection close.
 *                 Gateway and, as the floor, the pipe relay.
 *   barge-in      client reads turn 1 of a call to the first content, then sends turn 2 of the same
 *                 call (extendData.instanceId): sending turn 2 → the mock sees turn 1's connection
 *                 close. Gateway only (the pipe relay knows no calls). Turn 1 must still end with
 *                 [DONE] and turn 2 must succeed, else the run is an error.
 *
 * Usage: node bench/relay-bench.ts [--requests 400] [--concurrency 1,64] [--first-token-ms 20]
 *          [--interval-ms 0] [--warmup 50] [--cancel-runs 50] [--layout split|shared]
 *          [--profile-servers DIR] [--json]
 * Exits non-zero only on errors (a non-200, a stream without [DONE] or without content, a wrong
 * answer, a cancellation the upstream never saw); a missed target is reported, never fatal.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import type { ControlMessage, ServerMessage, ServerRole } from './bench-servers.ts';

type PathName = 'direct' | 'pipe-relay' | 'gateway';
const PATHS: readonly PathName[] = ['direct', 'pipe-relay', 'gateway'];
const LABELS: Record<PathName, string> = { direct: 'direct', 'pipe-relay': 'pipe relay', gateway: 'gateway' };

/** Concurrency-1 segments hold this many streams; higher concurrencies `ROUNDS_PER_SEGMENT × c`. */
const C1_SEGMENT = 25;
const ROUNDS_PER_SEGMENT = 5;
/** Streams per concurrency slot (at least) for concurrencies above 1. */
const MIN_ROUNDS = 10;
/** A stream taking longer than this is an error. */
const STREAM_TIMEOUT_MS = 30_000;
/** Untimed runs of each cancellation kind before the measured ones. */
const CANCEL_WARMUP = 3;
/** A cancellation the upstream has not seen after this long is an error (its slow answer lasts longer). */
const CANCEL_TIMEOUT_MS = 3_000;
/** Clock probes between this process and the upstream's; the one with the shortest round trip counts. */
const CLOCK_PROBES = 20;

const CONTENT = '"content":"';
const DONE = 'data: [DONE]\n\n';

interface Settings {
  requests: number;
  concurrency: number[];
  firstTokenMs: number;
  intervalMs: number;
  warmup: number;
  cancelRuns: number;
  layout: 'split' | 'shared';
  profileServers: string | undefined;
  json: boolean;
}

interface Target {
  path: PathName;
  url: string;
  apiKey: string;
}

interface StreamResult {
  ttftMs: number;
  totalMs: number;
  contentEvents: number;
}

interface Cell {
  path: PathName;
  concurrency: number;
  samples: StreamResult[];
  errors: number;
  wallMs: number;
}

interface CellReport {
  path: PathName;
  concurrency: number;
  streams: number;
  errors: number;
  ttftMs: { p50: number; p90: number; p99: number; mean: number };
  /** p50 TTFT minus direct's p50 TTFT at the same concurrency. */
  addedP50Ms: number | null;
  streamMsP50: number;
  streamsPerSec: number;
  contentEventsPerSec: number;
  contentEventsPerStream: number;
}

interface Verdict {
  name: string;
  target: string;
  pass: boolean | null;
  detail: string;
}

type CancelKind = 'client-close' | 'barge-in';

interface CancelReport {
  kind: CancelKind;
  path: PathName;
  runs: number;
  errors: number;
  /** Cancel (client abort, or turn 2 sent) → the mock upstream saw the upstream connection close. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

class BenchError extends Error {}

const USAGE =
  'usage: node bench/relay-bench.ts [--requests 400] [--concurrency 1,64] [--first-token-ms 20] [--interval-ms 0]\n' +
  '                                 [--warmup 50] [--cancel-runs 50] [--layout split|shared] [--profile-servers DIR]\n' +
  '                                 [--json]\n';

function readArgs() {
  return parseArgs({
    options: {
      requests: { type: 'string', default: '400' },
      concurrency: { type: 'string', default: '1,64' },
      'first-token-ms': { type: 'string', default: '20' },
      'interval-ms': { type: 'string', default: '0' },
      warmup: { type: 'string', default: '50' },
      'cancel-runs': { type: 'string', default: '50' },
      layout: { type: 'string', default: 'split' },
      'profile-servers': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
}

/** The settings, or undefined when only the usage was asked for. */
function parseSettings(): Settings | undefined {
  let parsed: ReturnType<typeof readArgs>;
  try {
    parsed = readArgs();
  } catch (err) {
    throw new BenchError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return undefined;
  }
  const int = (name: string, text: string, min: number): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new BenchError(`--${name} must be an integer ≥ ${min}, got "${text}"`);
    return value;
  };
  const layout = values.layout;
  if (layout !== 'split' && layout !== 'shared') throw new BenchError(`--layout must be split or shared, got "${layout}"`);
  const concurrency = values.concurrency.split(',').map((part) => int('concurrency', part.trim(), 1));
  return {
    requests: int('requests', values.requests, 1),
    concurrency: [...new Set(concurrency)],
    firstTokenMs: int('first-token-ms', values['first-token-ms'], 0),
    intervalMs: int('interval-ms', values['interval-ms'], 0),
    warmup: int('warmup', values.warmup, 0),
    cancelRuns: int('cancel-runs', values['cancel-runs'], 1),
    layout,
    profileServers: values['profile-servers'],
    json: values.json,
  };
}

// ---------------------------------------------------------------------------------------------
// Server processes

interface ServerProcess {
  child: ChildProcess;
  ready: Extract<ServerMessage, { type: 'ready' }>;
}

const SERVERS_SCRIPT = fileURLToPath(new URL('./bench-servers.ts', import.meta.url));

async function startServers(role: ServerRole, args: string[], settings: Settings): Promise<ServerProcess> {
  const execArgv = settings.profileServers
    ? ['--cpu-prof', `--cpu-prof-dir=${settings.profileServers}`, `--cpu-prof-name=${role}-\${pid}.cpuprofile`]
    : [];
  // The child's stdout goes to our stderr: stdout may be carrying the JSON report.
  const child = fork(SERVERS_SCRIPT, ['--role', role, ...args], { stdio: ['ignore', 2, 2, 'ipc'], execArgv });
  return new Promise<ServerProcess>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new BenchError(`bench-servers (${role}) exited early with code ${code}`));
    child.once('exit', onExit);
    child.once('message', (message: ServerMessage) => {
      child.off('exit', onExit);
      if (message.type === 'ready') resolve({ child, ready: message });
      else {
        child.kill();
        reject(new BenchError(`bench-servers (${role}) failed: ${message.type === 'error' ? message.message : JSON.stringify(message)}`));
      }
    });
  });
}

async function stopServers(server: ServerProcess): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  if (child.connected) child.send({ type: 'stop' } satisfies ControlMessage);
  const timer = setTimeout(() => child.kill(), 10_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// Load generation

let sequence = 0;

/** Index of the first non-empty `"content":"…"` at or after `from`; -1 if none is complete yet. */
function findContent(text: string, from: number): number {
  let at = text.indexOf(CONTENT, from);
  while (at >= 0) {
    const next = at + CONTENT.length;
    if (next >= text.length) return -1;
    if (text.charCodeAt(next) !== 34 /* " */) return at;
    at = text.indexOf(CONTENT, next);
  }
  return -1;
}

function countContent(text: string): number {
  let count = 0;
  let at = findContent(text, 0);
  while (at >= 0) {
    count++;
    at = findContent(text, at + CONTENT.length);
  }
  return count;
}

function requestBody(): string {
  const n = ++sequence;
  return JSON.stringify({
    model: 'bench',
    stream: true,
    messages: [{ role: 'user', content: 'hi' }],
    extendData: { instanceId: `bench-inst-${n}`, channelId: `bench-chan-${n}`, sentenceId: 1 },
  });
}

/** One streamed turn; resolves with its timings, rejects on any error. Returns the raw body too. */
async function runStream(target: Target, dispatcher: Agent): Promise<StreamResult & { text: string }> {
  const body = requestBody();
  const signal = AbortSignal.timeout(STREAM_TIMEOUT_MS);
  const started = performance.now();
  const response = await request(`${target.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${target.apiKey}` },
    body,
    dispatcher,
    signal,
  });
  if (response.statusCode !== 200) {
    const text = await response.body.text().catch(() => '');
    throw new BenchError(`${target.path}: HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
  }
  const stream = response.body;
  stream.setEncoding('latin1'); // byte-for-byte: the markers searched for are ASCII
  return new Promise((resolve, reject) => {
    let text = '';
    let scanFrom = 0;
    let ttftMs = -1;
    stream.on('data', (chunk: string) => {
      text += chunk;
      if (ttftMs < 0) {
        if (findContent(text, scanFrom) >= 0) ttftMs = performance.now() - started;
        else scanFrom = Math.max(0, text.length - CONTENT.length);
      }
    });
    stream.once('error', (err: Error) => reject(new BenchError(`${target.path}: stream failed: ${err.message}`)));
    stream.once('end', () => {
      const totalMs = performance.now() - started;
      if (!text.endsWith(DONE)) reject(new BenchError(`${target.path}: stream ended without [DONE]: …${text.slice(-200)}`));
      else if (ttftMs < 0) reject(new BenchError(`${target.path}: stream without content: ${text.slice(0, 300)}`));
      else resolve({ ttftMs, totalMs, contentEvents: countContent(text), text });
    });
  });
}

/** Runs `count` streams keeping `concurrency` in flight. */
async function runBatch(
  target: Target,
  dispatcher: Agent,
  concurrency: number,
  count: number,
  onError: (err: unknown) => void,
): Promise<{ samples: StreamResult[]; errors: number; wallMs: number }> {
  const samples: StreamResult[] = [];
  let errors = 0;
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < count) {
      issued++;
      try {
        const { ttftMs, totalMs, contentEvents } = await runStream(target, dispatcher);
        samples.push({ ttftMs, totalMs, contentEvents });
      } catch (err) {
        errors++;
        onError(err);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { samples, errors, wallMs: performance.now() - started };
}

/** One stream parsed event by event: the path must relay exactly the upstream's answer. */
async function verifyPath(target: Target, dispatcher: Agent, expectedText: string): Promise<void> {
  const { text } = await runStream(target, dispatcher);
  const raw = Buffer.from(text, 'latin1').toString('utf8');
  let answer = '';
  for (const line of raw.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const chunk = JSON.parse(line.slice(6)) as { choices?: Array<{ delta?: { content?: unknown } }> };
    const content = chunk.choices?.[0]?.delta?.content;
    if (typeof content === 'string') answer += content;
  }
  if (answer !== expectedText) {
    throw new BenchError(`${target.path}: relayed answer differs from the upstream's:\n  got:  ${answer}\n  want: ${expectedText}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Cancellation latency

/** Wall-clock ms with sub-ms precision, comparable with the upstream process's `at` (bench-servers). */
const wallClock = (): number => performance.timeOrigin + performance.now();

/** What the upstream process reports over IPC: cancelled requests' closes, clock probe answers. */
class UpstreamReports {
  /** Closes reported before anyone asked for them. */
  readonly #closed = new Map<string, number>();
  readonly #closeWaiters = new Map<string, (at: number) => void>();
  readonly #clockWaiters = new Map<number, (at: number) => void>();
  readonly #child: ChildProcess;
  #probes = 0;

  readonly #onMessage = (message: ServerMessage): void => {
    if (message.type === 'upstream-closed') {
      const waiter = this.#closeWaiters.get(message.requestId);
      if (waiter) waiter(message.at);
      else this.#closed.set(message.requestId, message.at);
    } else if (message.type === 'clock') {
      this.#clockWaiters.get(message.id)?.(message.at);
    }
  };

  constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', this.#onMessage);
  }

  /** When (upstream clock) the mock saw request `requestId`'s connection close before its answer was over. */
  closedAt(requestId: string, timeoutMs: number): Promise<number> {
    const early = this.#closed.get(requestId);
    if (early !== undefined) {
      this.#closed.delete(requestId);
      return Promise.resolve(early);
    }
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#closeWaiters.delete(requestId);
        reject(new BenchError(`the mock upstream did not see request ${requestId} close within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#closeWaiters.set(requestId, (at) => {
        clearTimeout(timer);
        this.#closeWaiters.delete(requestId);
        resolve(at);
      });
    });
  }

  /**
   * The upstream clock minus ours, from the probe with the shortest IPC round trip (the estimate is
   * good to ± half of it). Near 0 when both processes read the same clock, as they should.
   */
  async clockOffset(): Promise<{ offsetMs: number; roundTripMs: number }> {
    let best = { offsetMs: Number.NaN, roundTripMs: Number.POSITIVE_INFINITY };
    for (let i = 0; i < CLOCK_PROBES; i++) {
      const id = ++this.#probes;
      const sent = wallClock();
      const at = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#clockWaiters.delete(id);
          reject(new BenchError('the mock upstream did not answer a clock probe'));
        }, 5_000);
        this.#clockWaiters.set(id, (value) => {
          clearTimeout(timer);
          this.#clockWaiters.delete(id);
          resolve(value);
        });
        this.#child.send({ type: 'clock', id } satisfies ControlMessage);
      });
      const received = wallClock();
      if (received - sent < best.roundTripMs) best = { offsetMs: at - (sent + received) / 2, roundTripMs: received - sent };
    }
    return { offsetMs: round3(best.offsetMs), roundTripMs: round3(best.roundTripMs) };
  }

  dispose(): void {
    this.#child.off('message', this.#onMessage);
  }
}

interface FollowedStream {
  /** Resolves at the first non-empty content; rejects if the stream ends or fails before. */
  firstContent: Promise<void>;
  /** The whole body (latin1) once it ended; rejects if it failed. */
  text: Promise<string>;
}

/** Starts a streamed turn and follows its body. Both promises are safe to leave unawaited. */
async function followStream(target: Target, body: string, dispatcher: Agent, signal: AbortSignal): Promise<FollowedStream> {
  const response = await request(`${target.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${target.apiKey}` },
    body,
    dispatcher,
    signal,
  });
  if (response.statusCode !== 200) {
    const text = await response.body.text().catch(() => '');
    throw new BenchError(`${target.path}: HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
  }
  const stream = response.body;
  stream.setEncoding('latin1');
  let settleFirst!: (err?: Error) => void;
  const firstContent = new Promise<void>((resolve, reject) => {
    settleFirst = (err) => (err ? reject(err) : resolve());
  });
  const text = new Promise<string>((resolve, reject) => {
    let all = '';
    let scanFrom = 0;
    let seen = false;
    stream.on('data', (chunk: string) => {
      all += chunk;
      if (seen) return;
      if (findContent(all, scanFrom) >= 0) {
        seen = true;
        settleFirst();
      } else scanFrom = Math.max(0, all.length - CONTENT.length);
    });
    stream.once('error', (err: Error) => {
      const failure = new BenchError(`${target.path}: stream failed: ${err.message}`);
      settleFirst(failure);
      reject(failure);
    });
    stream.once('end', () => {
      settleFirst(new BenchError(`${target.path}: stream ended before any content: ${all.slice(0, 300)}`));
      resolve(all);
    });
  });
  firstContent.catch(() => undefined);
  text.catch(() => undefined);
  return { firstContent, text };
}

function turnBody(content: string, instanceId: string, sentenceId: number): string {
  return JSON.stringify({
    model: 'bench',
    stream: true,
    messages: [{ role: 'user', content }],
    extendData: { instanceId, channelId: `${instanceId}-chan`, sentenceId },
  });
}

interface CancelContext {
  dispatcher: Agent;
  upstream: UpstreamReports;
  /** The message text that makes the mock answer slowly and report the close (followed by the id). */
  marker: string;
}

/** Client close: client abort → the mock saw the upstream connection close, in ms. */
async function clientCloseRun(target: Target, context: CancelContext): Promise<number> {
  const n = ++sequence;
  const requestId = `close-${n}`;
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(STREAM_TIMEOUT_MS)]);
  try {
    const turn = await followStream(target, turnBody(`${context.marker}${requestId}`, `bench-close-inst-${n}`, 1), context.dispatcher, signal);
    await turn.firstContent;
    const abortedAt = wallClock();
    controller.abort(); // undici destroys the connection: the answer is not wanted any more
    const closedAt = await context.upstream.closedAt(requestId, CANCEL_TIMEOUT_MS);
    return closedAt - abortedAt;
  } finally {
    controller.abort();
  }
}

/** Barge-in: sending turn 2 of the same call → the mock saw turn 1's upstream connection close, in ms. */
async function bargeInRun(target: Target, context: CancelContext): Promise<number> {
  const n = ++sequence;
  const requestId = `barge-${n}`;
  const instanceId = `bench-barge-inst-${n}`;
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(STREAM_TIMEOUT_MS)]);
  let finished = false;
  try {
    const turn1 = await followStream(target, turnBody(`${context.marker}${requestId}`, instanceId, 1), context.dispatcher, signal);
    await turn1.firstContent;
    const sentAt = wallClock();
    const turn2 = followStream(target, turnBody('hi', instanceId, 2), context.dispatcher, signal);
    turn2.catch(() => undefined);
    const closedAt = await context.upstream.closedAt(requestId, CANCEL_TIMEOUT_MS);
    const text1 = await turn1.text;
    if (!text1.endsWith(DONE)) throw new BenchError(`${target.path}: superseded turn ended without [DONE]: …${text1.slice(-200)}`);
    const second = await turn2;
    await second.firstContent;
    const text2 = await second.text;
    if (!text2.endsWith(DONE)) throw new BenchError(`${target.path}: the superseding turn ended without [DONE]: …${text2.slice(-200)}`);
    finished = true;
    return closedAt - sentAt;
  } finally {
    if (!finished) controller.abort();
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and output

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;
const round3 = (value: number): number => Math.round(value * 1000) / 1000;

function summariseCancel(kind: CancelKind, path: PathName, latencies: number[], errors: number): CancelReport {
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

function cancelTable(reports: CancelReport[]): string {
  const header = ['cancellation', 'path', 'runs', 'p50 (ms)', 'p90', 'p99', 'max', 'errors'];
  const rows = reports.map((r) => [
    r.kind === 'client-close' ? 'client close' : 'barge-in (superseded)',
    LABELS[r.path],
    String(r.runs),
    r.latencyMs.p50.toFixed(3),
    r.latencyMs.p90.toFixed(3),
    r.latencyMs.p99.toFixed(3),
    r.latencyMs.max.toFixed(3),
    String(r.errors),
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i < 2 ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

function summarise(cells: Cell[]): CellReport[] {
  const reports = cells.map((cell): CellReport => {
    const ttft = cell.samples.map((s) => s.ttftMs).sort((a, b) => a - b);
    const total = cell.samples.map((s) => s.totalMs).sort((a, b) => a - b);
    const events = cell.samples.reduce((sum, s) => sum + s.contentEvents, 0);
    const seconds = cell.wallMs / 1000;
    return {
      path: cell.path,
      concurrency: cell.concurrency,
      streams: cell.samples.length,
      errors: cell.errors,
      ttftMs: {
        p50: round2(percentile(ttft, 50)),
        p90: round2(percentile(ttft, 90)),
        p99: round2(percentile(ttft, 99)),
        mean: round2(ttft.reduce((a, b) => a + b, 0) / Math.max(1, ttft.length)),
      },
      addedP50Ms: null,
      streamMsP50: round2(percentile(total, 50)),
      streamsPerSec: round2(cell.samples.length / seconds),
      contentEventsPerSec: Math.round(events / seconds),
      contentEventsPerStream: round2(events / Math.max(1, cell.samples.length)),
    };
  });
  for (const report of reports) {
    const direct = reports.find((r) => r.path === 'direct' && r.concurrency === report.concurrency);
    if (direct) report.addedP50Ms = round2(report.ttftMs.p50 - direct.ttftMs.p50);
  }
  return reports;
}

function verdicts(reports: CellReport[]): Verdict[] {
  const cell = (path: PathName, concurrency: number) =>
    reports.find((r) => r.path === path && r.concurrency === concurrency);
  const out: Verdict[] = [];

  const gateway1 = cell('gateway', 1);
  const relay1 = cell('pipe-relay', 1);
  const direct1 = cell('direct', 1);
  if (gateway1 && relay1 && direct1) {
    const added = round2(gateway1.ttftMs.p50 - direct1.ttftMs.p50);
    const relayAdded = round2(relay1.ttftMs.p50 - direct1.ttftMs.p50);
    out.push({
      name: 'TTFT overhead at concurrency 1',
      target: 'gateway adds ≤ 1 ms to the median TTFT vs direct',
      pass: added <= 1,
      detail: `gateway p50 ${gateway1.ttftMs.p50} ms vs direct ${direct1.ttftMs.p50} ms: +${added} ms (pipe relay: +${relayAdded} ms; gateway over the pipe relay: +${round2(added - relayAdded)} ms)`,
    });
  } else {
    out.push({ name: 'TTFT overhead at concurrency 1', target: 'gateway adds ≤ 1 ms', pass: null, detail: 'not measured (concurrency 1 not in the run)' });
  }

  const high = Math.max(...reports.map((r) => r.concurrency));
  const gatewayHigh = cell('gateway', high);
  const relayHigh = cell('pipe-relay', high);
  const name = `TTFT under load at concurrency ${high}`;
  const target = `gateway median TTFT within 15% of the pipe relay's${high === 64 ? '' : ' (the project targets concurrency 64)'}`;
  if (high > 1 && gatewayHigh && relayHigh) {
    const ratio = gatewayHigh.ttftMs.p50 / relayHigh.ttftMs.p50;
    const percent = round2((ratio - 1) * 100);
    out.push({
      name,
      target,
      pass: ratio <= 1.15,
      detail: `gateway p50 ${gatewayHigh.ttftMs.p50} ms vs pipe relay ${relayHigh.ttftMs.p50} ms: ${percent >= 0 ? '+' : ''}${percent}%`,
    });
  } else {
    out.push({ name, target, pass: null, detail: 'not measured (no concurrency above 1 in the run)' });
  }
  return out;
}

function table(reports: CellReport[]): string {
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
    'content events/s',
    'errors',
  ];
  const rows = reports.map((r) => [
    LABELS[r.path],
    String(r.concurrency),
    String(r.streams),
    r.ttftMs.p50.toFixed(2),
    r.ttftMs.p90.toFixed(2),
    r.ttftMs.p99.toFixed(2),
    r.addedP50Ms === null ? '–' : `${r.addedP50Ms >= 0 ? '+' : ''}${r.addedP50Ms.toFixed(2)}`,
    r.streamMsP50.toFixed(2),
    r.streamsPerSec.toFixed(1),
    String(r.contentEventsPerSec),
    String(r.errors),
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i < 1 ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const settings = parseSettings();
  if (settings === undefined) return 0;
  const log = (text: string): void => {
    // Progress goes to stderr; stdout carries only the report.
    process.stderr.write(`${text}\n`);
  };
  const out: string[] = [];
  const cpuModel = cpus()[0]?.model.trim() ?? 'unknown';
  const cores = availableParallelism();

  const servers: ServerProcess[] = [];
  const dispatcher = new Agent({
    connections: Math.max(...settings.concurrency) + 8,
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  // Cancellation runs destroy connections: they get a pool of their own.
  const cancelDispatcher = new Agent({ connections: 4, pipelining: 1, keepAliveTimeout: 60_000 });
  let upstreamReports: UpstreamReports | undefined;
  let errorCount = 0;
  const errorSamples: string[] = [];
  const onError = (err: unknown): void => {
    errorCount++;
    const message = err instanceof Error ? err.message : String(err);
    if (errorSamples.length < 10) errorSamples.push(message);
    if (errorSamples.length <= 3) log(`error: ${message}`);
  };

  try {
    const scenarioArgs = ['--first-token-ms', String(settings.firstTokenMs), '--interval-ms', String(settings.intervalMs)];
    let upstream: ServerProcess;
    let relays: ServerProcess;
    if (settings.layout === 'shared') {
      upstream = relays = await startServers('all', scenarioArgs, settings);
      servers.push(upstream);
    } else {
      upstream = await startServers('upstream', scenarioArgs, settings);
      servers.push(upstream);
      relays = await startServers('relays', ['--upstream', upstream.ready.upstreamUrl!], settings);
      servers.push(relays);
    }
    const expectedText = upstream.ready.text!;
    const apiKey = relays.ready.apiKey!;
    const targets: Target[] = [
      { path: 'direct', url: upstream.ready.upstreamUrl!, apiKey },
      { path: 'pipe-relay', url: relays.ready.relayUrl!, apiKey },
      { path: 'gateway', url: relays.ready.gatewayUrl!, apiKey },
    ];

    const where =
      settings.layout === 'shared'
        ? `load generator (undici client): this process, pid ${process.pid}; mock upstream + pipe relay + gateway: one child process, pid ${upstream.ready.pid}`
        : `load generator (undici client): this process, pid ${process.pid}; mock upstream: child process pid ${upstream.ready.pid}; pipe relay + gateway: child process pid ${relays.ready.pid}`;
    out.push(
      '# voice-llm-gateway relay bench',
      '',
      `- Node ${process.version} on ${process.platform}/${process.arch}; CPU: ${cpuModel}; ${cores} core(s) available (${cpus().length} logical CPUs)`,
      `- Processes (${settings.layout} layout): ${where}. All on 127.0.0.1, HTTP/1.1 keep-alive.`,
      `- Upstream scenario: ${upstream.ready.contentEvents} content events of ≤4 chars (${expectedText.length} chars) after a simulated model TTFT of ${settings.firstTokenMs} ms, ${settings.intervalMs} ms between events; role chunk first, finish chunk, [DONE].`,
      `- TTFT: request sent → first bytes with a non-empty "content" delta (same rule for every path). Streams per path: ${settings.requests} at concurrency 1, max(${settings.requests}, ${MIN_ROUNDS} × c) above, with exactly c in flight; paths interleaved in segments; warm-up of ${settings.warmup} streams per path and concurrency (at least 2 × c). Throughput counts all streams of a cell over its wall time.`,
      `- With ${cores} core(s) for ${settings.layout === 'split' ? 3 : 2} busy processes, high-concurrency cells are CPU-bound: their TTFT is mostly queueing (≈ c ÷ streams/s), i.e. it mirrors each path's CPU cost per stream.`,
      '',
    );
    const cancelScenario = upstream.ready.cancelScenario!;
    if (!settings.json) process.stdout.write(`${out.join('\n')}\n`);

    for (const target of targets) await verifyPath(target, dispatcher, expectedText);
    log('all three paths relay the upstream answer intact');

    const cells = new Map<string, Cell>();
    for (const concurrency of settings.concurrency) {
      const count = concurrency === 1 ? settings.requests : Math.max(settings.requests, concurrency * MIN_ROUNDS);
      const warmup = Math.max(settings.warmup, concurrency * 2);
      for (const target of targets) {
        const result = await runBatch(target, dispatcher, concurrency, warmup, onError);
        log(`warm-up ${LABELS[target.path]} c=${concurrency}: ${result.samples.length} streams, ${result.errors} errors`);
      }
      for (const target of targets) {
        cells.set(`${target.path}/${concurrency}`, { path: target.path, concurrency, samples: [], errors: 0, wallMs: 0 });
      }
      const segmentSize = concurrency === 1 ? C1_SEGMENT : concurrency * ROUNDS_PER_SEGMENT;
      const segments = Math.max(1, Math.ceil(count / segmentSize));
      let remaining = count;
      for (let segment = 0; segment < segments; segment++) {
        const size = Math.ceil(remaining / (segments - segment));
        remaining -= size;
        // Rotate the order so that no path always runs right after another.
        for (let k = 0; k < targets.length; k++) {
          const target = targets[(segment + k) % targets.length]!;
          const cell = cells.get(`${target.path}/${concurrency}`)!;
          const result = await runBatch(target, dispatcher, concurrency, size, onError);
          cell.samples.push(...result.samples);
          cell.errors += result.errors;
          cell.wallMs += result.wallMs;
        }
      }
      log(`concurrency ${concurrency}: ${count} streams per path measured`);
    }

    const ordered = settings.concurrency.flatMap((c) => PATHS.map((p) => cells.get(`${p}/${c}`)!));
    const reports = summarise(ordered);
    const checks = verdicts(reports);

    // Cancellation latency: one run at a time, the kinds interleaved (rotating order), on idle servers.
    upstreamReports = new UpstreamReports(upstream.child);
    const clockCheck = await upstreamReports.clockOffset();
    const context: CancelContext = { dispatcher: cancelDispatcher, upstream: upstreamReports, marker: upstream.ready.cancelMarker! };
    const byPath = (path: PathName) => targets.find((t) => t.path === path)!;
    const cancelCases = [
      { kind: 'client-close' as const, target: byPath('gateway'), run: clientCloseRun, latencies: [] as number[], errors: 0 },
      { kind: 'client-close' as const, target: byPath('pipe-relay'), run: clientCloseRun, latencies: [] as number[], errors: 0 },
      { kind: 'barge-in' as const, target: byPath('gateway'), run: bargeInRun, latencies: [] as number[], errors: 0 },
    ];
    for (let i = 0; i < CANCEL_WARMUP + settings.cancelRuns; i++) {
      for (let k = 0; k < cancelCases.length; k++) {
        const cancelCase = cancelCases[(i + k) % cancelCases.length]!;
        try {
          const latency = await cancelCase.run(cancelCase.target, context);
          if (i >= CANCEL_WARMUP) cancelCase.latencies.push(latency);
        } catch (err) {
          if (i >= CANCEL_WARMUP) cancelCase.errors++;
          onError(err);
        }
      }
    }
    const cancelReports = cancelCases.map((c) => summariseCancel(c.kind, c.target.path, c.latencies, c.errors));
    log(`cancellation: ${settings.cancelRuns} runs of each kind measured`);

    if (settings.json) {
      const report = {
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
        cpu: cpuModel,
        cores,
        layout: settings.layout,
        processes: {
          loadGenerator: process.pid,
          upstream: upstream.ready.pid,
          relayAndGateway: relays.ready.pid,
        },
        settings: {
          requests: settings.requests,
          concurrency: settings.concurrency,
          firstTokenMs: settings.firstTokenMs,
          intervalMs: settings.intervalMs,
          warmup: settings.warmup,
          cancelRuns: settings.cancelRuns,
          upstreamContentEvents: upstream.ready.contentEvents,
        },
        results: reports,
        verdicts: checks,
        cancellation: {
          runs: settings.cancelRuns,
          warmup: CANCEL_WARMUP,
          upstreamScenario: cancelScenario,
          clock: clockCheck,
          results: cancelReports,
        },
        errors: errorCount,
        errorSamples,
      };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const lines = [table(reports), '', '## Targets', ''];
      for (const check of checks) {
        const mark = check.pass === null ? 'N/A ' : check.pass ? 'PASS' : 'MISS';
        lines.push(`- **${mark}** ${check.name} — ${check.target}: ${check.detail}`);
      }
      lines.push(
        '',
        '## Cancellation latency',
        '',
        `- How long an upstream request lives on once nobody wants its answer. Upstream answer for these runs: ${cancelScenario.contentEvents} content events ${cancelScenario.eventIntervalMs} ms apart after ${cancelScenario.firstEventDelayMs} ms (≈ ${((cancelScenario.firstEventDelayMs + cancelScenario.contentEvents * cancelScenario.eventIntervalMs) / 1000).toFixed(1)} s), so only a cancellation ends it early.`,
        '- Client close: the client reads to the first content, then aborts (destroys its connection); measured from the abort to the mock upstream seeing that request\'s connection close.',
        '- Barge-in: the client reads turn 1 of a call to the first content, then sends turn 2 with the same extendData.instanceId; measured from sending turn 2 to the mock upstream seeing turn 1\'s connection close. Turn 1 must still end with [DONE], turn 2 must succeed.',
        `- ${settings.cancelRuns} runs of each, one at a time, kinds interleaved, after ${CANCEL_WARMUP} warm-up runs each. The two ends are timestamped in different processes with performance.timeOrigin + performance.now(); a clock probe over IPC finds the upstream process's clock ${clockCheck.offsetMs >= 0 ? '+' : ''}${clockCheck.offsetMs.toFixed(3)} ms off this one's (± ${(clockCheck.roundTripMs / 2).toFixed(3)} ms), not corrected for.`,
        '',
        cancelTable(cancelReports),
      );
      if (errorCount > 0) lines.push('', `**${errorCount} error(s)**, e.g.:`, ...errorSamples.map((e) => `- ${e}`));
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  } finally {
    upstreamReports?.dispose();
    await dispatcher.close().catch(() => undefined);
    await cancelDispatcher.destroy().catch(() => undefined);
    // Front to back: relay + gateway before the upstream they hold connections to.
    for (const server of servers.reverse()) await stopServers(server);
  }
  return errorCount > 0 ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`relay-bench failed: ${err instanceof BenchError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
