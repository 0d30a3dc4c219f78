import { GatewayError } from '../core/gateway-error.ts';

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/**
 * Turns anything thrown while handling a request into the OpenAI-shaped error the client sees.
 * Framework errors about the client's input keep their 4xx status with a clear message; anything
 * unexpected becomes a bare 500 (never a stack trace on the wire).
 */
export function toClientError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const framework = (error ?? {}) as FrameworkError;
  switch (framework.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return clientError(415, 'unsupported_media_type', 'Unsupported Content-Type: send the body as application/json.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return clientError(413, 'request_too_large', 'The request body is larger than the server accepts (server.bodyLimitBytes).');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return clientError(400, 'invalid_json', 'The request body is empty: send a JSON chat-completion request.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return clientError(400, 'invalid_json', 'The request body is not valid JSON.');
    case 'FST_ERR_BAD_URL':
      return clientError(400, 'invalid_url', 'The URL is not valid (broken percent-encoding).');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return clientError(400, 'invalid_content_length', 'The Content-Length header does not match the body.');
  }
  const status = framework.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (error instanceof SyntaxError) return clientError(400, 'invalid_json', 'The request body is not valid JSON.');
    return clientError(status, 'bad_request', framework.message ?? 'Bad request.');
  }
  return new GatewayError('The server had an internal error while processing the request.', {
    status: 500,
    type: 'server_error',
    code: 'internal_error',
    cause: error,
  });
}

function clientError(status: number, code: string, message: string): GatewayError {
  return new GatewayError(message, { status, type: 'invalid_request_error', code });
}
