import type { ProviderTimeouts } from '../config/schema.ts';
import { timeoutError, type TimeoutKind } from './timeout-errors.ts';

/**
 * The time budgets of one provider attempt. Its signal aborts the upstream request with a typed
 * timeout error as the reason: first token (until the answer is committed), then idle between
 * parts, and total throughout. One timer is re-armed with `refresh()` per part: no allocation.
 */
export class Watchdog {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly providerName: string;
  private readonly timeouts: ProviderTimeouts;
  private phaseTimer: NodeJS.Timeout;
  private readonly totalTimer: NodeJS.Timeout;

  constructor(providerName: string, timeouts: ProviderTimeouts, turnSignal: AbortSignal, firstTokenDeadline: number) {
    this.providerName = providerName;
    this.timeouts = timeouts;
    this.signal = AbortSignal.any([turnSignal, this.controller.signal]);
    const untilFirstToken = Math.max(0, firstTokenDeadline - performance.now());
    this.phaseTimer = setTimeout(() => this.fire('first_token', timeouts.firstTokenMs), untilFirstToken);
    this.totalTimer = setTimeout(() => this.fire('total', timeouts.totalMs), timeouts.totalMs);
  }

  /** The answer started: from now on only silences longer than the idle budget are faults. */
  committed(): void {
    clearTimeout(this.phaseTimer);
    this.phaseTimer = setTimeout(() => this.fire('idle', this.timeouts.idleMs), this.timeouts.idleMs);
  }

  /** A part arrived. */
  activity(): void {
    this.phaseTimer.refresh();
  }

  dispose(): void {
    clearTimeout(this.phaseTimer);
    clearTimeout(this.totalTimer);
  }

  private fire(kind: TimeoutKind, ms: number): void {
    this.dispose();
    this.controller.abort(timeoutError(this.providerName, kind, ms));
  }
}
