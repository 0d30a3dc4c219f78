/** Deletes records older than the retention, hourly, in the background. */

import { errorSummary, type StoreLogger } from './record-queue.ts';
import type { RecordStore } from './turn-record.ts';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  /** Between purges. Default one hour. */
  intervalMs?: number;
  /** Before the first purge (kept short of startup). Default 60 s. */
  initialDelayMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * Purges records older than `retentionDays` shortly after start and then every hour; the timers
 * never keep the process alive, failures are logged and retried at the next run. Returns stop.
 */
export function startRetention(
  store: RecordStore,
  retentionDays: number,
  logger?: StoreLogger,
  options: RetentionOptions = {},
): () => void {
  const now = options.now ?? Date.now;
  let running = false;
  let stopped = false;
  const run = async () => {
    if (running || stopped) return;
    running = true;
    const cutoff = new Date(now() - retentionDays * DAY_MS).toISOString();
    try {
      const removed = await store.purgeOlderThan(cutoff);
      if (removed > 0) logger?.info({ removed, cutoff, retentionDays }, 'old records purged');
    } catch (error) {
      logger?.warn({ cutoff, err: errorSummary(error) }, 'purging old records failed; retrying at the next run');
    } finally {
      running = false;
    }
  };
  const first = setTimeout(run, options.initialDelayMs ?? 60_000);
  first.unref();
  const interval = setInterval(run, options.intervalMs ?? 3_600_000);
  interval.unref();
  return () => {
    stopped = true;
    clearTimeout(first);
    clearInterval(interval);
  };
}
