import { gatewayError, type TimeoutKind } from '../core/error-catalog.ts';
import { GatewayError } from '../core/gateway-error.ts';

export type { TimeoutKind } from '../core/error-catalog.ts';

/** A typed timeout: 504, code `upstream_<kind>_timeout`. */
export function timeoutError(providerName: string, kind: TimeoutKind, ms: number): GatewayError {
  return gatewayError(`upstream_${kind}_timeout`, { provider: providerName, ms });
}

export function isTimeout(error: unknown): boolean {
  return error instanceof GatewayError && error.type === 'timeout_error';
}
