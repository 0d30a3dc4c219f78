/**
 * The server side of the bench, run in child processes (`child_process.fork`, with --expose-gc) so
 * that the load generator never shares an event loop with what it measures:
 *
 *   --role upstream    the built-in mock upstream LLM (tools/bench/bench-upstream.ts)
 *   --role pipe-relay  the pipe relay (tools/bench/pipe-relay.ts) in front of --upstream;
 *                      with --redis URL [--key-prefix P], on call state shared through Redis
 *   --role gateway     the real gateway (tools/bench/bench-gateway.ts) in front of --upstream;
 *                      with --redis URL [--key-prefix P], on call state shared through Redis
 *   --role all         the three in one process
 *
 * Reports `{ type: 'ready', ... }` over IPC once listening, answers clock and usage probes (CPU time
 * and memory of this process, after a full GC when asked) and phases probes (the mock's stamps of
 * tagged requests), forwards the mock's cancellation closes,
 * and shuts everything down on `{ type: 'stop' }` (or when the parent goes away), then exits by
 * itself. Never writes to stdout: the bench may be printing JSON there.
 */

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ControlMessage, ServerMessage, ServerRole } from './ipc.ts';
import type { BenchUpstream } from './bench-upstream.ts';
import { sendToParent as send, serveParent } from './process-link.ts';

interface Closable {
  close(): Promise<void>;
}

const ROLES: readonly ServerRole[] = ['upstream', 'pipe-relay', 'gateway', 'all'];

const gc = (globalThis as { gc?: () => void }).gc;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', default: 'all' },
      upstream: { type: 'string' },
      redis: { type: 'string' },
      'key-prefix': { type: 'string', default: 'vlg-bench:' },
      'first-token-ms': { type: 'string', default: '20' },
      chunks: { type: 'string', default: '40' },
      'chunk-chars': { type: 'string', default: '4' },
      'interval-ms': { type: 'string', default: '0' },
    },
    strict: true,
  });
  const role = values.role as ServerRole;

  const closables: Closable[] = [];
  let mock: BenchUpstream | undefined;
  // Front to back: the relays first, then the upstream they talk to.
  const closeAll = async (): Promise<void> => {
    for (const closable of closables.reverse()) {
      try {
        await closable.close();
      } catch {
        // shutting down regardless
      }
    }
  };
  const stop = serveParent<ControlMessage>((message) => {
    if (message.type === 'clock')
      send({ type: 'clock', id: message.id, at: performance.timeOrigin + performance.now() } satisfies ServerMessage);
    else if (message.type === 'usage') {
      if (message.gc) gc?.();
      const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
      const reply: ServerMessage = {
        type: 'usage',
        id: message.id,
        cpu: process.cpuUsage(),
        memory: { rss, heapUsed, external, arrayBuffers },
      };
      if (mock) reply.openHolds = mock.openHolds();
      send(reply);
    } else if (message.type === 'phases') {
      send({ type: 'phases', id: message.id, stamps: mock?.takeStamps() ?? [] } satisfies ServerMessage);
    }
  }, closeAll);

  try {
    if (!ROLES.includes(role)) throw new Error(`unknown --role ${values.role}`);
    const ready: Extract<ServerMessage, { type: 'ready' }> = { type: 'ready', role, pid: process.pid };
    let upstreamUrl = values.upstream;
    if (role === 'upstream' || role === 'all') {
      const { startBenchUpstream } = await import('./bench-upstream.ts');
      mock = await startBenchUpstream(
        {
          firstTokenMs: Number(values['first-token-ms']),
          chunks: Number(values.chunks),
          chunkChars: Number(values['chunk-chars']),
          intervalMs: Number(values['interval-ms']),
        },
        (requestId, at) => send({ type: 'upstream-closed', requestId, at } satisfies ServerMessage),
      );
      closables.push(mock);
      upstreamUrl = mock.url;
      ready.upstreamUrl = mock.url;
      ready.text = mock.text;
      ready.contentEvents = mock.contentEvents;
      ready.slowAnswer = mock.slowAnswer;
    }
    if (role !== 'upstream' && !upstreamUrl) throw new Error(`--role ${role} needs --upstream <base URL>`);
    if (role === 'pipe-relay' || role === 'all') {
      const { startPipeRelay } = await import('./pipe-relay.ts');
      const relay = await startPipeRelay(upstreamUrl!);
      closables.push(relay);
      ready.relayUrl = relay.url;
    }
    if (role === 'gateway' || role === 'all') {
      // Loaded only here, so that the other processes carry none of the gateway's modules.
      const { startBenchGateway } = await import('./bench-gateway.ts');
      const sharedState = values.redis === undefined ? undefined : { url: values.redis, keyPrefix: values['key-prefix'] };
      const gateway = await startBenchGateway(upstreamUrl!, sharedState);
      closables.push(gateway);
      ready.gatewayUrl = gateway.url;
      ready.gatewaySetup = gateway.setup;
    }
    send(ready satisfies ServerMessage);
  } catch (err) {
    send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies ServerMessage);
    await stop();
    process.exitCode = 1;
  }
}

await main();
