import type { CircuitBreakerConfig } from '../config/schema.ts';

/**
 * A circuit breaker for one provider. Pure bookkeeping on an injected clock; no timers.
 *
 *   closed ──(failureThreshold consecutive failures)──▶ open
 *   open ──(cooldownMs elapsed; derived lazily from the clock)──▶ half-open
 *   half-open: the first tryAcquire() is the probe; everyone else is refused until it reports
 *     probe recordSuccess() ──▶ closed          probe recordFailure() ──▶ open (new cooldown)
 *     probe release() (abandoned, no verdict) ──▶ half-open, the next caller may probe
 *
 * Every caller that got `true` from tryAcquire() should end with exactly one of recordSuccess(),
 * recordFailure() or release(). The boolean API cannot tell the probe from a request admitted
 * earlier while the circuit was closed, so verdicts are taken from whoever reports:
 *  - a success or failure reported while half-open decides, probe or not (it is fresh evidence);
 *  - verdicts reported while open (stragglers that started before the circuit opened) are
 *    ignored, so they cannot shorten or stretch the cooldown;
 *  - release() frees the probe slot whoever calls it; at worst that lets one extra probe through,
 *    it can never wedge the breaker.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Monotonic milliseconds; defaults to `performance.now`. */
  now?: () => number;
}

/**
 * retryInMs() while a half-open probe is in flight: when the next caller may pass depends on the
 * probe's verdict, which is not known yet; 1 s is the smallest Retry-After a client can be given.
 */
export const PROBE_PENDING_RETRY_MS = 1000;

export class CircuitBreaker {
  readonly #failureThreshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;

  #failures = 0;
  #open = false;
  /** While #open: when the cooldown ends and the circuit turns half-open. */
  #openUntil = 0;
  /** Half-open only: a probe has been let through and has not reported. */
  #probeInFlight = false;

  constructor(config: CircuitBreakerConfig, options: CircuitBreakerOptions = {}) {
    if (!Number.isSafeInteger(config.failureThreshold) || config.failureThreshold < 1) {
      throw new RangeError(`failureThreshold must be an integer >= 1 (got ${config.failureThreshold})`);
    }
    if (!Number.isFinite(config.cooldownMs) || config.cooldownMs < 0) {
      throw new RangeError(`cooldownMs must be a number >= 0 (got ${config.cooldownMs})`);
    }
    this.#failureThreshold = config.failureThreshold;
    this.#cooldownMs = config.cooldownMs;
    this.#now = options.now ?? (() => performance.now());
  }

  get state(): CircuitState {
    if (!this.#open) return 'closed';
    return this.#now() >= this.#openUntil ? 'half-open' : 'open';
  }

  /** Consecutive failures counted while closed; kept while open, reset by a success (for metrics). */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** Whether a request may go to the provider now. Half-open: true for the single probe only. */
  tryAcquire(): boolean {
    switch (this.state) {
      case 'closed':
        return true;
      case 'open':
        return false;
      case 'half-open':
        if (this.#probeInFlight) return false;
        this.#probeInFlight = true;
        return true;
    }
  }

  recordSuccess(): void {
    const state = this.state;
    if (state === 'open') return; // A straggler from before the circuit opened.
    this.#failures = 0;
    this.#open = false;
    this.#probeInFlight = false;
  }

  recordFailure(): void {
    switch (this.state) {
      case 'closed':
        this.#failures += 1;
        if (this.#failures >= this.#failureThreshold) this.#trip();
        return;
      case 'open':
        return; // A straggler: the cooldown already runs.
      case 'half-open':
        this.#trip();
        return;
    }
  }

  /** Gives the probe slot back without a verdict (the caller went away). Harmless otherwise. */
  release(): void {
    if (this.state === 'half-open') this.#probeInFlight = false;
  }

  /**
   * Milliseconds until tryAcquire() may return true: 0 when it would now, the rest of the
   * cooldown when open, PROBE_PENDING_RETRY_MS while a probe is out.
   */
  retryInMs(): number {
    if (!this.#open) return 0;
    const left = this.#openUntil - this.#now();
    if (left > 0) return left;
    return this.#probeInFlight ? PROBE_PENDING_RETRY_MS : 0;
  }

  #trip(): void {
    this.#open = true;
    this.#openUntil = this.#now() + this.#cooldownMs;
    this.#probeInFlight = false;
  }
}
