import { setTimeout as sleep } from 'node:timers/promises';
import { gatewayError } from '../core/error-catalog.ts';
import type { GatewayError, ProviderFailure } from '../core/gateway-error.ts';
import type { ProviderRequest } from '../providers/provider.ts';
import type { PartStream, StreamPart } from '../core/stream-part.ts';
import { errorFromConnectionFailure } from '../providers/upstream-errors.ts';
import { failureKind } from './failure-kind.ts';
import type { ProviderTarget } from './provider-target.ts';
import { Watchdog } from './watchdog.ts';

export type AttemptOutcome = 'committed' | 'retried' | 'failed' | 'skipped';

/** What happened to one provider attempt (for the turn's record and metrics). */
export interface AttemptEvent {
  provider: string;
  model: string | undefined;
  outcome: AttemptOutcome;
  error?: GatewayError;
  /** From the attempt's start to its outcome. */
  ms: number;
}

export type AttemptObserver = (event: AttemptEvent) => void;

/**
 * Streams the answer from the first target that starts answering in time. Before the first
 * speakable part, connection errors, 429 and 5xx are retried with backoff (Retry-After honoured)
 * inside the first-token budget, then the next target is tried; a target whose circuit is open is
 * skipped. Only the provider's own failures count toward opening its circuit (see failure-kind.ts):
 * a request the provider refused as invalid is thrown at once, untried elsewhere. Once a part the caller would hear has arrived the target is committed: nothing is ever
 * retried after that, and later faults (idle or total timeout, a broken stream) are thrown.
 * Throws the last target's error when every target failed, with every target's failure on it
 * (`failures`).
 */
export async function* streamWithFallbacks(
  targets: readonly ProviderTarget[],
  request: Omit<ProviderRequest, 'signal' | 'model'>,
  turnSignal: AbortSignal,
  observe?: AttemptObserver,
  /** Told how long the turn waited on the committed provider's stream (for the overhead figure). */
  onUpstreamWait?: (ms: number) => void,
): PartStream {
  const failures: ProviderFailure[] = [];
  let lastError: GatewayError | undefined;
  const failed = (target: ProviderTarget, error: GatewayError) => {
    lastError = error;
    failures.push({ provider: target.provider.name, model: target.model, code: error.code, status: error.status, message: error.message });
  };
  for (const target of targets) {
    const name = target.provider.name;
    if (!target.breaker.tryAcquire()) {
      const skipped = gatewayError('circuit_open', { provider: name, retryInMs: target.breaker.retryInMs() });
      failed(target, skipped);
      observe?.({ provider: name, model: target.model, outcome: 'skipped', error: skipped, ms: 0 });
      continue;
    }
    const firstTokenDeadline = performance.now() + target.timeouts.firstTokenMs;
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      const watchdog = new Watchdog(name, target.timeouts, turnSignal, firstTokenDeadline);
      const params = target.params === EMPTY ? request.params : { ...request.params, ...target.params };
      const iterator = target.provider
        .stream({ messages: request.messages, params, model: target.model, signal: watchdog.signal })
        [Symbol.asyncIterator]();
      const held: StreamPart[] = [];
      try {
        for (;;) {
          const next = await iterator.next();
          if (next.done) break;
          held.push(next.value);
          if (SPEAKABLE.has(next.value.type)) break;
        }
      } catch (error) {
        watchdog.dispose();
        if (turnSignal.aborted) {
          target.breaker.release();
          throw turnSignal.reason;
        }
        const failure = errorFromConnectionFailure(error, name);
        const delay = retryDelay(failure, attempt, target);
        if (delay !== undefined && performance.now() + delay < firstTokenDeadline) {
          observe?.({ provider: name, model: target.model, outcome: 'retried', error: failure, ms: performance.now() - started });
          await sleep(delay, undefined, { signal: turnSignal }).catch(() => {
            throw turnSignal.reason;
          });
          continue;
        }
        const kind = failureKind(failure);
        if (kind === 'provider') target.breaker.recordFailure();
        else target.breaker.release();
        failed(target, failure);
        observe?.({ provider: name, model: target.model, outcome: 'failed', error: failure, ms: performance.now() - started });
        // Every provider would refuse this request: the client hears what was wrong, no fallback is asked.
        if (kind === 'request') throw failure;
        break;
      }

      watchdog.committed();
      const committedAfter = performance.now() - started;
      observe?.({ provider: name, model: target.model, outcome: 'committed', ms: committedAfter });
      let waited = committedAfter;
      let healthy = true;
      try {
        for (const part of held) yield part;
        for (;;) {
          const asked = performance.now();
          const next = await iterator.next();
          waited += performance.now() - asked;
          if (next.done) break;
          watchdog.activity();
          yield next.value;
        }
      } catch (error) {
        healthy = turnSignal.aborted; // the caller leaving says nothing about the provider
        throw turnSignal.aborted ? turnSignal.reason : error;
      } finally {
        onUpstreamWait?.(waited);
        watchdog.dispose();
        if (healthy) target.breaker.recordSuccess();
        else target.breaker.recordFailure();
        // The consumer may stop early (client gone): close the upstream request with it.
        await iterator.return?.();
      }
      return;
    }
  }
  // The last error is what the client hears; each provider's failure rides along for the log and the record.
  throw lastError === undefined ? gatewayError('no_provider') : lastError.withFailures(failures);
}

/** Parts the caller hears or the workflow acts on: the first one commits the provider. */
const SPEAKABLE = new Set<StreamPart['type']>(['text', 'tool-call-start', 'end-call', 'transfer', 'finish']);

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});
export { EMPTY as NO_EXTRA_PARAMS };

function retryDelay(failure: GatewayError, attempt: number, target: ProviderTarget): number | undefined {
  if (!failure.retryable || attempt >= target.retry.maxRetries) return undefined;
  if (failure.retryAfterSeconds !== undefined) return failure.retryAfterSeconds * 1000;
  const base = target.retry.backoffMs * 2 ** attempt;
  return base * (0.5 + Math.random()); // jitter: spread retries of many calls
}
