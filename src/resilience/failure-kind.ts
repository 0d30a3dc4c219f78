import type { GatewayError } from '../core/gateway-error.ts';

/**
 * Whose fault a failed attempt was, which decides what the circuit breaker hears:
 *  - `request`: the request itself was refused (invalid parameters, context overflow, a body too
 *    large or too deep to send). Any provider would refuse it the same way; it says nothing about
 *    the provider's health, so it neither counts nor is retried or sent to a fallback.
 *  - `rate_limited`: the provider is up but refuses work for now (429). Its cause may be the
 *    request (too many tokens for the quota) or one key holder's burst, so it must not take the
 *    provider away from every tenant: it is retried after its Retry-After when that fits the turn,
 *    else the next provider is tried, and it never counts toward opening the circuit.
 *  - `provider`: connection failures, timeouts, 5xx, broken streams, rejected credentials: count.
 */
export type FailureKind = 'request' | 'rate_limited' | 'provider';

export function failureKind(error: GatewayError): FailureKind {
  if (error.status === 429) return 'rate_limited';
  if (error.type === 'invalid_request_error') return 'request';
  return 'provider';
}
