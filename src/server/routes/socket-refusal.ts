import { GatewayError } from '../../protocol/gateway-error.ts';
import type { RefusalLog, RefusalReason } from '../refusal-log.ts';

/**
 * A platform socket refused at the upgrade, before any call data: an HTTP 401 (no valid secret or
 * signature) or 403 (an address not allowed) in OpenAI shape. Logged (rate-limited) with the
 * platform and the address, never the path (it may carry the secret).
 */
export function socketRefusal(
  refusals: RefusalLog | undefined,
  reason: RefusalReason,
  details: { platform: string; address: string | undefined; status: 401 | 403; message: string; hint: string },
): GatewayError {
  refusals?.refused(reason, details.hint, { platform: details.platform, address: details.address });
  return new GatewayError(details.message, {
    status: details.status,
    type: details.status === 401 ? 'authentication_error' : 'permission_error',
    code: reason,
  });
}
