/**
 * Property-based fuzzing of the real HTTP server (started once, scripted agent, no upstream).
 *
 * Every case is a raw HTTP request over a keep-alive connection. The rule checked everywhere:
 * bad input gets an OpenAI-shaped 4xx (`{"error":{"message","type","param","code"}}`), never a 5xx,
 * never a stack trace, never a hang, and the server keeps serving.
 *
 * The chat-body properties use a differential oracle: what the server must answer is computed
 * independently from the exact bytes sent (body limit, empty body, JSON syntax, prototype
 * poisoning keys as Fastify's secure-json-parse rejects them, then the request schema). A 200 is
 * accepted only when the oracle says the request is valid, and its stream / completion is checked.
 *
 * Reproduce: FUZZ_SEED=<seed printed at the end or in a failure> node --test test/e2e/fuzz.test.ts
 * Longer runs: FUZZ_SCALE=10 multiplies every numRuns.
 *
 * Inputs that once broke the rule are kept as regression tests at the end (deep userData,
 * broken percent-encoding, malformed HTTP, a non-object image_url); the generators above stay
 * within limits the properties can judge (nesting capped at 2000, encoded paths).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { createParser } from 'eventsource-parser';
import { checkStreamRules } from '../../tools/check/stream-rules.ts';
import { parseChatRequest } from '../../src/protocol/chat-request.ts';
import { GatewayError } from '../../src/core/gateway-error.ts';
import { startTestGateway, TEST_KEY, type TestGateway } from '../support/gateway-harness.ts';

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

const BODY_LIMIT = 256 * 1024;
const CONFIG = {
  providers: { s: { type: 'scripted', fallback: 'ok {{heard}}' } },
  agents: { a: { provider: 's' } },
  server: { bodyLimitBytes: BODY_LIMIT },
};
const MODEL = 'a';
const CHAT_PATHS = ['/v1/chat/completions', '/chat/completions'] as const;

const SEED =
  process.env.FUZZ_SEED !== undefined && process.env.FUZZ_SEED !== ''
    ? Number(process.env.FUZZ_SEED)
    : (Date.now() ^ (Math.random() * 0x1_0000_0000)) | 0;
assert.ok(Number.isInteger(SEED), `FUZZ_SEED must be an integer, got ${process.env.FUZZ_SEED}`);
const SCALE = Math.max(0.01, Number(process.env.FUZZ_SCALE ?? '1') || 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
/** A request that takes longer than this is a hang. */
const REQUEST_TIMEOUT_MS = 15_000;

const ERROR_TYPES = new Set([
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'rate_limit_error',
  'upstream_error',
  'timeout_error',
  'server_error',
]);
const STACK_TRACE = /\bat .*\.(?:ts|js|mjs|cjs):\d+|node:internal|\n\s+at /;

// ---------------------------------------------------------------------------------------------
// Raw HTTP over a keep-alive agent
// ---------------------------------------------------------------------------------------------

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface RawRequest {
  method?: string;
  path: string;
  headers?: OutgoingHttpHeaders;
  /**
   * Sent with an exact Content-Length, so the bytes on the wire are the case. Without one, node:http
   * still sends an empty chunked body for POST, PUT, PATCH, ... (see NO_DEFAULT_BODY).
   */
  body?: Buffer | string | undefined;
}

let gateway: TestGateway;
let agent: Agent;
const counts = { json: 0, structural: 0, bytes: 0, headers: 0, final: 0, retries: 0 };
const statusSeen = new Map<number, number>();
/** Off for the known-bug checks at the end, so the printed statistics are the fuzz run's. */
let countingStatuses = true;

function send(req: RawRequest, retried = false): Promise<RawResponse> {
  if (retried) counts.retries++;
  const url = new URL(gateway.url);
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
  const headers: OutgoingHttpHeaders = { ...req.headers };
  if (body !== undefined) headers['content-length'] = body.length;
  return new Promise<RawResponse>((resolve, reject) => {
    let settled = false;
    const r = httpRequest(
      // A retry goes over a fresh connection: a server that drops this request's socket fails it.
      { host: url.hostname, port: url.port, method: req.method ?? 'POST', path: req.path, headers, agent: retried ? false : agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          settled = true;
          const status = res.statusCode ?? 0;
          if (countingStatuses) statusSeen.set(status, (statusSeen.get(status) ?? 0) + 1);
          resolve({ status, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', (error) => {
          if (!settled) reject(error);
        });
      },
    );
    r.setTimeout(REQUEST_TIMEOUT_MS, () => r.destroy(new Error(`no complete response within ${REQUEST_TIMEOUT_MS} ms (hang)`)));
    r.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      // A keep-alive socket the server closed between two requests: the documented retry case.
      if (!retried && r.reusedSocket && (error.code === 'ECONNRESET' || error.message === 'socket hang up')) {
        send(req, true).then(resolve, reject);
        return;
      }
      reject(new Error(`${req.method ?? 'POST'} ${req.path.slice(0, 120)}: no HTTP response: ${error.message}`));
    });
    r.end(body);
  });
}

function chatHeaders(extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}`, ...extra };
}

// ---------------------------------------------------------------------------------------------
// Response checks
// ---------------------------------------------------------------------------------------------

function preview(value: unknown, max = 400): string {
  let text: string;
  if (Buffer.isBuffer(value)) text = value.toString('utf8');
  else if (typeof value === 'string') text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

interface OpenAIError {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** A 4xx with exactly the OpenAI error shape and no stack trace; returns `error`. */
function assertOpenAIError(res: RawResponse, context: string, method = 'POST'): OpenAIError | undefined {
  assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx, got ${res.status} ${preview(res.body)} for ${context}`);
  const contentType = String(res.headers['content-type'] ?? '');
  assert.match(contentType, /^application\/json\b/i, `error content-type ${contentType} for ${context}`);
  if (method === 'HEAD') {
    assert.equal(res.body.length, 0, 'a HEAD response has no body');
    return undefined;
  }
  const text = res.body.toString('utf8');
  assert.doesNotMatch(text, STACK_TRACE, `stack trace on the wire for ${context}: ${preview(text)}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    assert.fail(`error body is not JSON for ${context}: ${preview(text)}`);
  }
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), `error body is not an object: ${preview(text)}`);
  assert.deepEqual(Object.keys(body), ['error'], `error body has other top-level keys than "error": ${preview(text)} for ${context}`);
  const error = (body as { error: unknown }).error;
  assert.ok(error !== null && typeof error === 'object' && !Array.isArray(error), `"error" is not an object: ${preview(text)}`);
  const e = error as Record<string, unknown>;
  assert.deepEqual(Object.keys(e).sort(), ['code', 'message', 'param', 'type'], `error keys for ${context}: ${preview(text)}`);
  assert.equal(typeof e.message, 'string');
  assert.ok((e.message as string).trim() !== '', 'empty error message');
  assert.ok(typeof e.type === 'string' && ERROR_TYPES.has(e.type), `unknown error type ${String(e.type)}`);
  assert.ok(e.param === null || typeof e.param === 'string', `param ${preview(e.param)}`);
  assert.ok(typeof e.code === 'string' && e.code !== '', `code ${preview(e.code)}`);
  return e as unknown as OpenAIError;
}

interface CompletionExpectation {
  stream: boolean;
  includeUsage: boolean;
}

/** A 200 that is a correct answer of the scripted agent ("ok <heard>"), streamed or not. */
function assertCompletion(res: RawResponse, expected: CompletionExpectation, context: string): void {
  assert.equal(res.status, 200, context);
  const contentType = String(res.headers['content-type'] ?? '');
  const text = res.body.toString('utf8');
  if (!expected.stream) {
    assert.match(contentType, /^application\/json\b/, `completion content-type for ${context}`);
    const body = JSON.parse(text) as Record<string, any>;
    assert.equal(body.object, 'chat.completion', preview(text));
    assert.equal(body.model, MODEL);
    assert.equal(typeof body.id, 'string');
    assert.equal(body.choices?.length, 1, preview(text));
    assert.equal(body.choices[0].message.role, 'assistant');
    assert.equal(typeof body.choices[0].message.content, 'string');
    assert.ok(body.choices[0].message.content.startsWith('ok'), `answer ${preview(body.choices[0].message.content)}`);
    assert.equal(body.choices[0].finish_reason, 'stop');
    for (const key of ['prompt_tokens', 'completion_tokens', 'total_tokens']) assert.equal(typeof body.usage?.[key], 'number');
    return;
  }
  assert.match(contentType, /^text\/event-stream\b/, `stream content-type for ${context}`);
  assert.ok(text.endsWith('data: [DONE]\n\n'), `the stream does not end with data: [DONE]: …${preview(text.slice(-200))}`);
  const chunks: unknown[] = [];
  const afterDone: string[] = [];
  let sawDone = false;
  const parser = createParser({
    onEvent(event) {
      if (sawDone) afterDone.push(event.data);
      else if (event.data === '[DONE]') sawDone = true;
      else chunks.push(JSON.parse(event.data));
    },
  });
  parser.feed(text);
  assert.ok(sawDone, 'no [DONE]');
  assert.deepEqual(afterDone, [], 'events after [DONE]');
  assert.deepEqual(checkStreamRules(chunks, sawDone), [], `stream rules for ${context}`);
  const typed = chunks as Array<Record<string, any>>;
  let said = '';
  for (const chunk of typed) {
    assert.equal(chunk.model, MODEL);
    const content = chunk.choices?.[0]?.delta?.content;
    if (typeof content === 'string') said += content;
  }
  // Empty only for a superseded turn (see assertExpected); the scripted agent always says "ok …".
  assert.ok(said.startsWith('ok') || said === '', `streamed answer ${preview(said)}`);
  const usageChunks = typed.filter((chunk) => Array.isArray(chunk.choices) && chunk.choices.length === 0);
  assert.equal(usageChunks.length, expected.includeUsage ? 1 : 0, `usage chunks (include_usage ${expected.includeUsage})`);
  if (expected.includeUsage) {
    assert.equal(typed.at(-1), usageChunks[0], 'the usage chunk is the last one');
    assert.equal(typeof usageChunks[0]!.usage.total_tokens, 'number');
  }
}

// ---------------------------------------------------------------------------------------------
// The oracle: what POST /v1/chat/completions must answer for a given body
// ---------------------------------------------------------------------------------------------

type Expectation =
  | { status: 200; stream: boolean; includeUsage: boolean }
  | { status: number; code: string; param?: string | null }
  /** The schema itself threw something other than a 400 (a bug): only "no 5xx" can be asked. */
  | { status: 'unknown'; why: string };

/** Whether secure-json-parse (Fastify's JSON parser, default options) rejects the parsed value. */
function hasPoisonedKey(root: unknown): boolean {
  const queue: unknown[] = [root];
  while (queue.length > 0) {
    const node = queue.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Object.hasOwn(node, '__proto__')) return true;
    const ctor = (node as Record<string, unknown>).constructor;
    if (Object.hasOwn(node, 'constructor') && ctor !== null && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype')) return true;
    for (const value of Object.values(node)) if (value !== null && typeof value === 'object') queue.push(value);
  }
  return false;
}

/** The parsed body as the server sees it, or why it is not one. */
function serverParse(text: string): { ok: true; value: unknown } | { ok: false } {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch {
    return { ok: false };
  }
  return hasPoisonedKey(value) ? { ok: false } : { ok: true, value };
}

/** The expected answer for a parsed body (past the JSON layer). */
function expectForValue(value: unknown): Expectation {
  try {
    const turn = parseChatRequest(value);
    if (turn.model !== MODEL) return { status: 404, code: 'model_not_found', param: 'model' };
    return { status: 200, stream: turn.stream, includeUsage: turn.includeUsage && turn.stream };
  } catch (error) {
    if (error instanceof GatewayError) return { status: error.status, code: error.code, param: error.param };
    return { status: 'unknown', why: String(error) };
  }
}

/** The expected answer for the exact bytes sent with Content-Type application/json. */
function expectForBytes(bytes: Buffer): Expectation {
  if (bytes.length > BODY_LIMIT) return { status: 413, code: 'request_too_large' };
  if (bytes.length === 0) return { status: 400, code: 'invalid_json' };
  const parsed = serverParse(bytes.toString('utf8'));
  if (!parsed.ok) return { status: 400, code: 'invalid_json' };
  return expectForValue(parsed.value);
}

function isValidUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Checks a chat response against the expectation; returns the error (if any) for further checks. */
function assertExpected(res: RawResponse, expected: Expectation, context: string): OpenAIError | undefined {
  const oracleNote = expected.status === 'unknown' ? ` (parsing it in-process threw ${expected.why})` : '';
  assert.ok(res.status < 500, `5xx (${res.status}) for ${context}${oracleNote}: ${preview(res.body)}`);
  if (expected.status === 'unknown') {
    if (res.status !== 200) assertOpenAIError(res, context);
    return undefined;
  }
  if (expected.status === 200) {
    // Mutated ids (e.g. instanceId 0) can name the same call twice; its turns are ordered by
    // sentenceId, so a valid request for an older question is answered "superseded" (409 when
    // not streaming, an empty but well-formed stream otherwise).
    if (res.status === 409 && !(expected as CompletionExpectation).stream) {
      assert.equal(assertOpenAIError(res, context)?.code, 'superseded', `409 for ${context}`);
      return undefined;
    }
    assert.equal(res.status, 200, `expected 200 for ${context}, got ${res.status} ${preview(res.body)}`);
    assertCompletion(res, expected as CompletionExpectation, context);
    return undefined;
  }
  const want = expected as { status: number; code: string; param?: string | null };
  assert.equal(res.status, want.status, `expected ${want.status} ${want.code} for ${context}, got ${res.status} ${preview(res.body)}`);
  const error = assertOpenAIError(res, context)!;
  assert.equal(error.code, want.code, `error code for ${context}`);
  if (want.param !== undefined) assert.equal(error.param, want.param, `error param for ${context}`);
  return error;
}

// ---------------------------------------------------------------------------------------------
// `param` must name a real place in the body that was sent
// ---------------------------------------------------------------------------------------------

/** Fields the schema requires: the only ones `param` may name while absent from the body. */
const REQUIRED_FIELDS = new Set(['model', 'messages', 'role', 'id', 'type', 'function', 'name', 'arguments', 'text', 'image_url', 'url']);

function paramSegments(param: string): Array<string | number> {
  const segments: Array<string | number> = [];
  const re = /([^.[\]]+)|\[(\d+)\]/gy;
  let match: RegExpExecArray | null;
  let end = 0;
  while ((match = re.exec(param)) !== null) {
    segments.push(match[2] !== undefined ? Number(match[2]) : match[1]!);
    end = re.lastIndex;
    if (param[end] === '.') re.lastIndex = ++end;
  }
  assert.equal(end, param.length, `param ${JSON.stringify(param)} is not a path like messages[0].role`);
  return segments;
}

/**
 * Every segment of `param` up to the first absent one resolves in `body` (indexes in range, keys
 * on plain objects); an absent one is a required field of an object, and so is everything after it.
 */
function assertParamNamesRealPath(body: unknown, param: string, context: string): void {
  const segments = paramSegments(param);
  assert.ok(segments.length > 0, 'empty param');
  let current: unknown = body;
  let missing = false;
  for (const segment of segments) {
    if (missing) {
      assert.ok(
        typeof segment === 'string' && REQUIRED_FIELDS.has(segment),
        `param ${param} continues past a missing field with ${segment} (${context})`,
      );
      continue;
    }
    if (typeof segment === 'number') {
      assert.ok(Array.isArray(current), `param ${param}: [${segment}] indexes a non-array (${context})`);
      assert.ok(segment < current.length, `param ${param}: index ${segment} out of range ${current.length} (${context})`);
      current = current[segment];
      continue;
    }
    assert.ok(
      current !== null && typeof current === 'object' && !Array.isArray(current),
      `param ${param}: .${segment} on a non-object (${context})`,
    );
    if (Object.hasOwn(current, segment)) current = (current as Record<string, unknown>)[segment];
    else {
      assert.ok(REQUIRED_FIELDS.has(segment), `param ${param} names ${segment}, absent and not a required field (${context})`);
      missing = true;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const trickyText = fc.constantFrom(
  '\u0000',
  '\n',
  '\r\n',
  '\t',
  '"',
  '\\',
  '/',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\u200b',
  '\u202e',
  '\uffff',
  '{{heard}}',
  '{{#x}}',
  '}}',
  '<ims_agent_interrupted>',
  '<imsagent_hangup/>',
  '<think>',
  '</think>',
  '**',
  '# ',
  '```',
  '[a](http://x)',
  '😀',
  '👨‍👩‍👧',
  '再见',
  'ＢＹＥ',
  '٣',
  'NaN',
  'null',
  '__proto__',
  'constructor',
);
const char = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 2, arbitrary: trickyText },
);
const text = fc.string({ unit: char, maxLength: 30 });
/**
 * Long strings, 1 K to ~200 K UTF-16 units (mostly under 20 K: a huge valid request streams
 * megabytes back), built by repetition (fast) and cut anywhere (so lone surrogates too).
 */
const hugeText = fc
  .tuple(
    fc.string({ unit: char, minLength: 1, maxLength: 6 }),
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1_000, max: 20_000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 20_000, max: 200_000 }) },
    ),
  )
  .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));

const keyName = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 10 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'hasOwnProperty',
      'valueOf',
      '',
      ' ',
      'model',
      'messages',
      'content',
      'role',
    ),
  },
);
const jsonLeaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2),
  text,
);
/** JSON values whose keys include prototype-ish names. */
const jsonish: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonLeaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(keyName, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const randomJson = fc.oneof(fc.jsonValue(), jsonish);

/** A value nested up to 2000 levels (arrays, objects or both), built without recursion. */
const deepValue = fc
  .record({
    depth: fc.integer({ min: 1, max: 2000 }),
    kind: fc.constantFrom('array', 'object', 'mixed'),
    leaf: jsonLeaf,
    key: fc.string({ maxLength: 3 }),
  })
  .map(({ depth, kind, leaf, key }) => {
    let value: unknown = leaf;
    for (let i = 0; i < depth; i++) {
      const asArray = kind === 'array' || (kind === 'mixed' && i % 2 === 0);
      value = asArray ? [value] : { [key === '__proto__' ? 'k' : key]: value };
    }
    // fast-check's reporter prints values recursively: print a deep one as its recipe instead.
    Object.defineProperty(value, fc.toStringMethod, { value: () => `<${kind} nested ${depth} levels around ${JSON.stringify(leaf)}>` });
    return value;
  });

const validPart = fc.oneof(
  fc.record({ type: fc.constant('text'), text }),
  fc.record({
    type: fc.constant('image_url'),
    image_url: fc.record({ url: fc.constantFrom('https://example.com/a.jpg', 'data:image/jpeg;base64,/9j/4AAQ') }),
  }),
  fc.record({
    type: fc.constant('input_audio'),
    input_audio: fc.record({ data: fc.base64String({ maxLength: 16 }), format: fc.constantFrom('wav', 'mp3') }),
  }),
);
const toolCall = fc.record({
  id: fc.string({ minLength: 1, maxLength: 8 }),
  type: fc.constant('function'),
  function: fc.record({ name: fc.string({ minLength: 1, maxLength: 8 }), arguments: fc.constantFrom('{}', '{"a":1}', '', 'not json') }),
});
const validMessage = fc.oneof(
  { weight: 5, arbitrary: fc.record({ role: fc.constant('user'), content: text }) },
  { weight: 1, arbitrary: fc.record({ role: fc.constantFrom('system', 'developer'), content: text }) },
  { weight: 2, arbitrary: fc.record({ role: fc.constant('assistant'), content: fc.oneof(text, fc.constant(null)) }) },
  { weight: 2, arbitrary: fc.record({ role: fc.constant('user'), content: fc.array(validPart, { minLength: 1, maxLength: 3 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      role: fc.constant('assistant'),
      content: fc.constant(null),
      tool_calls: fc.array(toolCall, { minLength: 1, maxLength: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ role: fc.constant('tool'), tool_call_id: fc.string({ maxLength: 8 }), content: text }) },
  {
    weight: 1,
    arbitrary: fc.record(
      { role: fc.constant('user'), content: text, name: fc.string({ maxLength: 8 }) },
      { requiredKeys: ['role', 'content'] },
    ),
  },
);
const validMessages = fc
  .tuple(fc.array(validMessage, { maxLength: 5 }), text)
  .map(([earlier, last]) => [...earlier, { role: 'user', content: last }]);
/**
 * A fresh call per case: turns of one call are ordered by sentenceId (a late, older question is
 * superseded), which would make the answer depend on earlier cases. Barge-in has its own tests.
 */
const instanceId = fc.uuid();
const validExtendData = fc.record(
  {
    instanceId,
    channelId: fc.uuid(),
    sentenceId: fc.oneof(
      fc.nat(),
      fc.nat().map(String),
      fc.nat({ max: 99 }).map((n) => ` ${n} `),
    ),
    userData: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
      text,
      fc.constant('{"vip":true}'),
    ),
    callerNumber: fc.oneof(fc.string({ maxLength: 12 }), fc.nat()),
  },
  { requiredKeys: ['instanceId', 'channelId', 'sentenceId', 'userData'] },
);
const validTools = fc.array(
  fc.record({
    type: fc.constant('function'),
    function: fc.record({ name: fc.string({ minLength: 1, maxLength: 8 }), parameters: fc.constant({ type: 'object', properties: {} }) }),
  }),
  { minLength: 1, maxLength: 2 },
);
/** A valid request as the IMS workflow sends it. */
const validImsRequest = fc.record(
  {
    model: fc.constant(MODEL),
    stream: fc.boolean(),
    messages: validMessages,
    extendData: validExtendData,
    stream_options: fc.record({ include_usage: fc.boolean() }),
    temperature: fc.double({ min: 0, max: 2, noNaN: true }),
    max_tokens: fc.integer({ min: 1, max: 4096 }),
    tools: validTools,
    n: fc.constant(1),
  },
  { requiredKeys: ['model', 'stream', 'messages', 'extendData'] },
);

/** Known chat-request keys with random values (walks deeper into the schema than a random object). */
const requestLike = fc.record(
  {
    model: fc.oneof(fc.constant(MODEL), fc.constant('nope'), randomJson),
    messages: fc.oneof(
      validMessages,
      randomJson,
      fc.array(
        fc.record(
          {
            role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'tool', 'developer', 'function', 'USER', ''), randomJson),
            content: fc.oneof(text, randomJson, fc.array(fc.oneof(validPart, randomJson), { maxLength: 3 })),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
    ),
    stream: fc.oneof(fc.boolean(), randomJson),
    stream_options: fc.oneof(fc.record({ include_usage: fc.oneof(fc.boolean(), randomJson) }, { requiredKeys: [] }), randomJson),
    extendData: fc.oneof(
      validExtendData,
      randomJson,
      fc.dictionary(fc.constantFrom('instanceId', 'channelId', 'sentenceId', 'userData', 'callerNumber', 'calleeNumber'), randomJson, {
        maxKeys: 4,
      }),
    ),
    tools: fc.oneof(validTools, randomJson),
    tool_choice: randomJson,
    temperature: randomJson,
    n: fc.oneof(fc.constantFrom(1, 2, 0, -1, 1.5), randomJson),
    extra: randomJson,
  },
  { requiredKeys: [] },
);

type JsonPath = Array<string | number>;

/** The paths in a JSON value, root first, at most `maxDepth` deep (deep values stay cheap). */
function collectPaths(root: unknown, maxDepth = 8): JsonPath[] {
  const out: JsonPath[] = [];
  const queue: Array<[unknown, JsonPath]> = [[root, []]];
  for (let i = 0; i < queue.length; i++) {
    const [value, path] = queue[i]!;
    out.push(path);
    if (path.length >= maxDepth || value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) value.forEach((item, index) => queue.push([item, [...path, index]]));
    else for (const [key, item] of Object.entries(value)) queue.push([item, [...path, key]]);
  }
  return out;
}

/** A deep copy of a JSON value without recursion (structuredClone overflows on 2000-level nesting). */
function cloneJson<T>(root: T): T {
  if (root === null || typeof root !== 'object') return root;
  const copyOf = (value: unknown): unknown => (Array.isArray(value) ? [] : value !== null && typeof value === 'object' ? {} : value);
  const top = copyOf(root);
  const stack: Array<[unknown, unknown]> = [[root, top]];
  while (stack.length > 0) {
    const [from, to] = stack.pop()!;
    for (const [key, item] of Object.entries(from as object)) {
      const copy = copyOf(item);
      if (key === '__proto__') Object.defineProperty(to, key, { value: copy, enumerable: true, writable: true, configurable: true });
      else (to as Record<string, unknown>)[key] = copy;
      if (copy !== item) stack.push([item, copy]);
    }
  }
  return top as T;
}

function setAt(root: unknown, path: JsonPath, value: unknown): unknown {
  if (path.length === 0) return value;
  let container = root;
  for (const segment of path.slice(0, -1)) {
    if (container === null || typeof container !== 'object') return root;
    container = (container as Record<string | number, unknown>)[segment];
  }
  if (container === null || typeof container !== 'object') return root;
  const last = path.at(-1)!;
  if (Array.isArray(container) && typeof last === 'number') container[Math.min(last, container.length)] = value;
  else if (!Array.isArray(container)) defineKey(container, String(last), value);
  return root;
}

function deleteAt(root: unknown, path: JsonPath): unknown {
  if (path.length === 0) return root;
  let container = root;
  for (const segment of path.slice(0, -1)) {
    if (container === null || typeof container !== 'object') return root;
    container = (container as Record<string | number, unknown>)[segment];
  }
  const last = path.at(-1)!;
  if (Array.isArray(container) && typeof last === 'number') container.splice(last, 1);
  else if (container !== null && typeof container === 'object') delete (container as Record<string, unknown>)[String(last)];
  return root;
}

const wrongValue = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -0,
    -1,
    1.5,
    1e308,
    -1e308,
    2 ** 53 + 2,
    'NaN',
    'Infinity',
    '-Infinity',
    'null',
    'undefined',
    '',
    ' ',
    '0x1F',
    '1e3',
    '-1',
    '1.5',
    ' 7 ',
    '７',
    '٣',
    '99999999999999999999999',
    '[]',
    '{}',
    [],
    {},
    [null],
    { '': null },
    [[[]]],
  ),
  fc.double(),
  fc.integer(),
  text,
  fc.jsonValue({ maxDepth: 3 }),
);
const oddRole = fc.constantFrom<unknown>(
  'function',
  'USER',
  'User',
  'robot',
  '',
  ' user',
  'user ',
  'assistant\u0000',
  'tool_result',
  1,
  null,
  ['user'],
  { role: 'user' },
);
const oddPart = fc.constantFrom<unknown>(
  {},
  { type: '' },
  { type: 'text' },
  { type: 'text', text: 1 },
  { type: 'text', text: null },
  { type: 'image_url' },
  { type: 'image_url', image_url: 'https://x' },
  { type: 'image_url', image_url: { url: '' } },
  { type: 'image_url', image_url: { url: 7 } },
  { type: 'input_audio', input_audio: null },
  { type: 'file' },
  { type: 7 },
  null,
  'text',
  [],
);
const oddContent = fc.oneof(
  fc.array(fc.oneof(oddPart, validPart), { minLength: 1, maxLength: 4 }),
  fc.constantFrom<unknown>(7, true, {}, { type: 'text', text: 'hi' }, [], ''),
);
const garbageTools = fc.oneof(
  fc.constantFrom<unknown>(
    'x',
    7,
    {},
    [null],
    [{}],
    [{ type: 7 }],
    [{ type: 'function' }],
    [{ type: 'function', function: {} }],
    [{ type: 'function', function: { name: '' } }],
    [{ type: 'function', function: 'f' }],
    [{ type: 'function', function: { name: 7 } }],
  ),
  fc.array(randomJson, { maxLength: 3 }),
);
const garbageStreamOptions = fc.oneof(
  fc.constantFrom<unknown>(
    'x',
    1,
    [],
    true,
    { include_usage: 'yes' },
    { include_usage: 1 },
    { include_usage: null },
    { include_usage: true, extra: [1] },
  ),
  randomJson,
);
const sentenceIdValue = fc.oneof(
  fc.constantFrom<unknown>(
    -1,
    -0,
    1.5,
    1e308,
    2 ** 53,
    2 ** 53 + 2,
    '1.5',
    '-1',
    '+1',
    ' 7 ',
    '\t7\n',
    '7a',
    'NaN',
    'Infinity',
    '1e3',
    '0x10',
    '７',
    '٣',
    '',
    '99999999999999999999999',
    true,
    null,
    [],
    {},
  ),
  fc.integer(),
  fc.double(),
  fc.nat().map(String),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
  fc.string({ unit: fc.constantFrom('0', '1', '9', ' ', '\t', '-', '+', '.', 'e'), maxLength: 30 }),
);
const longModel = fc.oneof(
  fc.integer({ min: 256, max: 100_000 }).map((n) => 'a'.repeat(n)),
  fc.constantFrom<unknown>('', ' a', 'a ', 'A', 'a\u0000', 'a/b', '../a', '__proto__', 'constructor', 'toString', 7, null, ['a'], {
    id: 'a',
  }),
  hugeText,
);

/** One change to a valid request. Indexes are resolved against the actual value when applied. */
const mutation = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: wrongValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), key: keyName, value: randomJson }) },
  {
    weight: 6,
    arbitrary: fc.oneof(
      fc.record({ kind: fc.constant('at' as const), path: fc.constant<JsonPath>(['model']), value: longModel }),
      fc.record({ kind: fc.constant('at' as const), path: fc.constant<JsonPath>(['extendData', 'sentenceId']), value: sentenceIdValue }),
      fc.record({
        kind: fc.constant('at' as const),
        path: fc.constantFrom<JsonPath>(
          ['extendData', 'instanceId'],
          ['extendData', 'channelId'],
          ['extendData', 'callerNumber'],
          ['extendData', 'userData'],
          ['extendData'],
        ),
        value: wrongValue,
      }),
      fc.record({
        kind: fc.constant('at' as const),
        path: fc.nat({ max: 6 }).map((i): JsonPath => ['messages', i, 'role']),
        value: oddRole,
      }),
      fc.record({
        kind: fc.constant('at' as const),
        path: fc.nat({ max: 6 }).map((i): JsonPath => ['messages', i, 'content']),
        value: oddContent,
      }),
      fc.record({
        kind: fc.constant('at' as const),
        path: fc
          .tuple(fc.nat({ max: 6 }), fc.constantFrom('name', 'tool_calls', 'tool_call_id'))
          .map(([i, field]): JsonPath => ['messages', i, field]),
        value: wrongValue,
      }),
      fc.record({ kind: fc.constant('at' as const), path: fc.constant<JsonPath>(['tools']), value: garbageTools }),
      fc.record({ kind: fc.constant('at' as const), path: fc.constant<JsonPath>(['stream_options']), value: garbageStreamOptions }),
      fc.record({
        kind: fc.constant('at' as const),
        path: fc.constantFrom<JsonPath>(
          ['stream'],
          ['n'],
          ['temperature'],
          ['top_p'],
          ['max_tokens'],
          ['max_completion_tokens'],
          ['stop'],
          ['tool_choice'],
        ),
        value: wrongValue,
      }),
      fc.record({
        kind: fc.constant('at' as const),
        path: fc.constant<JsonPath>(['messages']),
        value: fc.oneof(
          fc.constantFrom<unknown>({}, [], 'hi', null, [null], [[]]),
          fc.integer({ min: 500, max: 12_000 }).map((n) => Array.from({ length: n }, () => ({ role: 'user', content: 'x' }))),
        ),
      }),
      fc.record({
        kind: fc.constant('at' as const),
        path: fc.constantFrom<JsonPath>(['metadata'], ['response_format'], ['x_vendor'], ['extendData', 'extra']),
        value: fc.oneof(randomJson, deepValue),
      }),
    ),
  },
);

/** Sets an own property, even one named __proto__ (as JSON.parse would). */
function defineKey(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function applyMutations(base: Record<string, unknown>, mutations: readonly Mutation[]): unknown {
  let value: unknown = cloneJson(base);
  for (const m of mutations) {
    if (m.kind === 'at') {
      const path = m.path.map((segment, i) => {
        if (typeof segment !== 'number') return segment;
        const container = m.path
          .slice(0, i)
          .reduce<unknown>(
            (node, key) => (node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined),
            value,
          );
        return Array.isArray(container) && container.length > 0 ? segment % container.length : segment;
      });
      value = setAt(value, path, cloneJson(m.value));
      continue;
    }
    const paths = collectPaths(value);
    const path = paths[m.pick % paths.length]!;
    if (m.kind === 'set') value = setAt(value, path, cloneJson(m.value));
    else if (m.kind === 'delete') value = deleteAt(value, path);
    else {
      let node: unknown = value;
      for (const segment of path) node = (node as Record<string | number, unknown>)[segment];
      if (node !== null && typeof node === 'object' && !Array.isArray(node)) defineKey(node, m.key, cloneJson(m.value));
      else if (Array.isArray(node)) node.push(cloneJson(m.value));
    }
  }
  return value;
}

/** fc.anything() as JSON text (BigInt as digits; whatever JSON.stringify cannot say is dropped). */
function anythingToJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item)) ?? '';
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

describe('fuzz: the real server answers any input with a 200 or an OpenAI-shaped 4xx', () => {
  let uncaught = 0;
  const uncaughtErrors: unknown[] = [];
  const onUncaught = (error: unknown) => {
    uncaught++;
    uncaughtErrors.push(error);
  };
  const started = performance.now();

  before(async () => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    gateway = await startTestGateway(CONFIG);
    agent = new Agent({ keepAlive: true, maxSockets: 4 });
  });

  after(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    agent?.destroy();
    await gateway?.close();
    const total = counts.json + counts.structural + counts.bytes + counts.headers + counts.final;
    const statuses = [...statusSeen.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}×${n}`)
      .join(' ');
    console.log(
      `fuzz: ${total} cases (json ${counts.json}, structural ${counts.structural}, bytes ${counts.bytes}, headers ${counts.headers}, final ${counts.final}) ` +
        `in ${((performance.now() - started) / 1000).toFixed(1)} s (${counts.retries} keep-alive retries), seed ${SEED} (FUZZ_SEED=${SEED} to replay), statuses ${statuses}`,
    );
  });

  it('1. random JSON bodies (any value, deep nesting, huge and unpaired-surrogate strings): 200 only when valid, else the right 4xx', async () => {
    const body = fc.oneof(
      { weight: 3, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
      {
        weight: 2,
        arbitrary: fc
          .anything({
            withBigInt: true,
            withDate: true,
            withMap: true,
            withSet: true,
            withTypedArray: true,
            withSparseArray: true,
            withNullPrototype: true,
            withBoxedValues: true,
            withObjectString: true,
          })
          .map(anythingToJson),
      },
      { weight: 2, arbitrary: jsonish.map((value) => JSON.stringify(value)) },
      { weight: 4, arbitrary: requestLike.map((value) => JSON.stringify(value)) },
      {
        weight: 3,
        arbitrary: fc
          .tuple(validImsRequest, fc.constantFrom('userData', 'metadata', 'x', 'content', 'tool_choice', 'root'), deepValue)
          .map(([request, where, deep]) => JSON.stringify(placeAt(request, where, deep))),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(validImsRequest, fc.constantFrom('content', 'model', 'x', 'userData', 'instanceId', 'root'), hugeText)
          .map(([request, where, huge]) => JSON.stringify(placeAt(request, where, huge))),
      },
      { weight: 2, arbitrary: validImsRequest.map((value) => JSON.stringify(value)) },
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(...CHAT_PATHS), async (text, path) => {
        counts.json++;
        const bytes = Buffer.from(text, 'utf8');
        const expected = expectForBytes(bytes);
        const res = await send({ path, headers: chatHeaders(), body: bytes });
        assertExpected(res, expected, `body ${preview(text)}`);
      }),
      { numRuns: runs(1500), seed: SEED },
    );
  });

  it('2. valid IMS requests with wrong types / odd values mutated in: 200 + well-formed SSE, or a 4xx whose param names a real path', async () => {
    await fc.assert(
      fc.asyncProperty(
        validImsRequest,
        fc.array(mutation, { minLength: 0, maxLength: 4 }),
        fc.constantFrom(...CHAT_PATHS),
        async (base, mutations, path) => {
          counts.structural++;
          const value = applyMutations(base, mutations);
          const text = JSON.stringify(value);
          const bytes = Buffer.from(text, 'utf8');
          const expected = expectForBytes(bytes);
          const res = await send({ path, headers: chatHeaders(), body: bytes });
          const context = `body ${preview(text)}`;
          const error = assertExpected(res, expected, context);
          if (error?.param != null && expected.status !== 413) assertParamNamesRealPath(JSON.parse(text), error.param, context);
          if (mutations.length === 0) assert.equal(res.status, 200, 'an unmutated IMS request is accepted');
        },
      ),
      { numRuns: runs(1500), seed: SEED },
    );
  });

  it('3. random bytes, invalid UTF-8 and truncated JSON as an application/json body: 400 invalid_json (or what the decoded text warrants)', async () => {
    const invalidUtf8 = fc.constantFrom(
      [0xff],
      [0xfe],
      [0x80],
      [0xc0, 0xaf],
      [0xc3],
      [0xe2, 0x82],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0xef, 0xbb, 0xbf],
      [0x00],
    );
    const validText = validImsRequest.map((value) => JSON.stringify(value));
    const bytesCase = fc.oneof(
      fc.record({ kind: fc.constant('random'), bytes: fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)) }),
      fc.record({
        kind: fc.constant('random-text'),
        bytes: fc
          .string({
            unit: fc.constantFrom(
              '{',
              '}',
              '[',
              ']',
              '"',
              ':',
              ',',
              '\\',
              'u',
              'd',
              '8',
              '0',
              ' ',
              'n',
              'u',
              'l',
              't',
              'r',
              'e',
              '1',
              '-',
              '.',
              'E',
              '+',
              "'",
              '/',
              '*',
            ),
            maxLength: 60,
          })
          .map((s) => Buffer.from(s)),
      }),
      fc.record({
        kind: fc.constant('truncated'),
        bytes: fc.tuple(validText, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true })).map(([t, cut]) => {
          const b = Buffer.from(t, 'utf8');
          return b.subarray(0, Math.floor(b.length * cut));
        }),
      }),
      fc.record({
        kind: fc.constant('invalid-utf8'),
        bytes: fc
          .tuple(validText, fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), invalidUtf8), { minLength: 1, maxLength: 3 }))
          .map(([t, inserts]) => {
            let b = Buffer.from(t, 'utf8');
            for (const [at, seq] of inserts) {
              const offset = Math.floor(b.length * at);
              b = Buffer.concat([b.subarray(0, offset), Buffer.from(seq), b.subarray(offset)]);
            }
            return b;
          }),
      }),
      fc.record({
        kind: fc.constant('json-plus-garbage'),
        bytes: fc
          .tuple(validText, fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.boolean())
          .map(([t, junk, before]) =>
            before ? Buffer.concat([Buffer.from(junk), Buffer.from(t)]) : Buffer.concat([Buffer.from(t), Buffer.from(junk)]),
          ),
      }),
      fc.record({
        kind: fc.constant('json5'),
        bytes: fc
          .constantFrom(
            "{'model':'a'}",
            '{"model":"a",}',
            '{"model":NaN}',
            '{"model":"a" /* c */}',
            '// x\n{}',
            '{"a":undefined}',
            '{"a":0x10}',
            '{"a":.5}',
            '{"a":+1}',
            '{"a":"\u0001"}',
            '{"a":"\\x41"}',
            '{"a":"\\u12"}',
            '{a:1}',
            '[}',
            'nul',
            'tru',
            '"',
            '{"model":"a"}}',
            '\u00a0{}',
          )
          .map((s) => Buffer.from(s)),
      }),
    );
    await fc.assert(
      fc.asyncProperty(bytesCase, async ({ kind, bytes }) => {
        counts.bytes++;
        const context = `${kind} body ${preview(bytes.toString('latin1'))}`;
        const expected = expectForBytes(bytes);
        const res = await send({ path: '/v1/chat/completions', headers: chatHeaders(), body: bytes });
        assert.ok(res.status < 500, `5xx (${res.status}) for ${context}: ${preview(res.body)}`);
        if (!isValidUtf8(bytes) && expected.status !== 400 && expected.status !== 413) {
          // The body decodes (invalid sequences as U+FFFD) to a request: rejecting it (400 invalid_json)
          // or answering the decoded request are both acceptable.
          if (res.status === 400) assert.equal(assertOpenAIError(res, context)?.code, 'invalid_json');
          else assertExpected(res, expected, context);
          return;
        }
        assertExpected(res, expected, context);
        if (
          kind === 'truncated' ||
          kind === 'random-text' ||
          kind === 'json5' ||
          (kind === 'random' && !serverParse(bytes.toString('utf8')).ok)
        ) {
          assert.equal(res.status, 400, context);
        }
      }),
      { numRuns: runs(1000), seed: SEED },
    );
  });

  it('4. random methods, paths, content types and Authorization values: 200 only for valid combinations, else an OpenAI-shaped 4xx', async () => {
    const knownPath = fc.constantFrom('/v1/chat/completions', '/chat/completions', '/v1/models', '/models', '/healthz', '/readyz');
    const segment = fc.oneof(
      fc.constantFrom(
        '..',
        '.',
        '%00',
        '%2e%2e',
        '%2F',
        '%20',
        '~',
        ';x',
        'v1',
        'chat',
        'completions',
        'models',
        '%E2%82%AC',
        '%25',
        '*',
        '',
      ),
      fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
    );
    const path = fc.oneof(
      { weight: 4, arbitrary: knownPath },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            knownPath,
            fc.constantFrom(
              '/',
              '?',
              '?a=1&a=2',
              '?%00=%00',
              '?__proto__=1&constructor=2',
              '?a[b]=c&task_id=t',
              '/?x',
              '#frag',
              `?${'q'.repeat(3000)}`,
            ),
          )
          .map(([p, suffix]) => p + suffix),
      },
      { weight: 3, arbitrary: fc.array(segment, { minLength: 1, maxLength: 6 }).map((segments) => `/${segments.join('/')}`) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(knownPath, fc.array(segment, { minLength: 1, maxLength: 3 }))
          .map(([p, segments]) => `${p}/${segments.join('/')}`),
      },
      { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 8_000 }).map((n) => `/${'a'.repeat(n)}`) },
      { weight: 1, arbitrary: fc.webPath() },
    );
    const method = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'PROPFIND',
          'PROPPATCH',
          'MKCOL',
          'COPY',
          'MOVE',
          'LOCK',
          'UNLOCK',
          'TRACE',
          'SEARCH',
          'PURGE',
          'QUERY',
          'REPORT',
          'MERGE',
          'NOTIFY',
          'SUBSCRIBE',
          'LINK',
        ),
      },
    );
    const headerText = fc.string({
      unit: fc
        .integer({ min: 0x20, max: 0xff })
        .filter((c) => c !== 0x7f)
        .map((c) => String.fromCharCode(c)),
      maxLength: 40,
    });
    const contentType = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'application/json;charset=UTF-8',
        'APPLICATION/JSON',
        'application/json;;;',
        'application/json; charset=utf-16',
        'application/json; charset="ÿ"',
        'application/json; boundary=x; q=0.1',
        'application/jsonx',
        'application/json-patch+json',
        'application/vnd.api+json',
        'text/plain',
        'text/plain; charset=utf-8',
        'text/json',
        'multipart/form-data; boundary=----x',
        'application/x-www-form-urlencoded',
        'application/octet-stream',
        '',
        '*/*',
        'json',
        ';',
      ),
      headerText,
    );
    const authorization = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(
        `Bearer ${TEST_KEY}`,
        `bearer ${TEST_KEY}`,
        `BEARER   ${TEST_KEY}  `,
        `Bearer\t${TEST_KEY}`,
        '',
        'Bearer',
        'Bearer ',
        `Bearer ${TEST_KEY}x`,
        `Bearer ${TEST_KEY} extra`,
        `Basic ${TEST_KEY}`,
        `Token ${TEST_KEY}`,
        TEST_KEY,
        'Bearer null',
      ),
      headerText.map((s) => `Bearer ${s}`),
      headerText,
      fc.integer({ min: 1_000, max: 8_000 }).map((n) => `Bearer ${'k'.repeat(n)}`),
    );
    const body = fc.oneof(
      fc.constant(undefined),
      validImsRequest.map((value) => JSON.stringify(value)),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.constantFrom('{"model":"a",', 'model=a&messages=x', '', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--'),
    );
    await fc.assert(
      fc.asyncProperty(method, path, contentType, authorization, body, async (m, p, ct, auth, b) => {
        counts.headers++;
        const headers: OutgoingHttpHeaders = {};
        if (ct !== undefined) headers['content-type'] = ct;
        if (auth !== undefined) headers.authorization = auth;
        const res = await send({ method: m, path: p, headers, body: m === 'GET' || m === 'HEAD' ? undefined : b });
        const context = `${m} ${preview(p, 120)} content-type=${preview(ct, 60)} authorization=${preview(auth, 60)} body=${preview(b, 120)}`;
        assert.ok(res.status < 500, `5xx (${res.status}) for ${context}: ${preview(res.body)}`);

        const route = routeOf(p);
        const authOk = auth !== undefined && isValidBearer(auth);
        // Without a body, node:http still sends an empty chunked one for POST, PUT, PATCH and others;
        // Fastify parses a body (and may reject it) for a method other than GET/HEAD that has one or
        // names a content type (QUERY must name one).
        const sentBody = m !== 'GET' && m !== 'HEAD' && (b !== undefined || !NO_DEFAULT_BODY.has(m));
        const mayParseBody = m !== 'GET' && m !== 'HEAD' && (sentBody || ct !== undefined || m === 'QUERY');
        if (res.status >= 300) {
          const error = assertOpenAIError(res, context, m);
          if (res.status === 401) assert.equal(error?.code ?? 'invalid_api_key', 'invalid_api_key');
          if (res.status === 405) assert.ok(res.headers.allow, `405 without Allow for ${context}`);
          if (res.status === 415) assert.equal(error?.code ?? 'unsupported_media_type', 'unsupported_media_type');
        }
        // What each route must answer, independent of the fuzzed details.
        const bodyErrors = mayParseBody ? [400, 413, 415] : [];
        if (route === undefined) {
          assert.ok([404, ...bodyErrors].includes(res.status), `unknown route got ${res.status} for ${context}`);
          if (res.status === 404 && m !== 'HEAD') assert.equal(assertOpenAIError(res, context)?.code, 'unknown_route');
          return;
        }
        const served = route === 'chat' ? ['POST'] : ['GET', 'HEAD'];
        if (!served.includes(m)) {
          const allMethods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
          const expected = allMethods.includes(m) ? 405 : 404;
          assert.ok(
            [expected, ...bodyErrors].includes(res.status),
            `${m} on ${route} got ${res.status} (expected ${expected}) for ${context}`,
          );
          return;
        }
        if (route === 'health') {
          assert.equal(res.status, 200, context);
          return;
        }
        if (!authOk) {
          assert.equal(res.status, 401, `without a valid key expected 401 for ${context}`);
          return;
        }
        if (route === 'models') {
          assert.equal(res.status, 200, context);
          if (m === 'GET')
            assert.deepEqual(
              (JSON.parse(res.body.toString('utf8')) as { data: Array<{ id: string }> }).data.map((model) => model.id),
              [MODEL],
            );
          return;
        }
        // POST to a chat path with a valid key.
        assert.ok([200, 400, 404, 413, 415].includes(res.status), `chat POST got ${res.status} for ${context}`);
        const jsonType = ct !== undefined && /^\s*application\/json\s*(?:;|$)/i.test(ct);
        if (res.status === 415) assert.ok(!jsonType, `415 for a JSON content type: ${context}`);
        if (res.status === 200) {
          assert.ok(b !== undefined && jsonType, `200 without a JSON body: ${context}`);
          const expected = expectForBytes(Buffer.from(b, 'utf8'));
          assertExpected(res, expected, context);
        } else if (jsonType && b !== undefined) {
          assertExpected(res, expectForBytes(Buffer.from(b, 'utf8')), context);
        }
      }),
      { numRuns: runs(1500), seed: SEED },
    );
  });

  it('5. afterwards the server is healthy, still streams correctly, logged no 5xx and raised no uncaught error', async () => {
    counts.final += 3;
    const health = await send({ method: 'GET', path: '/healthz' });
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body.toString('utf8')), { status: 'ok' });
    const ready = await send({ method: 'GET', path: '/readyz' });
    assert.equal(ready.status, 200);
    const request = {
      model: MODEL,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hello there' }],
      extendData: { instanceId: 'final-check', channelId: 'chan-final', sentenceId: '1', userData: '{"vip":true}' },
    };
    const res = await send({ path: '/v1/chat/completions', headers: chatHeaders(), body: JSON.stringify(request) });
    assertCompletion(res, { stream: true, includeUsage: true }, 'final valid request');
    assert.match(res.body.toString('utf8'), /"content":"ok /);
    assert.ok(res.body.toString('utf8').includes('there'), 'the answer echoes what was heard');

    const serverErrors = gateway.logs.filter((line) => typeof line.level === 'number' && line.level >= 50);
    assert.deepEqual(
      serverErrors.map((line) => preview(line, 300)),
      [],
      'error-level log lines (5xx) during the fuzz run',
    );
    assert.equal(uncaught, 0, `uncaught errors: ${uncaughtErrors.map((e) => preview(String((e as Error)?.stack ?? e), 500)).join('\n')}`);
    assert.doesNotMatch(gateway.logText(), new RegExp(TEST_KEY), 'the API key never appears in a log');
    countingStatuses = false;
  });

  // -------------------------------------------------------------------------------------------
  // Regression tests for what this fuzzer once found (kept out of the generators above).
  // -------------------------------------------------------------------------------------------

  it('a deeply nested extendData.userData gets a 400, not a 500', async () => {
    const depth = 10_000;
    const body = `{"model":"a","messages":[{"role":"user","content":"hi"}],"extendData":{"userData":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const res = await send({ path: '/v1/chat/completions', headers: chatHeaders(), body });
    assert.ok(res.status < 500, `got ${res.status} ${preview(res.body)}`);
    if (res.status !== 200) assertOpenAIError(res, 'deep userData');
  });

  it('a content part whose image_url is not an object is named by its real path', async () => {
    for (const imageUrl of ['https://example.com/a.jpg', 0, null, ['https://example.com/a.jpg']]) {
      const body = { model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: imageUrl }] }] };
      const res = await send({ path: '/v1/chat/completions', headers: chatHeaders(), body: JSON.stringify(body) });
      const error = assertOpenAIError(res, JSON.stringify(body))!;
      assert.equal(error.code, 'invalid_request');
      const segments = paramSegments(error.param ?? '');
      let node: unknown = body;
      for (const segment of segments) {
        assert.ok(node !== null && typeof node === 'object', `param ${error.param} goes through ${JSON.stringify(node)}`);
        node = (node as Record<string | number, unknown>)[segment];
      }
    }
  });

  it('a path with invalid percent-encoding gets an OpenAI-shaped 400', async () => {
    for (const path of ['/%zz', '/v1/chat/completions%', '/%ff', '/%c0%ae']) {
      const res = await send({ path, headers: chatHeaders(), body: '{}' });
      assertOpenAIError(res, path);
    }
  });

  it('HTTP-level client errors (oversized headers, invalid method, malformed request) get OpenAI-shaped errors', async () => {
    const url = new URL((gateway as TestGateway).url);
    const rawExchange = (raw: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => socket.end(raw));
        let out = '';
        socket.setEncoding('latin1');
        socket.on('data', (data: string) => (out += data));
        socket.on('close', () => resolve(out));
        socket.on('error', reject);
      });
    const cases = [
      `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'k'.repeat(20_000)}\r\nContent-Length: 0\r\n\r\n`,
      'FOO /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n',
    ];
    for (const raw of cases) {
      const answer = await rawExchange(raw);
      const [head = '', ...rest] = answer.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      const fake: RawResponse = {
        status,
        headers: { 'content-type': /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '' },
        body: Buffer.from(rest.join('\r\n\r\n'), 'latin1'),
      };
      assertOpenAIError(fake, preview(raw, 80));
    }
  });
});

/** `request` with `value` put at a named place (for deep values and huge strings). */
function placeAt(request: Record<string, unknown>, where: string, value: unknown): unknown {
  const copy = cloneJson(request) as Record<string, any>;
  switch (where) {
    case 'root':
      return value;
    case 'userData':
      copy.extendData = { ...copy.extendData, userData: value };
      return copy;
    case 'instanceId':
      copy.extendData = { ...copy.extendData, instanceId: value };
      return copy;
    case 'content':
      copy.messages[copy.messages.length - 1].content = value;
      return copy;
    default:
      copy[where] = value;
      return copy;
  }
}

/** Methods node:http sends without a body (no Transfer-Encoding: chunked) when given none. */
const NO_DEFAULT_BODY = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/** Which route a request path reaches (trailing slash and query ignored), if any. */
function routeOf(rawPath: string): 'chat' | 'models' | 'health' | undefined {
  const pathname = rawPath.split(/[?#]/)[0]!;
  const trimmed = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
  if (trimmed === '/v1/chat/completions' || trimmed === '/chat/completions') return 'chat';
  if (trimmed === '/v1/models' || trimmed === '/models') return 'models';
  if (trimmed === '/healthz' || trimmed === '/readyz') return 'health';
  return undefined;
}

/** The server's rule: `Bearer <key>`, any case, surrounding whitespace allowed, exactly the key. */
function isValidBearer(header: string): boolean {
  return /^\s*Bearer\s+(\S+)\s*$/i.exec(header)?.[1] === TEST_KEY;
}
