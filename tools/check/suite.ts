/**
 * The conformance suite behind `voice-llm-gateway check`: it calls any custom-LLM server the way
 * the Alibaba Cloud IMS workflow (and the strict voice-platform clients) call it, and reports
 * every deviation with the offending event and how to fix it.
 *
 * The requests run first (a few at a time), then each case judges what came back. The stream
 * rules (content type, JSON fields, stable id, role first, finish_reason, tool calls, [DONE]) are
 * judged over every stream the suite read, so a server that breaks a rule only in, say, the
 * multimodal answer is still caught; each rule is reported once, with its first occurrence quoted.
 */

import { chatCompletionsUrl, newStreamedTurn, streamChat, turnEventParser } from '../client/stream-chat.ts';
import { ruleInfo, type CheckStatus } from './check-rules.ts';
import { SAMPLE_JPEG_DATA_URL } from './sample-image.ts';
import { looksLikeApology } from './apology-text.ts';
import { SYNTHETIC_HEADER } from '../../src/protocol/synthetic-traffic.ts';
import { checkStreamRules, checkToolCallSemantics, type StreamViolation } from './stream-rules.ts';

export type { CheckStatus } from './check-rules.ts';

export interface CheckOptions {
  /** The base URL as a user pastes it into the console; `/chat/completions` is appended. */
  baseUrl: string;
  apiKey: string;
  /** The ModelId. */
  model: string;
  /** Per request, the whole answer included. Default 10 000. */
  timeoutMs?: number;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
}

export interface CheckFinding {
  status: 'warn' | 'fail';
  rule: string;
  message: string;
  /** Which request (and event) showed it. */
  where?: string;
  /** The offending event, header or body, truncated. */
  quote?: string;
  /** One sentence: how to fix it. */
  fix: string;
  /** How many times it was seen (events, across all streams), when more than once. */
  occurrences?: number;
}

export interface CheckCaseResult {
  id: string;
  title: string;
  status: CheckStatus;
  durationMs: number;
  /** ms to the first content of the case's streaming request. */
  ttftMs?: number;
  summary: string;
  findings: CheckFinding[];
}

export interface CheckReport {
  /** What was checked, when not POST {baseUrl}/chat/completions (a platform's WebSocket). */
  target?: string;
  baseUrl: string;
  alternateBaseUrl: string;
  model: string;
  timeoutMs: number;
  startedAt: string;
  durationMs: number;
  counts: Record<CheckStatus, number>;
  cases: CheckCaseResult[];
}

/** Every case in report order, with what it checks. */
export const CHECK_CASES: ReadonlyArray<{ id: string; title: string }> = [
  { id: 'auth-missing-key', title: 'a request without a key is refused (401/403)' },
  { id: 'auth-wrong-key', title: 'a request with a wrong key is refused (401/403)' },
  { id: 'stream-basic', title: 'a plain turn streams at the base URL as given' },
  { id: 'path-alternate', title: 'the other path form (with/without /v1) works too' },
  { id: 'content-type', title: 'streams are served as text/event-stream' },
  { id: 'event-json', title: 'every event is JSON with the required fields' },
  { id: 'stable-id', title: 'the same id and created on every chunk' },
  { id: 'role-first', title: 'the first chunk carries role "assistant"' },
  { id: 'finish-reason', title: 'finish_reason only on the last choice chunk, a valid value' },
  { id: 'tool-calls', title: 'a goodbye turn; tool-call deltas well formed when present' },
  { id: 'done', title: 'every stream ends with data: [DONE], nothing after it' },
  { id: 'history-20', title: 'a 20-record history is accepted' },
  { id: 'extend-data-phone', title: 'extendData with phone numbers and userData, extra query' },
  { id: 'extend-data-minimal', title: 'extendData without phone fields or userData' },
  { id: 'user-data-not-json', title: 'a userData string that is not JSON is accepted' },
  { id: 'multimodal', title: 'text + base64 JPEG image parts are accepted' },
  { id: 'barge-in', title: 'the client closes mid-stream; the next turn succeeds' },
  { id: 'malformed-json', title: 'an invalid JSON body gets a 4xx OpenAI-shaped error' },
  { id: 'usage', title: 'stream_options.include_usage: usage in a final chunk' },
];

const QUOTE_CHARS = 400;
/** Every request says it is test traffic, so the gateway's records can tell it from real calls. */
const CHECK_HEADERS: Readonly<Record<string, string>> = { [SYNTHETIC_HEADER]: 'check' };
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONCURRENCY = 4;

/** What one request produced, as the suite judges it. */
interface Exchange {
  /** The case that sent it (plus a suffix for a case's second request). */
  label: string;
  url: string;
  status: number;
  contentType: string;
  body?: string;
  events: Array<{ data: string; atMs: number }>;
  chunks: unknown[];
  sawDone: boolean;
  afterDone: number;
  /** Events parsed from a body that was not served as text/event-stream. */
  recovered: boolean;
  text: string;
  toolCalls: number;
  ttftMs?: number;
  totalMs: number;
  /** Closed by the suite on purpose (barge-in). */
  stopped: boolean;
  timedOut: boolean;
  error?: string;
  /** Judge its stream against the stream rules. */
  judged: boolean;
  /** The answer was the gateway's apology: said by its x-vlg-outcome header, or by its words. */
  apology?: 'header' | 'text';
}

interface RequestPlan {
  label: string;
  body: unknown;
  /** Omitted: send the real key; null: send none. */
  apiKey?: string | null;
  baseUrl?: string;
  query?: string;
  stopAfterFirstContentMs?: number;
  judged?: boolean;
}

/** Runs every case against the server and returns the report (it never throws for a server's fault). */
export async function runConformanceSuite(options: CheckOptions): Promise<CheckReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const alternateBaseUrl = alternateBase(baseUrl);
  const startedAt = new Date();
  const started = performance.now();
  const runId = Math.random().toString(36).slice(2, 8);
  const model = options.model;

  const extendData = (caseId: string, extra: Record<string, unknown> = {}) => ({
    instanceId: `check-${runId}-${caseId}`,
    channelId: `check-${runId}`,
    sentenceId: '1',
    ...extra,
  });
  const userTurn = (caseId: string, text: string, extra: Record<string, unknown> = {}) => ({
    model,
    stream: true,
    messages: [{ role: 'user', content: text }],
    extendData: extendData(caseId, { userData: '{"source":"voice-llm-gateway check"}' }),
    ...extra,
  });
  const hello = 'Hello, can you hear me? Please answer in one short sentence.';

  const send = (plan: RequestPlan) => exchange(plan, { baseUrl, apiKey: options.apiKey, timeoutMs });
  const tasks: Record<string, () => Promise<Exchange[]>> = {
    'auth-missing-key': async () => [
      await send({ label: 'auth-missing-key', body: userTurn('auth-missing-key', hello), apiKey: null, judged: false }),
    ],
    'auth-wrong-key': async () => [
      await send({ label: 'auth-wrong-key', body: userTurn('auth-wrong-key', hello), apiKey: `${options.apiKey}-wrong`, judged: false }),
    ],
    'stream-basic': async () => [await send({ label: 'stream-basic', body: userTurn('stream-basic', hello) })],
    'path-alternate': async () => [
      await send({ label: 'path-alternate', body: userTurn('path-alternate', hello), baseUrl: alternateBaseUrl }),
    ],
    'tool-calls': async () => [
      await send({ label: 'tool-calls', body: userTurn('tool-calls', 'That is all I needed, thank you. Goodbye, please hang up now.') }),
    ],
    'history-20': async () => [
      await send({
        label: 'history-20',
        body: { model, stream: true, messages: twentyRecords(), extendData: extendData('history-20', { sentenceId: '10' }) },
      }),
    ],
    'extend-data-phone': async () => [
      await send({
        label: 'extend-data-phone',
        body: {
          model,
          stream: true,
          messages: [{ role: 'user', content: hello }],
          extendData: extendData('extend-data-phone', {
            sentenceId: '3',
            callerNumber: '13800000001',
            calleeNumber: '13800000002',
            userData: '{"aaaa":"bbbb","customer":{"tier":"gold"}}',
          }),
        },
        query: `task_id=check-${runId}&room_id=check-room-${runId}`,
      }),
    ],
    'extend-data-minimal': async () => [
      await send({
        label: 'extend-data-minimal',
        body: {
          model,
          stream: true,
          messages: [{ role: 'user', content: hello }],
          extendData: { instanceId: `check-${runId}-extend-data-minimal`, channelId: `check-${runId}`, sentenceId: 1 },
        },
      }),
    ],
    'user-data-not-json': async () => [
      await send({
        label: 'user-data-not-json',
        body: {
          model,
          stream: true,
          messages: [{ role: 'user', content: hello }],
          extendData: extendData('user-data-not-json', { userData: 'vip=yes; lang=en {not json' }),
        },
      }),
    ],
    multimodal: async () => [
      await send({
        label: 'multimodal',
        body: {
          model,
          stream: true,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'What colour is this picture? Answer in one short sentence.' },
                { type: 'image_url', image_url: { url: SAMPLE_JPEG_DATA_URL } },
              ],
            },
          ],
          extendData: extendData('multimodal'),
        },
      }),
    ],
    'barge-in': async () => {
      const question = 'Please tell me, in three or four sentences, what you can help me with.';
      const first = await send({
        label: 'barge-in',
        body: { model, stream: true, messages: [{ role: 'user', content: question }], extendData: extendData('barge-in') },
        stopAfterFirstContentMs: 0,
      });
      const heard = first.text === '' ? '' : `${first.text}<ims_agent_interrupted>`;
      const messages = [
        { role: 'user', content: question },
        ...(heard === '' ? [] : [{ role: 'assistant', content: heard }]),
        { role: 'user', content: 'Sorry to interrupt. Can you hear me? Answer in one short sentence.' },
      ];
      const next = await send({
        label: 'barge-in next turn',
        body: { model, stream: true, messages, extendData: extendData('barge-in', { sentenceId: '2' }) },
      });
      return [first, next];
    },
    'malformed-json': async () => [await sendMalformed({ baseUrl, apiKey: options.apiKey, timeoutMs, model })],
    usage: async () => [await send({ label: 'usage', body: userTurn('usage', hello, { stream_options: { include_usage: true } }) })],
  };

  const results = new Map<string, { exchanges: Exchange[]; durationMs: number }>();
  const ids = Object.keys(tasks);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const t0 = performance.now();
      const exchanges = await tasks[id]!();
      results.set(id, { exchanges, durationMs: performance.now() - t0 });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, ids.length)) }, worker));

  const all = ids.flatMap((id) => results.get(id)!.exchanges);
  const streamFindings = judgeStreams(all.filter((x) => x.judged && x.status >= 200 && x.status < 300));
  const cases: CheckCaseResult[] = CHECK_CASES.map(({ id, title }) => {
    const t0 = performance.now();
    const ran = results.get(id);
    const judged = judgeCase(id, ran?.exchanges ?? [], all, streamFindings, { timeoutMs, alternateBaseUrl });
    const ttft = ran ? caseTtft(id, ran.exchanges) : undefined;
    const findings = judged.findings;
    return {
      id,
      title,
      status: findings.some((f) => f.status === 'fail') ? 'fail' : findings.length > 0 ? 'warn' : judged.skipped ? 'skip' : 'pass',
      durationMs: round(ran ? ran.durationMs : performance.now() - t0),
      ...(ttft === undefined ? {} : { ttftMs: round(ttft) }),
      summary: judged.summary,
      findings,
    };
  });
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of cases) counts[c.status]++;
  return {
    baseUrl,
    alternateBaseUrl,
    model,
    timeoutMs,
    startedAt: startedAt.toISOString(),
    durationMs: round(performance.now() - started),
    counts,
    cases,
  };
}

/** The other path form: `http://h/v1` -> `http://h`, anything else -> `.../v1`. */
export function alternateBase(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  return /\/v1$/.test(trimmed) ? trimmed.slice(0, -3) : `${trimmed}/v1`;
}

function newExchange(label: string, url: string, judged: boolean): Exchange {
  return {
    label,
    url,
    status: 0,
    contentType: '',
    events: [],
    chunks: [],
    sawDone: false,
    afterDone: 0,
    recovered: false,
    text: '',
    toolCalls: 0,
    totalMs: 0,
    stopped: false,
    timedOut: false,
    judged,
  };
}

async function exchange(plan: RequestPlan, context: { baseUrl: string; apiKey: string; timeoutMs: number }): Promise<Exchange> {
  const baseUrl = plan.baseUrl ?? context.baseUrl;
  const result = newExchange(plan.label, chatCompletionsUrl(baseUrl, plan.query), plan.judged ?? true);
  const timeout = AbortSignal.timeout(context.timeoutMs);
  const started = performance.now();
  try {
    const apiKey = plan.apiKey === null ? undefined : (plan.apiKey ?? context.apiKey);
    const turn = await streamChat({
      baseUrl,
      ...(apiKey === undefined ? {} : { apiKey }),
      body: plan.body,
      headers: CHECK_HEADERS,
      ...(plan.query === undefined ? {} : { query: plan.query }),
      signal: timeout,
      ...(plan.stopAfterFirstContentMs === undefined ? {} : { stopAfterFirstContentMs: plan.stopAfterFirstContentMs }),
    });
    Object.assign(result, {
      status: turn.status,
      contentType: turn.contentType,
      events: turn.events,
      chunks: turn.chunks,
      sawDone: turn.sawDone,
      afterDone: turn.afterDone,
      text: turn.text,
      toolCalls: turn.toolCalls.length,
      totalMs: turn.totalMs,
    });
    if (turn.body !== undefined) result.body = turn.body;
    if (turn.outcome === 'apology') result.apology = 'header';
    else if (looksLikeApology(turn.text)) result.apology = 'text';
    if (turn.ttftMs !== undefined) result.ttftMs = turn.ttftMs;
    if (turn.stopped) {
      if (timeout.aborted) result.timedOut = true;
      else result.stopped = true;
    }
    if (turn.body !== undefined && turn.status >= 200 && turn.status < 300 && /^\s*data:/m.test(turn.body))
      recoverEvents(result, turn.body);
  } catch (error) {
    result.totalMs = performance.now() - started;
    if (timeout.aborted) result.timedOut = true;
    else result.error = describeError(error);
  }
  return result;
}

/** Reads SSE events out of a body the server did not label text/event-stream (to judge the rest). */
function recoverEvents(result: Exchange, body: string): void {
  const turn = newStreamedTurn();
  turnEventParser(turn, () => result.totalMs).feed(body.endsWith('\n\n') ? body : `${body}\n\n`);
  Object.assign(result, {
    recovered: true,
    events: turn.events,
    chunks: turn.chunks,
    sawDone: turn.sawDone,
    afterDone: turn.afterDone,
    text: turn.text,
    toolCalls: turn.toolCalls.length,
  });
}

async function sendMalformed(context: { baseUrl: string; apiKey: string; timeoutMs: number; model: string }): Promise<Exchange> {
  const url = chatCompletionsUrl(context.baseUrl);
  const result = newExchange('malformed-json', url, false);
  const timeout = AbortSignal.timeout(context.timeoutMs);
  const started = performance.now();
  const body = `{"model": ${JSON.stringify(context.model)}, "stream": true, "messages": [{"role": "user", "content": "hi"}`;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${context.apiKey}`, ...CHECK_HEADERS },
      body,
      signal: timeout,
    });
    result.status = response.status;
    result.contentType = response.headers.get('content-type') ?? '';
    result.body = await response.text();
  } catch (error) {
    if (timeout.aborted) result.timedOut = true;
    else result.error = describeError(error);
  }
  result.totalMs = performance.now() - started;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Judging

interface Judged {
  summary: string;
  findings: CheckFinding[];
  /** The case could not be exercised: reported as skip, never pass. */
  skipped?: boolean;
}

function finding(
  rule: string,
  message: string,
  extra: { quote?: string; where?: string; occurrences?: number; status?: 'warn' | 'fail' } = {},
): CheckFinding {
  const info = ruleInfo(rule);
  const result: CheckFinding = { status: extra.status ?? info.severity, rule, message, fix: info.fix };
  if (extra.where !== undefined) result.where = extra.where;
  if (extra.quote !== undefined) result.quote = extra.quote;
  if (extra.occurrences !== undefined && extra.occurrences > 1) result.occurrences = extra.occurrences;
  return result;
}

function judgeCase(
  id: string,
  exchanges: Exchange[],
  all: Exchange[],
  streamFindings: Map<string, CheckFinding[]>,
  context: { timeoutMs: number; alternateBaseUrl: string },
): Judged {
  const fromStreams = streamFindings.get(id) ?? [];
  const judgedStreams = all.filter((x) => x.judged && x.status >= 200 && x.status < 300);
  const first = exchanges[0];
  switch (id) {
    case 'auth-missing-key':
    case 'auth-wrong-key':
      return judgeAuth(first!, id === 'auth-missing-key' ? 'without an Authorization header' : 'with a wrong key', context);
    case 'stream-basic':
    case 'history-20':
    case 'extend-data-phone':
    case 'extend-data-minimal':
    case 'user-data-not-json':
      return judgeAccepted(
        first!,
        context,
        id === 'user-data-not-json' ? 'a userData string that is not JSON is only business data: accept it' : undefined,
      );
    case 'multimodal': {
      const judged = judgeAccepted(first!, context);
      if (first!.status >= 400 && first!.status < 500) {
        judged.findings = judged.findings.map((f) =>
          f.rule === 'http-status' ? finding('image-refused', `${f.message}; the MLLM node sends images like this`, { ...optional(f) }) : f,
        );
      }
      return judged;
    }
    case 'path-alternate':
      return judgePathAlternate(first!, context);
    case 'tool-calls': {
      const judged = judgeAccepted(first!, context);
      const calls = judgedStreams.reduce((n, x) => n + (x.toolCalls > 0 ? 1 : 0), 0);
      const own = first!.toolCalls > 0 ? 'the goodbye turn made a tool call' : 'the goodbye turn answered without a tool call';
      const summary =
        calls === 0
          ? `${own}; no stream carried tool calls, nothing to check`
          : `${own}; tool calls in ${calls} of ${judgedStreams.length} streams`;
      return {
        summary: judged.findings.length > 0 ? judged.summary : summary,
        findings: [...judged.findings, ...fromStreams],
        skipped: calls === 0,
      };
    }
    case 'content-type':
    case 'event-json':
    case 'stable-id':
    case 'role-first':
    case 'finish-reason':
    case 'done': {
      const events = judgedStreams.reduce((n, x) => n + x.events.length, 0);
      const summary =
        judgedStreams.length === 0
          ? 'no stream to check (every request was refused)'
          : `${judgedStreams.length} streams, ${events} events checked${fromStreams.length > 0 ? `; ${fromStreams.map((f) => f.rule).join(', ')}` : ''}`;
      const findings = [...fromStreams];
      if (judgedStreams.length === 0)
        findings.push(finding('http-status', 'no request was answered with 200, so no stream could be checked'));
      return { summary, findings };
    }
    case 'barge-in':
      return judgeBargeIn(exchanges, context);
    case 'malformed-json':
      return judgeMalformed(first!, context);
    case 'usage':
      return judgeUsage(first!, context, fromStreams);
    default:
      return { summary: 'not run', findings: [] };
  }
}

function caseTtft(id: string, exchanges: Exchange[]): number | undefined {
  if (id === 'auth-missing-key' || id === 'auth-wrong-key' || id === 'malformed-json') return undefined;
  const x = id === 'barge-in' ? exchanges[1] : exchanges[0];
  return x?.ttftMs;
}

function optional(f: CheckFinding): { quote?: string; where?: string } {
  return { ...(f.quote === undefined ? {} : { quote: f.quote }), ...(f.where === undefined ? {} : { where: f.where }) };
}

/** A request that must be answered with 200 and a stream. */
function judgeAccepted(x: Exchange, context: { timeoutMs: number }, refusedHint?: string): Judged {
  const failure = transportFailure(x, context);
  if (failure) return { summary: failure.message, findings: [failure] };
  if (x.status < 200 || x.status >= 300) {
    const keyHint = x.status === 401 || x.status === 403 ? ' (is --api-key the key this server expects?)' : '';
    const message = `answered HTTP ${x.status} to a request the workflow sends${refusedHint ? ` (${refusedHint})` : ''}${keyHint}`;
    return { summary: `refused with ${x.status}`, findings: [finding('http-status', message, { where: where(x), quote: bodyQuote(x) })] };
  }
  const findings: CheckFinding[] = [];
  if (x.chunks.length > 0 && x.text === '' && x.toolCalls === 0) {
    findings.push(finding('empty-answer', 'the stream carried neither content nor a tool call', { where: where(x) }));
  }
  if (x.apology === 'header') {
    findings.push(
      finding('apology', "the answer is the gateway's apology (x-vlg-outcome: apology): every upstream model failed", {
        where: where(x),
        quote: x.text.slice(0, QUOTE_CHARS),
      }),
    );
  } else if (x.apology === 'text') {
    findings.push(
      finding('apology-text', "the answer reads like the gateway's apology said when every upstream model fails", {
        where: where(x),
        quote: x.text.slice(0, QUOTE_CHARS),
      }),
    );
  }
  const summary = `${x.status}, ${x.events.length} events, ${x.text.length} chars${x.toolCalls > 0 ? ', tool call' : ''}${x.sawDone ? ', [DONE]' : ', no [DONE]'}`;
  return { summary, findings };
}

function transportFailure(x: Exchange, context: { timeoutMs: number }): CheckFinding | undefined {
  if (x.error !== undefined) return finding('request-failed', `the request failed: ${x.error}`, { where: where(x) });
  if (x.timedOut) {
    const got = x.status === 0 ? 'no response headers' : `HTTP ${x.status}, ${x.events.length} events${x.sawDone ? '' : ' and no [DONE]'}`;
    return finding('timeout', `the answer was not complete after ${context.timeoutMs} ms (--timeout-ms); got ${got}`, {
      where: where(x),
      ...(x.events.length > 0 ? { quote: `last event: ${eventQuote(x.events.at(-1)!.data)}` } : {}),
    });
  }
  return undefined;
}

function judgeAuth(x: Exchange, how: string, context: { timeoutMs: number }): Judged {
  const failure = transportFailure(x, context);
  if (failure) return { summary: failure.message, findings: [failure] };
  if (x.status === 401 || x.status === 403) {
    const problem = errorShapeProblem(x);
    return {
      summary: `refused with ${x.status}`,
      findings: problem ? [finding('error-shape', `the ${x.status} error body ${problem}`, { where: where(x), quote: bodyQuote(x) })] : [],
    };
  }
  if (x.status >= 200 && x.status < 300) {
    return {
      summary: `accepted ${how} (${x.status})`,
      findings: [
        finding('auth-required', `a request ${how} was answered with ${x.status}: anyone who finds the URL can use (and bill) the model`, {
          where: where(x),
          quote: x.events.length > 0 ? eventQuote(x.events[0]!.data) : bodyQuote(x),
        }),
      ],
    };
  }
  if (x.status >= 500) {
    return {
      summary: `crashed with ${x.status}`,
      findings: [
        finding('auth-required', `a request ${how} was answered with ${x.status} instead of 401`, { where: where(x), quote: bodyQuote(x) }),
      ],
    };
  }
  return {
    summary: `refused with ${x.status}`,
    findings: [
      finding('auth-status', `a request ${how} was refused with ${x.status}, not 401 or 403`, { where: where(x), quote: bodyQuote(x) }),
    ],
  };
}

function judgePathAlternate(x: Exchange, context: { timeoutMs: number; alternateBaseUrl: string }): Judged {
  const path = new URL(x.url).pathname;
  if (x.status === 404) {
    return {
      summary: `${path} not found (404)`,
      findings: [
        finding('path-missing', `POST ${path} answered 404: a user who pastes the base URL ${context.alternateBaseUrl} gets no answer`, {
          where: where(x),
          quote: bodyQuote(x),
        }),
      ],
    };
  }
  const failure = transportFailure(x, context);
  if (failure)
    return { summary: failure.message, findings: [{ ...failure, status: 'warn', rule: 'path-broken', fix: ruleInfo('path-broken').fix }] };
  if (x.status < 200 || x.status >= 300) {
    return {
      summary: `${path} answered ${x.status}`,
      findings: [finding('path-broken', `POST ${path} answered ${x.status}`, { where: where(x), quote: bodyQuote(x) })],
    };
  }
  return { summary: `${path}: ${judgeAccepted(x, context).summary}`, findings: [] };
}

function judgeBargeIn(exchanges: Exchange[], context: { timeoutMs: number }): Judged {
  const [first, next] = exchanges as [Exchange, Exchange];
  const findings: CheckFinding[] = [];
  const firstFailure = transportFailure(first, context);
  if (firstFailure) findings.push(firstFailure);
  else if (first.status < 200 || first.status >= 300) {
    findings.push(finding('http-status', `the first turn answered HTTP ${first.status}`, { where: where(first), quote: bodyQuote(first) }));
  }
  const closed = first.stopped
    ? `closed after ${Math.round(first.totalMs)} ms (${first.events.length} events read)`
    : `the first answer was complete before the client could close it (${Math.round(first.totalMs)} ms), so the close was not exercised`;
  const nextFailure = transportFailure(next, context);
  if (nextFailure) {
    findings.push(
      finding('barge-in-next-turn', `the next turn for the same instanceId, sent right after the close, failed: ${nextFailure.message}`, {
        where: where(next),
        ...(nextFailure.quote === undefined ? {} : { quote: nextFailure.quote }),
      }),
    );
  } else if (next.status < 200 || next.status >= 300) {
    findings.push(
      finding('barge-in-next-turn', `the next turn for the same instanceId answered HTTP ${next.status}`, {
        where: where(next),
        quote: bodyQuote(next),
      }),
    );
  } else if (next.chunks.length === 0) {
    findings.push(
      finding('barge-in-next-turn', 'the next turn for the same instanceId streamed no answer', {
        where: where(next),
        quote: bodyQuote(next),
      }),
    );
  }
  const summary = `${closed}; next turn ${next.status || 'failed'} in ${Math.round(next.totalMs)} ms`;
  return { summary, findings, skipped: !first.stopped };
}

function judgeMalformed(x: Exchange, context: { timeoutMs: number }): Judged {
  const failure = transportFailure(x, context);
  if (failure) return { summary: failure.message, findings: [failure] };
  const quote = bodyQuote(x);
  if (x.status >= 200 && x.status < 300) {
    return {
      summary: `accepted (${x.status})`,
      findings: [finding('bad-json-accepted', `a body that is not valid JSON was answered with ${x.status}`, { where: where(x), quote })],
    };
  }
  if (x.status >= 500) {
    const problem = errorShapeProblem(x);
    return {
      summary: `server error ${x.status}`,
      findings: [
        finding(
          'bad-json-5xx',
          `a body that is not valid JSON made the server fail with ${x.status}${problem ? `, and the error body ${problem}` : ''}: a client bug looks like a server outage`,
          {
            where: where(x),
            quote,
          },
        ),
      ],
    };
  }
  if (x.status < 400) {
    return {
      summary: `answered ${x.status}`,
      findings: [finding('bad-json-status', `a body that is not valid JSON was answered with ${x.status}`, { where: where(x), quote })],
    };
  }
  const problem = errorShapeProblem(x);
  return {
    summary: `refused with ${x.status}`,
    findings: problem ? [finding('error-shape', `the ${x.status} error body ${problem}`, { where: where(x), quote })] : [],
  };
}

function judgeUsage(x: Exchange, context: { timeoutMs: number }, fromStreams: CheckFinding[]): Judged {
  const accepted = judgeAccepted(x, context);
  if (x.status >= 400 && x.status < 500) {
    return {
      summary: `refused with ${x.status}`,
      findings: [
        finding(
          'usage-refused',
          `a request with stream_options.include_usage was refused with ${x.status} (the IMS workflow does not send it; the openai SDKs and other platforms do)`,
          {
            where: where(x),
            quote: bodyQuote(x),
          },
        ),
      ],
    };
  }
  if (accepted.findings.some((f) => f.status === 'fail') || x.chunks.length === 0) {
    return { summary: accepted.summary, findings: [...accepted.findings, ...fromStreams] };
  }
  const findings = [...accepted.findings, ...fromStreams];
  const isUsageChunk = (c: unknown) =>
    c !== null &&
    typeof c === 'object' &&
    Array.isArray((c as { choices?: unknown }).choices) &&
    (c as { choices: unknown[] }).choices.length === 0 &&
    typeof (c as { usage?: unknown }).usage === 'object' &&
    (c as { usage?: unknown }).usage !== null;
  const usageAt = x.chunks.findIndex(isUsageChunk);
  let summary: string;
  if (usageAt === -1) {
    summary = 'include_usage ignored';
    findings.push(
      finding(
        'usage-ignored',
        'the request set stream_options.include_usage, but no chunk with "choices": [] and "usage" came before [DONE]',
        {
          where: where(x),
          ...(x.chunks.length > 0 ? { quote: `last chunk: ${eventQuote(x.events[x.chunks.length - 1]!.data)}` } : {}),
        },
      ),
    );
  } else {
    const laterChoice = x.chunks
      .slice(usageAt + 1)
      .some((c) => Array.isArray((c as { choices?: unknown[] } | undefined)?.choices) && (c as { choices: unknown[] }).choices.length > 0);
    summary = `usage in chunk #${usageAt} of ${x.chunks.length}`;
    if (laterChoice) {
      findings.push(
        finding('usage-position', `the usage chunk (#${usageAt}) is followed by more choice chunks`, {
          where: `${where(x)}, event #${usageAt}`,
          quote: eventQuote(x.events[usageAt]!.data),
        }),
      );
    }
  }
  return { summary, findings };
}

/**
 * Every stream rule over every stream, grouped by the case that reports it; one finding per rule,
 * quoting its first occurrence and counting the rest.
 */
function judgeStreams(streams: Exchange[]): Map<string, CheckFinding[]> {
  const byRule = new Map<string, { first: { x: Exchange; v: StreamViolation }; count: number; streams: Set<string> }>();
  const note = (x: Exchange, v: StreamViolation) => {
    const seen = byRule.get(v.rule);
    if (seen) {
      seen.count++;
      seen.streams.add(x.label);
    } else byRule.set(v.rule, { first: { x, v }, count: 1, streams: new Set([x.label]) });
  };
  for (const x of streams) {
    if (!x.contentType.startsWith('text/event-stream')) {
      note(x, {
        rule: 'content-type',
        message: `a streaming answer came with Content-Type ${x.contentType === '' ? '(none)' : `"${x.contentType}"`}${
          x.recovered ? ' (its body holds SSE events, judged below, but strict clients refuse to read it)' : ''
        }`,
      });
    }
    for (const v of streamViolations(x)) note(x, v);
  }
  const out = new Map<string, CheckFinding[]>();
  for (const [rule, { first, count, streams: labels }] of byRule) {
    const { x, v } = first;
    const caseId = ruleInfo(rule).caseId || 'event-json';
    const others = labels.size > 1 ? ` (seen in ${labels.size} streams: ${[...labels].join(', ')})` : '';
    const quote =
      rule === 'content-type'
        ? `Content-Type: ${x.contentType || '(none)'}`
        : v.eventIndex !== undefined && x.events[v.eventIndex]
          ? eventQuote(x.events[v.eventIndex]!.data)
          : x.chunks.length > 0
            ? `last chunk: ${eventQuote(x.events[x.chunks.length - 1]!.data)}`
            : undefined;
    const at = v.eventIndex === undefined ? where(x) : `${where(x)}, event #${v.eventIndex}`;
    const list = out.get(caseId) ?? [];
    list.push(finding(rule, v.message, { where: `${at}${others}`, ...(quote === undefined ? {} : { quote }), occurrences: count }));
    out.set(caseId, list);
  }
  return out;
}

/** The stream rules for one exchange; end-of-stream rules are skipped for a stream the suite cut. */
function streamViolations(x: Exchange): StreamViolation[] {
  const violations = [...checkStreamRules(x.chunks, x.sawDone), ...checkToolCallSemantics(x.chunks)];
  x.chunks.forEach((chunk, index) => {
    const choices = (chunk as { choices?: unknown } | undefined)?.choices;
    if (Array.isArray(choices) && choices.length > 0) {
      const choice = choices[0] as { delta?: unknown } | null;
      if (choice === null || typeof choice !== 'object' || choice.delta === null || typeof choice.delta !== 'object') {
        violations.push({ rule: 'delta', message: 'choices[0].delta is missing or not an object', eventIndex: index });
      }
    }
  });
  if (x.afterDone > 0) {
    const doneAt = x.events.findIndex((e) => e.data === '[DONE]');
    violations.push({
      rule: 'after-done',
      message: `${x.afterDone} event${x.afterDone === 1 ? '' : 's'} followed data: [DONE]`,
      eventIndex: doneAt + 1,
    });
  }
  const cut = x.stopped || x.timedOut;
  const endRules = new Set([
    'done',
    'finish',
    'non-empty',
    'tool-call-finish-reason',
    'tool-call-arguments-json',
    'tool-call-arguments-empty',
  ]);
  return violations
    .filter((v) => !(cut && endRules.has(v.rule)))
    .map((v) =>
      v.rule === 'json-object' && v.eventIndex !== undefined && x.chunks[v.eventIndex] === undefined
        ? { ...v, message: 'the event data is not valid JSON' }
        : v,
    );
}

/** Why an error body is not `{"error":{"message","type",...}}`, or undefined when it is. */
function errorShapeProblem(x: Exchange): string | undefined {
  const body = x.body ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return `is not JSON (Content-Type ${x.contentType || 'none'})`;
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (error === null || typeof error !== 'object') {
    return `is not OpenAI-shaped: "error" is ${error === undefined ? 'missing' : JSON.stringify(error)}, not an object with message and type`;
  }
  const { message, type } = error as { message?: unknown; type?: unknown };
  if (typeof message !== 'string' || typeof type !== 'string') return 'is not OpenAI-shaped: error.message or error.type is missing';
  return undefined;
}

function where(x: Exchange): string {
  const path = new URL(x.url).pathname;
  return `${x.label} (POST ${path})`;
}

function bodyQuote(x: Exchange): string {
  const body = (x.body ?? '').replace(/\s+/g, ' ').trim();
  const head = `HTTP ${x.status}${x.contentType ? ` ${x.contentType}` : ''}`;
  return body === '' ? `${head}, empty body` : `${head}: ${truncate(body)}`;
}

function eventQuote(data: string): string {
  return `data: ${truncate(data)}`;
}

function truncate(text: string): string {
  return text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS)}… (${text.length} chars)` : text;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? `: ${(cause as { code?: string }).code ?? cause.message}` : '';
  return `${error.message}${detail}`;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** A 20-record history as the workflow keeps it: oldest first, the caller's newest utterance last. */
function twentyRecords(): Array<{ role: string; content: string }> {
  const messages: Array<{ role: string; content: string }> = [
    { role: 'assistant', content: 'Hello, thanks for calling. How can I help you today?' },
  ];
  const topics = [
    'the weather today',
    'the weather tomorrow',
    'my order',
    'the delivery date',
    'the opening hours',
    'the address',
    'parking',
    'payment options',
    'a refund',
  ];
  topics.forEach((topic, i) => {
    messages.push({ role: 'user', content: `I have a question about ${topic}.` });
    messages.push({
      role: 'assistant',
      content: i === 4 ? 'We are open from nine to<ims_agent_interrupted>' : `Sure, here is what I know about ${topic}.`,
    });
  });
  messages.push({ role: 'user', content: 'Thanks. Last question: can you hear me? Answer in one short sentence.' });
  return messages;
}
