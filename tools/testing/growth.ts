/**
 * How a piece of work grows with its input, measured without absolute time thresholds (which
 * fail on a slow or busy machine): the time at 8x input over the time at 1x, each the best of a
 * few runs. Linear work gives about 8, quadratic about 64. Used by the scaling tests and by
 * `npm run stress`.
 */

import { performance } from 'node:perf_hooks';

/** Milliseconds taken by one run of `work` (awaited when it returns a promise). */
export async function timeOnce(work: () => unknown): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** The shortest of `runs` timings of `work`: the one least disturbed by GC and other processes. */
export async function bestTime(work: () => unknown, runs: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < runs; i++) best = Math.min(best, await timeOnce(work));
  return best;
}

export interface GrowthOptions {
  /** How much larger the second input is (default 8). */
  factor?: number;
  /** Timings per input; the best counts (default 3). */
  runs?: number;
  /** The 1x work is repeated until one timing takes this long, so the clock resolves it (default 20). */
  minMs?: number;
  /**
   * A ratio above this is measured again, up to `attempts` times in all, and the lowest counts:
   * a busy machine can stall one measurement, but quadratic work is slow every time.
   */
  retryAbove?: number;
  attempts?: number;
}

/**
 * Time of `work(build(factor))` over time of `work(build(1))`. `build(scale)` makes an input
 * `scale` times larger; each timing repeats the work the same number of times for both sizes.
 */
export async function growthRatio<T>(
  build: (scale: number) => T,
  work: (input: T) => unknown,
  options: GrowthOptions = {},
): Promise<number> {
  const { factor = 8, runs = 3, minMs = 20, retryAbove = 2 * factor, attempts = 3 } = options;
  const small = build(1);
  const large = build(factor);
  let repeats = 1;
  while (repeats < 1 << 20 && (await timeOnce(() => repeat(work, small, repeats))) < minMs) repeats *= 2;
  let lowest = Infinity;
  for (let attempt = 0; attempt < attempts && lowest > retryAbove; attempt++) {
    const base = await bestTime(() => repeat(work, small, repeats), runs);
    const grown = await bestTime(() => repeat(work, large, repeats), runs);
    lowest = Math.min(lowest, grown / base);
  }
  return lowest;
}

async function repeat<T>(work: (input: T) => unknown, input: T, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await work(input);
}
