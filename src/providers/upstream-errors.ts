/**
 * Maps upstream failures (HTTP statuses, connection errors, broken streams) to the catalog's
 * errors (core/error-catalog.ts):
 *
 * | upstream failure                         | status | type                  | code                      | retryable |
 * |------------------------------------------|--------|-----------------------|---------------------------|-----------|
 * | connection refused / DNS / socket error  | 502    | upstream_error        | upstream_unreachable      | yes       |
 * | connect or response-headers timeout      | 504    | timeout_error         | upstream_timeout          | yes       |
 * | 429                                      | 429    | rate_limit_error      | upstream_rate_limited     | yes       |
 * | 401, 403                                 | 502    | upstream_error        | upstream_auth_failed      | no        |
 * | 400, 422                                 | 400    | invalid_request_error | upstream_rejected_request | no        |
 * | 413                                      | 413    | invalid_request_error | upstream_rejected_request | no        |
 * | 404                                      | 502    | upstream_error        | upstream_not_found        | no        |
 * | 408, 5xx                                 | 502    | upstream_error        | upstream_error            | yes       |
 * | any other status                         | 502    | upstream_error        | upstream_error            | no        |
 * | stream ended or broke before a finish    | 502    | upstream_error        | upstream_stream_broken    | yes       |
 * | `{"error":...}` inside the SSE stream     | 502    | upstream_error        | upstream_error            | no        |
 *
 * Messages never contain API keys or request headers; upstream-provided text is truncated and
 * anything that looks like a secret is redacted.
 */

import { gatewayError } from '../core/error-catalog.ts';
import { GatewayError } from '../core/gateway-error.ts';

/** Response headers as undici and node:http expose them. */
export type UpstreamHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** How much upstream-provided text an error message may carry. */
export const MAX_UPSTREAM_MESSAGE_CHARS = 500;

/** Replaces things that look like credentials (Bearer tokens, sk-... keys) with a placeholder. */
export function redactSecrets(text: string): string {
  return text.replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi, '$1 [redacted]').replace(/\bsk-[A-Za-z0-9_*-]{8,}/g, 'sk-[redacted]');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Upstream-provided text made safe to show: single line, redacted, truncated. */
function clean(text: string, max = MAX_UPSTREAM_MESSAGE_CHARS): string {
  return truncate(redactSecrets(text.replace(/\s+/g, ' ').trim()), max);
}

function headerValue(headers: UpstreamHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Seconds to wait from a Retry-After value (delta-seconds or an HTTP date), or undefined when
 * absent or unparseable. Fractions round up; dates in the past give 0.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed));
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** Retry-After, or OpenAI's `retry-after-ms` when only that is present. */
function retryAfterFromHeaders(headers: UpstreamHeaders): number | undefined {
  const seconds = parseRetryAfter(headerValue(headers, 'retry-after'));
  if (seconds !== undefined) return seconds;
  const ms = headerValue(headers, 'retry-after-ms');
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms) / 1000);
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The human-readable message inside an upstream error value: `{"error":{"message":...}}`,
 * `{"error":"..."}`, `{"message":...}`, `{"detail":...}` (FastAPI / vLLM), or a plain string.
 */
export function messageFromErrorValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (Array.isArray(value)) return messageFromErrorValue(value[0]);
  if (!isRecord(value)) return undefined;
  if ('error' in value && value.error !== undefined && value.error !== null) {
    const inner = messageFromErrorValue(value.error);
    if (inner !== undefined) return inner;
  }
  for (const key of ['message', 'msg', 'detail', 'error_msg', 'errorMessage']) {
    const inner = value[key];
    if (typeof inner === 'string' && inner.trim() !== '') return inner;
    if (isRecord(inner) || Array.isArray(inner)) {
      const nested = messageFromErrorValue(inner);
      if (nested !== undefined) return nested;
    }
  }
  return undefined;
}

/** The upstream's error message from a response body (JSON or plain text), cleaned for display. */
export function upstreamMessage(bodyText: string): string | undefined {
  const trimmed = bodyText.trim();
  if (trimmed === '') return undefined;
  let message: string | undefined;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      message = messageFromErrorValue(JSON.parse(trimmed) as unknown);
    } catch {
      message = undefined;
    }
  }
  // An HTML error page (proxies, gateways) says nothing useful.
  if (message === undefined && !/^<(!doctype|html)/i.test(trimmed)) message = trimmed;
  return message === undefined ? undefined : clean(message);
}

/** Maps a non-2xx upstream response to a GatewayError. `bodyText` is at most a few KiB of its body. */
export function errorFromUpstreamResponse(status: number, headers: UpstreamHeaders, bodyText: string, providerName?: string): GatewayError {
  const provider = providerName;
  const detail = upstreamMessage(bodyText);
  if (status === 429) return gatewayError('upstream_rate_limited', { provider, detail, retryAfterSeconds: retryAfterFromHeaders(headers) });
  if (status === 401 || status === 403) return gatewayError('upstream_auth_failed', { provider, httpStatus: status });
  // Caused by the request (bad parameters, context overflow, a body too large), not by the provider.
  if (status === 400 || status === 413 || status === 422)
    return gatewayError('upstream_rejected_request', { provider, httpStatus: status, detail });
  if (status === 404) return gatewayError('upstream_not_found', { provider, detail });
  return gatewayError('upstream_error', { provider, httpStatus: status, detail, retryAfterSeconds: retryAfterFromHeaders(headers) });
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The `code` of an error or of its (nested) cause, e.g. ECONNREFUSED or UND_ERR_SOCKET. */
export function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && isRecord(current); depth++) {
    const code = current.code;
    if (typeof code === 'string' && code !== '') return code;
    // AggregateError (happy eyeballs): take the first inner error's code.
    if (Array.isArray(current.errors)) {
      const inner = errorCode(current.errors[0]);
      if (inner !== undefined) return inner;
    }
    current = current.cause;
  }
  return undefined;
}

/**
 * Maps a failure to reach the upstream (or a failure of its socket before the response headers)
 * to a GatewayError. Aborts are not connection failures: check the signal before calling this.
 */
export function errorFromConnectionFailure(err: unknown, providerName?: string): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = errorCode(err);
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return gatewayError('upstream_timeout', { provider: providerName, errorCode: code }, { cause: err });
  }
  const reason = code ?? (err instanceof Error ? clean(err.message, 200) : 'unknown error');
  return gatewayError('upstream_unreachable', { provider: providerName, reason }, { cause: err });
}

/** The upstream's stream ended or broke before it said it had finished. */
export function streamBrokenError(detail: string, cause?: unknown, providerName?: string): GatewayError {
  return gatewayError('upstream_stream_broken', { provider: providerName, detail: clean(detail, 300) }, { cause });
}

/** An `{"error": ...}` object sent inside an otherwise successful SSE stream. */
export function errorFromStreamErrorObject(error: unknown, providerName?: string): GatewayError {
  const detail = messageFromErrorValue(error);
  return gatewayError('upstream_error', {
    provider: providerName,
    midStream: true,
    detail: detail === undefined ? undefined : clean(detail),
  });
}
