import {
  circuitBreakerSchema,
  providerTimeoutsSchema,
  retrySchema,
  type CircuitBreakerConfig,
  type ProviderTimeouts,
  type RetryConfig,
} from '../../src/config/schema.ts';
import type { GatewayError } from '../../src/core/gateway-error.ts';
import type { PartStream, StreamPart } from '../../src/core/stream-part.ts';
import { CircuitBreaker } from '../../src/providers/circuit-breaker.ts';
import type { Provider, ProviderCapabilities, ProviderRequest } from '../../src/providers/provider.ts';
import { errorFromUpstreamResponse, streamBrokenError } from '../../src/providers/upstream-errors.ts';
import { NO_EXTRA_PARAMS } from '../../src/resilience/provider-chain.ts';
import type { ProviderTarget } from '../../src/resilience/provider-target.ts';

/**
 * One step of a script: a part to yield, a pause (virtual time under the stage kit's clock), a
 * failure to throw, or a silence that lasts until the request is aborted.
 */
export type Step = StreamPart | { wait: number } | { fail: unknown } | { hang: true };

/** What one `stream()` call of the provider does: its steps in order. */
export type Attempt = readonly Step[];

/**
 * A real `Provider` driven by a script, one attempt per `stream()` call, for stage tests: it keeps
 * every request it was asked, honours the request's signal on every step (throwing its reason, as
 * the interface says), and counts the streams closed early. The production `scripted` engine
 * answers from keyword rules and cannot fail, so it does not fit here.
 */
export class ScriptedTestProvider implements Provider {
  readonly name: string;
  readonly type = 'test-script';
  readonly capabilities: ProviderCapabilities;
  /** Every request, in order. */
  readonly requests: ProviderRequest[] = [];
  /** Streams whose consumer stopped before the script ended (the upstream request closed). */
  closedEarly = 0;
  readonly #attempts: readonly Attempt[];

  constructor(name: string, attempts: readonly Attempt[], capabilities: ProviderCapabilities = { endsCalls: false }) {
    this.name = name;
    this.#attempts = attempts;
    this.capabilities = capabilities;
  }

  /** How many times it was asked. */
  get calls(): number {
    return this.requests.length;
  }

  stream(request: ProviderRequest): PartStream {
    const attempt = this.#attempts[this.requests.length];
    this.requests.push(request);
    if (attempt === undefined)
      throw new Error(`provider "${this.name}" was asked ${this.requests.length} times; its script has ${this.#attempts.length}`);
    return this.#play(attempt, request.signal);
  }

  async close(): Promise<void> {}

  async *#play(steps: Attempt, signal: AbortSignal): PartStream {
    let ended = false; // by its script: run out or failed on purpose
    try {
      for await (const part of play(steps, signal)) yield part;
      ended = true;
    } catch (error) {
      ended = !signal.aborted;
      throw error;
    } finally {
      if (!ended && !signal.aborted) this.closedEarly++;
    }
  }
}

/** Plays a script: its parts, pauses and failures, in order; every step honours `signal`. */
export async function* play(steps: readonly Step[], signal?: AbortSignal): PartStream {
  for (const step of steps) {
    if (signal?.aborted) throw signal.reason;
    if ('wait' in step) await pause(step.wait, signal);
    else if ('hang' in step) await pause(Number.POSITIVE_INFINITY, signal);
    else if ('fail' in step) throw step.fail;
    else yield step;
  }
}

/** `ms` on the current clock (virtual under the stage kit's); aborted: throws the signal's reason. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    function done(): void {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
  });
}

/** The upstream answered with an HTTP error, mapped as the real provider maps it. */
export function httpFailure(status: number, options: { body?: string; retryAfter?: string; provider?: string } = {}): GatewayError {
  const headers = options.retryAfter === undefined ? {} : { 'retry-after': options.retryAfter };
  return errorFromUpstreamResponse(status, headers, options.body ?? '', options.provider);
}

/** The upstream could not be reached (the chain maps it as it maps undici's errors). */
export function connectionRefused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
}

/** The upstream's stream broke off mid-answer. */
export function streamBroken(): GatewayError {
  return streamBrokenError('socket closed');
}

export interface TargetSettings {
  timeouts?: Partial<ProviderTimeouts>;
  /** Default in tests: no backoff (a real 0 ms wait), two retries as in production. */
  retry?: Partial<RetryConfig>;
  circuitBreaker?: Partial<CircuitBreakerConfig>;
  model?: string;
  params?: Readonly<Record<string, unknown>>;
}

/** A provider as one entry of an agent's chain, with the production defaults unless given. */
export function targetOf(provider: Provider, settings: TargetSettings = {}): ProviderTarget {
  return {
    provider,
    breaker: new CircuitBreaker({ ...circuitBreakerSchema.parse(undefined), ...settings.circuitBreaker }),
    timeouts: { ...providerTimeoutsSchema.parse(undefined), ...settings.timeouts },
    retry: { ...retrySchema.parse(undefined), backoffMs: 0, ...settings.retry },
    model: settings.model,
    params: settings.params ?? NO_EXTRA_PARAMS,
  };
}
