/**
 * Soak run: a bounded load of simulated phone calls against the real gateway, with faults
 * injected by the upstream, barge-ins and hang-ups, watching for anything a caller must never
 * get and for leaks in the gateway process.
 *
 *   npm run soak -- [--calls 200] [--minutes 10] [--fault-rate 0.1] [--disconnect-rate 0.1]
 *                   [--barge-in-rate 0.1] [--json]
 *
 * Processes (the machine's cores are shared; the load generator never shares an event loop with
 * what it measures):
 *   this process         the load generator (undici client): `--calls` simulated calls at once
 *   --child upstream     the mock upstream LLM (tools/testing/mock-upstream.ts). Per request: a normal
 *                        answer (about 45 events 5–20 ms apart after 20–150 ms) or, with probability
 *                        `--fault-rate`, one fault picked at random: HTTP 500, HTTP 429 (Retry-After
 *                        1), hang before headers, hang mid-stream, destroy mid-stream, a malformed
 *                        event, no [DONE]. Mid-stream faults strike after the role chunk or after
 *                        some words.
 *   --child gateway      the real gateway (with --expose-gc), agent `soak`: primary provider
 *                        `<mock>/v1`, fallback provider `<mock>` (a second URL on the same mock),
 *                        first token 1500 ms, idle 1000 ms, one retry, circuit breaker 5 failures /
 *                        2 s, apology on failure; logs at info (as in production) into a counter.
 * Both children are forks of this file (`--child`) on the bench's process link
 * (tools/bench/process-link.ts): they say `{ type: 'ready' }` over IPC, answer probes (`stats`,
 * `counts`, `explain`), and shut down on `{ type: 'stop' }` or when this process goes away. The
 * gateway is started as the bench starts it (tools/bench/bench-gateway.ts).
 *
 * Each simulated caller makes IMS-style turns (extendData.instanceId per call, sentenceId counting
 * up, history growing to 20 records, an answer the caller cut off sent back as what was heard plus
 * `<ims_agent_interrupted>`), 100–400 ms apart; after 10–40 turns it hangs up and a new call (new
 * instanceId) begins. The answer names its turn ("Reply for c17x2t5. ..."), so an answer that
 * reaches the wrong call or turn is caught. Per turn, the client may:
 *   - let it run: it must end with the full answer, the apology, or a clean cut (a prefix of the
 *     answer, a finish chunk, [DONE]);
 *   - barge in (`--barge-in-rate`), 0–700 ms after sending: the next turn goes out while this one
 *     runs; this one must still end well-formed with [DONE] (superseded);
 *   - hang up (`--disconnect-rate`): mostly mid-stream after 1–40 content events, sometimes 0–300 ms
 *     after sending (client-aborted).
 * Outcomes: full, apology, cut, superseded, client-aborted, and superseded-by-older: a newer turn
 * cancelled by an older request of the same call that reached the gateway late. The gateway orders
 * a call's turns by sentenceId, so this should not happen; if it does, it is counted and reported
 * with traces (it still ends cleanly).
 *
 * UNEXPECTED (any one fails the run): a non-200 status (5xx or other), a 200 that is not SSE, a
 * stream that breaks the rules of tools/check/stream-rules.ts or lacks [DONE], an event after
 * [DONE], an answer that is none of the above, a turn longer than 10 s, a socket error the client
 * did not cause, a child process that dies, a gateway log line at level error or above. Each
 * sample comes with a trace of its call: the client's view of each turn (sent, headers written,
 * response, end) and the gateway's turn log lines with when it accepted the connection and read
 * the request (the client names each turn in an `x-soak-turn` header, which the gateway ignores).
 *
 * Leaks: the gateway's memory (RSS, heap) and open TCP sockets (process.getActiveResourcesInfo(),
 * TCPSocketWrap) after the warm-up and at the end, each time with the client's connections closed,
 * after a short settle and a forced GC. Sockets at the end above the start count +
 * SOCKET_TOLERANCE fail the run; memory growth is reported, not judged. (The gateway child's own
 * diagnostics keep at most RECENT_TURN_LINES short lines, about 1 MB.) Also reported: CPU per
 * process, event-loop delay, TCP listen-queue overflows and SYN retransmits (Linux), TTFT.
 *
 * Progress lines go to stderr every 10 s; the summary goes to stdout (JSON with --json). Bounded:
 * no new turns after `--minutes`, turns in flight are cut at 10 s, both children are stopped (and
 * killed if they linger), and a hard deadline ends everything. Exit 1 on any UNEXPECTED result or
 * a socket leak. SOAK_GATEWAY_FLAGS adds Node flags to the gateway child (e.g. --cpu-prof).
 */

import { subscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createParser } from 'eventsource-parser';
import { Agent, request } from 'undici';
import { PHRASES } from '../../src/agent/language/phrases.ts';
import { checkStreamRules } from '../check/stream-rules.ts';
import type { MockEvent, MockScenario, RecordedRequest } from '../testing/mock-upstream.ts';
import { BENCH_TEXT } from '../bench/bench-upstream.ts';
import { ProcessLink, sendToParent, serveParent } from '../bench/process-link.ts';
import { BenchError } from '../bench/settings.ts';
import { percentile as nearestRank, round1 } from '../bench/stats.ts';

// ---------------------------------------------------------------------------------------------
// Shared by all three processes

const SELF = fileURLToPath(import.meta.url);
/** Turn log lines the gateway child keeps for explaining unexpected turns. */
const RECENT_TURN_LINES = 4000;
/** Lines kept per explained call (gateway side) and turns traced per call (client side). */
const TRACE_LINES = 12;
/** Wall-clock milliseconds, shortened: comparable between the processes of one run. */
const clockMs = (at = Date.now()): number => at % 10_000_000;
const SOAK_KEY = 'soak-key';
/** A child ends this long after it was asked to stop, whatever it still holds. */
const CHILD_EXIT_MS = 5000;
/** Names each turn (instanceId#sentenceId) for the gateway child's diagnostics; the gateway ignores it. */
const TURN_HEADER = 'x-soak-turn';
const AGENT = 'soak';

/** What the gateway says when every provider failed (the callers speak English). */
const APOLOGY: string = PHRASES.en.apology;
const INTERRUPTED = '<ims_agent_interrupted>';
/** How the user message names its turn; the mock answers "Reply for <tag>. ". */
const TAG_PATTERN = /^Turn ([A-Za-z0-9]+)\./;

/** The body of every answer (the bench's); each answer starts with "Reply for <tag>. " naming its turn. */
const answerFor = (tag: string): string => `Reply for ${tag}. ${BENCH_TEXT}`;

const FAULT_KINDS = [
  'http-500',
  'http-429',
  'hang-before-headers',
  'hang-mid-stream',
  'destroy-mid-stream',
  'malformed-event',
  'no-done',
] as const;
type FaultKind = (typeof FAULT_KINDS)[number];

/** The gateway's budgets: short, so that faults are survived by fallback or apology quickly. */
const PROVIDER_SETTINGS = {
  timeouts: { connectMs: 1000, firstTokenMs: 1500, idleMs: 1000, totalMs: 8000 },
  retry: { maxRetries: 1, backoffMs: 100 },
  circuitBreaker: { failureThreshold: 5, cooldownMs: 2000 },
};

interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

type LoopReset = 'none' | 'interval' | 'all';

/** Event-loop delay of this process (ms): since the last interval reset, and since the last full reset. */
function loopDelayMonitor(): { read(reset: LoopReset): { interval: LoopDelay; run: LoopDelay } } {
  const interval = monitorEventLoopDelay({ resolution: 10 });
  const run = monitorEventLoopDelay({ resolution: 10 });
  interval.enable();
  run.enable();
  const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
  const view = (h: typeof run): LoopDelay => ({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) });
  return {
    read(reset) {
      const delay = { interval: view(interval), run: view(run) };
      if (reset !== 'none') interval.reset();
      if (reset === 'all') run.reset();
      return delay;
    },
  };
}

interface UpstreamCounts {
  cpuMicros: number;
  requests: number;
  primary: number;
  fallback: number;
  warmup: number;
  normal: number;
  faults: Record<FaultKind, number>;
}

interface GatewayStats {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** TCPSocketWrap handles: client connections and upstream connections. */
  tcpSockets: number;
  /** Of those, connections accepted from clients. */
  inboundSockets: number;
  resources: Record<string, number>;
  /** Turn log lines by status (the gateway's own view). */
  turnStatuses: Record<string, number>;
  /** Log lines at warn or above by level and message. */
  logCounts: Record<string, number>;
  errorLogs: string[];
  gcForced: boolean;
  /** process.cpuUsage(), user + system, microseconds. */
  cpuMicros: number;
  /** Event-loop delay (ms) since the previous interval / full reset. */
  loopDelay: { interval: LoopDelay; run: LoopDelay };
  /** The gateway's turn log lines (compact) of the calls asked for with `explain`, by instanceId. */
  explained: Record<string, string[]>;
}

type ChildMessage =
  | { type: 'ready'; role: 'upstream' | 'gateway'; pid: number; url: string }
  | { type: 'error'; message: string }
  | { type: 'counts'; id: number; counts: UpstreamCounts }
  | { type: 'stats'; id: number; stats: GatewayStats };

type ParentMessage =
  | { type: 'stop' }
  | { type: 'counts'; id: number }
  | { type: 'stats'; id: number; gc: boolean; resetLoopDelay: LoopReset }
  | { type: 'explain'; instanceId: string };

const randInt = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const errorText = (err: unknown): string => (err instanceof Error ? (err.stack ?? err.message) : String(err));

// ---------------------------------------------------------------------------------------------
// --child upstream: the mock upstream with fault injection

function tagOf(request: RecordedRequest): string | undefined {
  const body = request.body as { messages?: unknown } | null;
  const messages = typeof body === 'object' && body !== null && Array.isArray(body.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as { role?: unknown; content?: unknown } | null;
    if (message?.role !== 'user') continue;
    return typeof message.content === 'string' ? TAG_PATTERN.exec(message.content)?.[1] : undefined;
  }
  return undefined;
}

async function upstreamChild(faultRate: number): Promise<void> {
  const { startMockUpstream, textEvents } = await import('../testing/mock-upstream.ts');
  const counts: UpstreamCounts = {
    cpuMicros: 0,
    requests: 0,
    primary: 0,
    fallback: 0,
    warmup: 0,
    normal: 0,
    faults: Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>,
  };
  // The upstream advertises a short keep-alive: the gateway drops idle upstream connections after
  // about a second (undici keeps `timeout` minus 2 s), so the socket count settles fast at the end.
  const keepAlive = { 'keep-alive': 'timeout=3' };
  const errorBody = (message: string, type: string) => JSON.stringify({ error: { message, type, param: null, code: null } });

  const scenarioFor = (request: RecordedRequest): MockScenario => {
    const tag = tagOf(request) ?? 'unknown';
    const events = textEvents(answerFor(tag), { chunkSize: 4, usage: true });
    if (tag.startsWith('w')) {
      // Warm-up: quick, never faulty, and the connection is closed after it (a clean socket baseline).
      counts.warmup++;
      return { events, eventIntervalMs: 1, headers: { connection: 'close' } };
    }
    counts.requests++;
    if (request.url.startsWith('/v1/')) counts.primary++;
    else counts.fallback++;
    const paced = { headers: keepAlive, firstEventDelayMs: randInt(20, 150), eventIntervalMs: randInt(5, 20) };
    if (Math.random() >= faultRate) {
      counts.normal++;
      return { events, ...paced };
    }
    const kind = pick(FAULT_KINDS);
    counts.faults[kind]++;
    // Mid-stream faults strike anywhere after the role chunk: right after it (before the first
    // word, so the gateway may still fall back) or after some words (the gateway must cut cleanly).
    const at = randInt(1, events.length - 2);
    switch (kind) {
      case 'http-500':
        return { status: 500, body: errorBody('mock upstream: injected internal error', 'server_error') };
      case 'http-429':
        return { status: 429, headers: { 'retry-after': '1' }, body: errorBody('mock upstream: injected rate limit', 'rate_limit_error') };
      case 'hang-before-headers':
        return { hangBeforeHeaders: true };
      case 'hang-mid-stream':
        return { events, ...paced, hangAfterEvents: at };
      case 'destroy-mid-stream':
        return { events, ...paced, destroyAfterEvents: at };
      case 'malformed-event': {
        const broken: MockEvent = { raw: 'data: {"id":"chatcmpl-broken","choices":[{"index":0,"delta":{"content":"oo\n\n' };
        return { events: [...events.slice(0, at), broken, ...events.slice(at)], ...paced };
      }
      case 'no-done':
        return { events, ...paced, omitDone: true };
    }
  };

  const mock = await startMockUpstream(scenarioFor);
  // The mock records every request; a soak makes hundreds of thousands.
  const trim = setInterval(() => mock.requests.splice(0), 1000);
  serveParent<ParentMessage>(
    (message) => {
      if (message.type !== 'counts') return;
      const cpu = process.cpuUsage();
      counts.cpuMicros = cpu.user + cpu.system;
      sendToParent({ type: 'counts', id: message.id, counts } satisfies ChildMessage);
    },
    async () => {
      clearInterval(trim);
      await mock.close();
    },
    CHILD_EXIT_MS,
  );
  sendToParent({ type: 'ready', role: 'upstream', pid: process.pid, url: mock.url } satisfies ChildMessage);
}

// ---------------------------------------------------------------------------------------------
// --child gateway: the real gateway with fallbacks and short budgets

async function gatewayChild(upstreamUrl: string): Promise<void> {
  const origin = new URL(upstreamUrl).origin;

  // The log is read, not printed: at info, as in production, one line per turn.
  const turnStatuses: Record<string, number> = {};
  const logCounts: Record<string, number> = {};
  const errorLogs: string[] = [];
  /** The last turn log lines (compact) by instanceId#sentenceId (bounded), for explaining unexpected turns. */
  const recent = new Map<string, { instanceId: string; line: string }>();
  /** When each turn's connection was accepted and its request headers parsed, by instanceId#sentenceId. */
  const arrivals = new Map<string, { connectedAt: number; headersAt: number }>();
  const explained = new Map<string, string[]>();
  const destination = {
    write(line: string): void {
      let entry: {
        level?: number;
        time?: number;
        msg?: string;
        status?: string;
        errorCode?: string;
        error?: string;
        instanceId?: string;
        sentenceId?: number;
        durationMs?: number;
        ttftMs?: number;
        charsOut?: number;
        attempts?: string;
      };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        logCounts['unparsable'] = (logCounts['unparsable'] ?? 0) + 1;
        return;
      }
      const level = entry.level ?? 0;
      if (entry.status !== undefined) {
        const status = entry.status === 'ok' || entry.errorCode === undefined ? entry.status : `${entry.status} (${entry.errorCode})`;
        turnStatuses[status] = (turnStatuses[status] ?? 0) + 1;
        const instanceId = entry.instanceId ?? '';
        const key = `${instanceId}#${entry.sentenceId}`;
        const end = entry.time ?? Date.now();
        const arrival = arrivals.get(key);
        arrivals.delete(key);
        const compact =
          `@${clockMs(end - (entry.durationMs ?? 0))} gateway #${entry.sentenceId} ${status}` +
          `${arrival === undefined ? '' : ` (connection accepted at ${clockMs(arrival.connectedAt)}, request headers at ${clockMs(arrival.headersAt)})`}, ended at ${clockMs(end)}` +
          `${entry.ttftMs === undefined ? '' : `, ttft ${entry.ttftMs} ms`}, ${entry.charsOut ?? 0} chars` +
          `${entry.attempts ? `, attempts ${entry.attempts}` : ''}${entry.error && entry.status !== 'ok' ? `: ${entry.error.slice(0, 160)}` : ''}`;
        const lines = explained.get(instanceId);
        if (lines !== undefined && lines.length < TRACE_LINES * 2) lines.push(compact);
        if (recent.has(key)) {
          logCounts['duplicate turn key'] = (logCounts['duplicate turn key'] ?? 0) + 1;
          if (errorLogs.length < 5) errorLogs.push(`duplicate: ${recent.get(key)!.line} / ${compact}`);
        }
        recent.set(key, { instanceId, line: compact });
        if (recent.size > RECENT_TURN_LINES) recent.delete(recent.keys().next().value!);
      }
      if (level >= 40) {
        const key = `${level >= 60 ? 'fatal' : level >= 50 ? 'error' : 'warn'}: ${entry.msg ?? ''}`;
        logCounts[key] = (logCounts[key] ?? 0) + 1;
      }
      if (level >= 50 && errorLogs.length < 5) errorLogs.push(line.trim().slice(0, 600));
    },
  };
  // Loaded only here, so that the upstream child carries none of the gateway's modules.
  const { startLocalGateway } = await import('../bench/bench-gateway.ts');
  const gateway = await startLocalGateway({
    apiKey: SOAK_KEY,
    providers: {
      primary: { type: 'openai-compatible', baseUrl: `${origin}/v1`, apiKey: 'sk-soak-primary', ...PROVIDER_SETTINGS },
      // The same mock under a second URL (POST /chat/completions instead of /v1/chat/completions).
      backup: { type: 'openai-compatible', baseUrl: origin, apiKey: 'sk-soak-backup', ...PROVIDER_SETTINGS },
    },
    agents: {
      [AGENT]: {
        provider: 'primary',
        model: 'soak-primary',
        fallbacks: [{ provider: 'backup', model: 'soak-backup' }],
        onFailure: { mode: 'apologize' },
        // Calls that hung up are forgotten soon (the registry sweeps once a minute).
        memory: { mode: 'window', idleMinutes: 0.5 },
      },
    },
    logLevel: 'info',
    log: destination,
    drainTimeoutMs: 1000,
  });
  let inboundSockets = 0;
  const acceptedAt = new WeakMap<Socket, number>();
  gateway.server.on('connection', (socket: Socket) => {
    inboundSockets++;
    acceptedAt.set(socket, Date.now());
    socket.once('close', () => inboundSockets--);
  });
  gateway.server.on('request', (request: IncomingMessage) => {
    const key = request.headers[TURN_HEADER];
    if (typeof key !== 'string') return;
    const headersAt = Date.now();
    arrivals.set(key, { connectedAt: acceptedAt.get(request.socket) ?? headersAt, headersAt });
    if (arrivals.size > RECENT_TURN_LINES) arrivals.delete(arrivals.keys().next().value!);
  });

  const loop = loopDelayMonitor();
  const stats = (forceGc: boolean, resetLoopDelay: LoopReset): GatewayStats => {
    const gc = globalThis.gc;
    if (forceGc && gc) {
      gc();
      gc();
    }
    const resources: Record<string, number> = {};
    for (const name of process.getActiveResourcesInfo()) resources[name] = (resources[name] ?? 0) + 1;
    const memory = process.memoryUsage();
    return {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      external: memory.external,
      tcpSockets: resources['TCPSocketWrap'] ?? 0,
      inboundSockets,
      resources,
      turnStatuses: { ...turnStatuses },
      logCounts: { ...logCounts },
      errorLogs: [...errorLogs],
      gcForced: forceGc && gc !== undefined,
      cpuMicros: process.cpuUsage().user + process.cpuUsage().system,
      loopDelay: loop.read(resetLoopDelay),
      explained: Object.fromEntries(explained),
    };
  };
  serveParent<ParentMessage>(
    (message) => {
      if (message.type === 'stats')
        sendToParent({ type: 'stats', id: message.id, stats: stats(message.gc, message.resetLoopDelay) } satisfies ChildMessage);
      else if (message.type === 'explain' && !explained.has(message.instanceId)) {
        const lines = [...recent.values()].filter((r) => r.instanceId === message.instanceId).map((r) => r.line);
        explained.set(message.instanceId, lines.slice(-TRACE_LINES));
      }
    },
    () => gateway.close(),
    CHILD_EXIT_MS,
  );
  sendToParent({ type: 'ready', role: 'gateway', pid: process.pid, url: gateway.url } satisfies ChildMessage);
}

async function childMain(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { child: { type: 'string' }, 'fault-rate': { type: 'string', default: '0.1' }, upstream: { type: 'string' } },
    strict: true,
  });
  try {
    if (values.child === 'upstream') await upstreamChild(Number(values['fault-rate']));
    else if (values.child === 'gateway') await gatewayChild(values.upstream ?? '');
    else throw new Error(`unknown --child ${values.child}`);
  } catch (err) {
    sendToParent({ type: 'error', message: errorText(err) } satisfies ChildMessage);
    process.exitCode = 1;
    if (process.connected) process.disconnect?.();
  }
}

// ---------------------------------------------------------------------------------------------
// The load generator (parent)

/** A turn running longer than this is an error (and is aborted). */
const TURN_TIMEOUT_MS = 10_000;
const PROGRESS_EVERY_MS = 10_000;
/** History records sent with a turn, the new user message included. */
const MAX_HISTORY = 20;
const CALL_TURNS = { min: 10, max: 40 };
/** The caller's pause between turns. */
const THINK_MS = { min: 100, max: 400 };
/** Barge-in: the next turn is sent this long after the previous one (if it still runs then). */
const BARGE_IN_AFTER_MS = { min: 0, max: 700 };
/** Disconnects: most after this many content events, the rest at a random time before the response. */
const DISCONNECT_AFTER_EVENTS = { min: 1, max: 40 };
const EARLY_DISCONNECT_SHARE = 0.2;
const EARLY_DISCONNECT_MS = { min: 0, max: 300 };
/** Sockets at the end may exceed the start count by this much before it counts as a leak. */
const SOCKET_TOLERANCE = 2;
/** Longest wait for the gateway's sockets to settle (idle upstream connections expire in ~1 s). */
const SETTLE_MS = 8000;
const MAX_SAMPLES = 10;

const OUTCOMES = ['full', 'apology', 'cut', 'superseded', 'superseded-by-older', 'client-aborted', 'unexpected'] as const;
type Outcome = (typeof OUTCOMES)[number];

const USER_LINES = [
  'Can you check my appointment?',
  'I would like to change the time.',
  'What are your opening hours?',
  'Is there parking nearby?',
  'Thanks, that helps.',
  'Could you repeat that please?',
];

interface Settings {
  calls: number;
  minutes: number;
  faultRate: number;
  disconnectRate: number;
  bargeInRate: number;
  json: boolean;
}

const USAGE =
  'usage: node tools/soak/soak.ts [--calls 200] [--minutes 10] [--fault-rate 0.1] [--disconnect-rate 0.1]\n' +
  '                          [--barge-in-rate 0.1] [--json]\n';

function parseSettings(): Settings | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        calls: { type: 'string', default: '200' },
        minutes: { type: 'string', default: '10' },
        'fault-rate': { type: 'string', default: '0.1' },
        'disconnect-rate': { type: 'string', default: '0.1' },
        'barge-in-rate': { type: 'string', default: '0.1' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    throw new BenchError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return undefined;
  }
  const number = (name: string, text: string, min: number, max: number, integer = false): number => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw new BenchError(`--${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got "${text}"`);
    }
    return value;
  };
  const minutes = number('minutes', values.minutes, 0, 24 * 60);
  if (minutes <= 0) throw new BenchError(`--minutes must be above 0, got "${values.minutes}"`);
  return {
    calls: number('calls', values.calls, 1, 10_000, true),
    minutes,
    faultRate: number('fault-rate', values['fault-rate'], 0, 1),
    disconnectRate: number('disconnect-rate', values['disconnect-rate'], 0, 1),
    bargeInRate: number('barge-in-rate', values['barge-in-rate'], 0, 1),
    json: values.json,
  };
}

type SoakChild = ProcessLink<ChildMessage, Extract<ChildMessage, { type: 'ready' }>>;

/** Forks this file as the `role` child (see the top) and waits for its ready message. */
function startChild(role: 'upstream' | 'gateway', args: string[], execArgv: string[]): Promise<SoakChild> {
  return ProcessLink.start({
    script: SELF,
    args: ['--child', role, ...args],
    execArgv,
    label: `the ${role} child`,
    readyTimeoutMs: 20_000,
    probeTimeoutMs: 5000,
    stopTimeoutMs: 8000,
  });
}

async function gatewayStats(gateway: SoakChild, gc: boolean, resetLoopDelay: LoopReset = 'none'): Promise<GatewayStats> {
  const answer = await gateway.ask<Extract<ChildMessage, { type: 'stats' }>>(
    (id) => ({ type: 'stats', id, gc, resetLoopDelay }) satisfies ParentMessage,
  );
  return answer.stats;
}

async function upstreamCounts(upstream: SoakChild): Promise<UpstreamCounts> {
  const answer = await upstream.ask<Extract<ChildMessage, { type: 'counts' }>>((id) => ({ type: 'counts', id }) satisfies ParentMessage);
  return answer.counts;
}

interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

interface Call {
  index: number;
  generation: number;
  instanceId: string;
  sentenceId: number;
  turnsLeft: number;
  history: ChatMessage[];
  /** Turns sent in the last TURN_TIMEOUT_MS that had no response yet when last looked at. */
  unanswered: Turn[];
  /** The last turns as the client saw them (compact, bounded). */
  trace: string[];
  /** An unexpected result happened on this call: keep more of its trace. */
  keepTrace?: boolean;
}

/** One turn in flight, as the client sees it. */
interface Turn {
  tag: string;
  /** The user message this turn sent. */
  user: ChatMessage;
  expected: string;
  started: number;
  /** Content received so far. */
  text: string;
  finished: boolean;
  /** The client hung up on it. */
  aborted: boolean;
  /** The next turn of the call was sent while this one ran. */
  superseded: boolean;
  /** Response headers arrived. */
  responded: boolean;
  /**
   * An earlier turn of the call (sent in the last TURN_TIMEOUT_MS) had no response yet when this one
   * was sent (a barge-in before the answer started, or a hang-up before it): that request may still
   * reach the gateway after this one.
   */
  previousUnanswered: boolean;
  done: Promise<void>;
  abort(): void;
}

class Tally {
  readonly outcomes: Record<Outcome, number> = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  turns = 0;
  inFlight = 0;
  /** Set when the run must end early (a child died). */
  stopped = false;
  bargeIns = 0;
  disconnects = { midStream: 0, beforeResponse: 0 };
  readonly ttft: number[] = [];
  readonly ttftFull: number[] = [];
  readonly unexpectedSamples: Array<{ text: string; call?: Call }> = [];
  unexpectedByKind: Record<string, number> = {};
  /** Asks the gateway child to keep its turn log lines of that call. */
  explain: (instanceId: string) => void = () => {};

  /** An unexpected result; with the call, its client-side and gateway-side traces go with the sample. */
  unexpected(kind: string, detail: string, call?: Call): void {
    this.unexpectedByKind[kind] = (this.unexpectedByKind[kind] ?? 0) + 1;
    if (this.unexpectedSamples.length >= MAX_SAMPLES) return;
    this.unexpectedSamples.push(call === undefined ? { text: `${kind}: ${detail}` } : { text: `${kind}: ${detail}`, call });
    if (call !== undefined) {
      call.keepTrace = true;
      this.explain(call.instanceId);
    }
  }

  /** Expected but worth a look (superseded-by-older): a few samples with traces. */
  readonly notableSamples: Array<{ text: string; call: Call }> = [];
  notable(kind: string, detail: string, call: Call): void {
    if (this.notableSamples.length >= 3) return;
    this.notableSamples.push({ text: `${kind}: ${detail}`, call });
    call.keepTrace = true;
    this.explain(call.instanceId);
  }

  get unexpectedCount(): number {
    return Object.values(this.unexpectedByKind).reduce((a, b) => a + b, 0);
  }
}

interface RunContext {
  url: string;
  dispatcher: Agent;
  tally: Tally;
  settings: Settings;
}

function newCall(index: number, generation: number): Call {
  return {
    index,
    generation,
    instanceId: `soak-call-${index}-${generation}-${process.pid}`,
    sentenceId: 0,
    turnsLeft: randInt(CALL_TURNS.min, CALL_TURNS.max),
    history: [],
    trace: [],
    unanswered: [],
  };
}

function turnBody(call: Call, user: ChatMessage, warm: boolean): string {
  const history = [...call.history, user].slice(-MAX_HISTORY);
  return JSON.stringify({
    model: AGENT,
    stream: true,
    messages: [{ role: 'system', content: 'You are the phone assistant of a dental practice. Keep answers short.' }, ...history],
    extendData: {
      instanceId: call.instanceId,
      channelId: `chan-${call.instanceId}`,
      sentenceId: call.sentenceId,
      callerNumber: `13800${String(call.index).padStart(6, '0')}`,
      calleeNumber: '4008001234',
      userData: JSON.stringify({ customerName: 'Soak Caller', call: call.index, warm }),
    },
  });
}

/** What the caller said and heard goes into the history, as the IMS workflow sends it back. */
function remember(call: Call, turn: Turn): void {
  call.history.push(turn.user);
  const heard = turn.text;
  if (turn.finished && !turn.aborted && !turn.superseded) {
    if (heard !== '') call.history.push({ role: 'assistant', content: heard });
  } else if (heard !== '') {
    call.history.push({ role: 'assistant', content: `${heard}${INTERRUPTED}` });
  }
  if (call.history.length > MAX_HISTORY - 1) call.history.splice(0, call.history.length - (MAX_HISTORY - 1));
}

/**
 * Sends one turn and reads its stream; settles `done` after recording the outcome (never rejects).
 * `disconnect`: hang up after that many content events, or `{ afterMs }` from sending.
 */
function startTurn(
  context: RunContext,
  call: Call,
  tag: string,
  warm: boolean,
  disconnect: { afterEvents: number } | { afterMs: number } | undefined,
): Turn {
  const { tally } = context;
  const controller = new AbortController();
  const turn: Turn = {
    tag,
    user: { role: 'user', content: `Turn ${tag}. ${pick(USER_LINES)}` },
    expected: answerFor(tag),
    started: performance.now(),
    text: '',
    finished: false,
    aborted: false,
    superseded: false,
    responded: false,
    previousUnanswered: false,
    done: Promise.resolve(),
    abort() {
      if (turn.finished || turn.aborted) return;
      turn.aborted = true;
      controller.abort(new Error('soak: the client hung up'));
    },
  };
  const now = performance.now();
  call.unanswered = call.unanswered.filter((earlier) => !earlier.responded && now - earlier.started < TURN_TIMEOUT_MS);
  turn.previousUnanswered = call.unanswered.length > 0;
  call.unanswered.push(turn);
  const body = turnBody(call, turn.user, warm);
  tally.inFlight++;
  const sentAt = Date.now();
  const sentenceId = call.sentenceId;
  turn.done = (async () => {
    let timedOut = false;
    const timer = setTimeout(() => {
      if (turn.finished) return;
      timedOut = true;
      controller.abort(new Error(`soak: the turn took longer than ${TURN_TIMEOUT_MS} ms`));
    }, TURN_TIMEOUT_MS);
    let early: NodeJS.Timeout | undefined;
    if (disconnect && 'afterMs' in disconnect) early = setTimeout(() => turn.abort(), disconnect.afterMs);
    const afterEvents = disconnect && 'afterEvents' in disconnect ? disconnect.afterEvents : Infinity;
    let outcome: Outcome | undefined;
    let respondedAt: number | undefined;
    let ttft: number | undefined;
    const events: unknown[] = [];
    let sawDone = false;
    const afterDone: string[] = [];
    const parseErrors: string[] = [];
    let contentEvents = 0;
    try {
      const response = await request(context.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${SOAK_KEY}`,
          [TURN_HEADER]: `${call.instanceId}#${sentenceId}`,
        },
        body,
        dispatcher: context.dispatcher,
        signal: controller.signal,
      });
      turn.responded = true;
      respondedAt = Date.now();
      const contentType = String(response.headers['content-type'] ?? '');
      if (response.statusCode !== 200) {
        const text = await response.body.text().catch(() => '');
        const kind = response.statusCode >= 500 ? `HTTP ${response.statusCode}` : `HTTP ${response.statusCode} (non-5xx)`;
        tally.unexpected(kind, `${tag}: ${text.slice(0, 300)}`, call);
        outcome = 'unexpected';
        return;
      }
      if (!contentType.startsWith('text/event-stream')) {
        const text = await response.body.text().catch(() => '');
        tally.unexpected('non-SSE 200', `${tag}: content-type ${contentType}: ${text.slice(0, 300)}`, call);
        outcome = 'unexpected';
        return;
      }
      const parser = createParser({
        onEvent(event) {
          if (sawDone) {
            afterDone.push(event.data.slice(0, 100));
            return;
          }
          if (event.data === '[DONE]') {
            sawDone = true;
            return;
          }
          let chunk: { choices?: Array<{ delta?: { content?: unknown } }> };
          try {
            chunk = JSON.parse(event.data) as typeof chunk;
          } catch {
            parseErrors.push(event.data.slice(0, 100));
            return;
          }
          events.push(chunk);
          const content = chunk.choices?.[0]?.delta?.content;
          if (typeof content === 'string' && content !== '') {
            if (ttft === undefined) ttft = performance.now() - turn.started;
            turn.text += content;
            if (++contentEvents >= afterEvents) turn.abort();
          }
        },
      });
      response.body.setEncoding('utf8');
      for await (const chunk of response.body) parser.feed(chunk as string);
      turn.finished = true;

      const violations = checkStreamRules(events, sawDone).map(
        (v) => `${v.rule}${v.eventIndex === undefined ? '' : `@${v.eventIndex}`}: ${v.message}`,
      );
      if (parseErrors.length > 0) violations.push(`unparsable event: ${parseErrors[0]}`);
      if (afterDone.length > 0) violations.push(`event after [DONE]: ${afterDone[0]}`);
      if (violations.length > 0) {
        tally.unexpected(sawDone ? 'stream rule violation' : 'stream without [DONE]', `${tag}: ${violations.slice(0, 3).join('; ')}`, call);
        outcome = 'unexpected';
        return;
      }
      const text = turn.text;
      const partial = turn.expected.startsWith(text) || APOLOGY.startsWith(text);
      if (turn.superseded) {
        if (partial) outcome = 'superseded';
      } else if (text === turn.expected) outcome = 'full';
      else if (text === APOLOGY) outcome = 'apology';
      else if (text !== '' && turn.expected.startsWith(text)) outcome = 'cut';
      // The previous turn's request reached the gateway after this one and superseded it: the
      // gateway orders a call's turns by arrival.
      else if (turn.previousUnanswered && partial) {
        outcome = 'superseded-by-older';
        tally.notable(outcome, `${tag}: ${JSON.stringify(text.slice(0, 80))}`, call);
      }
      if (outcome === undefined) {
        const how = `${turn.superseded ? ' (superseded)' : ''}${turn.previousUnanswered ? ' (sent while an earlier turn of the call had no response yet)' : ''}`;
        tally.unexpected(text === '' ? 'empty answer' : 'wrong answer', `${tag}${how}: ${JSON.stringify(text.slice(0, 200))}`, call);
        outcome = 'unexpected';
      }
    } catch (err) {
      if (timedOut) {
        tally.unexpected(
          'turn over 10 s',
          `${tag}: ${JSON.stringify(turn.text.slice(0, 80))} after ${Math.round(performance.now() - turn.started)} ms`,
          call,
        );
        outcome = 'unexpected';
      } else if (turn.aborted) {
        outcome = 'client-aborted';
        if (contentEvents > 0) tally.disconnects.midStream++;
        else tally.disconnects.beforeResponse++;
      } else {
        const code = (err as { code?: unknown }).code;
        tally.unexpected(
          'socket error',
          `${tag}: ${typeof code === 'string' ? `${code} ` : ''}${err instanceof Error ? err.message : String(err)}`,
          call,
        );
        outcome = 'unexpected';
      }
    } finally {
      turn.finished = true;
      tally.inFlight--;
      const written = headersWritten.get(`${call.instanceId}#${sentenceId}`);
      headersWritten.delete(`${call.instanceId}#${sentenceId}`);
      call.trace.push(
        `@${clockMs(sentAt)} client  #${sentenceId} sent` +
          `${written === undefined ? ' (headers never written)' : ` (headers written at ${clockMs(written.at)}${written.fresh ? ' on a new connection' : ''})`}, ` +
          `${respondedAt === undefined ? 'no response' : `response at ${clockMs(respondedAt)}`}, ` +
          `ended at ${clockMs()}: ${outcome ?? 'unexpected'}${turn.superseded ? ', barged in on by the client' : ''}${turn.aborted ? ', hung up on by the client' : ''}` +
          `${turn.previousUnanswered ? ', sent while an earlier turn had no response yet' : ''}, ${turn.text.length} chars`,
      );
      if (call.trace.length > (call.keepTrace ? TRACE_LINES * 4 : TRACE_LINES)) call.trace.shift();
      clearTimeout(timer);
      clearTimeout(early);
      if (!warm) {
        tally.turns++;
        tally.outcomes[outcome ?? 'unexpected']++;
        if (ttft !== undefined && outcome !== 'unexpected') {
          tally.ttft.push(ttft);
          if (outcome === 'full') tally.ttftFull.push(ttft);
        }
      } else if (outcome !== 'full') {
        tally.unexpected('warm-up', `${tag}: outcome ${outcome ?? 'none'}, ${JSON.stringify(turn.text.slice(0, 80))}`, call);
      }
    }
  })().catch((err: unknown) => {
    tally.unexpected('load generator bug', errorText(err));
  });
  return turn;
}

/** One simulated caller after another on the same line, until `deadline`. */
async function runCaller(context: RunContext, index: number, deadline: number): Promise<void> {
  const { settings, tally } = context;
  let call = newCall(index, 1);
  const superseded = new Set<Promise<void>>();
  while (performance.now() < deadline && !tally.stopped) {
    if (call.turnsLeft <= 0) call = newCall(index, call.generation + 1);
    call.turnsLeft--;
    call.sentenceId++;
    const tag = `c${index}x${call.generation}t${call.sentenceId}`;
    const roll = Math.random();
    const hangUp = roll < settings.disconnectRate;
    const bargeIn = !hangUp && roll < settings.disconnectRate + settings.bargeInRate;
    const disconnect = !hangUp
      ? undefined
      : Math.random() < EARLY_DISCONNECT_SHARE
        ? { afterMs: randInt(EARLY_DISCONNECT_MS.min, EARLY_DISCONNECT_MS.max) }
        : { afterEvents: randInt(DISCONNECT_AFTER_EVENTS.min, DISCONNECT_AFTER_EVENTS.max) };
    const turn = startTurn(context, call, tag, false, disconnect);
    if (bargeIn) {
      await Promise.race([turn.done, sleep(randInt(BARGE_IN_AFTER_MS.min, BARGE_IN_AFTER_MS.max))]);
      if (!turn.finished && performance.now() < deadline) {
        // The caller speaks over the answer: the next turn goes out now; this one must still end well.
        turn.superseded = true;
        tally.bargeIns++;
        superseded.add(turn.done);
        void turn.done.then(() => superseded.delete(turn.done));
        remember(call, turn);
        continue;
      }
    }
    await turn.done;
    remember(call, turn);
    await sleep(randInt(THINK_MS.min, THINK_MS.max));
  }
  await Promise.all(superseded);
}

/** A few quick turns per caller before measuring: JIT, pools, buffers. */
async function warmUp(context: RunContext, callers: number): Promise<void> {
  await Promise.all(
    Array.from({ length: callers }, async (_, index) => {
      const call = newCall(index, 0);
      for (let i = 0; i < 3; i++) {
        call.sentenceId++;
        const tag = `w${index}t${call.sentenceId}`;
        const turn = startTurn(context, call, tag, true, undefined);
        await turn.done;
        remember(call, turn);
      }
    }),
  );
}

/** Waits until the gateway's TCP sockets drop to `target` (or stop changing), then measures with GC. */
async function settledStats(gateway: SoakChild, target: number): Promise<{ stats: GatewayStats; waitedMs: number }> {
  const started = performance.now();
  let previous = -1;
  let stableFor = 0;
  for (;;) {
    const stats = await gatewayStats(gateway, false);
    const waited = performance.now() - started;
    if (stats.tcpSockets <= target || waited >= SETTLE_MS) break;
    stableFor = stats.tcpSockets === previous ? stableFor + 1 : 0;
    // Idle upstream connections expire about a second after their last use: give them 3 s unchanged.
    if (stableFor >= 12) break;
    previous = stats.tcpSockets;
    await sleep(250);
  }
  const stats = await gatewayStats(gateway, true);
  return { stats, waitedMs: Math.round(performance.now() - started) };
}

const cpuMicros = (): number => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};
/**
 * Linux only, machine-wide: TCP listen-queue overflows and SYN retransmits so far (/proc/net/netstat).
 * A connection dropped from a full accept queue is retried by the client a second later, which shows
 * up as a request that reaches the gateway about 1 s late.
 */
function tcpCounters(): { listenOverflows: number; synRetransmits: number } | null {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const at = lines.findIndex((line) => line.startsWith('TcpExt:'));
    const names = lines[at]?.split(/\s+/) ?? [];
    const values = lines[at + 1]?.split(/\s+/) ?? [];
    const value = (name: string): number => Number(values[names.indexOf(name)]);
    const counters = { listenOverflows: value('ListenOverflows'), synRetransmits: value('TCPSynRetrans') };
    return Number.isFinite(counters.listenOverflows) && Number.isFinite(counters.synRetransmits) ? counters : null;
  } catch {
    return null;
  }
}

/**
 * When the client wrote each turn's request headers (undici's diagnostics channel), and whether on a
 * connection it had not used before, by instanceId#sentenceId: for the traces.
 */
const TURN_HEADER_LINE = new RegExp(`${TURN_HEADER}: ([^\\r\\n]+)`, 'i');
const headersWritten = new Map<string, { at: number; fresh: boolean }>();
const usedSockets = new WeakSet<object>();
subscribe('undici:client:sendHeaders', (message) => {
  const { headers, socket } = message as { headers?: unknown; socket?: object };
  const key = typeof headers === 'string' ? TURN_HEADER_LINE.exec(headers)?.[1] : undefined;
  if (key === undefined) return;
  const fresh = socket !== undefined && !usedSockets.has(socket);
  if (socket !== undefined) usedSockets.add(socket);
  headersWritten.set(key, { at: Date.now(), fresh });
});

/** Orders trace lines by the time they start with ("@<ms> ..."). */
const byStart = (a: string, b: string): number => Number(/^@(\d+)/.exec(a)?.[1] ?? 0) - Number(/^@(\d+)/.exec(b)?.[1] ?? 0);
const mb = (bytes: number): number => Math.round((bytes / (1024 * 1024)) * 10) / 10;
/** The nearest-rank percentile in ms (one decimal); null without values. */
function percentile(values: number[], p: number): number | null {
  return values.length === 0
    ? null
    : round1(
        nearestRank(
          [...values].sort((a, b) => a - b),
          p,
        ),
      );
}

function memoryView(stats: GatewayStats) {
  return {
    rssMB: mb(stats.rss),
    heapUsedMB: mb(stats.heapUsed),
    heapTotalMB: mb(stats.heapTotal),
    externalMB: mb(stats.external),
    tcpSockets: stats.tcpSockets,
    inboundSockets: stats.inboundSockets,
    gcForced: stats.gcForced,
  };
}

async function main(): Promise<number> {
  const settings = parseSettings();
  if (settings === undefined) return 0;
  const log = (text: string): void => {
    process.stderr.write(`${text}\n`);
  };
  const tally = new Tally();
  const children: SoakChild[] = [];
  const runMs = settings.minutes * 60_000;
  // The hard bound: whatever hangs, nothing outlives this.
  const hardDeadline = setTimeout(
    () => {
      log(`soak: hard deadline reached; killing the children`);
      for (const child of children) child.kill();
      process.exit(3);
    },
    runMs + TURN_TIMEOUT_MS + 90_000,
  );
  hardDeadline.unref();

  let dispatcher: Agent | undefined;
  let progress: NodeJS.Timeout | undefined;
  try {
    const upstream = await startChild('upstream', ['--fault-rate', String(settings.faultRate)], []);
    children.push(upstream);
    // SOAK_GATEWAY_FLAGS: extra Node flags for the gateway child when investigating (e.g. --trace-gc, --cpu-prof).
    const gatewayFlags = (process.env.SOAK_GATEWAY_FLAGS ?? '').split(/\s+/).filter((flag) => flag !== '');
    const gateway = await startChild('gateway', ['--upstream', upstream.ready.url], ['--expose-gc', ...gatewayFlags]);
    children.push(gateway);
    let stopping = false;
    let childDied: string | undefined;
    for (const child of children) {
      child.child.once('exit', (code, signal) => {
        if (stopping) return;
        childDied = `the ${child.ready.role} child exited during the run (code ${String(code)}, signal ${String(signal)})`;
        tally.unexpected('child died', childDied);
        tally.stopped = true;
      });
    }
    tally.explain = (instanceId) => {
      if (gateway.child.connected) gateway.child.send({ type: 'explain', instanceId } satisfies ParentMessage);
    };
    const url = `${gateway.ready.url}/chat/completions`;
    log(
      `soak: ${settings.calls} calls for ${settings.minutes} min; fault rate ${settings.faultRate}, disconnect rate ${settings.disconnectRate}, ` +
        `barge-in rate ${settings.bargeInRate}; gateway pid ${gateway.ready.pid}, upstream pid ${upstream.ready.pid}, ${availableParallelism()} core(s)`,
    );

    // Warm-up on its own connections, closed afterwards: the start figures see no client socket.
    const warmCallers = Math.max(4, Math.min(settings.calls, 50));
    const warmDispatcher = new Agent({ connections: warmCallers + 4, keepAliveTimeout: 10_000 });
    await warmUp({ url, dispatcher: warmDispatcher, tally, settings }, warmCallers);
    await warmDispatcher.close();
    const start = await settledStats(gateway, 0);
    log(
      `soak: warm-up done (${warmCallers * 3} turns); gateway rss ${mb(start.stats.rss)} MB, heap ${mb(start.stats.heapUsed)} MB, ` +
        `${start.stats.tcpSockets} TCP socket(s)`,
    );

    dispatcher = new Agent({ connections: settings.calls * 2 + 16, keepAliveTimeout: 30_000 });
    const context: RunContext = { url, dispatcher, tally, settings };
    await gatewayStats(gateway, false, 'all');
    const tcpAtStart = tcpCounters();
    const selfLoop = loopDelayMonitor();
    const cpuAtStart = { gateway: start.stats.cpuMicros, upstream: (await upstreamCounts(upstream)).cpuMicros, self: cpuMicros() };
    const started = performance.now();
    const deadline = started + runMs;
    let peakRss = start.stats.rss;
    progress = setInterval(() => {
      void (async () => {
        const seconds = Math.round((performance.now() - started) / 1000);
        let gatewayPart = '';
        try {
          const stats = await gatewayStats(gateway, false, 'interval');
          peakRss = Math.max(peakRss, stats.rss);
          const lag = stats.loopDelay.interval;
          gatewayPart =
            ` | gateway rss ${mb(stats.rss)} MB heap ${mb(stats.heapUsed)} MB, ${stats.tcpSockets} TCP sockets (${stats.inboundSockets} in), ` +
            `event-loop delay p99 ${lag.p99} ms max ${lag.max} ms`;
        } catch (err) {
          gatewayPart = ` | gateway stats failed: ${err instanceof Error ? err.message : String(err)}`;
        }
        const outcomes = OUTCOMES.filter((o) => o !== 'unexpected')
          .map((o) => `${o} ${tally.outcomes[o]}`)
          .join(', ');
        log(
          `[${String(seconds).padStart(4)} s] turns ${tally.turns} (${outcomes}); unexpected ${tally.unexpectedCount}; ` +
            `${tally.inFlight} in flight${gatewayPart}`,
        );
      })();
    }, PROGRESS_EVERY_MS);

    await Promise.all(Array.from({ length: settings.calls }, (_, index) => runCaller(context, index, deadline)));
    const loadMs = performance.now() - started;
    clearInterval(progress);
    if (childDied !== undefined) {
      throw new BenchError(
        `${childDied}; ${tally.turns} turns, ${tally.unexpectedCount} unexpected, e.g.\n${tally.unexpectedSamples
          .slice(0, 5)
          .map((s) => `  ${s.text}`)
          .join('\n')}`,
      );
    }
    const atLoadEnd = await gatewayStats(gateway, false);
    const cpuAtEnd = { gateway: atLoadEnd.cpuMicros, upstream: (await upstreamCounts(upstream)).cpuMicros, self: cpuMicros() };
    const tcpAtEnd = tcpCounters();
    const tcp =
      tcpAtStart && tcpAtEnd
        ? {
            listenOverflows: tcpAtEnd.listenOverflows - tcpAtStart.listenOverflows,
            synRetransmits: tcpAtEnd.synRetransmits - tcpAtStart.synRetransmits,
          }
        : null;
    const loopDelays = { gateway: atLoadEnd.loopDelay.run, loadGenerator: selfLoop.read('none').run };
    const cpuPercent = (which: keyof typeof cpuAtEnd): number => Math.round(((cpuAtEnd[which] - cpuAtStart[which]) / 1000 / loadMs) * 100);
    log(`soak: load over after ${(loadMs / 1000).toFixed(1)} s; closing client connections and letting the gateway settle`);
    await dispatcher.close();
    dispatcher = undefined;

    const end = await settledStats(gateway, start.stats.tcpSockets);
    peakRss = Math.max(peakRss, end.stats.rss);
    const counts = await upstreamCounts(upstream);
    stopping = true;
    for (const child of [...children].reverse()) await child.stop();

    const leak = end.stats.tcpSockets > start.stats.tcpSockets + SOCKET_TOLERANCE;
    const gatewayErrors = Object.entries(end.stats.logCounts)
      .filter(([key]) => key.startsWith('error:') || key.startsWith('fatal:'))
      .reduce((sum, [, n]) => sum + n, 0);
    if (gatewayErrors > 0) {
      tally.unexpected('gateway error log', `${gatewayErrors} line(s), e.g. ${end.stats.errorLogs[0] ?? ''}`);
    }
    const faultsTotal = Object.values(counts.faults).reduce((a, b) => a + b, 0);
    const summary = {
      node: process.version,
      cores: availableParallelism(),
      settings: {
        calls: settings.calls,
        minutes: settings.minutes,
        faultRate: settings.faultRate,
        disconnectRate: settings.disconnectRate,
        bargeInRate: settings.bargeInRate,
      },
      durationSec: round1(loadMs / 1000),
      concurrency: settings.calls,
      turns: {
        total: tally.turns,
        perSecond: round1(tally.turns / (loadMs / 1000)),
        byOutcome: tally.outcomes,
        bargeIns: tally.bargeIns,
        disconnects: tally.disconnects.midStream + tally.disconnects.beforeResponse,
        disconnectsMidStream: tally.disconnects.midStream,
        disconnectsBeforeResponse: tally.disconnects.beforeResponse,
      },
      upstream: {
        requests: counts.requests,
        primary: counts.primary,
        fallback: counts.fallback,
        normal: counts.normal,
        faultsTotal,
        faults: counts.faults,
      },
      gatewayTurnStatuses: end.stats.turnStatuses,
      gatewayLog: end.stats.logCounts,
      unexpected: {
        count: tally.unexpectedCount,
        byKind: tally.unexpectedByKind,
        samples: tally.unexpectedSamples.map((sample) => ({
          error: sample.text,
          trace:
            sample.call === undefined ? [] : [...sample.call.trace, ...(end.stats.explained[sample.call.instanceId] ?? [])].sort(byStart),
        })),
      },
      notableSamples: tally.notableSamples.map((sample) => ({
        note: sample.text,
        trace: [...sample.call.trace, ...(end.stats.explained[sample.call.instanceId] ?? [])].sort(byStart),
      })),
      cpuPercentOfOneCore: { loadGenerator: cpuPercent('self'), gateway: cpuPercent('gateway'), upstream: cpuPercent('upstream') },
      eventLoopDelayMs: loopDelays,
      tcpDuringLoad: tcp,
      ttftMs: {
        all: { p50: percentile(tally.ttft, 50), p99: percentile(tally.ttft, 99), count: tally.ttft.length },
        fullAnswers: { p50: percentile(tally.ttftFull, 50), p99: percentile(tally.ttftFull, 99), count: tally.ttftFull.length },
      },
      gateway: {
        pid: gateway.ready.pid,
        start: memoryView(start.stats),
        end: memoryView(end.stats),
        growth: {
          rssMB: round1(mb(end.stats.rss) - mb(start.stats.rss)),
          heapUsedMB: round1(mb(end.stats.heapUsed) - mb(start.stats.heapUsed)),
        },
        peakRssMB: mb(peakRss),
        settleMs: { start: start.waitedMs, end: end.waitedMs },
        resourcesAtEnd: end.stats.resources,
      },
      sockets: { start: start.stats.tcpSockets, end: end.stats.tcpSockets, tolerance: SOCKET_TOLERANCE, leak },
      pass: tally.unexpectedCount === 0 && !leak,
    };

    if (settings.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stdout.write(`${textSummary(summary)}\n`);
    return summary.pass ? 0 : 1;
  } finally {
    clearInterval(progress);
    clearTimeout(hardDeadline);
    await dispatcher?.destroy().catch(() => undefined);
    for (const child of [...children].reverse()) {
      await child.stop().catch(() => child.kill());
    }
  }
}

type Summary = {
  node: string;
  cores: number;
  durationSec: number;
  concurrency: number;
  settings: Omit<Settings, 'json'>;
  turns: {
    total: number;
    perSecond: number;
    byOutcome: Record<Outcome, number>;
    bargeIns: number;
    disconnects: number;
    disconnectsMidStream: number;
    disconnectsBeforeResponse: number;
  };
  upstream: { requests: number; primary: number; fallback: number; normal: number; faultsTotal: number; faults: Record<FaultKind, number> };
  gatewayTurnStatuses: Record<string, number>;
  gatewayLog: Record<string, number>;
  unexpected: { count: number; byKind: Record<string, number>; samples: Array<{ error: string; trace: string[] }> };
  notableSamples: Array<{ note: string; trace: string[] }>;
  cpuPercentOfOneCore: { loadGenerator: number; gateway: number; upstream: number };
  eventLoopDelayMs: { gateway: LoopDelay; loadGenerator: LoopDelay };
  tcpDuringLoad: { listenOverflows: number; synRetransmits: number } | null;
  ttftMs: Record<'all' | 'fullAnswers', { p50: number | null; p99: number | null; count: number }>;
  gateway: {
    pid: number;
    start: ReturnType<typeof memoryView>;
    end: ReturnType<typeof memoryView>;
    growth: { rssMB: number; heapUsedMB: number };
    peakRssMB: number;
    settleMs: { start: number; end: number };
  };
  sockets: { start: number; end: number; tolerance: number; leak: boolean };
  pass: boolean;
};

function textSummary(s: Summary): string {
  const list = (record: Record<string, number>): string =>
    Object.entries(record)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const lines = [
    '# voice-llm-gateway soak',
    '',
    `- Node ${s.node}, ${s.cores} core(s); ${s.concurrency} concurrent calls for ${s.durationSec} s; fault rate ${s.settings.faultRate}, disconnect rate ${s.settings.disconnectRate}, barge-in rate ${s.settings.bargeInRate}`,
    `- Turns: ${s.turns.total} (${s.turns.perSecond}/s): ${list(s.turns.byOutcome)}`,
    ...(s.turns.byOutcome['superseded-by-older'] > 0
      ? [
          `- superseded-by-older: ${s.turns.byOutcome['superseded-by-older']} turn(s), sent while an earlier turn of the call had no response yet (barged in on or hung up on before its answer started), reached the gateway first and were then superseded by that older request: the newer turn ended cleanly but (nearly) empty, while the older one was answered or, if its client had left, dropped. The gateway orders a call's turns by arrival, not by sentenceId (traces: notableSamples in --json).`,
        ]
      : []),
    `- Barge-ins: ${s.turns.bargeIns}; client disconnects: ${s.turns.disconnects} (${s.turns.disconnectsMidStream} mid-stream, ${s.turns.disconnectsBeforeResponse} before the response)`,
    `- Upstream requests: ${s.upstream.requests} (primary ${s.upstream.primary}, fallback ${s.upstream.fallback}; normal ${s.upstream.normal})`,
    `- Faults injected: ${s.upstream.faultsTotal}: ${list(s.upstream.faults)}`,
    `- Gateway's turn log by status: ${list(s.gatewayTurnStatuses)}`,
    `- Gateway warnings/errors: ${list(s.gatewayLog)}`,
    `- TTFT (first content, client side): p50 ${s.ttftMs.all.p50} ms, p99 ${s.ttftMs.all.p99} ms over ${s.ttftMs.all.count} turns; full answers only: p50 ${s.ttftMs.fullAnswers.p50} ms, p99 ${s.ttftMs.fullAnswers.p99} ms`,
    `- CPU (% of one core, during the load): load generator ${s.cpuPercentOfOneCore.loadGenerator}%, gateway ${s.cpuPercentOfOneCore.gateway}%, mock upstream ${s.cpuPercentOfOneCore.upstream}%`,
    `- Event-loop delay during the load: gateway p50 ${s.eventLoopDelayMs.gateway.p50} ms, p99 ${s.eventLoopDelayMs.gateway.p99} ms, max ${s.eventLoopDelayMs.gateway.max} ms; load generator p99 ${s.eventLoopDelayMs.loadGenerator.p99} ms, max ${s.eventLoopDelayMs.loadGenerator.max} ms`,
    ...(s.tcpDuringLoad
      ? [
          `- TCP during the load (whole machine, /proc/net/netstat): ${s.tcpDuringLoad.listenOverflows} listen-queue overflow(s), ${s.tcpDuringLoad.synRetransmits} SYN retransmit(s)`,
        ]
      : []),
    `- Gateway memory (after forced GC): start rss ${s.gateway.start.rssMB} MB, heap ${s.gateway.start.heapUsedMB} MB; end rss ${s.gateway.end.rssMB} MB, heap ${s.gateway.end.heapUsedMB} MB; growth rss ${s.gateway.growth.rssMB} MB, heap ${s.gateway.growth.heapUsedMB} MB; peak rss seen ${s.gateway.peakRssMB} MB`,
    `- Gateway TCP sockets: start ${s.sockets.start}, end ${s.sockets.end} (tolerance +${s.sockets.tolerance}; settled in ${s.gateway.settleMs.start} / ${s.gateway.settleMs.end} ms)${s.sockets.leak ? ' — LEAK' : ''}`,
    `- Unexpected errors: ${s.unexpected.count}${s.unexpected.count > 0 ? ` (${list(s.unexpected.byKind)})` : ''}`,
    ...s.unexpected.samples.slice(0, 5).map((sample) => [`  - ${sample.error}`, ...sample.trace.map((line) => `      ${line}`)].join('\n')),
    '',
    s.pass ? 'PASS' : 'FAIL',
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

if (process.argv.includes('--child')) {
  await childMain(process.argv.slice(2));
} else {
  try {
    process.exitCode = await main();
  } catch (err) {
    process.stderr.write(`soak failed: ${err instanceof BenchError ? err.message : errorText(err)}\n`);
    process.exitCode = 1;
  }
  // Everything was closed; should a stray handle remain, the process still ends by itself.
  setTimeout(() => {
    process.stderr.write(`soak: still running 5 s after the end (${process.getActiveResourcesInfo().join(', ')}); exiting\n`);
    process.exit();
  }, 5000).unref();
}
