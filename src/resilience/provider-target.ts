import type { CircuitBreakerConfig, ProviderTimeouts, RetryConfig } from '../config/schema.ts';
import { CircuitBreaker } from '../providers/circuit-breaker.ts';
import type { Provider } from '../providers/provider.ts';

/** A provider with its health and budgets, shared by every agent that uses it. */
export interface GuardedProvider {
  provider: Provider;
  breaker: CircuitBreaker;
  timeouts: ProviderTimeouts;
  retry: RetryConfig;
}

/** One entry of an agent's chain: a provider, the upstream model to ask it for, extra parameters. */
export interface ProviderTarget extends GuardedProvider {
  model: string | undefined;
  params: Readonly<Record<string, unknown>>;
}

export function guardProvider(
  provider: Provider,
  settings: { timeouts: ProviderTimeouts; retry: RetryConfig; circuitBreaker: CircuitBreakerConfig },
): GuardedProvider {
  return { provider, breaker: new CircuitBreaker(settings.circuitBreaker), timeouts: settings.timeouts, retry: settings.retry };
}
