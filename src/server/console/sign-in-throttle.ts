/**
 * Console sign-in failures per client address: after `maxFailures` within `windowMs`, that
 * address is refused until the window passes. Admin keys are long and random, so this is about
 * noise in the log and wasted work more than guessing; it is bounded in memory all the same.
 */
export class SignInThrottle {
  readonly #failures = new Map<string, { count: number; since: number }>();
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(options: { maxFailures: number; windowMs: number; now?: () => number }) {
    this.#maxFailures = options.maxFailures;
    this.#windowMs = options.windowMs;
    this.#now = options.now ?? Date.now;
  }

  /** Seconds until `address` may try again; 0 when it may now. */
  retryAfterSeconds(address: string): number {
    const entry = this.#failures.get(address);
    if (!entry) return 0;
    const left = entry.since + this.#windowMs - this.#now();
    if (left <= 0) {
      this.#failures.delete(address);
      return 0;
    }
    return entry.count >= this.#maxFailures ? Math.ceil(left / 1000) : 0;
  }

  failed(address: string): void {
    const now = this.#now();
    const entry = this.#failures.get(address);
    if (entry && now - entry.since < this.#windowMs) entry.count += 1;
    else {
      if (this.#failures.size >= MAX_ADDRESSES) this.#failures.delete(this.#failures.keys().next().value!);
      this.#failures.set(address, { count: 1, since: now });
    }
  }

  succeeded(address: string): void {
    this.#failures.delete(address);
  }
}

const MAX_ADDRESSES = 10_000;
