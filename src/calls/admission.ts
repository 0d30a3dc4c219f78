import { gatewayError } from '../core/error-catalog.ts';
import type { GatewayError } from '../core/gateway-error.ts';
import type { ServerLimits } from '../config/schema.ts';

/**
 * Admission control for chat-completion streams: a global and a per-API-key cap on streams in
 * flight, and an optional per-key requests-per-minute limit. Pure bookkeeping — no timers run
 * except the one `waitForIdle` arms (unref'd, cleared once settled).
 *
 * Requests per minute use GCRA (the "virtual scheduling" form of a token bucket): a key may send
 * `requestsPerMinutePerKey` requests at once, after which one more slot frees every
 * `60 s / limit` — the continuously-replenishing meaning OpenAI gives its own RPM limits. It keeps
 * one small record per key and is O(1) per request. A key's record is forgotten once the key has
 * been idle for a minute; by then its bucket is full again, so forgetting it changes nothing.
 * Records are kept in a Map ordered by last use, so the lazy cleanup done on each `admit` only
 * looks at the oldest entries (amortised O(1)) and the Map holds at most the keys admitted in the
 * last minute.
 *
 * API keys are used as Map keys only; they never appear in an error message.
 */

export type AdmissionLimits = Pick<ServerLimits, 'maxConcurrentStreams' | 'maxConcurrentStreamsPerKey' | 'requestsPerMinutePerKey'>;

export interface AdmissionOptions {
  /** Monotonic milliseconds; defaults to `performance.now`. */
  now?: () => number;
}

export interface AdmissionTicket {
  /** Frees the stream's slots. Idempotent: only the first call has an effect. */
  release(): void;
  readonly released: boolean;
}

const WINDOW_MS = 60_000;

/** GCRA state: the key's theoretical arrival time is `start + count * (WINDOW_MS / limit)`. */
interface RateRecord {
  start: number;
  count: number;
  /** When `count` last grew; the Map is ordered by this. */
  lastUsed: number;
}

interface IdleWaiter {
  resolve: (idle: boolean) => void;
  timer: NodeJS.Timeout;
}

/**
 * A held stream slot. A small class, not an object literal with a getter and closures over the
 * admission (a literal with an accessor is a dictionary object): every open call holds one.
 */
class Ticket implements AdmissionTicket {
  #key: string | undefined;
  readonly #free: (key: string) => void;

  constructor(key: string, free: (key: string) => void) {
    this.#key = key;
    this.#free = free;
  }

  release(): void {
    const key = this.#key;
    if (key === undefined) return;
    this.#key = undefined;
    this.#free(key);
  }

  get released(): boolean {
    return this.#key === undefined;
  }
}

export class AdmissionControl {
  readonly #maxStreams: number;
  readonly #maxStreamsPerKey: number;
  readonly #requestsPerMinute: number;
  readonly #now: () => number;

  #inFlight = 0;
  /** Streams in flight per key; a key is removed when its count drops to 0. */
  readonly #perKey = new Map<string, number>();
  /** Rate records in order of last use (re-inserted on every admission). */
  readonly #rates = new Map<string, RateRecord>();
  readonly #idleWaiters = new Set<IdleWaiter>();
  /** What every ticket calls on release: one function for all of them. */
  readonly #free = (key: string): void => this.#release(key);

  constructor(limits: AdmissionLimits, options: AdmissionOptions = {}) {
    assertLimit('maxConcurrentStreams', limits.maxConcurrentStreams, 1);
    assertLimit('maxConcurrentStreamsPerKey', limits.maxConcurrentStreamsPerKey, 1);
    assertLimit('requestsPerMinutePerKey', limits.requestsPerMinutePerKey, 0);
    this.#maxStreams = limits.maxConcurrentStreams;
    this.#maxStreamsPerKey = limits.maxConcurrentStreamsPerKey;
    this.#requestsPerMinute = limits.requestsPerMinutePerKey;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Admits one stream for `key` or throws a 429 GatewayError. Checked in this order, so the
   * client gets the longest useful Retry-After: the key's requests per minute, then streams in
   * flight: all of them first, so a full gateway is named as such even when one key holds every
   * stream (the per-key limit defaults to the global one), then the key's. A refused request
   * consumes nothing.
   */
  admit(key: string): AdmissionTicket {
    const now = this.#now();
    this.#forgetIdleKeys(now);

    let rate: RateRecord | undefined;
    if (this.#requestsPerMinute > 0) {
      rate = this.#rateRecordAt(key, now);
      const limit = this.#requestsPerMinute;
      // Admit iff the new theoretical arrival time is at most one window ahead:
      //   start + (count + 1) * W / limit - now <= W, kept in exact integer-friendly form.
      const needed = (rate.count + 1) * WINDOW_MS;
      const allowed = (WINDOW_MS + now - rate.start) * limit;
      if (needed > allowed) {
        // The next slot frees when the theoretical arrival time is exactly one window ahead.
        const retryAfterSeconds = Math.max(1, Math.ceil((needed - allowed) / limit / 1000));
        throw rateLimitError(limit, retryAfterSeconds);
      }
    }

    if (this.#inFlight >= this.#maxStreams) {
      throw gatewayError('too_many_concurrent_streams', { limit: this.#maxStreams });
    }
    const keyStreams = this.#perKey.get(key) ?? 0;
    if (keyStreams >= this.#maxStreamsPerKey) {
      throw keyStreamsError(this.#maxStreamsPerKey);
    }

    // Commit.
    if (rate !== undefined) {
      rate.count += 1;
      rate.lastUsed = now;
      this.#rates.delete(key);
      this.#rates.set(key, rate);
    }
    this.#perKey.set(key, keyStreams + 1);
    this.#inFlight += 1;

    return new Ticket(key, this.#free);
  }

  /** Whether every stream slot of this process is taken (the next admission is refused). */
  get full(): boolean {
    return this.#inFlight >= this.#maxStreams;
  }

  /** Streams in flight, all keys together. */
  inFlight(): number {
    return this.#inFlight;
  }

  /** Streams in flight for one key. */
  inFlightFor(key: string): number {
    return this.#perKey.get(key) ?? 0;
  }

  /** Distinct keys the controller holds any record of (for tests and diagnostics). */
  trackedKeys(): number {
    let count = this.#rates.size;
    for (const key of this.#perKey.keys()) if (!this.#rates.has(key)) count += 1;
    return count;
  }

  /**
   * Resolves true as soon as no stream is in flight (at once if none is), false after `timeoutMs`.
   * The timer is unref'd, so waiting never keeps the process alive, and cleared when settled.
   */
  waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.#inFlight === 0) return Promise.resolve(true);
    if (!(timeoutMs > 0)) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter: IdleWaiter = {
        resolve,
        timer: setTimeout(() => {
          this.#idleWaiters.delete(waiter);
          resolve(false);
        }, timeoutMs),
      };
      waiter.timer.unref();
      this.#idleWaiters.add(waiter);
    });
  }

  #release(key: string): void {
    const keyStreams = (this.#perKey.get(key) ?? 0) - 1;
    if (keyStreams > 0) this.#perKey.set(key, keyStreams);
    else this.#perKey.delete(key);
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    if (this.#inFlight === 0 && this.#idleWaiters.size > 0) {
      const waiters = [...this.#idleWaiters];
      this.#idleWaiters.clear();
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.resolve(true);
      }
    }
  }

  /** The key's rate record, restarted from `now` if its bucket has refilled completely. */
  #rateRecordAt(key: string, now: number): RateRecord {
    const record = this.#rates.get(key);
    // Theoretical arrival time <= now  <=>  count * W <= (now - start) * limit.
    if (record === undefined || record.count * WINDOW_MS <= (now - record.start) * this.#requestsPerMinute) {
      return { start: now, count: 0, lastUsed: record?.lastUsed ?? now };
    }
    return record;
  }

  /**
   * Drops records of keys not admitted for a full window. An admission leaves the theoretical
   * arrival time at most one window ahead, so such a record is equivalent to no record.
   */
  #forgetIdleKeys(now: number): void {
    for (const [key, record] of this.#rates) {
      if (now - record.lastUsed < WINDOW_MS) break;
      this.#rates.delete(key);
    }
  }
}

/** A key over its requests per minute (here, or counted across replicas). */
export function rateLimitError(limit: number, retryAfterSeconds: number): GatewayError {
  return gatewayError('rate_limit_exceeded', { limit, retryAfterSeconds });
}

/** A key over its streams in flight (here, or counted across replicas). */
export function keyStreamsError(limit: number): GatewayError {
  return gatewayError('too_many_concurrent_streams_for_key', { limit });
}

function assertLimit(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min} (got ${value})`);
  }
}
