/**
 * The helper processes of a measuring run (the bench's servers, the soak's mock upstream and
 * gateway), forked so that the load generator never shares an event loop with what it measures.
 * Both ends of the `child_process.fork` IPC channel:
 *   - the parent forks the child, waits for its `{ type: 'ready' }`, asks it probes (an answer
 *     carries the probe's `id`) and stops it with `{ type: 'stop' }` (killed if it lingers);
 *   - the child (`serveParent`) answers, and shuts down on `stop` or when the parent goes away.
 * The child's stdout goes to the parent's stderr: the parent's stdout may be carrying a JSON report.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { BenchError } from './settings.ts';

/** What every child sends: a type, and for the answer to a probe the probe's id. */
export interface LinkMessage {
  type: string;
  id?: number;
}

export interface LinkOptions {
  /** The script to fork and its arguments. */
  script: string;
  args: string[];
  /** Node flags of the child (e.g. --expose-gc). */
  execArgv: string[];
  /** Names the child in errors, e.g. "bench server (gateway)". */
  label: string;
  /** Longest wait for the ready message (default: no limit). */
  readyTimeoutMs?: number;
  /** Longest wait for the answer to a probe. */
  probeTimeoutMs: number;
  /** How long `stop` waits for the child to exit before killing it. */
  stopTimeoutMs: number;
}

/** A forked child with its ready message: `Message` is everything it may send. */
export class ProcessLink<Message extends LinkMessage, Ready extends Message & { type: 'ready' }> {
  readonly child: ChildProcess;
  readonly ready: Ready;
  readonly #options: LinkOptions;
  #probes = 0;
  readonly #waiters = new Map<number, (message: Message) => void>();

  private constructor(child: ChildProcess, ready: Ready, options: LinkOptions) {
    this.child = child;
    this.ready = ready;
    this.#options = options;
    child.on('message', (message: Message) => {
      if (message.id !== undefined) this.#waiters.get(message.id)?.(message);
    });
  }

  /** Forks the child and waits for its ready message; rejects (the child killed) if another comes first or it exits. */
  static async start<M extends LinkMessage, R extends M & { type: 'ready' }>(options: LinkOptions): Promise<ProcessLink<M, R>> {
    const child = fork(options.script, options.args, { stdio: ['ignore', 2, 2, 'ipc'], execArgv: options.execArgv });
    const ready = await new Promise<R>((resolve, reject) => {
      const fail = (reason: string): void => {
        clearTimeout(timer);
        child.off('exit', onExit);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        reject(new BenchError(`${options.label} ${reason}`));
      };
      const onExit = (code: number | null): void => fail(`exited early with code ${String(code)}`);
      const timer =
        options.readyTimeoutMs === undefined
          ? undefined
          : setTimeout(() => fail('failed to start: no ready message'), options.readyTimeoutMs);
      child.once('exit', onExit);
      const isReady = (message: M): message is R => message.type === 'ready';
      child.once('message', (message: M) => {
        if (!isReady(message)) {
          const detail = 'message' in message && typeof message.message === 'string' ? message.message : JSON.stringify(message);
          fail(`failed to start: ${detail}`);
          return;
        }
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(message);
      });
    });
    return new ProcessLink<M, R>(child, ready, options);
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Sends the probe `make(id)` and resolves with the child's answer carrying that id. */
  ask<T extends Message>(make: (id: number) => LinkMessage): Promise<T> {
    const id = ++this.#probes;
    const { label, probeTimeoutMs } = this.#options;
    return new Promise<T>((resolve, reject) => {
      if (this.exited || !this.child.connected) {
        reject(new BenchError(`${label} is gone`));
        return;
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(id);
        reject(new BenchError(`${label} did not answer a probe within ${probeTimeoutMs} ms`));
      }, probeTimeoutMs);
      this.#waiters.set(id, (message) => {
        clearTimeout(timer);
        this.#waiters.delete(id);
        resolve(message as T);
      });
      this.child.send(make(id));
    });
  }

  /** Asks the child to shut down and waits for it to exit (killed after `stopTimeoutMs`). */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = once(this.child, 'exit');
    if (this.child.connected) this.child.send({ type: 'stop' } satisfies LinkMessage);
    const timer = setTimeout(() => this.kill(), this.#options.stopTimeoutMs);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/** Sends to the parent while the channel is open (a child that outlived its parent says nothing). */
export function sendToParent<M extends LinkMessage>(message: M): void {
  if (process.connected) process.send?.(message);
}

/**
 * The child's end: `onMessage` gets every message but `stop`; `stop` runs once, on `stop` or when the
 * parent goes away, then the channel is closed. `exitWithinMs`: the process ends by then whatever
 * `stop` leaves running. Returns the shutdown, for a child that must give up by itself.
 */
export function serveParent<Control extends LinkMessage>(
  onMessage: (message: Control) => void,
  stop: () => Promise<void>,
  exitWithinMs?: number,
): () => Promise<void> {
  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (exitWithinMs !== undefined) setTimeout(() => process.exit(0), exitWithinMs).unref();
    try {
      await stop();
    } catch {
      // shutting down regardless
    }
    if (process.connected) process.disconnect?.();
  };
  process.on('message', (message: Control) => {
    if (message?.type === 'stop') void shutdown();
    else onMessage(message);
  });
  process.on('disconnect', () => void shutdown());
  return shutdown;
}
