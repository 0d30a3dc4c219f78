/**
 * Every error that reaches a client, in OpenAI's shape:
 * `{"error":{"message","type","param","code"}}`. Thrown anywhere in the pipeline; the HTTP layer
 * turns it into a response (before the stream starts) or a clean stream end (after).
 */

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'upstream_error'
  | 'timeout_error'
  | 'server_error';

export interface GatewayErrorOptions {
  status: number;
  type: OpenAIErrorType;
  code: string;
  param?: string | null;
  /** Seconds, passed to the client as a Retry-After header. */
  retryAfterSeconds?: number;
  /** Whether trying again (or another provider) may succeed. */
  retryable?: boolean;
  cause?: unknown;
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: OpenAIErrorType;
  readonly code: string;
  readonly param: string | null;
  readonly retryAfterSeconds: number | undefined;
  readonly retryable: boolean;

  constructor(message: string, options: GatewayErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.status = options.status;
    this.type = options.type;
    this.code = options.code;
    this.param = options.param ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.retryable = options.retryable ?? false;
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function openAIErrorBody(message: string, type: OpenAIErrorType, code: string, param: string | null = null): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}
