import { cancellationKind } from '../calls/cancellation.ts';
import { gatewayError } from '../core/error-catalog.ts';
import { GatewayError } from '../core/gateway-error.ts';

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/**
 * Turns anything thrown while handling a request into the OpenAI-shaped error the client sees.
 * Framework errors about the client's input keep their 4xx status with a clear message; a
 * cancelled turn that must still answer gets its cancellation's error; anything unexpected
 * becomes a bare 500 (never a stack trace on the wire).
 */
export function toClientError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const cancelled = cancellationKind(error);
  if (cancelled !== undefined) return gatewayError(cancelled);
  const framework = (error ?? {}) as FrameworkError;
  switch (framework.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return gatewayError('unsupported_media_type');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return gatewayError('request_too_large');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return gatewayError('invalid_json', { of: 'request', empty: true });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return gatewayError('invalid_json', { of: 'request', empty: false });
    case 'FST_ERR_BAD_URL':
      return gatewayError('invalid_url');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return gatewayError('invalid_content_length');
  }
  const status = framework.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (error instanceof SyntaxError) return gatewayError('invalid_json', { of: 'request', empty: false });
    return gatewayError('bad_request', { status, message: framework.message });
  }
  return gatewayError('internal_error', undefined, { cause: error });
}
