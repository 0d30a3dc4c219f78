/**
 * Memory per open stream: the serving process's memory (after a full GC) is sampled, `streams`
 * streams are opened through the path and held open (the mock upstream sends half its answer, then
 * nothing), the memory is sampled again (after a full GC) once every stream has shown content, and
 * the difference is divided by the streams held. Then all are closed, and the run waits until the
 * mock upstream holds none any more.
 *
 * Heap figures are exact live-object growth (both samples follow a full GC). RSS figures are the
 * growth of the resident set beyond what earlier, lower-concurrency cells already left mapped, so
 * they are noisy and understated at low counts; the figure at the highest concurrency is the one to
 * read. Everything a held stream needs is counted: its client connection, request state, the
 * upstream request and connection (unless an idle pooled one was reused), call state.
 */

import { performance } from 'node:perf_hooks';
import { HOLD_MARKER } from './ipc.ts';
import { createClientAgent } from './http-client.ts';
import { followTurn, RAMP_GROUP, turnBody, type Target } from './load.ts';
import type { ServerProcess } from './server-processes.ts';
import { BenchError } from './settings.ts';

export interface MemoryPerStream {
  /** Streams held open when the second sample was taken. */
  streams: number;
  /** Growth per held stream, in bytes. */
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
}

/** How long the mock may take to see all held streams close. */
const RELEASE_TIMEOUT_MS = 15_000;
const POLL_MS = 25;

export async function measureMemoryPerStream(options: {
  target: Target;
  /** The process serving the target (whose memory is measured). */
  server: ServerProcess;
  /** The process running the mock upstream. */
  upstream: ServerProcess;
  streams: number;
  onError: (err: unknown) => void;
}): Promise<MemoryPerStream | null> {
  const { target, server, upstream, streams } = options;
  const agent = createClientAgent(streams);
  const controller = new AbortController();
  const { signal } = controller;
  let result: MemoryPerStream | null = null;
  try {
    const before = await server.usage(true);
    // Opened in groups, each once the previous one shows content: see RAMP_GROUP.
    let held = 0;
    for (let from = 0; from < streams; from += RAMP_GROUP) {
      const opened = await Promise.allSettled(
        Array.from({ length: Math.min(RAMP_GROUP, streams - from) }, async () => {
          const stream = await followTurn(target, turnBody(target, HOLD_MARKER), agent, signal);
          await stream.firstContent;
        }),
      );
      for (const outcome of opened) {
        if (outcome.status === 'fulfilled') held++;
        else options.onError(outcome.reason);
      }
    }
    const during = await server.usage(true);
    if (held > 0) {
      const per = (key: keyof typeof before.memory): number => Math.round((during.memory[key] - before.memory[key]) / held);
      result = {
        streams: held,
        rssBytes: per('rss'),
        heapUsedBytes: per('heapUsed'),
        externalBytes: per('external'),
        arrayBuffersBytes: per('arrayBuffers'),
      };
    }
  } finally {
    controller.abort();
    agent.destroy();
  }
  await waitForRelease(upstream);
  return result;
}

/** Waits until the mock upstream holds no stream open any more. */
async function waitForRelease(upstream: ServerProcess): Promise<void> {
  const deadline = performance.now() + RELEASE_TIMEOUT_MS;
  for (;;) {
    const { openHolds } = await upstream.usage(false);
    if (openHolds === 0) return;
    if (performance.now() > deadline) {
      throw new BenchError(`${openHolds} held stream(s) still open at the mock upstream ${RELEASE_TIMEOUT_MS} ms after their clients left`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
