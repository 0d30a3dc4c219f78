/**
 * Lets a repeated log line through at most once per interval, carrying how many events it stands
 * for, so a flood of drops costs one line every few seconds, not one per record.
 */
export class LogThrottle {
  readonly #intervalMs: number;
  #at = 0;
  #since = 0;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Counts `n` events; returns how many were counted since the last line when one is due now, else undefined. */
  count(n: number, now = Date.now()): number | undefined {
    this.#since += n;
    if (now - this.#at < this.#intervalMs) return undefined;
    const since = this.#since;
    this.#at = now;
    this.#since = 0;
    return since;
  }
}
