import type { Logger } from 'pino';
import { withinBudget } from './within-budget.ts';

/** The shared-state operations a turn makes, the label of the fallback counter. */
export type SharedOperation = 'admit' | 'release' | 'begin' | 'end' | 'end_call';

export interface SharedStateHealthOptions {
  /** The budget of every operation (state.timeoutMs). */
  timeoutMs: number;
  /** Whether Redis answers again (a PING on every connection); rejected or late: still down. */
  probe: () => Promise<void>;
  /** How often a degraded state tries to rejoin. */
  probeIntervalMs: number;
  logger: Logger;
}

/**
 * Whether the shared state is usable, and the budget every operation runs within. One failed or
 * late operation degrades it: turns then use this replica's own state at once, with no Redis
 * round trip to wait for, while a probe tries to rejoin every `probeIntervalMs` (and at once
 * when a connection comes back).
 */
export class SharedStateHealth {
  readonly #options: SharedStateHealthOptions;
  #up = false;
  #probing: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #fallbacks: Record<SharedOperation, number> = { admit: 0, release: 0, begin: 0, end: 0, end_call: 0 };

  constructor(options: SharedStateHealthOptions) {
    this.#options = options;
  }

  get up(): boolean {
    return this.#up;
  }

  /** Operations done on this replica's state instead, since start, by operation. */
  get fallbacks(): Readonly<Record<SharedOperation, number>> {
    return this.#fallbacks;
  }

  /** Runs one operation within the budget; a failure or a timeout degrades the state and is rethrown. */
  async run<T>(operation: SharedOperation, action: () => Promise<T>): Promise<T> {
    try {
      return await withinBudget(action(), this.#options.timeoutMs);
    } catch (error) {
      this.fellBack(operation);
      this.degrade(error);
      throw error;
    }
  }

  /** An operation was done locally (Redis down, or it just failed). */
  fellBack(operation: SharedOperation): void {
    this.#fallbacks[operation]++;
  }

  degrade(reason: unknown): void {
    if (this.#up) {
      this.#options.logger.warn(
        { err: reason },
        "shared call state degraded: turns go on with this replica's own state until Redis answers again",
      );
    }
    this.#up = false;
    this.#startProbing();
  }

  /** Tries to rejoin now (a connection came back); resolves with whether it did. */
  async probe(): Promise<boolean> {
    if (this.#closed) return false;
    try {
      await withinBudget(this.#options.probe(), Math.max(this.#options.timeoutMs, 250));
    } catch {
      this.#startProbing();
      return false;
    }
    if (!this.#up && !this.#closed) {
      this.#up = true;
      this.#options.logger.info('shared call state up: Redis answers');
    }
    this.#stopProbing();
    return true;
  }

  close(): void {
    this.#closed = true;
    this.#up = false;
    this.#stopProbing();
  }

  #startProbing(): void {
    if (this.#probing !== undefined || this.#closed) return;
    this.#probing = setInterval(() => void this.probe(), this.#options.probeIntervalMs);
    this.#probing.unref();
  }

  #stopProbing(): void {
    clearInterval(this.#probing);
    this.#probing = undefined;
  }
}
