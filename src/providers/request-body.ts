import { GatewayError } from '../core/gateway-error.ts';

/**
 * The upstream request body as JSON. Serialising can fail only because of what the request holds
 * (nesting deep enough to overflow the stack): that is the client's mistake, reported as a 400
 * before any upstream is tried, never as an unreachable provider to retry.
 */
export function serializeRequestBody(body: Readonly<Record<string, unknown>>): string {
  try {
    return JSON.stringify(body);
  } catch (error) {
    throw new GatewayError('The request cannot be sent upstream: it is nested too deeply (or otherwise not serialisable as JSON).', {
      status: 400,
      type: 'invalid_request_error',
      code: 'request_not_serializable',
      cause: error,
    });
  }
}
