/**
 * Runs an agent's HTTP tool: the model called one of the business's declared functions; the
 * gateway calls the business's endpoint and hands the answer back to the model in the same turn.
 *
 * What the business's endpoint receives:
 *
 * | method              | arguments                                        | call context                 |
 * |---------------------|--------------------------------------------------|------------------------------|
 * | GET, DELETE         | query parameters (objects/arrays JSON-encoded,   | `x-voice-*` headers          |
 * |                     | null left out), added to the URL's own query     |                              |
 * |                     | (whose parameters win over same-named arguments) |                              |
 * | POST, PUT, PATCH    | JSON body `{"arguments": {...}, "call": {...}}`  | the body's `call` and the    |
 * |                     |                                                  | `x-voice-*` headers          |
 *
 * Headers: `x-voice-instance-id`, `x-voice-channel-id`, `x-voice-sentence-id`,
 * `x-voice-caller-number`, `x-voice-callee-number` (each only when known; values that are not
 * printable ASCII are percent-encoded), plus the tool's configured headers (secrets: never put
 * in a result, an error message or a log).
 *
 * Every tool failure becomes a result the model can read and act on (`ok: false` with a short
 * `Error: ...` text): invalid arguments, timeouts, non-2xx answers, unreachable endpoints. The one
 * exception: when the caller's signal aborts (barge-in, client gone), `runHttpTool` throws the
 * signal's reason, because nobody is left to read a result.
 */

import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import type { HttpToolConfig } from '../../config/schema.ts';
import type { CallMetadata } from '../../protocol/extend-data.ts';
import type { FunctionToolDefinition } from '../../core/chat-types.ts';
import { errorCode, redactSecrets } from '../../providers/upstream-errors.ts';

/** What the tool learns about the call it serves. */
export interface ToolCallContext {
  instanceId?: string;
  channelId?: string;
  callerNumber?: string;
  calleeNumber?: string;
  /** userData parsed as JSON. */
  userData?: unknown;
  /** userData as the workflow sent it. */
  userDataRaw?: string;
  sentenceId?: number;
}

/**
 * Why a tool call failed. `runHttpTool` never returns 'aborted' (it throws the caller's abort
 * reason instead); the kind exists for callers recording a run that was cut short.
 */
export type ToolErrorKind = 'timeout' | 'http_error' | 'network_error' | 'invalid_arguments' | 'aborted';

export interface ToolResult {
  ok: boolean;
  /** What the model sees, size-capped. */
  content: string;
  /** The endpoint's HTTP status, when it answered. */
  status?: number;
  durationMs: number;
  error?: ToolErrorKind;
}

/** Appended to a result cut to `maxResultChars`. */
export const TRUNCATION_MARKER = '…[truncated]';

/** Characters of a non-2xx answer's body quoted to the model. */
export const ERROR_BODY_CHARS = 300;

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The OpenAI `tools[]` entry the model sees for this tool. */
export function toolDefinition(tool: HttpToolConfig): FunctionToolDefinition {
  return {
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  };
}

/** The tool's view of the call, from the request's call metadata. */
export function toolCallContext(metadata: CallMetadata): ToolCallContext {
  const context: ToolCallContext = {};
  if (metadata.instanceId !== undefined) context.instanceId = metadata.instanceId;
  if (metadata.channelId !== undefined) context.channelId = metadata.channelId;
  if (metadata.callerNumber !== undefined) context.callerNumber = metadata.callerNumber;
  if (metadata.calleeNumber !== undefined) context.calleeNumber = metadata.calleeNumber;
  if (metadata.sentenceId !== undefined) context.sentenceId = metadata.sentenceId;
  if (metadata.userData !== undefined) context.userData = metadata.userData;
  if (metadata.userDataRaw !== undefined) context.userDataRaw = metadata.userDataRaw;
  return context;
}

let sharedAgent: Agent | undefined;

/** The keep-alive connection pool used when `runHttpTool` is given no dispatcher. */
function defaultDispatcher(): Agent {
  sharedAgent ??= new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 });
  return sharedAgent;
}

/** Closes the shared connection pool (at shutdown); a later tool call opens a new one. */
export async function closeHttpToolDispatcher(): Promise<void> {
  const agent = sharedAgent;
  sharedAgent = undefined;
  await agent?.close();
}

/**
 * Calls the tool's endpoint with the model's arguments (a JSON object as text; empty means `{}`).
 * Resolves with a result for every tool failure; rejects only with `signal.reason` when `signal`
 * aborts.
 */
export async function runHttpTool(
  tool: HttpToolConfig,
  argumentsJson: string,
  context: ToolCallContext,
  signal: AbortSignal,
  dispatcher?: Dispatcher,
): Promise<ToolResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  if (signal.aborted) throw signal.reason;

  const parsed = parseArguments(argumentsJson);
  if (!parsed.ok) {
    return { ok: false, error: 'invalid_arguments', content: parsed.message, durationMs: elapsed() };
  }

  const timeout = AbortSignal.timeout(tool.timeoutMs);
  const overall = AbortSignal.any([signal, timeout]);
  const timedOut = (): ToolResult => ({
    ok: false,
    error: 'timeout',
    content: `Error: the tool did not answer within ${tool.timeoutMs} ms.`,
    durationMs: elapsed(),
  });

  const withBody = tool.method === 'POST' || tool.method === 'PUT' || tool.method === 'PATCH';
  const headers = requestHeaders(tool, context, withBody);
  let response: Dispatcher.ResponseData;
  try {
    response = await undiciRequest(withBody ? tool.url : urlWithQuery(tool.url, parsed.value), {
      dispatcher: dispatcher ?? defaultDispatcher(),
      method: tool.method,
      headers,
      ...(withBody ? { body: JSON.stringify({ arguments: parsed.value, call: callBody(context) }) } : {}),
      headersTimeout: tool.timeoutMs,
      bodyTimeout: tool.timeoutMs,
      signal: overall,
    });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (timeout.aborted || isTimeoutError(err)) return timedOut();
    return {
      ok: false,
      error: 'network_error',
      content: `Error: the tool could not be reached (${failureReason(err)}).`,
      durationMs: elapsed(),
    };
  }

  const { statusCode: status, body } = response;
  const success = status >= 200 && status <= 299;
  const limitBytes = success ? tool.maxResultChars * 4 : ERROR_BODY_CHARS * 4;
  let read: { text: string; complete: boolean };
  try {
    read = await readLimited(body, limitBytes);
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (timeout.aborted || isTimeoutError(err)) return timedOut();
    return {
      ok: false,
      error: 'network_error',
      status,
      content: `Error: the connection to the tool broke while it was answering (${failureReason(err)}).`,
      durationMs: elapsed(),
    };
  }

  if (!success) {
    const detail = redactSecrets(read.text.replace(/\s+/g, ' ').trim());
    const quoted = detail === '' ? '' : `: ${cut(detail, ERROR_BODY_CHARS)}`;
    return {
      ok: false,
      error: 'http_error',
      status,
      content: `Error: the tool answered HTTP ${status}${quoted}`,
      durationMs: elapsed(),
    };
  }

  let content: string;
  if (read.text.trim() === '') {
    content = `The tool succeeded (HTTP ${status}) and returned no content.`;
  } else if (!read.complete || read.text.length > tool.maxResultChars) {
    content = `${cut(read.text, tool.maxResultChars)}${TRUNCATION_MARKER}`;
  } else {
    content = read.text;
  }
  return { ok: true, status, content, durationMs: elapsed() };
}

type ParsedArguments = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

function parseArguments(json: string): ParsedArguments {
  if (json.trim() === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(json) as unknown;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      message: `Error: the arguments were not valid JSON: ${cut(reason, 200)}. Call the function again with a JSON object.`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return {
      ok: false,
      message: `Error: the arguments were not valid JSON: expected a JSON object, got ${got}. Call the function again with a JSON object.`,
    };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Header values must be visible ASCII: anything else (CJK names, control characters) is percent-encoded. */
function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}

function requestHeaders(tool: HttpToolConfig, context: ToolCallContext, withBody: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    accept: 'application/json, text/plain;q=0.9, */*;q=0.8',
    'user-agent': 'voice-llm-gateway',
  };
  for (const [name, value] of Object.entries(tool.headers)) headers[name.toLowerCase()] = value;
  // The gateway's own headers win over configured ones: the body is JSON and the context is the call's.
  if (withBody) headers['content-type'] = 'application/json';
  const voice: Array<[string, string | number | undefined]> = [
    ['x-voice-instance-id', context.instanceId],
    ['x-voice-channel-id', context.channelId],
    ['x-voice-sentence-id', context.sentenceId],
    ['x-voice-caller-number', context.callerNumber],
    ['x-voice-callee-number', context.calleeNumber],
  ];
  for (const [name, value] of voice) {
    if (value !== undefined) headers[name] = headerSafe(String(value));
  }
  return headers;
}

/** The `call` part of a JSON body; userData is the parsed value, or the raw string when it is not JSON. */
function callBody(context: ToolCallContext): Record<string, unknown> {
  return {
    instanceId: context.instanceId,
    channelId: context.channelId,
    sentenceId: context.sentenceId,
    callerNumber: context.callerNumber,
    calleeNumber: context.calleeNumber,
    userData: context.userData !== undefined ? context.userData : context.userDataRaw,
  };
}

/**
 * The tool's URL with the model's arguments added as query parameters. Parameters fixed in the
 * configured URL (an API version, a tenant) are the operator's: an argument of the same name is
 * left out, so the model can neither override nor duplicate them.
 */
function urlWithQuery(base: string, args: Record<string, unknown>): string {
  const url = new URL(base);
  const fixed = new Set(url.searchParams.keys());
  for (const [key, value] of Object.entries(args)) {
    if (value === null || value === undefined || fixed.has(key)) continue;
    url.searchParams.append(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return url.toString();
}

/**
 * At most `limitBytes` of the body as text; `complete` is false when more was (or may have been)
 * left unread. Stops reading there: leaving the loop destroys the body (and its connection).
 */
async function readLimited(body: Dispatcher.ResponseData['body'], limitBytes: number): Promise<{ text: string; complete: boolean }> {
  // Destroying an unfinished undici body reports an 'error': expected here.
  body.on('error', ignore);
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  let complete = true;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const room = limitBytes - size;
    const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
    size += piece.length;
    text += decoder.decode(piece, { stream: true });
    if (size >= limitBytes) {
      complete = false;
      break;
    }
  }
  // A character cut by the byte limit is dropped rather than decoded as U+FFFD.
  if (complete) text += decoder.decode();
  return { text, complete };
}

/** The first `max` UTF-16 units of `text`, never splitting a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

function isTimeoutError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && TIMEOUT_CODES.has(code);
}

/** A short reason without URLs or headers: the error code (ECONNREFUSED, ENOTFOUND, ...) when there is one. */
function failureReason(err: unknown): string {
  const code = errorCode(err);
  if (code !== undefined) return code;
  const message = err instanceof Error ? err.message : '';
  return message === '' ? 'unknown error' : cut(redactSecrets(message.replace(/\s+/g, ' ').trim()), 120);
}

function ignore(): void {}
