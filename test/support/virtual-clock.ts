import type { TestContext } from 'node:test';

/**
 * Virtual time for stage tests: while installed, `setTimeout` / `clearTimeout` and `performance.now`
 * run on a clock that moves only when the test advances it, so a 10 s budget costs nothing and
 * fires exactly when its time comes.
 *
 * Why not `mock.timers` from node:test: its timers' `refresh()` is a no-op (Node 24), and the
 * watchdog re-arms its idle timer with `refresh()` per part; it also leaves `performance.now` real,
 * which the provider chain's first-token deadline is measured on. `setImmediate` and
 * `node:timers/promises` stay real (the stream writer and the retry backoff use them).
 */
export interface VirtualClock {
  /** Virtual milliseconds since the clock was installed. */
  now(): number;
  /** Timers set and not yet fired or cleared (a stage that is done should leave none). */
  pending(): number;
  /** Moves time forward by `ms`, firing every timer due on the way, in order, letting each one's effects run. */
  advance(ms: number): Promise<void>;
  /**
   * Moves time forward, timer by timer, until `promise` settles; its result. Fails when nothing the
   * clock controls is pending and the promise still waits (a hang), or past `limitMs` of virtual time.
   */
  settle<T>(promise: Promise<T>, limitMs?: number): Promise<T>;
}

interface VirtualTimer {
  id: number;
  at: number;
  delay: number;
  callback: (...args: unknown[]) => void;
  args: unknown[];
}

/** The handle `setTimeout` returns under the clock: enough of Node's `Timeout` for our code. */
class VirtualTimeout {
  readonly #clock: Clock;
  readonly #timer: VirtualTimer;

  constructor(clock: Clock, timer: VirtualTimer) {
    this.#clock = clock;
    this.#timer = timer;
  }

  get timer(): VirtualTimer {
    return this.#timer;
  }

  refresh(): this {
    this.#clock.rearm(this.#timer);
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  hasRef(): boolean {
    return true;
  }

  [Symbol.toPrimitive](): number {
    return this.#timer.id;
  }
}

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const realNow = performance.now.bind(performance);

/** Lets every reaction already queued run (microtasks, then a real turn of the event loop). */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** How many real event-loop turns `settle` waits on work the clock does not control (a real 0 ms backoff). */
const REAL_TURNS_BEFORE_STALL = 50;

class Clock implements VirtualClock {
  #now = 0;
  #nextId = 1;
  readonly #timers = new Map<number, VirtualTimer>();

  now(): number {
    return this.#now;
  }

  pending(): number {
    return this.#timers.size;
  }

  schedule(callback: (...args: unknown[]) => void, delay: number | undefined, args: unknown[]): VirtualTimeout {
    const ms = Math.max(1, Number(delay) || 0); // as Node: 0 and below mean 1 ms
    const timer: VirtualTimer = { id: this.#nextId++, at: this.#now + ms, delay: ms, callback, args };
    this.#timers.set(timer.id, timer);
    return new VirtualTimeout(this, timer);
  }

  cancel(handle: unknown): void {
    if (handle instanceof VirtualTimeout) this.#timers.delete(handle.timer.id);
    else if (typeof handle === 'number') this.#timers.delete(handle);
  }

  rearm(timer: VirtualTimer): void {
    timer.at = this.#now + timer.delay;
    this.#timers.set(timer.id, timer);
  }

  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    for (;;) {
      await flush();
      const due = this.#earliest();
      if (due === undefined || due.at > until) break;
      this.#fire(due);
    }
    this.#now = until;
    await flush();
  }

  async settle<T>(promise: Promise<T>, limitMs = 600_000): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    watched.catch(() => {}); // the caller gets the rejection from the returned promise
    const limit = this.#now + limitMs;
    let idleTurns = 0;
    while (!settled) {
      await flush();
      if (settled) break;
      const due = this.#earliest();
      if (due === undefined) {
        // Waiting on something real (a 0 ms backoff's timer, a socket): give it a few real turns.
        if (++idleTurns > REAL_TURNS_BEFORE_STALL) throw new Error('stalled: the promise waits, and no virtual timer is pending');
        await new Promise((resolve) => realSetTimeout(resolve, 1));
        continue;
      }
      idleTurns = 0;
      if (due.at > limit) throw new Error(`still pending after ${limitMs} virtual ms`);
      this.#fire(due);
    }
    return watched;
  }

  #earliest(): VirtualTimer | undefined {
    let earliest: VirtualTimer | undefined;
    for (const timer of this.#timers.values()) if (earliest === undefined || timer.at < earliest.at) earliest = timer;
    return earliest;
  }

  #fire(timer: VirtualTimer): void {
    this.#now = Math.max(this.#now, timer.at);
    this.#timers.delete(timer.id);
    timer.callback(...timer.args);
  }
}

/** Installs a virtual clock for the running test; the real one is back when the test ends. */
export function useVirtualClock(t: TestContext): VirtualClock {
  const clock = new Clock();
  // A whole number, so that deadlines computed on it (now + budget - now) come out exact.
  const origin = Math.ceil(realNow());
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, delay?: number, ...args: unknown[]) =>
    clock.schedule(callback, delay, args)) as unknown as typeof setTimeout;
  globalThis.clearTimeout = ((handle: unknown) => clock.cancel(handle)) as typeof clearTimeout;
  performance.now = () => origin + clock.now();
  t.after(() => {
    globalThis.setTimeout = realSetTimeout;
    globalThis.clearTimeout = realClearTimeout;
    delete (performance as { now?: unknown }).now; // back to the prototype's
  });
  return clock;
}
