/**
 * Every error that reaches a client, in OpenAI's shape:
 * `{"error":{"message","type","param","code"}}`. Thrown anywhere in the pipeline; the HTTP layer
 * turns it into a response (before the stream starts) or a clean stream end (after). Made by the
 * error catalog (error-catalog.ts), which gives each code its status, type and message.
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
  /** Each provider's failure, when this error ends a turn whose every provider failed. */
  failures?: readonly ProviderFailure[];
}

/**
 * Why one provider (a target of the agent's chain) failed, for logs and records: its name, model,
 * and its error's code, status and message (messages carry no keys and only cleaned upstream text).
 */
export interface ProviderFailure {
  provider: string;
  model: string | undefined;
  code: string;
  status: number;
  message: string;
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
  readonly failures: readonly ProviderFailure[] | undefined;

  constructor(message: string, options: GatewayErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.status = options.status;
    this.type = options.type;
    this.code = options.code;
    this.param = options.param ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.retryable = options.retryable ?? false;
    this.failures = options.failures;
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  /** The same error for the client, carrying each provider's failure for logs and records (caused by this one). */
  withFailures(failures: readonly ProviderFailure[]): GatewayError {
    return new GatewayError(this.message, {
      status: this.status,
      type: this.type,
      code: this.code,
      param: this.param,
      retryable: this.retryable,
      ...(this.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: this.retryAfterSeconds }),
      cause: this,
      failures,
    });
  }
}
