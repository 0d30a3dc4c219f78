import type { Logger } from '../telemetry/logger.ts';

/** Why a request was refused before a turn started (a fixed set: metric label values). */
export type RefusalReason =
  | 'missing_api_key'
  | 'malformed_authorization'
  | 'wrong_api_key'
  | 'unknown_model'
  | 'unknown_route'
  /** A voice platform's socket: the secret in its path, its source address, its signature. */
  | 'wrong_platform_secret'
  | 'address_not_allowed'
  | 'bad_signature';

export interface RefusalLogOptions {
  logger: Logger;
  /** Counts every refusal (the metric), logged or not. */
  count?: (reason: RefusalReason) => void;
  /** At most one log line per reason per window; the others are counted in the next line. */
  windowMs?: number;
  now?: () => number;
}

/**
 * A team setting up a voice console makes the same mistake on every turn (the provider's key in the
 * API-KEY field, a doubled path): each refusal is counted, and logged with what to do at most once
 * per reason per minute, the next line saying how many were not logged. Never the key itself.
 */
export class RefusalLog {
  readonly #options: RefusalLogOptions;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #state = new Map<RefusalReason, { loggedAt: number; suppressed: number }>();

  constructor(options: RefusalLogOptions) {
    this.#options = options;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  refused(reason: RefusalReason, hint: string, fields: Record<string, unknown> = {}): void {
    this.#options.count?.(reason);
    const now = this.#now();
    const state = this.#state.get(reason);
    if (state && now - state.loggedAt < this.#windowMs) {
      state.suppressed++;
      return;
    }
    const suppressed = state?.suppressed ?? 0;
    this.#state.set(reason, { loggedAt: now, suppressed: 0 });
    this.#options.logger.warn(
      { reason, ...fields, ...(suppressed > 0 ? { suppressed } : {}) },
      suppressed > 0 ? `request refused: ${hint} (${suppressed} more like it since the last line)` : `request refused: ${hint}`,
    );
  }
}
