import { GatewayError } from '../core/gateway-error.ts';

/** Which of a provider's time budgets ran out. */
export type TimeoutKind = 'first_token' | 'idle' | 'total';

const DESCRIPTIONS: Readonly<Record<TimeoutKind, string>> = {
  first_token: 'sent no first word',
  idle: 'went silent mid-answer for longer than',
  total: 'did not finish its answer',
};

/** A typed timeout: 504, code `upstream_<kind>_timeout`. */
export function timeoutError(providerName: string, kind: TimeoutKind, ms: number): GatewayError {
  return new GatewayError(`Provider "${providerName}" ${DESCRIPTIONS[kind]} within ${ms} ms.`, {
    status: 504,
    type: 'timeout_error',
    code: `upstream_${kind}_timeout`,
    retryable: false,
  });
}

export function isTimeout(error: unknown): boolean {
  return error instanceof GatewayError && error.type === 'timeout_error';
}
