import { gatewayError, type SocketPlatform } from '../../core/error-catalog.ts';
import type { GatewayError } from '../../core/gateway-error.ts';
import type { RefusalLog } from '../refusal-log.ts';

/** Why a platform socket was refused, and whose. */
export type SocketRefusalReason =
  | { reason: 'address_not_allowed'; platform: SocketPlatform }
  | { reason: 'wrong_platform_secret'; platform: 'retell' }
  | { reason: 'bad_signature'; platform: 'twilio' };

/**
 * A platform socket refused at the upgrade, before any call data: the catalog's 401 (no valid
 * secret or signature) or 403 (an address not allowed), in OpenAI shape. Logged (rate-limited)
 * with the platform and the address, never the path (it may carry the secret).
 */
export function socketRefusal(
  refusals: RefusalLog | undefined,
  refusal: SocketRefusalReason,
  details: { address: string | undefined; hint: string },
): GatewayError {
  refusals?.refused(refusal.reason, details.hint, { platform: refusal.platform, address: details.address });
  switch (refusal.reason) {
    case 'address_not_allowed':
      return gatewayError('address_not_allowed', { platform: refusal.platform });
    case 'wrong_platform_secret':
      return gatewayError('wrong_platform_secret', { platform: refusal.platform });
    case 'bad_signature':
      return gatewayError('bad_signature');
  }
}
