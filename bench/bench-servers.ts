/**
 * The server side of `bench/relay-bench.ts`, run in child processes so that the load generator's
 * CPU use never shares an event loop with the servers it measures.
 *
 *   --role upstream   the mock upstream LLM (src/testing/mock-upstream.ts) with the bench scenario
 *   --role relays     a minimal node:http pipe relay and the real gateway, both in front of --upstream
 *   --role all        all three in one process
 *
 * Started with `child_process.fork`; reports `{ type: 'ready', ... }` over IPC, shuts everything
 * down on `{ type: 'stop' }` (or when the parent goes away) and then exits by itself.
 *
 * Cancellation runs: a request whose last message's content is `bench-cancel <id>` gets a slow
 * answer (280 content events CANCEL_EVENT_INTERVAL_MS apart, ≈ 5.6 s), and
 * when its connection closes before that answer is over, the upstream process sends
 * `{ type: 'upstream-closed', requestId: '<id>', at }` with `at = performance.timeOrigin +
 * performance.now()`, comparable across processes on one machine. The id rides in the message
 * text because that is what every path relays upstream (the gateway forwards no client header and
 * no extendData). `{ type: 'clock', id }` is answered at once with the same clock, so that the
 * parent can check that the two processes' clocks agree.
 *
 * Never writes to stdout (the bench may be printing JSON there).
 * Runs on import: `relay-bench.ts` imports types only from here.
 */

import { performance } from 'node:perf_hooks';
import { Agent as HttpAgent, createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { parseArgs } from 'node:util';
import type { RunningGateway } from '../src/gateway.ts';
import {
  startMockUpstream,
  textEvents,
  type MockScenario,
  type MockUpstream,
  type RecordedRequest,
} from '../src/testing/mock-upstream.ts';

export type ServerRole = 'upstream' | 'relays' | 'all';

/** The bearer key the gateway accepts (the mock and the relay ignore it). */
export const BENCH_KEY = 'bench-key';

/** Child → parent. */
export type ServerMessage =
  | {
      type: 'ready';
      role: ServerRole;
      pid: number;
      /** Base URLs ending in /v1 (POST `${url}/chat/completions`). */
      upstreamUrl?: string;
      relayUrl?: string;
      gatewayUrl?: string;
      /** The bearer key the gateway accepts. */
      apiKey?: string;
      /** The answer the mock upstream streams, and in how many non-empty content events. */
      text?: string;
      contentEvents?: number;
      /** Cancellation runs: the message text that selects the slow answer (followed by a request id). */
      cancelMarker?: string;
      /** The slow answer: this many content events, `eventIntervalMs` apart, after `firstEventDelayMs`. */
      cancelScenario?: { contentEvents: number; firstEventDelayMs: number; eventIntervalMs: number };
    }
  | { type: 'error'; message: string }
  /** A cancellation run's upstream connection closed before its answer was over (`at`: see the header). */
  | { type: 'upstream-closed'; requestId: string; at: number }
  /** The answer to a clock probe, `at` as in upstream-closed. */
  | { type: 'clock'; id: number; at: number };

/** Parent → child. */
export type ControlMessage = { type: 'stop' } | { type: 'clock'; id: number };

/**
 * A realistic short spoken answer: 160 characters, i.e. 40 content events of 4 characters.
 * Plain words and punctuation only, so speech shaping leaves it as it is.
 */
export const BENCH_TEXT =
  'Sure, I can help with that. Your appointment is confirmed for Tuesday at three in the afternoon, ' +
  'and we will send you a reminder the day before. Anything else?';

/** What a cancellation run's user message starts with. */
const CANCEL_MARKER = 'bench-cancel ';
/** The slow answer of cancellation runs: long enough (≈ 5.6 s) that only a cancellation ends it early. */
const CANCEL_EVENT_INTERVAL_MS = 20;
const CANCEL_TEXT = Array.from({ length: 7 }, () => BENCH_TEXT).join(' ');
/** A cancelled request whose close is not seen within this long is given up on (the parent times out first). */
const CANCEL_WATCH_MS = 30_000;

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
const clock = (): number => performance.timeOrigin + performance.now();

/** The request id of a cancellation run, from the content of the request's last message. */
function cancelRequestId(request: RecordedRequest): string | undefined {
  const body = request.body as { messages?: unknown } | null;
  const messages = typeof body === 'object' && body !== null ? body.messages : undefined;
  if (!Array.isArray(messages) || messages.length === 0) return undefined;
  const content = (messages[messages.length - 1] as { content?: unknown } | null)?.content;
  return typeof content === 'string' && content.startsWith(CANCEL_MARKER) ? content.slice(CANCEL_MARKER.length) : undefined;
}

interface Closable {
  close(): Promise<void>;
}

/** A minimal pass-through relay: the floor any relay pays. Nothing parsed, nothing rewritten. */
async function startPipeRelay(upstreamOrigin: string): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(upstreamOrigin);
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 1024, maxFreeSockets: 1024 });
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', (err) => res.destroy(err));
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
}

async function startBenchGateway(upstreamUrl: string): Promise<{ gateway: RunningGateway; dataDir: string }> {
  // Loaded here so that the upstream-only process carries none of the gateway's modules.
  const [{ gatewayConfigSchema }, { startGateway }, { createLogger }] = await Promise.all([
    import('../src/config/schema.ts'),
    import('../src/gateway.ts'),
    import('../src/telemetry/logger.ts'),
  ]);
  const dataDir = mkdtempSync(join(tmpdir(), 'vlg-bench-'));
  const config = gatewayConfigSchema.parse({
    server: { apiKeys: [BENCH_KEY], dataDir, logLevel: 'warn' },
    providers: { mock: { type: 'openai-compatible', baseUrl: upstreamUrl, apiKey: 'sk-bench-upstream' } },
    agents: { bench: { provider: 'mock', model: 'mock' } },
  });
  // Warnings and errors are counted by the bench through the stream checks; the log goes nowhere.
  const logger = createLogger({ level: 'warn', destination: { write() {} } });
  const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logger });
  return { gateway, dataDir };
}

function countContentEvents(events: MockScenario['events'] = []): number {
  return events.filter((e) => 'content' in e && typeof e.content === 'string' && e.content !== '').length;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', default: 'all' },
      upstream: { type: 'string' },
      'first-token-ms': { type: 'string', default: '20' },
      'interval-ms': { type: 'string', default: '0' },
    },
    strict: true,
  });
  const role = values.role as ServerRole;
  if (role !== 'upstream' && role !== 'relays' && role !== 'all') throw new Error(`unknown --role ${values.role}`);
  const send = (message: ServerMessage): void => {
    process.send?.(message);
  };

  const closables: Closable[] = [];
  const cleanups: Array<() => void> = [];
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // Front to back: the gateway and the relay first, then the upstream they talk to.
    for (const closable of closables.reverse()) {
      try {
        await closable.close();
      } catch {
        // shutting down regardless
      }
    }
    for (const cleanup of cleanups) cleanup();
    if (process.connected) process.disconnect?.();
  };
  process.on('message', (message: ControlMessage) => {
    if (message?.type === 'stop') void stop();
    else if (message?.type === 'clock') send({ type: 'clock', id: message.id, at: clock() });
  });
  process.on('disconnect', () => void stop());

  try {
    const ready: Extract<ServerMessage, { type: 'ready' }> = { type: 'ready', role, pid: process.pid };
    let upstreamUrl = values.upstream;
    if (role === 'upstream' || role === 'all') {
      const events = textEvents(BENCH_TEXT, { chunkSize: 4 });
      const firstEventDelayMs = Number(values['first-token-ms']);
      const scenario: MockScenario = { events, firstEventDelayMs, eventIntervalMs: Number(values['interval-ms']) };
      const cancelEvents = textEvents(CANCEL_TEXT, { chunkSize: 4 });
      const slow: MockScenario = { events: cancelEvents, firstEventDelayMs, eventIntervalMs: CANCEL_EVENT_INTERVAL_MS };
      let mock: MockUpstream | undefined;
      /** Reports when a cancellation run's connection closes early; silent if it never does. */
      const watch = (upstream: MockUpstream, request: RecordedRequest, requestId: string): void => {
        upstream.waitForAbort(upstream.requests.lastIndexOf(request), CANCEL_WATCH_MS).then(
          () => send({ type: 'upstream-closed', requestId, at: clock() }),
          () => undefined,
        );
      };
      mock = await startMockUpstream((request) => {
        const requestId = cancelRequestId(request);
        if (requestId === undefined) return scenario;
        if (mock) watch(mock, request, requestId);
        return slow;
      });
      closables.push(mock);
      upstreamUrl = mock.url;
      ready.upstreamUrl = mock.url;
      ready.text = BENCH_TEXT;
      ready.contentEvents = countContentEvents(events);
      ready.cancelMarker = CANCEL_MARKER;
      ready.cancelScenario = {
        contentEvents: countContentEvents(cancelEvents),
        firstEventDelayMs,
        eventIntervalMs: CANCEL_EVENT_INTERVAL_MS,
      };
    }
    if (role === 'relays' || role === 'all') {
      if (!upstreamUrl) throw new Error('--role relays needs --upstream <mock upstream /v1 URL>');
      const relay = await startPipeRelay(new URL(upstreamUrl).origin);
      closables.push(relay);
      ready.relayUrl = relay.url;
      const { gateway, dataDir } = await startBenchGateway(upstreamUrl);
      closables.push(gateway);
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      ready.gatewayUrl = `${gateway.url}/v1`;
      ready.apiKey = BENCH_KEY;
    }
    send(ready);
  } catch (err) {
    send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    await stop();
    process.exitCode = 1;
  }
}

await main();
