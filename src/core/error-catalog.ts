import { GatewayError, type OpenAIErrorType, type ProviderFailure } from './gateway-error.ts';

/**
 * Every error the gateway can answer with, one entry per `code`: its HTTP status, its OpenAI
 * `type` and the message it says. Errors are made here (`gatewayError('model_not_found', {...})`)
 * and nowhere else, so a code always has the same status and type, and docs/errors.md (checked
 * against this table by test/core/error-catalog.test.ts) lists them all.
 */

/** One status; or the few a code may take (the first is the usual one); or any client error. */
export type StatusSpec = number | readonly [number, ...number[]] | '4xx';

/** What a code may set from its parameters besides the message. */
interface Details {
  status?: number;
  param?: string | null;
  retryAfterSeconds?: number | undefined;
  retryable?: boolean;
}

interface ErrorSpec<P> {
  status: StatusSpec;
  type: OpenAIErrorType;
  message: (params: P) => string;
  /** Whether trying again (or another provider) may succeed; false unless said. */
  retryable?: boolean;
  /** Seconds for Retry-After, when the code always has the same. */
  retryAfterSeconds?: number;
  details?: (params: P) => Details;
}

function spec<P = void>(entry: ErrorSpec<P>): ErrorSpec<P> {
  return entry;
}

/** Where a key was presented: each says which key it wants. */
export type KeyRealm = 'chat' | 'admin' | 'metrics' | 'console';
/** How a presented key failed. */
export type AuthFailure = 'missing_api_key' | 'malformed_authorization' | 'wrong_api_key';

const MALFORMED_AUTHORIZATION = 'Malformed Authorization header: expected "Bearer <key>".';
const WRONG_CHAT_KEY =
  "Incorrect API key provided. The console's API-KEY must be one of the gateway's keys (server.apiKeys), not the model provider's key.";

const KEY_MESSAGES: Readonly<Record<KeyRealm, Readonly<Record<AuthFailure, string>>>> = {
  chat: {
    missing_api_key: 'Missing API key: send "Authorization: Bearer <key>" (the API-KEY field of the workflow console).',
    malformed_authorization: MALFORMED_AUTHORIZATION,
    wrong_api_key: WRONG_CHAT_KEY,
  },
  admin: {
    missing_api_key:
      'Missing admin key: send "Authorization: Bearer <admin key>" (admin.apiKeys, or the admin-key file in server.dataDir).',
    malformed_authorization: MALFORMED_AUTHORIZATION,
    wrong_api_key: 'Incorrect admin key provided. Use one of admin.apiKeys, or the admin-key file in server.dataDir (not a chat API key).',
  },
  metrics: {
    missing_api_key: 'Missing metrics key: send "Authorization: Bearer <key>".',
    malformed_authorization: MALFORMED_AUTHORIZATION,
    wrong_api_key: 'Incorrect metrics key provided.',
  },
  console: {
    missing_api_key: 'Wrong admin key.',
    malformed_authorization: 'Wrong admin key.',
    wrong_api_key: 'Wrong admin key.',
  },
};

/** The WebSocket platforms, as their messages name them. */
const SOCKET_PLATFORMS = { retell: 'Retell', twilio: 'Twilio' } as const;
export type SocketPlatform = keyof typeof SOCKET_PLATFORMS;

/** An upstream provider, as messages name it. */
function upstream(provider: string | undefined): string {
  return provider ? `Upstream provider "${provider}"` : 'The upstream provider';
}

const withDetail = (detail: string | undefined) => (detail === undefined ? '' : `: ${detail}`);

/** Which of a provider's time budgets ran out (the `upstream_<kind>_timeout` codes). */
export type TimeoutKind = 'first_token' | 'idle' | 'total';
const timeout = (description: string) =>
  spec<{ provider: string; ms: number }>({
    status: 504,
    type: 'timeout_error',
    message: ({ provider, ms }) => `Provider "${provider}" ${description} within ${ms} ms.`,
  });

export const ERROR_CATALOG = {
  // --- The request -------------------------------------------------------------------------
  invalid_json: spec<{ of: 'request' | 'callback'; empty: boolean }>({
    status: 400,
    type: 'invalid_request_error',
    message: ({ of, empty }) =>
      of === 'request'
        ? empty
          ? 'The request body is empty: send a JSON chat-completion request.'
          : 'The request body is not valid JSON.'
        : empty
          ? 'The callback body is empty: expected a JSON object.'
          : 'The callback body is not valid JSON.',
  }),
  invalid_body: spec({ status: 400, type: 'invalid_request_error', message: () => 'The request body must be a JSON object.' }),
  invalid_request: spec<{ detail: string; param?: string; playground?: boolean }>({
    status: 400,
    type: 'invalid_request_error',
    message: ({ detail, param, playground }) =>
      playground ? `Invalid playground turn: ${detail}.` : param ? `Invalid request: ${param}: ${detail}` : `Invalid request: ${detail}`,
    details: ({ param }) => ({ param: param || null }),
  }),
  unsupported_value: spec({
    status: 400,
    type: 'invalid_request_error',
    message: () => 'Only n=1 is supported: a voice call speaks one answer.',
    details: () => ({ param: 'n' }),
  }),
  too_deeply_nested: spec<{ maxDepth: number }>({
    status: 400,
    type: 'invalid_request_error',
    message: ({ maxDepth }) => `The request body nests objects or arrays more than ${maxDepth} levels deep.`,
  }),
  request_not_serializable: spec({
    status: 400,
    type: 'invalid_request_error',
    message: () => 'The request cannot be sent upstream: it is nested too deeply (or otherwise not serialisable as JSON).',
  }),
  invalid_content_length: spec({
    status: 400,
    type: 'invalid_request_error',
    message: () => 'The Content-Length header does not match the body.',
  }),
  invalid_url: spec({ status: 400, type: 'invalid_request_error', message: () => 'The URL is not valid (broken percent-encoding).' }),
  malformed_request: spec({ status: 400, type: 'invalid_request_error', message: () => 'The HTTP request is malformed.' }),
  /** Any other client error the HTTP framework reports, with its own status and words. */
  bad_request: spec<{ status: number; message: string | undefined }>({
    status: '4xx',
    type: 'invalid_request_error',
    message: ({ message }) => message ?? 'Bad request.',
    details: ({ status }) => ({ status }),
  }),
  request_timeout: spec({
    status: 408,
    type: 'invalid_request_error',
    message: () => 'The request was not received in time (server.limits.requestTimeoutMs).',
  }),
  request_too_large: spec({
    status: 413,
    type: 'invalid_request_error',
    message: () => 'The request body is larger than the server accepts (server.bodyLimitBytes).',
  }),
  unsupported_media_type: spec({
    status: 415,
    type: 'invalid_request_error',
    message: () => 'Unsupported Content-Type: send the body as application/json.',
  }),
  headers_too_large: spec({ status: 431, type: 'invalid_request_error', message: () => 'The request headers are too large.' }),

  // --- Keys and access ---------------------------------------------------------------------
  invalid_api_key: spec<{ realm: KeyRealm; failure: AuthFailure }>({
    status: 401,
    type: 'authentication_error',
    message: ({ realm, failure }) => KEY_MESSAGES[realm][failure],
  }),
  not_signed_in: spec({ status: 401, type: 'authentication_error', message: () => 'Sign in to the console first.' }),
  invalid_callback_token: spec<{ missing: boolean }>({
    status: 401,
    type: 'authentication_error',
    message: ({ missing }) =>
      missing ? 'Missing callback token: the platform sends it in the Authorization header.' : 'Incorrect callback token.',
  }),
  wrong_platform_secret: spec<{ platform: 'retell' }>({
    status: 401,
    type: 'authentication_error',
    message: ({ platform }) => `Unknown ${SOCKET_PLATFORMS[platform]} socket address: the path must hold platforms.${platform}.secret.`,
  }),
  bad_signature: spec({
    status: 401,
    type: 'authentication_error',
    message: () => 'The X-Twilio-Signature header does not sign this URL with the configured Auth Token.',
  }),
  address_not_allowed: spec<{ platform: SocketPlatform }>({
    status: 403,
    type: 'permission_error',
    message: ({ platform }) => `This address may not open ${SOCKET_PLATFORMS[platform]} calls.`,
  }),
  csrf: spec<{ header: string }>({
    status: 403,
    type: 'permission_error',
    message: ({ header }) => `Console requests must carry "${header}: 1".`,
  }),
  too_many_sign_ins: spec<{ retryAfterSeconds: number }>({
    status: 429,
    type: 'rate_limit_error',
    message: () => 'Too many failed sign-ins from this address; try again later.',
    details: ({ retryAfterSeconds }) => ({ retryAfterSeconds }),
  }),

  // --- Routes and what they name -----------------------------------------------------------
  unknown_route: spec<{ method: string; path: string; hint?: string | undefined } | { consoleFile: string }>({
    status: 404,
    type: 'invalid_request_error',
    message: (params) =>
      'consoleFile' in params
        ? `No console file ${JSON.stringify(params.consoleFile)}.`
        : `Unknown route ${params.method} ${params.path}. The chat endpoint is POST /v1/chat/completions${params.hint ? `; ${params.hint}` : ''}.`,
  }),
  method_not_allowed: spec<{ method: string; url: string; allowed: readonly string[] }>({
    status: 405,
    type: 'invalid_request_error',
    message: ({ method, url, allowed }) => `Method ${method} is not allowed on ${url}; use ${allowed.join(' or ')}.`,
  }),
  model_not_found: spec<{ model: string; available: readonly string[] }>({
    status: 404,
    type: 'invalid_request_error',
    message: ({ model, available }) => `The model "${model}" does not exist. Available models: ${available.join(', ')}.`,
    details: () => ({ param: 'model' }),
  }),
  invalid_call_id: spec({ status: 400, type: 'invalid_request_error', message: () => 'The call id in the path is not a valid call id.' }),
  call_not_found: spec<{ instanceId: string }>({
    status: 404,
    type: 'not_found_error',
    message: ({ instanceId }) => `No call with instance id ${JSON.stringify(instanceId)} is recorded.`,
    details: () => ({ param: 'instanceId' }),
  }),
  /** An admin query parameter: unknown, not what it must be, after `to`, or too long for an id. */
  invalid_parameter: spec<
    | { param: string; unknown: true }
    | { param: string; problem: string }
    | { param: string; after: string }
    | { param: 'instanceId'; maxChars: number }
  >({
    status: 400,
    type: 'invalid_request_error',
    message: (params) =>
      'unknown' in params
        ? `Unknown query parameter ${JSON.stringify(params.param)}.`
        : 'problem' in params
          ? `Invalid query parameter ${JSON.stringify(params.param)}: ${params.problem}.`
          : 'after' in params
            ? `Invalid query parameters: ${JSON.stringify(params.param)} is after ${JSON.stringify(params.after)}.`
            : `instanceId must be at most ${params.maxChars} characters.`,
    details: ({ param }) => ({ param }),
  }),

  // --- Admission and the gateway's state -----------------------------------------------------
  rate_limit_exceeded: spec<{ limit: number; retryAfterSeconds: number }>({
    status: 429,
    type: 'rate_limit_error',
    message: ({ limit, retryAfterSeconds }) =>
      `Rate limit exceeded: this API key may make ${limit} requests per minute. Try again in ${retryAfterSeconds} s.`,
    details: ({ retryAfterSeconds }) => ({ retryAfterSeconds }),
  }),
  too_many_concurrent_streams_for_key: spec<{ limit: number }>({
    status: 429,
    type: 'rate_limit_error',
    message: ({ limit }) => `Too many concurrent streams for this API key (limit ${limit}). Try again when one ends.`,
    retryAfterSeconds: 1,
  }),
  too_many_concurrent_streams: spec<{ limit: number }>({
    status: 429,
    type: 'rate_limit_error',
    message: ({ limit }) => `Too many concurrent streams on this gateway (limit ${limit}). Try again shortly.`,
    retryAfterSeconds: 1,
  }),
  shutting_down: spec({
    status: 503,
    type: 'server_error',
    message: () => 'The gateway is shutting down; try again.',
    retryAfterSeconds: 1,
  }),
  not_ready: spec({ status: 503, type: 'server_error', message: () => 'Not ready for traffic.' }),
  internal_error: spec({
    status: 500,
    type: 'server_error',
    message: () => 'The server had an internal error while processing the request.',
  }),

  // --- A cancelled turn that still answers (see calls/cancellation.ts) ---------------------
  superseded: spec({
    status: 409,
    type: 'invalid_request_error',
    message: () => 'A newer turn of the same call superseded this one (the caller spoke again).',
  }),
  shutdown: spec({ status: 503, type: 'invalid_request_error', message: () => 'The gateway is shutting down.' }),
  /** Recorded only: the client that would read it is gone. */
  client_closed: spec({ status: 499, type: 'invalid_request_error', message: () => 'The client closed the connection.' }),

  // --- IMS callbacks -------------------------------------------------------------------------
  callbacks_disabled: spec<{ path: string }>({
    status: 404,
    type: 'invalid_request_error',
    message: ({ path }) => `The IMS callback endpoint is off: set callbacks.token to receive agent events on POST ${path}.`,
  }),
  invalid_callback: spec({ status: 400, type: 'invalid_request_error', message: () => 'The callback body must be a JSON object.' }),
  too_deep: spec<{ maxDepth: number }>({
    status: 400,
    type: 'invalid_request_error',
    message: ({ maxDepth }) => `The callback body is nested more than ${maxDepth} levels deep.`,
  }),
  missing_event: spec({
    status: 400,
    type: 'invalid_request_error',
    message: () => 'The callback names no event (expected an "event" field).',
  }),
  missing_instance_id: spec({
    status: 400,
    type: 'invalid_request_error',
    message: () => 'The callback names no agent instance (expected an "instanceId" field).',
  }),
  records_unavailable: spec({
    status: 503,
    type: 'server_error',
    message: () => 'The call records are unavailable; retry the callback later.',
    retryable: true,
  }),

  // --- The console -------------------------------------------------------------------------
  playground_failed: spec<{ reason: string }>({
    status: 502,
    type: 'server_error',
    message: ({ reason }) => `The chat API did not answer: ${reason}`,
  }),

  // --- Upstream providers (detail: the upstream's own words, already cleaned) ----------------
  no_provider: spec({ status: 500, type: 'server_error', message: () => 'No provider is configured for this agent.' }),
  circuit_open: spec<{ provider: string; retryInMs: number }>({
    status: 503,
    type: 'upstream_error',
    message: ({ provider }) => `Provider "${provider}" is failing and is skipped for now (circuit open).`,
    details: ({ retryInMs }) => ({ retryAfterSeconds: Math.max(1, Math.ceil(retryInMs / 1000)) }),
  }),
  upstream_unreachable: spec<{ provider?: string | undefined; reason: string }>({
    status: 502,
    type: 'upstream_error',
    message: ({ provider, reason }) => `${upstream(provider)} could not be reached (${reason})`,
    retryable: true,
  }),
  upstream_timeout: spec<{ provider?: string | undefined; errorCode: string }>({
    status: 504,
    type: 'timeout_error',
    message: ({ provider, errorCode }) => `${upstream(provider)} did not answer in time (${errorCode})`,
    retryable: true,
  }),
  upstream_rate_limited: spec<{ provider?: string | undefined; detail?: string | undefined; retryAfterSeconds?: number | undefined }>({
    status: 429,
    type: 'rate_limit_error',
    message: ({ provider, detail }) => `${upstream(provider)} is rate limiting requests (HTTP 429)${withDetail(detail)}`,
    retryable: true,
    details: ({ retryAfterSeconds }) => ({ retryAfterSeconds }),
  }),
  upstream_auth_failed: spec<{ provider?: string | undefined; httpStatus: number }>({
    status: 502,
    type: 'upstream_error',
    // The upstream's own text may quote (part of) the key: it is left out.
    message: ({ provider, httpStatus }) =>
      `${upstream(provider)} rejected the gateway's credentials (HTTP ${httpStatus}); check the provider's apiKey (and headers) in the gateway config`,
  }),
  upstream_rejected_request: spec<{ provider?: string | undefined; httpStatus: number; detail?: string | undefined }>({
    status: [400, 413],
    type: 'invalid_request_error',
    message: ({ provider, httpStatus, detail }) => detail ?? `${upstream(provider)} rejected the request (HTTP ${httpStatus})`,
    details: ({ httpStatus }) => ({ status: httpStatus === 413 ? 413 : 400 }),
  }),
  upstream_not_found: spec<{ provider?: string | undefined; detail?: string | undefined }>({
    status: 502,
    type: 'upstream_error',
    message: ({ provider, detail }) =>
      `${upstream(provider)} answered HTTP 404 (not found); check the provider's baseUrl and the agent's model${withDetail(detail)}`,
  }),
  upstream_error: spec<
    | { provider?: string | undefined; httpStatus: number; detail?: string | undefined; retryAfterSeconds?: number | undefined }
    | { provider?: string | undefined; midStream: true; detail?: string | undefined }
  >({
    status: 502,
    type: 'upstream_error',
    message: (params) =>
      'midStream' in params
        ? `${upstream(params.provider)} reported an error mid-stream${withDetail(params.detail)}`
        : `${upstream(params.provider)} failed with HTTP ${params.httpStatus}${withDetail(params.detail)}`,
    details: (params) => {
      if ('midStream' in params) return {};
      // A timeout or the provider's own failure may pass; anything else will not.
      const retryable = params.httpStatus === 408 || (params.httpStatus >= 500 && params.httpStatus <= 599);
      return { retryable, retryAfterSeconds: retryable ? params.retryAfterSeconds : undefined };
    },
  }),
  upstream_stream_broken: spec<{ provider?: string | undefined; detail: string }>({
    status: 502,
    type: 'upstream_error',
    message: ({ provider, detail }) => `${upstream(provider)} stream broke off: ${detail}`,
    retryable: true,
  }),
  upstream_first_token_timeout: timeout('sent no first word'),
  upstream_idle_timeout: timeout('went silent mid-answer for longer than'),
  upstream_total_timeout: timeout('did not finish its answer'),
};

type Catalog = typeof ERROR_CATALOG;
export type ErrorCode = keyof Catalog;
type ParamsOf<C extends ErrorCode> = Parameters<Catalog[C]['message']>[0];

/** What the place that makes an error may add: where it came from, which attempts failed. */
export interface ErrorExtras {
  cause?: unknown;
  /** Each provider's failure, when the error ends a turn whose every provider failed. */
  failures?: readonly ProviderFailure[];
}

type Args<C extends ErrorCode> =
  undefined extends ParamsOf<C> ? [params?: ParamsOf<C>, extras?: ErrorExtras] : [params: ParamsOf<C>, extras?: ErrorExtras];

/** The catalog's error for `code`, with its message said for `params`. */
export function gatewayError<C extends ErrorCode>(code: C, ...[params, extras]: Args<C>): GatewayError {
  const entry = ERROR_CATALOG[code] as ErrorSpec<ParamsOf<C> | undefined>;
  const details = entry.details?.(params) ?? {};
  const retryAfterSeconds = details.retryAfterSeconds ?? entry.retryAfterSeconds;
  return new GatewayError(entry.message(params), {
    status: details.status ?? usualStatus(entry.status),
    type: entry.type,
    code,
    param: details.param ?? null,
    retryable: details.retryable ?? entry.retryable ?? false,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    ...(extras?.cause === undefined ? {} : { cause: extras.cause }),
    ...(extras?.failures === undefined ? {} : { failures: extras.failures }),
  });
}

/** The status a code answers with (the first of several; 400 for any client error). */
export function errorStatus(code: ErrorCode): number {
  return usualStatus(ERROR_CATALOG[code].status);
}

function usualStatus(status: StatusSpec): number {
  return status === '4xx' ? 400 : typeof status === 'number' ? status : status[0];
}

/** A code's status as the docs write it: `502`, `400, 413`, `4xx`. */
export function statusText(status: StatusSpec): string {
  return typeof status === 'string' ? status : typeof status === 'number' ? String(status) : status.join(', ');
}
