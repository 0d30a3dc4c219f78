/**
 * The load generator's side of the bench's server processes: forks tools/bench/server-child.ts,
 * waits for it to listen, and asks it over IPC for its CPU time and memory (usage probes), its clock
 * (clock probes), the mock upstream's stamps of tagged requests (phases probes) and the moment the mock upstream saw a cancelled request's connection close.
 */

import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { ControlMessage, CpuSample, MemorySample, ServerMessage, ServerRole, UpstreamStamp } from './ipc.ts';
import { ProcessLink } from './process-link.ts';
import { BenchError } from './settings.ts';
import { round3 } from './stats.ts';

const CHILD_SCRIPT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './server-child.ts' : './server-child.js', import.meta.url));
const PROBE_TIMEOUT_MS = 10_000;
/** How long a server may take to exit once asked to stop. */
const STOP_TIMEOUT_MS = 10_000;
/** Clock probes; the one with the shortest round trip counts. */
const CLOCK_PROBES = 20;

export type ReadyMessage = Extract<ServerMessage, { type: 'ready' }>;

export interface UsageSample {
  cpu: CpuSample;
  memory: MemorySample;
  openHolds: number;
}

/** Wall-clock ms with sub-ms precision, comparable with the `at` of another process on this machine. */
export const wallClock = (): number => performance.timeOrigin + performance.now();

export class ServerProcess {
  readonly #link: ProcessLink<ServerMessage, ReadyMessage>;
  /** Cancellation closes reported before anyone asked for them. */
  readonly #closed = new Map<string, number>();
  readonly #closeWaiters = new Map<string, (at: number) => void>();

  private constructor(link: ProcessLink<ServerMessage, ReadyMessage>) {
    this.#link = link;
    link.child.on('message', (message: ServerMessage) => {
      if (message.type !== 'upstream-closed') return;
      const waiter = this.#closeWaiters.get(message.requestId);
      if (waiter) waiter(message.at);
      else this.#closed.set(message.requestId, message.at);
    });
  }

  /** Forks a server process and waits until it listens. `profileDir`: write a CPU profile there. */
  static async start(role: ServerRole, args: string[], profileDir: string | undefined): Promise<ServerProcess> {
    const execArgv = ['--expose-gc'];
    if (profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${role}-\${pid}.cpuprofile`);
    const link = await ProcessLink.start<ServerMessage, ReadyMessage>({
      script: CHILD_SCRIPT,
      args: ['--role', role, ...args],
      execArgv,
      label: `bench server (${role})`,
      probeTimeoutMs: PROBE_TIMEOUT_MS,
      stopTimeoutMs: STOP_TIMEOUT_MS,
    });
    return new ServerProcess(link);
  }

  get ready(): ReadyMessage {
    return this.#link.ready;
  }

  get pid(): number {
    return this.ready.pid;
  }

  /** The process's CPU time so far and its memory now (after a full GC when `gc`). */
  async usage(gc = false): Promise<UsageSample> {
    const message = await this.#link.ask<Extract<ServerMessage, { type: 'usage' }>>(
      (id) => ({ type: 'usage', id, gc }) satisfies ControlMessage,
    );
    return { cpu: message.cpu, memory: message.memory, openHolds: message.openHolds ?? 0 };
  }

  /** The mock upstream's stamps of the tagged requests it answered since the last call (phases). */
  async phaseStamps(): Promise<UpstreamStamp[]> {
    const message = await this.#link.ask<Extract<ServerMessage, { type: 'phases' }>>(
      (id) => ({ type: 'phases', id }) satisfies ControlMessage,
    );
    return message.stamps;
  }

  /**
   * Its clock minus ours, from the probe with the shortest IPC round trip (good to ± half of it).
   * Near 0 when both processes read the same clock, as they should.
   */
  async clockOffset(): Promise<{ offsetMs: number; roundTripMs: number }> {
    let best = { offsetMs: Number.NaN, roundTripMs: Number.POSITIVE_INFINITY };
    for (let i = 0; i < CLOCK_PROBES; i++) {
      const sent = wallClock();
      const { at } = await this.#link.ask<Extract<ServerMessage, { type: 'clock' }>>(
        (id) => ({ type: 'clock', id }) satisfies ControlMessage,
      );
      const received = wallClock();
      if (received - sent < best.roundTripMs) best = { offsetMs: at - (sent + received) / 2, roundTripMs: received - sent };
    }
    return { offsetMs: round3(best.offsetMs), roundTripMs: round3(best.roundTripMs) };
  }

  /** When (its wall clock) the mock upstream saw cancellation request `requestId`'s connection close. */
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

  /** Asks the process to shut down and waits for it to exit (killed after STOP_TIMEOUT_MS). */
  stop(): Promise<void> {
    return this.#link.stop();
  }
}
