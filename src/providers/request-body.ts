import { gatewayError } from '../core/error-catalog.ts';

/**
 * The upstream request body as JSON. Serialising can fail only because of what the request holds
 * (nesting deep enough to overflow the stack): that is the client's mistake, reported as a 400
 * before any upstream is tried, never as an unreachable provider to retry.
 */
export function serializeRequestBody(body: Readonly<Record<string, unknown>>): string {
  try {
    return JSON.stringify(body);
  } catch (error) {
    throw gatewayError('request_not_serializable', undefined, { cause: error });
  }
}
