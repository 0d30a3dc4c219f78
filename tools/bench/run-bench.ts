/**
 * One bench run, start to finish: starts the servers (or points at an external one), checks that
 * every path relays the answer intact, then for each concurrency of the sweep measures memory per
 * open stream, warms up, and measures TTFT, throughput and CPU with the paths interleaved in
 * segments (so that drift — other load on the machine — hits all of them alike); then the
 * cancellation latency; then prints the report. Measured streams are tagged, and after each segment
 * the mock upstream hands over its stamps of them: the phase timings (tools/bench/phases.ts).
 *
 * This process is only the load generator. The servers run in child processes
 * (tools/bench/server-child.ts), so the client's CPU use never shares an event loop with what it
 * measures.
 */

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CANCEL_WARMUP, measureCancellation, type CancelReport } from './cancel-latency.ts';
import { BENCH_KEY, BENCH_MODEL, type CpuSample } from './ipc.ts';
import { createClientAgent } from './http-client.ts';
import { PATH_LABELS, runBatch, verifyPath, type PathName, type Target } from './load.ts';
import { measureMemoryPerStream } from './memory-hold.ts';
import { Progress } from './progress.ts';
import {
  cancelTable,
  clientCpuLine,
  machine,
  phaseTable,
  replicaLines,
  resultsTable,
  summariseCells,
  targetsTable,
  verdictLines,
  verdicts,
  type Cell,
} from './bench-report.ts';
import { gatewayOverRelay, matchStamps, summarisePhases, type PhaseCell } from './phases.ts';
import { judgeTargets } from './targets.ts';
import { ServerProcess } from './server-processes.ts';
import { assertSharedStateUp, deleteBenchKeys } from './shared-state.ts';
import { formatDuration } from './stats.ts';
import { cellStreams, MAX_CELL_STREAMS, ROUNDS_PER_CELL, warmupStreams, WARMUP_ROUNDS, type Settings } from './settings.ts';

/** Concurrency-1 segments hold this many streams; higher concurrencies `ROUNDS_PER_SEGMENT × c`. */
const C1_SEGMENT = 25;
const ROUNDS_PER_SEGMENT = 5;
/** Memory per open stream is measured with c streams held open, but never fewer than this (noise). */
const MIN_HELD_STREAMS = 64;
const heldStreams = (c: number): number => Math.max(c, MIN_HELD_STREAMS);
/** Before the memory measurements, each path serves this many streams at this concurrency, untimed. */
const MEMORY_WARMUP_STREAMS = 200;
const MEMORY_WARMUP_CONCURRENCY = 16;
/** Error messages kept for the report. */
const MAX_ERROR_SAMPLES = 10;

/** The paths to measure and the processes behind them. */
interface Setup {
  targets: Target[];
  /** The process serving each path (built-in mode). */
  serverOf: Map<PathName, ServerProcess>;
  /** The process running the mock upstream (built-in mode). */
  upstream: ServerProcess | undefined;
  /** The answer every path must relay (built-in mode). */
  expectedText: string | undefined;
  /** One markdown bullet saying what runs where. */
  processes: string;
  pids: Record<string, number>;
}

async function startBuiltIn(settings: Settings, servers: ServerProcess[]): Promise<Setup> {
  const { mock } = settings;
  const mockArgs = [
    '--first-token-ms',
    String(mock.firstTokenMs),
    '--chunks',
    String(mock.chunks),
    '--chunk-chars',
    String(mock.chunkChars),
    '--interval-ms',
    String(mock.intervalMs),
  ];
  const start = async (role: Parameters<typeof ServerProcess.start>[0], args: string[]): Promise<ServerProcess> => {
    const server = await ServerProcess.start(role, args, settings.profileServers);
    servers.push(server);
    return server;
  };
  let upstream: ServerProcess;
  let relay: ServerProcess;
  let gateway: ServerProcess;
  let processes: string;
  let pids: Record<string, number>;
  if (settings.layout === 'shared') {
    upstream = relay = gateway = await start('all', mockArgs);
    processes = `load generator (node:http): this process, pid ${process.pid}; mock upstream, pipe relay and gateway: one child process, pid ${upstream.pid}`;
    pids = { loadGenerator: process.pid, servers: upstream.pid };
  } else {
    upstream = await start('upstream', mockArgs);
    const upstreamUrl = upstream.ready.upstreamUrl!;
    // Both started before either failure is thrown, so that the caller stops every process that did start.
    const started = await Promise.allSettled([
      start('pipe-relay', ['--upstream', upstreamUrl]),
      start('gateway', ['--upstream', upstreamUrl]),
    ]);
    for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
    [relay, gateway] = started.map((outcome) => (outcome as PromiseFulfilledResult<ServerProcess>).value) as [ServerProcess, ServerProcess];
    processes =
      `load generator (node:http): this process, pid ${process.pid}; mock upstream: pid ${upstream.pid}; ` +
      `pipe relay: pid ${relay.pid}; gateway: pid ${gateway.pid} (one child process each)`;
    pids = { loadGenerator: process.pid, upstream: upstream.pid, pipeRelay: relay.pid, gateway: gateway.pid };
  }
  const common = { apiKey: BENCH_KEY, model: BENCH_MODEL, extendData: true, prompt: 'hi' };
  const targets: Target[] = [
    { path: 'direct', url: upstream.ready.upstreamUrl!, ...common },
    { path: 'pipe-relay', url: relay.ready.relayUrl!, ...common },
    { path: 'gateway', url: gateway.ready.gatewayUrl!, ...common },
  ];
  const serverOf = new Map<PathName, ServerProcess>([
    ['direct', upstream],
    ['pipe-relay', relay],
    ['gateway', gateway],
  ]);
  if (settings.redisUrl !== undefined) {
    // One gateway on Redis state, and the replicas beside it: one process each, one key prefix.
    const shared = ['--upstream', upstream.ready.upstreamUrl!, '--redis', settings.redisUrl, '--key-prefix', settings.redisKeyPrefix];
    const onRedis = await Promise.all(
      Array.from({ length: settings.replicas > 1 ? settings.replicas + 1 : 1 }, () => start('gateway', shared)),
    );
    for (const server of onRedis) await assertSharedStateUp(server.ready.gatewayUrl!);
    const [single, ...replicas] = onRedis as [ServerProcess, ...ServerProcess[]];
    targets.push({ path: 'gateway-redis', url: single.ready.gatewayUrl!, ...common });
    serverOf.set('gateway-redis', single);
    processes += `; gateway on Redis state: pid ${single.pid}`;
    pids.gatewayRedis = single.pid;
    if (replicas.length > 0) {
      const urls = replicas.map((r) => r.ready.gatewayUrl!);
      // CPU and memory are per process: not reported for the replicas together.
      targets.push({ path: 'replicas', url: urls[0]!, urls, ...common });
      processes += `; ${replicas.length} replicas on Redis state: pids ${replicas.map((r) => r.pid).join(', ')} (streams sent round-robin by this process)`;
      replicas.forEach((r, i) => (pids[`replica${i + 1}`] = r.pid));
    }
  }
  return {
    targets,
    serverOf,
    upstream,
    expectedText: upstream.ready.text!,
    processes,
    pids,
  };
}

function externalSetup(settings: Settings): Setup {
  const external = settings.external!;
  const targets: Target[] = [];
  if (external.upstreamUrl !== undefined) {
    targets.push({
      path: 'direct',
      url: external.upstreamUrl,
      apiKey: external.upstreamKey,
      model: external.upstreamModel!,
      extendData: false,
      prompt: external.prompt,
    });
  }
  targets.push({
    path: 'gateway',
    url: external.gatewayUrl,
    apiKey: external.apiKey,
    model: external.model,
    extendData: true,
    prompt: external.prompt,
  });
  return {
    targets,
    serverOf: new Map(),
    upstream: undefined,
    expectedText: undefined,
    processes: `load generator (node:http): this process, pid ${process.pid}; the servers measured run elsewhere`,
    pids: { loadGenerator: process.pid },
  };
}

/** The soft limit on open files of this process (Linux), if known. */
function openFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!match) return undefined;
    return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
  } catch {
    return undefined;
  }
}

const addCpu = (into: CpuSample | null, before: CpuSample, after: CpuSample): CpuSample => ({
  user: (into?.user ?? 0) + after.user - before.user,
  system: (into?.system ?? 0) + after.system - before.system,
});

export async function runBenchmark(settings: Settings): Promise<number> {
  const started = performance.now();
  const info = machine();
  const builtIn = settings.mode === 'built-in';
  const maxConcurrency = Math.max(...settings.concurrency);
  const servers: ServerProcess[] = [];
  const agent = createClientAgent(maxConcurrency);
  // Cancellation runs destroy connections: they get a pool of their own.
  const cancelAgent = createClientAgent(4);
  let progress: Progress | undefined;
  let errorCount = 0;
  const errorSamples: string[] = [];
  const note = (line: string): void => {
    if (progress) progress.log(line);
    else process.stderr.write(`${line}\n`);
  };
  const onError = (err: unknown): void => {
    errorCount++;
    const message = err instanceof Error ? err.message : String(err);
    if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(message);
    if (errorCount <= 3) note(`error: ${message}`);
  };

  try {
    const setup = builtIn ? await startBuiltIn(settings, servers) : externalSetup(settings);
    const { targets } = setup;

    const limit = openFileLimit();
    const socketsNeeded = (builtIn ? 5 : 3) * maxConcurrency + 64;
    if (limit !== undefined && limit < socketsNeeded) {
      note(
        `warning: the open-file limit (${limit}) is below the ~${socketsNeeded} sockets concurrency ${maxConcurrency} needs here; raise it (ulimit -n ${socketsNeeded}) or lower --concurrency`,
      );
    }

    // Work estimates (ms) for the progress bar.
    const streamMs = builtIn ? settings.mock.firstTokenMs + (settings.mock.chunks - 1) * settings.mock.intervalMs + 2 : 1000;
    const weight = (c: number): number => Math.max(streamMs / c, 1);
    const holdWeight = (c: number): number => heldStreams(c) + streamMs + 300;
    const cancelWeight = 3 * (2 * settings.mock.firstTokenMs + 15);
    let total = targets.length * streamMs;
    for (const c of settings.concurrency) {
      total += targets.length * (warmupStreams(settings, c) + cellStreams(settings, c)) * weight(c);
      if (builtIn) total += targets.length * holdWeight(c);
    }
    if (builtIn) total += targets.length * (MEMORY_WARMUP_STREAMS * weight(MEMORY_WARMUP_CONCURRENCY) + holdWeight(1));
    if (builtIn) total += (CANCEL_WARMUP + settings.cancelRuns) * cancelWeight;
    progress = new Progress(process.stderr, total);

    const header = headerLines(settings, setup, info);
    if (!settings.json) process.stdout.write(`${header.join('\n')}\n`);

    progress.phase(builtIn ? 'checking that every path relays the answer intact' : 'checking that every path streams an answer');
    for (const target of targets) {
      await verifyPath(target, agent, setup.expectedText);
      progress.advance(streamMs);
    }

    const cells = new Map<string, Cell>();
    const cellOf = (path: PathName, c: number): Cell => cells.get(`${path}/${c}`)!;
    // Phases need the mock's stamps: built-in mode only.
    const phaseCells = new Map<string, PhaseCell>();
    for (const c of settings.concurrency) {
      for (const target of targets) {
        cells.set(`${target.path}/${c}`, {
          path: target.path,
          concurrency: c,
          samples: [],
          errors: 0,
          wallMs: 0,
          serverCpu: null,
          upstreamCpu: null,
          clientCpu: { user: 0, system: 0 },
          memory: null,
        });
        if (setup.upstream) phaseCells.set(`${target.path}/${c}`, { path: target.path, concurrency: c, samples: [], unmatched: 0 });
      }
    }

    if (builtIn) {
      // Memory first, while the processes have served little: warm them up (code compiled, pools and
      // caches created), then hold streams open, smallest holds first.
      // Memory is per process: measured for the paths one process serves.
      const measurable = targets.filter((target) => setup.serverOf.has(target.path));
      for (const target of measurable) {
        progress.phase(`warming up ${PATH_LABELS[target.path]} before the memory measurements`);
        const advance = () => progress!.advance(weight(MEMORY_WARMUP_CONCURRENCY));
        await runBatch(target, agent, MEMORY_WARMUP_CONCURRENCY, MEMORY_WARMUP_STREAMS, onError, advance, true);
        const server = setup.serverOf.get(target.path)!;
        await measureMemoryPerStream({ target, server, upstream: setup.upstream!, streams: MIN_HELD_STREAMS, onError });
        progress.advance(holdWeight(1));
      }
      for (const c of [...settings.concurrency].sort((a, b) => a - b)) {
        for (const target of measurable) {
          progress.phase(`c=${c}: memory of ${PATH_LABELS[target.path]} with ${heldStreams(c)} open streams`);
          cellOf(target.path, c).memory = await measureMemoryPerStream({
            target,
            server: setup.serverOf.get(target.path)!,
            upstream: setup.upstream!,
            streams: heldStreams(c),
            onError,
          });
          progress.advance(holdWeight(c));
        }
      }
    }

    for (const c of settings.concurrency) {
      const warmup = warmupStreams(settings, c);
      for (const target of targets) {
        progress.phase(`c=${c}: warm-up of ${PATH_LABELS[target.path]} (${warmup} streams)`);
        await runBatch(target, agent, c, warmup, onError, () => progress!.advance(weight(c)), true);
      }

      const count = cellStreams(settings, c);
      const segmentSize = c === 1 ? C1_SEGMENT : c * ROUNDS_PER_SEGMENT;
      const segments = Math.max(1, Math.ceil(count / segmentSize));
      let remaining = count;
      progress.phase(`c=${c}: measuring ${count} streams per path, paths interleaved in ${segments} segment(s)`);
      for (let segment = 0; segment < segments; segment++) {
        const size = Math.ceil(remaining / (segments - segment));
        remaining -= size;
        // Rotate the order so that no path always runs right after another.
        for (let k = 0; k < targets.length; k++) {
          const target = targets[(segment + k) % targets.length]!;
          const cell = cellOf(target.path, c);
          const server = setup.serverOf.get(target.path);
          const upstream = setup.upstream !== server ? setup.upstream : undefined;
          const before = await Promise.all([server?.usage(), upstream?.usage()]);
          const clientBefore = process.cpuUsage();
          const result = await runBatch(target, agent, c, size, onError, () => progress!.advance(weight(c)), false, true);
          const clientAfter = process.cpuUsage();
          const after = await Promise.all([server?.usage(), upstream?.usage()]);
          // After the CPU samples: handing the stamps over is not the segment's work.
          const phaseCell = phaseCells.get(`${target.path}/${c}`);
          if (phaseCell && setup.upstream) {
            const matched = matchStamps(result.stamps, await setup.upstream.phaseStamps());
            phaseCell.samples.push(...matched.samples);
            phaseCell.unmatched += matched.unmatched;
          }
          cell.samples.push(...result.samples);
          cell.errors += result.errors;
          cell.wallMs += result.wallMs;
          cell.clientCpu = addCpu(cell.clientCpu, clientBefore, clientAfter);
          if (before[0] && after[0]) cell.serverCpu = addCpu(cell.serverCpu, before[0].cpu, after[0].cpu);
          if (before[1] && after[1]) cell.upstreamCpu = addCpu(cell.upstreamCpu, before[1].cpu, after[1].cpu);
        }
      }
    }

    const ordered = settings.concurrency.flatMap((c) => targets.map((t) => cellOf(t.path, c)));
    const reports = summariseCells(ordered);
    const checks = verdicts(reports);
    const targetRows = judgeTargets(reports);
    const phases = summarisePhases(settings.concurrency.flatMap((c) => targets.flatMap((t) => phaseCells.get(`${t.path}/${c}`) ?? [])));

    let cancellation: { reports: CancelReport[]; clock: { offsetMs: number; roundTripMs: number } } | undefined;
    if (builtIn) {
      progress.phase(`cancellation latency: ${settings.cancelRuns} runs of each kind, one at a time`);
      const clock = await setup.upstream!.clockOffset();
      const byPath = (path: PathName) => targets.find((t) => t.path === path)!;
      const cancelReports = await measureCancellation({
        gateway: byPath('gateway'),
        pipeRelay: byPath('pipe-relay'),
        upstream: setup.upstream!,
        agent: cancelAgent,
        runs: settings.cancelRuns,
        onError,
        onRun: () => progress!.advance(cancelWeight / 3),
      });
      cancellation = { reports: cancelReports, clock };
    }
    const durationMs = performance.now() - started;

    if (settings.json) {
      const report = {
        tool: 'voice-llm-gateway bench',
        mode: settings.mode,
        node: info.node,
        platform: info.platform,
        cpu: info.cpu,
        cores: info.cores,
        machine: info,
        layout: builtIn ? settings.layout : null,
        processes: setup.pids,
        settings: {
          requests: settings.requests,
          concurrency: settings.concurrency,
          warmup: settings.warmup,
          state: settings.redisUrl === undefined ? 'memory' : 'redis',
          replicas: settings.replicas,
          redisKeyPrefix: settings.redisUrl === undefined ? null : settings.redisKeyPrefix,
          streamsPerPath: Object.fromEntries(settings.concurrency.map((c) => [c, cellStreams(settings, c)])),
          warmupPerPath: Object.fromEntries(settings.concurrency.map((c) => [c, warmupStreams(settings, c)])),
          cancelRuns: builtIn ? settings.cancelRuns : null,
        },
        upstream: builtIn
          ? { kind: 'built-in mock', ...settings.mock, answerChars: setup.expectedText!.length }
          : {
              kind: 'external',
              gatewayUrl: settings.external!.gatewayUrl,
              model: settings.external!.model,
              upstreamUrl: settings.external!.upstreamUrl ?? null,
              upstreamModel: settings.external!.upstreamModel ?? null,
            },
        results: reports,
        phases: { unit: 'µs', results: phases, gatewayOverRelay: gatewayOverRelay(phases) },
        targets: targetRows,
        verdicts: checks,
        cancellation: cancellation
          ? {
              runs: settings.cancelRuns,
              warmup: CANCEL_WARMUP,
              slowAnswer: setup.upstream!.ready.slowAnswer,
              clock: cancellation.clock,
              results: cancellation.reports,
            }
          : null,
        errors: errorCount,
        errorSamples,
        durationMs: Math.round(durationMs),
      };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const lines = ['## Results', '', resultsTable(reports), '', clientCpuLine(reports)];
      if (phases.length > 0) {
        lines.push(
          '',
          '## Phases (µs): what the pipe relay and the gateway add over direct',
          '',
          "- request → upstream: the client sent the request → the mock upstream received it; first content → client: the mock wrote its first content event → the client received the first bytes holding content. Both ends stamped with process.hrtime.bigint() (CLOCK_MONOTONIC) in their own processes, matched by a tag in the user message. Direct's raw figures (in parentheses) are subtracted from the other paths' at the same concurrency.",
          '',
          phaseTable(phases),
        );
      }
      lines.push('', '## Against the targets', '', targetsTable(targetRows));
      if (checks.length > 0) lines.push('', '## Shared state', '', ...verdictLines(checks));
      const replicas = replicaLines(reports, settings.replicas);
      if (replicas.length > 0) lines.push('', '## Replicas against one (both on Redis state)', '', ...replicas);
      if (cancellation) {
        const slow = setup.upstream!.ready.slowAnswer!;
        const { clock } = cancellation;
        lines.push(
          '',
          '## Cancellation latency',
          '',
          `- How long an upstream request lives on once nobody wants its answer. Upstream answer for these runs: ${slow.contentEvents} content events ${slow.eventIntervalMs} ms apart after ${slow.firstEventDelayMs} ms (≈ ${((slow.firstEventDelayMs + slow.contentEvents * slow.eventIntervalMs) / 1000).toFixed(1)} s), so only a cancellation ends it early.`,
          "- Client close: the client reads to the first content, then aborts (destroys its connection); measured from the abort to the mock upstream seeing that request's connection close.",
          "- Barge-in: the client reads turn 1 of a call to the first content, then sends turn 2 with the same extendData.instanceId; measured from sending turn 2 to the mock upstream seeing turn 1's connection close. Turn 1 must still end with [DONE], turn 2 must succeed.",
          `- ${settings.cancelRuns} runs of each, one at a time, kinds interleaved, after ${CANCEL_WARMUP} warm-up runs each. The two ends are timestamped in different processes with performance.timeOrigin + performance.now(); a clock probe over IPC finds the upstream process's clock ${clock.offsetMs >= 0 ? '+' : ''}${clock.offsetMs.toFixed(3)} ms off this one's (± ${(clock.roundTripMs / 2).toFixed(3)} ms), not corrected for.`,
          '',
          cancelTable(cancellation.reports),
        );
      }
      lines.push('', `Run time: ${formatDuration(durationMs)}; ${errorCount} error(s).`);
      if (errorCount > 0) lines.push('', `**${errorCount} error(s)**, e.g.:`, ...errorSamples.map((e) => `- ${e}`));
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  } finally {
    progress?.finish();
    agent.destroy();
    cancelAgent.destroy();
    // Front to back: the relays before the upstream they hold connections to.
    await Promise.all(servers.filter((s) => s.ready.role !== 'upstream').map((s) => s.stop()));
    await Promise.all(servers.filter((s) => s.ready.role === 'upstream').map((s) => s.stop()));
    if (settings.redisUrl !== undefined) await deleteBenchKeys(settings.redisUrl, settings.redisKeyPrefix).catch(() => undefined);
  }
  return errorCount > 0 ? 1 : 0;
}

function headerLines(settings: Settings, setup: Setup, info: ReturnType<typeof machine>): string[] {
  const builtIn = settings.mode === 'built-in';
  const counts = settings.concurrency.map((c) => `${cellStreams(settings, c)} at c=${c}`).join(', ');
  const lines = [
    '# voice-llm-gateway bench',
    '',
    `- Machine: ${info.cpu}, ${info.cores} core(s) available (${info.logicalCpus} logical CPUs), ${info.memoryGiB} GiB RAM; Node ${info.node} on ${info.platform}.`,
    `- Processes${builtIn ? ` (${settings.layout} layout)` : ''}: ${setup.processes}. HTTP/1.1 keep-alive${builtIn ? ', all on 127.0.0.1' : ''}.`,
  ];
  if (builtIn) {
    const { mock } = settings;
    const text = setup.expectedText!;
    lines.push(
      `- Gateway as users run it: ${setup.serverOf.get('gateway')?.ready.gatewaySetup ?? 'unknown'}; tracing off unless OTEL_* variables say otherwise.`,
      `- Mock upstream: ${mock.chunks} content events of ${mock.chunkChars} characters (${text.length} characters) after a simulated model TTFT of ${mock.firstTokenMs} ms, ${mock.intervalMs > 0 ? `${mock.intervalMs} ms apart` : 'all in one write'}; role chunk first; finish chunk, usage chunk, [DONE].`,
    );
  } else {
    const ext = settings.external!;
    lines.push(
      `- Measured: ${ext.gatewayUrl} (model ${ext.model})${ext.upstreamUrl ? `, against its upstream directly: ${ext.upstreamUrl} (model ${ext.upstreamModel})` : ' (no upstream given: its TTFT alone, no "added" figures)'}. Prompt: "${ext.prompt}".`,
      '- External mode: TTFT, throughput and errors only; CPU and memory of a server elsewhere are not visible from here, there is no pipe relay, and cancellation latency needs the built-in mock upstream.',
    );
  }
  lines.push(
    `- Load generator: node:http with a keep-alive Agent (sockets per origin = the highest concurrency), each response scanned chunk by chunk for the first content, no per-stream AbortSignal. TTFT: request sent → first received bytes with a non-empty "content" delta, same rule for every path. Throughput: all streams of a cell over its wall time; chunks = non-empty content events.`,
    `- Streams per path and concurrency c (exactly c in flight): ${settings.requests} at c=1; above, max(${settings.requests}, ${ROUNDS_PER_CELL} × c) capped at ${MAX_CELL_STREAMS} so the sweep stays within minutes — ${counts}. Paths interleaved in segments of ${C1_SEGMENT} streams (c=1) or ${ROUNDS_PER_SEGMENT} × c; each cell after an unmeasured warm-up of max(${settings.warmup}, ${WARMUP_ROUNDS} × c) streams per path.`,
  );
  if (builtIn) {
    lines.push(
      `- CPU/stream: user + system CPU time of the process serving the path (direct: the mock upstream's; pipe relay and gateway: their own process, the upstream's excluded${settings.layout === 'shared' ? ' — except in this shared layout, where it is the one process running all three' : ''}) over a cell's measured streams, from process.cpuUsage() deltas the process reports over IPC around each segment.`,
      `- Memory/open stream: measured first, before the TTFT cells: after ${MEMORY_WARMUP_STREAMS} untimed streams and one untimed hold per path, for each c (smallest first) max(c, ${MIN_HELD_STREAMS}) streams per path are opened and held (the mock sends half its answer, then waits); the serving process's heap (after a full GC) and RSS are sampled before and while they are held, and the growth is divided by the streams held. Heap is live growth; RSS is growth beyond what earlier, smaller holds left mapped (about 0 for a hold no bigger than an earlier one, understated below the largest) — read it at the highest concurrency.`,
      `- With ${info.cores} core(s) shared by the load generator and the servers, cells above a few dozen streams are CPU-bound: their TTFT is mostly queueing (≈ c ÷ streams/s), i.e. it mirrors each path's CPU cost per stream.`,
    );
  }
  lines.push('');
  return lines;
}
