/**
 * Fault injection end to end: the real gateway against mock upstreams that fail in every way an
 * LLM API does (refused connections, 5xx, 429, hangs at each stage, malformed or cut SSE, slow
 * drips). One test per fault kind; each asserts exactly what the caller gets — status, text,
 * finish_reason, the strict stream rules, [DONE] — and that it arrives within the budget (a hang
 * fails the test). Budgets are short so the suite stays fast.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { checkStreamRules } from '../../tools/check/stream-rules.ts';
import { startMockUpstream, textEvents, type MockScenario, type MockUpstream } from '../../tools/testing/mock-upstream.ts';
import { imsRequest, readStream, startTestGateway, type ParsedStream, type TestGateway } from '../support/gateway-harness.ts';

const TIMEOUTS = { connectMs: 500, firstTokenMs: 400, idleMs: 300, totalMs: 3000 };
const RETRY = { maxRetries: 1, backoffMs: 20 };
/** Generous: a fault must end within its budget plus this, never hang. */
const SLACK_MS = 1500;
/** Every request is cut off after this: a hang fails the test instead of stalling the suite. */
const REQUEST_LIMIT_MS = 8000;
const TEST_TIMEOUT = { timeout: 15_000 };

// The gateway's default apologies (src/agent/language/phrases.ts), spelled out: a change is a visible change.
const APOLOGY_EN = "Sorry, I'm having trouble answering right now. Could you say that again in a moment?";
const APOLOGY_ZH = '抱歉，我这边暂时出了点问题，请您稍后再说一遍。';
const ANSWER = 'Hello there, how can I help you today?';
const BACKUP_ANSWER = 'The backup model speaking, how can I help?';

interface TurnResult {
  status: number;
  headers: Headers;
  /** The SSE stream, when the gateway answered with one. */
  stream: ParsedStream | undefined;
  /** The JSON body otherwise (an OpenAI error). */
  json: { error: { message: string; type: string; param: unknown; code: string } } | undefined;
  /** From sending the request to the end of the response body. */
  ms: number;
}

let callCounter = 0;
/** An IMS request with its own call (instanceId), so turns of different tests never interact. */
function ims(model: string, text = 'hi', instanceId = `call-${++callCounter}`): Record<string, unknown> {
  return imsRequest(model, text, { extendData: { instanceId, channelId: `chan-${instanceId}`, sentenceId: '1' } });
}

async function turn(gateway: TestGateway, body: Record<string, unknown> | string): Promise<TurnResult> {
  const started = performance.now();
  const response = await gateway.post('/v1/chat/completions', body, { signal: AbortSignal.timeout(REQUEST_LIMIT_MS) });
  const isStream = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const stream = isStream ? await readStream(response) : undefined;
  const json = isStream ? undefined : ((await response.json()) as TurnResult['json']);
  return { status: response.status, headers: response.headers, stream, json, ms: performance.now() - started };
}

function finishOf(stream: ParsedStream): unknown {
  return stream.chunks.filter((c) => Array.isArray(c.choices) && c.choices.length > 0).at(-1)?.choices[0].finish_reason;
}

function toolCallsOf(stream: ParsedStream): Array<{ index: number; id?: string; function: { name?: string; arguments?: string } }> {
  return stream.chunks.flatMap((c) => c.choices?.[0]?.delta?.tool_calls ?? []);
}

/** A 200 stream that keeps every strict-client rule, ends with [DONE] and says exactly `text`. */
function assertSpoken(result: TurnResult, text: string, finishReason = 'stop'): ParsedStream {
  assert.equal(result.status, 200, `expected a stream, got ${result.status} ${JSON.stringify(result.json)}`);
  const stream = result.stream!;
  assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
  assert.equal(stream.sawDone, true);
  assert.deepEqual(stream.afterDone, []);
  assert.equal(stream.text, text);
  assert.equal(finishOf(stream), finishReason);
  return stream;
}

/** An OpenAI-shaped error response. */
function assertError(result: TurnResult, status: number, type: string, code: string): void {
  assert.equal(
    result.status,
    status,
    `expected HTTP ${status}, got ${result.status}${result.stream ? ` with text ${JSON.stringify(result.stream.text)}` : ''}`,
  );
  assert.match(result.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(result.json?.error.type, type);
  assert.equal(result.json?.error.code, code);
  assert.equal(typeof result.json?.error.message, 'string');
}

function assertWithin(result: TurnResult, budgetMs: number, atLeastMs = 0): void {
  assert.ok(result.ms < budgetMs + SLACK_MS, `took ${Math.round(result.ms)} ms, budget ${budgetMs} ms (+${SLACK_MS} ms slack)`);
  assert.ok(result.ms >= atLeastMs, `took ${Math.round(result.ms)} ms: ended before the ${atLeastMs} ms budget ran out`);
}

/** The per-turn log line of the next turn logged after `since` lines (written just after the response ends). */
async function turnLog(gateway: TestGateway, since: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const line = gateway.logs.slice(since).find((l) => typeof l.status === 'string' && typeof l.agent === 'string');
    if (line) return line;
    if (Date.now() > deadline) throw new Error('no turn was logged within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const fail500: MockScenario = { status: 500, body: '{"error":{"message":"internal failure"}}' };

describe('fault injection end to end: what the caller gets, and when', () => {
  let main: MockUpstream; // behind the voice, api, hangup and filler agents
  let failing: MockUpstream; // the primary of withFallback
  let backup: MockUpstream; // the fallback that answers
  let flaky: MockUpstream; // the primary of the circuit-breaker agents
  let picky: MockUpstream; // the primary of the client-mistake agents (its own breaker)
  let gateway: TestGateway;

  before(async () => {
    [main, failing, backup, flaky, picky] = await Promise.all([
      startMockUpstream(),
      startMockUpstream(),
      startMockUpstream(),
      startMockUpstream(),
      startMockUpstream(),
    ]);
    backup.respondWith({ events: textEvents(BACKUP_ANSWER) });
    const provider = (baseUrl: string, circuitBreaker = { failureThreshold: 1000, cooldownMs: 60_000 }) => ({
      type: 'openai-compatible',
      baseUrl,
      apiKey: 'sk-upstream',
      timeouts: TIMEOUTS,
      retry: RETRY,
      circuitBreaker,
    });
    gateway = await startTestGateway({
      providers: {
        primary: provider(main.url),
        refused: provider(`http://127.0.0.1:${await closedPort()}/v1`),
        failing: provider(failing.url),
        backup: provider(backup.url),
        flaky: provider(flaky.url, { failureThreshold: 2, cooldownMs: 60_000 }),
        picky: provider(picky.url, { failureThreshold: 2, cooldownMs: 60_000 }),
      },
      agents: {
        voice: { provider: 'primary', model: 'main-model' },
        api: { provider: 'primary', model: 'main-model', onFailure: { mode: 'error' } },
        voiceRefused: { provider: 'refused', model: 'm' },
        apiRefused: { provider: 'refused', model: 'm', onFailure: { mode: 'error' } },
        withFallback: { provider: 'failing', model: 'failing-model', fallbacks: [{ provider: 'backup', model: 'backup-model' }] },
        breaker: { provider: 'flaky', model: 'flaky-model', fallbacks: [{ provider: 'backup', model: 'backup-model' }] },
        breakerApi: { provider: 'flaky', model: 'flaky-model', onFailure: { mode: 'error' } },
        picky: { provider: 'picky', model: 'picky-model', fallbacks: [{ provider: 'backup', model: 'backup-model' }] },
        pickyApi: { provider: 'picky', model: 'picky-model', onFailure: { mode: 'error' } },
        hangup: { provider: 'primary', model: 'main-model', onFailure: { mode: 'apologize', hangupAfterFailures: 2 } },
        filler: { provider: 'primary', model: 'main-model', filler: { enabled: true, afterMs: 100, phrases: ['One moment.'] } },
      },
    });
  });
  after(async () => {
    await gateway?.close();
    await Promise.all([main, failing, backup, flaky, picky].map((mock) => mock?.close()));
  });

  it('connection refused: retried once, then the apology (voice) / 502 upstream_unreachable (api)', TEST_TIMEOUT, async () => {
    let since = gateway.logs.length;
    const voice = await turn(gateway, ims('voiceRefused'));
    assertSpoken(voice, APOLOGY_EN);
    assertWithin(voice, TIMEOUTS.connectMs);
    const line = await turnLog(gateway, since);
    assert.equal(line.status, 'apologized');
    assert.equal(line.errorCode, 'upstream_unreachable');
    assert.equal(line.attempts, 'refused:retried(upstream_unreachable) refused:failed(upstream_unreachable)');

    since = gateway.logs.length;
    const api = await turn(gateway, ims('apiRefused'));
    assertError(api, 502, 'upstream_error', 'upstream_unreachable');
    assertWithin(api, TIMEOUTS.connectMs);
    assert.equal((await turnLog(gateway, since)).status, 'error');
  });

  it('HTTP 500: retried once (the mock sees 2 requests), then the apology (voice) / 502 upstream_error (api)', TEST_TIMEOUT, async () => {
    main.respondWith(fail500);
    let before = main.requests.length;
    const since = gateway.logs.length;
    const voice = await turn(gateway, ims('voice'));
    assertSpoken(voice, APOLOGY_EN);
    assertWithin(voice, TIMEOUTS.firstTokenMs);
    assert.equal(main.requests.length - before, 2, 'one try and one retry');
    const line = await turnLog(gateway, since);
    assert.equal(line.status, 'apologized');
    assert.equal(line.httpStatus, 200);
    assert.equal(line.attempts, 'primary:retried(upstream_error) primary:failed(upstream_error)');

    before = main.requests.length;
    const api = await turn(gateway, ims('api'));
    assertError(api, 502, 'upstream_error', 'upstream_error');
    assert.match(api.json!.error.message, /HTTP 500: internal failure/);
    assert.equal(main.requests.length - before, 2);
  });

  it(
    'HTTP 429 + Retry-After: 0 is retried at once and the answer arrives; Retry-After: 30 exceeds the budget: apology / 429 with retry-after',
    TEST_TIMEOUT,
    async () => {
      const rateLimited = (retryAfter: string): MockScenario => ({
        status: 429,
        headers: { 'retry-after': retryAfter },
        body: '{"error":{"message":"slow down"}}',
      });
      let before = main.requests.length;
      main.respondWith((request) => (main.requests.indexOf(request) === before ? rateLimited('0') : { events: textEvents(ANSWER) }));
      let since = gateway.logs.length;
      const retried = await turn(gateway, ims('voice'));
      assertSpoken(retried, ANSWER);
      assertWithin(retried, TIMEOUTS.firstTokenMs);
      assert.equal(main.requests.length - before, 2);
      let line = await turnLog(gateway, since);
      assert.equal(line.status, 'ok');
      assert.equal(line.attempts, 'primary:retried(upstream_rate_limited) primary:committed');

      main.respondWith(rateLimited('30'));
      before = main.requests.length;
      since = gateway.logs.length;
      const voice = await turn(gateway, ims('voice'));
      assertSpoken(voice, APOLOGY_EN);
      assertWithin(voice, TIMEOUTS.firstTokenMs);
      assert.equal(main.requests.length - before, 1, 'a 30 s wait does not fit the first-token budget: no retry');
      line = await turnLog(gateway, since);
      assert.equal(line.errorCode, 'upstream_rate_limited');
      assert.equal(line.attempts, 'primary:failed(upstream_rate_limited)');

      before = main.requests.length;
      const api = await turn(gateway, ims('api'));
      assertError(api, 429, 'rate_limit_error', 'upstream_rate_limited');
      assert.equal(api.headers.get('retry-after'), '30');
      assertWithin(api, TIMEOUTS.firstTokenMs);
      assert.equal(main.requests.length - before, 1);
    },
  );

  it(
    'hang before the response headers: first-token timeout, no retry; apology (voice) / 504 (api); the upstream request is aborted',
    TEST_TIMEOUT,
    async () => {
      main.respondWith({ hangBeforeHeaders: true });
      let before = main.requests.length;
      const since = gateway.logs.length;
      const voice = await turn(gateway, ims('voice'));
      assertSpoken(voice, APOLOGY_EN);
      assertWithin(voice, TIMEOUTS.firstTokenMs, TIMEOUTS.firstTokenMs - 50);
      assert.equal(main.requests.length - before, 1, 'a timeout is not retried');
      await main.waitForAbort(before, 1000);
      const line = await turnLog(gateway, since);
      assert.equal(line.status, 'apologized');
      assert.equal(line.errorCode, 'upstream_first_token_timeout');

      before = main.requests.length;
      const api = await turn(gateway, ims('api'));
      assertError(api, 504, 'timeout_error', 'upstream_first_token_timeout');
      assertWithin(api, TIMEOUTS.firstTokenMs, TIMEOUTS.firstTokenMs - 50);
      await main.waitForAbort(before, 1000);
    },
  );

  it(
    'hang after the headers, before the first chunk (or after a role-only chunk): first-token timeout; apology / 504',
    TEST_TIMEOUT,
    async () => {
      for (const hangAfterEvents of [0, 1]) {
        // textEvents starts with a role-only chunk: nothing the caller would hear.
        main.respondWith({ events: textEvents(ANSWER), hangAfterEvents });
        let before = main.requests.length;
        const since = gateway.logs.length;
        const voice = await turn(gateway, ims('voice'));
        assertSpoken(voice, APOLOGY_EN);
        assertWithin(voice, TIMEOUTS.firstTokenMs, TIMEOUTS.firstTokenMs - 50);
        assert.equal(main.requests.length - before, 1);
        await main.waitForAbort(before, 1000);
        assert.equal((await turnLog(gateway, since)).errorCode, 'upstream_first_token_timeout');

        before = main.requests.length;
        const api = await turn(gateway, ims('api'));
        assertError(api, 504, 'timeout_error', 'upstream_first_token_timeout');
        assertWithin(api, TIMEOUTS.firstTokenMs, TIMEOUTS.firstTokenMs - 50);
        await main.waitForAbort(before, 1000);
      }
    },
  );

  it(
    'hang mid-stream: what was said stays said, the stream ends cleanly (stop + [DONE]) after the idle budget, for voice and api alike',
    TEST_TIMEOUT,
    async () => {
      // role, "Hello ", "there." then silence.
      main.respondWith({ events: textEvents('Hello there. This part never arrives.', { chunkSize: 6 }), hangAfterEvents: 3 });
      for (const agent of ['voice', 'api']) {
        const before = main.requests.length;
        const since = gateway.logs.length;
        const result = await turn(gateway, ims(agent));
        assertSpoken(result, 'Hello there.');
        assertWithin(result, TIMEOUTS.idleMs, TIMEOUTS.idleMs - 50);
        await main.waitForAbort(before, 1000);
        const line = await turnLog(gateway, since);
        assert.equal(line.status, 'upstream_broken');
        assert.equal(line.errorCode, 'upstream_idle_timeout');
        assert.equal(line.finishReason, 'stop');
        assert.equal(line.charsOut, 'Hello there.'.length);
      }
    },
  );

  it(
    'malformed SSE: invalid JSON first → retried, then the apology; invalid JSON after some text → clean end keeping the text',
    TEST_TIMEOUT,
    async () => {
      main.respondWith({ events: [{ raw: 'data: {not json\n\n' }, ...textEvents(ANSWER)] });
      let before = main.requests.length;
      let since = gateway.logs.length;
      const first = await turn(gateway, ims('voice'));
      assertSpoken(first, APOLOGY_EN);
      assertWithin(first, TIMEOUTS.firstTokenMs);
      assert.equal(main.requests.length - before, 2, 'a broken stream before any word is retried');
      let line = await turnLog(gateway, since);
      assert.equal(line.status, 'apologized');
      assert.equal(line.errorCode, 'upstream_stream_broken');

      main.respondWith({
        events: [
          { role: 'assistant', content: 'Hello ' },
          { content: 'there.' },
          { raw: 'data: {not json\n\n' },
          { content: ' Never said.' },
          { finish_reason: 'stop' },
        ],
      });
      before = main.requests.length;
      since = gateway.logs.length;
      const later = await turn(gateway, ims('voice'));
      assertSpoken(later, 'Hello there.');
      assertWithin(later, TIMEOUTS.firstTokenMs);
      assert.equal(main.requests.length - before, 1, 'nothing is retried once words were said');
      line = await turnLog(gateway, since);
      assert.equal(line.status, 'upstream_broken');
      assert.equal(line.errorCode, 'upstream_stream_broken');
    },
  );

  it('no [DONE] but a finish_reason: a normal end with the whole answer', TEST_TIMEOUT, async () => {
    main.respondWith({ events: textEvents(ANSWER), omitDone: true });
    const since = gateway.logs.length;
    const result = await turn(gateway, ims('voice'));
    assertSpoken(result, ANSWER);
    assertWithin(result, TIMEOUTS.firstTokenMs);
    const line = await turnLog(gateway, since);
    assert.equal(line.status, 'ok');
    assert.equal(line.errorCode, undefined);
  });

  it('no [DONE] and no finish_reason: a broken stream, ended cleanly keeping the text (api too)', TEST_TIMEOUT, async () => {
    main.respondWith({ events: [{ role: 'assistant', content: 'Hello ' }, { content: 'there.' }], omitDone: true });
    for (const agent of ['voice', 'api']) {
      const since = gateway.logs.length;
      const result = await turn(gateway, ims(agent));
      assertSpoken(result, 'Hello there.');
      assertWithin(result, TIMEOUTS.firstTokenMs);
      const line = await turnLog(gateway, since);
      assert.equal(line.status, 'upstream_broken');
      assert.equal(line.errorCode, 'upstream_stream_broken');
    }
  });

  it(
    'a truncated JSON event: after some text → clean end keeping the text; as the very first event → retried, then the apology',
    TEST_TIMEOUT,
    async () => {
      const truncated = {
        raw: 'data: {"id":"chatcmpl-cut","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" and mo',
      };
      main.respondWith({ events: [{ role: 'assistant', content: 'Hello ' }, { content: 'there.' }, truncated], omitDone: true });
      let since = gateway.logs.length;
      const later = await turn(gateway, ims('voice'));
      assertSpoken(later, 'Hello there.');
      assertWithin(later, TIMEOUTS.firstTokenMs);
      let line = await turnLog(gateway, since);
      assert.equal(line.status, 'upstream_broken');
      assert.equal(line.errorCode, 'upstream_stream_broken');

      main.respondWith({ events: [truncated], omitDone: true });
      const before = main.requests.length;
      since = gateway.logs.length;
      const first = await turn(gateway, ims('voice'));
      assertSpoken(first, APOLOGY_EN);
      assertWithin(first, TIMEOUTS.firstTokenMs);
      assert.equal(main.requests.length - before, 2);
      line = await turnLog(gateway, since);
      assert.equal(line.status, 'apologized');
      assert.equal(line.errorCode, 'upstream_stream_broken');
    },
  );

  it(
    'slow drip: events under the idle budget → the whole answer; a gap over it → cut cleanly after what was said',
    TEST_TIMEOUT,
    async () => {
      // role + 4 content chunks + finish + [DONE], 100 ms apart: ~600 ms, every gap under the 300 ms idle budget.
      main.respondWith({ events: textEvents(ANSWER, { chunkSize: 10 }), eventIntervalMs: 100 });
      let since = gateway.logs.length;
      const slow = await turn(gateway, ims('voice'));
      assertSpoken(slow, ANSWER);
      assertWithin(slow, 600, 500);
      assert.equal((await turnLog(gateway, since)).status, 'ok');

      // The first event speaks at once; the next would come 600 ms later, past the idle budget.
      main.respondWith({
        events: [{ role: 'assistant', content: 'Hello ' }, { content: 'there.' }, { finish_reason: 'stop' }],
        eventIntervalMs: 600,
      });
      const before = main.requests.length;
      since = gateway.logs.length;
      const cut = await turn(gateway, ims('voice'));
      assertSpoken(cut, 'Hello ');
      assertWithin(cut, TIMEOUTS.idleMs, TIMEOUTS.idleMs - 50);
      await main.waitForAbort(before, 1000);
      const line = await turnLog(gateway, since);
      assert.equal(line.status, 'upstream_broken');
      assert.equal(line.errorCode, 'upstream_idle_timeout');
    },
  );

  it(
    'fallback: the primary fails (500, then a hang) and the fallback answers; the log line shows every attempt',
    TEST_TIMEOUT,
    async () => {
      failing.respondWith(fail500);
      let before = failing.requests.length;
      const backupBefore = backup.requests.length;
      let since = gateway.logs.length;
      const afterError = await turn(gateway, ims('withFallback'));
      assertSpoken(afterError, BACKUP_ANSWER);
      assertWithin(afterError, TIMEOUTS.firstTokenMs);
      assert.equal(failing.requests.length - before, 2, 'the primary is retried once first');
      assert.equal((backup.requests[backupBefore]!.body as { model: string }).model, 'backup-model');
      let line = await turnLog(gateway, since);
      assert.equal(line.status, 'ok');
      assert.equal(line.provider, 'backup');
      assert.equal(line.attempts, 'failing:retried(upstream_error) failing:failed(upstream_error) backup:committed');

      failing.respondWith({ hangBeforeHeaders: true });
      before = failing.requests.length;
      since = gateway.logs.length;
      const afterHang = await turn(gateway, ims('withFallback'));
      assertSpoken(afterHang, BACKUP_ANSWER);
      assertWithin(afterHang, TIMEOUTS.firstTokenMs, TIMEOUTS.firstTokenMs - 50);
      await failing.waitForAbort(before, 1000);
      line = await turnLog(gateway, since);
      assert.equal(line.provider, 'backup');
      assert.equal(line.attempts, 'failing:failed(upstream_first_token_timeout) backup:committed');
    },
  );

  it(
    'circuit breaker: after 2 failed turns the primary is skipped at once (no new request) and the fallback answers quickly',
    TEST_TIMEOUT,
    async () => {
      flaky.respondWith(fail500);
      for (let i = 0; i < 2; i++) {
        const result = await turn(gateway, ims('breaker'));
        assertSpoken(result, BACKUP_ANSWER);
      }
      assert.equal(flaky.requests.length, 4, 'two failed turns, each one try and one retry');

      const since = gateway.logs.length;
      const skipped = await turn(gateway, ims('breaker'));
      assertSpoken(skipped, BACKUP_ANSWER);
      assert.equal(flaky.requests.length, 4, 'the open circuit sends the primary nothing');
      assert.ok(skipped.ms < 300, `the fallback answers at once (took ${Math.round(skipped.ms)} ms)`);
      const line = await turnLog(gateway, since);
      assert.equal(line.provider, 'backup');
      assert.equal(line.attempts, 'flaky:skipped(circuit_open) backup:committed');

      // Without a fallback, an api client learns the circuit is open and when to come back.
      const alone = await turn(gateway, ims('breakerApi'));
      assertError(alone, 503, 'upstream_error', 'circuit_open');
      const retryAfter = Number(alone.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
      assert.equal(flaky.requests.length, 4);
    },
  );

  it(
    'client mistakes never open the circuit: upstream 400s, 413s and 429s leave the primary answering; 5xx still opens it',
    TEST_TIMEOUT,
    async () => {
      const rejected: MockScenario = { status: 400, body: '{"error":{"message":"This model\'s maximum context length is 8192 tokens"}}' };
      const tooLarge: MockScenario = { status: 413, body: '{"error":{"message":"request entity too large"}}' };
      const rateLimited: MockScenario = { status: 429, headers: { 'retry-after': '30' }, body: '{"error":{"message":"slow down"}}' };
      const backupBefore = backup.requests.length;
      for (const scenario of [rejected, rejected, rejected, tooLarge, rateLimited, rateLimited, rejected, rejected]) {
        picky.respondWith(scenario);
        const before = picky.requests.length;
        const api = await turn(gateway, ims('pickyApi'));
        assert.equal(picky.requests.length - before, 1, 'a client mistake is sent once: no retry');
        assert.equal(api.status, scenario.status, `HTTP ${scenario.status} reaches the client as what it is`);
        assert.equal(api.json?.error.type, scenario === rateLimited ? 'rate_limit_error' : 'invalid_request_error');
      }
      assert.equal(backup.requests.length, backupBefore, 'nobody asked the fallback to refuse the same request');

      // A voice caller still hears something, and the fallback is not asked to refuse the same request.
      picky.respondWith(rejected);
      let since = gateway.logs.length;
      const voice = await turn(gateway, ims('picky'));
      assertSpoken(voice, APOLOGY_EN);
      let line = await turnLog(gateway, since);
      assert.equal(line.status, 'apologized');
      assert.equal(line.errorCode, 'upstream_rejected_request');
      assert.equal(line.attempts, 'picky:failed(upstream_rejected_request)');
      assert.equal(backup.requests.length, backupBefore);

      // Nine refused requests later the circuit (threshold 2) is still closed: the primary answers.
      picky.respondWith({ events: textEvents(ANSWER) });
      since = gateway.logs.length;
      assertSpoken(await turn(gateway, ims('picky')), ANSWER);
      line = await turnLog(gateway, since);
      assert.equal(line.provider, 'picky');
      assert.equal(line.attempts, undefined, 'answered at the first attempt');

      // The provider's own failures still count: two failed turns open it.
      picky.respondWith(fail500);
      for (let i = 0; i < 2; i++) assertSpoken(await turn(gateway, ims('picky')), BACKUP_ANSWER);
      const before = picky.requests.length;
      since = gateway.logs.length;
      assertSpoken(await turn(gateway, ims('picky')), BACKUP_ANSWER);
      assert.equal(picky.requests.length, before, 'the open circuit sends the primary nothing');
      assert.equal((await turnLog(gateway, since)).attempts, 'picky:skipped(circuit_open) backup:committed');
    },
  );

  it('deeply nested JSON: a 400 before any upstream is tried, never a retried "upstream unreachable"', TEST_TIMEOUT, async () => {
    // Written as text: the test's own JSON.stringify would overflow on it too.
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const withField = (agent: string, field: string) => JSON.stringify(ims(agent)).replace(/}$/, `,${field}}`);
    const before = main.requests.length;
    for (const agent of ['voice', 'api']) {
      for (const body of [
        withField(agent, `"metadata":${deep}`),
        withField(agent, `"tools":[{"type":"function","function":{"name":"f","parameters":${deep}}}]`),
        withField(agent, `"extendData":{"instanceId":"deep","userData":${deep}}`),
      ]) {
        const result = await turn(gateway, body);
        assertError(result, 400, 'invalid_request_error', 'too_deeply_nested');
      }
    }
    assert.equal(main.requests.length, before, 'nothing was sent upstream');
  });

  it('the apology is in Chinese when the caller speaks Chinese', TEST_TIMEOUT, async () => {
    main.respondWith(fail500);
    const result = await turn(gateway, ims('voice', '你好，请问你们几点开门？'));
    assertSpoken(result, APOLOGY_ZH);
    assertWithin(result, TIMEOUTS.firstTokenMs);
  });

  it(
    'hangupAfterFailures: 2 — the 2nd failed turn in a row of the same call ends with a hangup tool call; a success resets the count',
    TEST_TIMEOUT,
    async () => {
      const call = 'call-hangup';
      const since = gateway.logs.length;
      main.respondWith(fail500);
      let stream = assertSpoken(await turn(gateway, ims('hangup', 'hi', call)), APOLOGY_EN);
      assert.deepEqual(toolCallsOf(stream), [], '1st failure: no hangup yet');

      main.respondWith({ events: textEvents(ANSWER) });
      assertSpoken(await turn(gateway, ims('hangup', 'hi', call)), ANSWER);

      main.respondWith(fail500);
      stream = assertSpoken(await turn(gateway, ims('hangup', 'hi', call)), APOLOGY_EN);
      assert.deepEqual(toolCallsOf(stream), [], 'the success in between reset the count');

      stream = assertSpoken(await turn(gateway, ims('hangup', 'hi', 'call-hangup-other')), APOLOGY_EN);
      assert.deepEqual(toolCallsOf(stream), [], 'another call has its own count');

      const sinceLast = gateway.logs.length;
      const result = await turn(gateway, ims('hangup', 'hi', call));
      stream = assertSpoken(result, APOLOGY_EN, 'tool_calls');
      assertWithin(result, TIMEOUTS.firstTokenMs);
      const deltas = toolCallsOf(stream);
      assert.ok(deltas.length > 0 && deltas.every((delta) => delta.index === 0), 'a single tool call');
      assert.equal(deltas[0]!.function.name, 'hangup');
      assert.equal(deltas.map((delta) => delta.function.arguments ?? '').join(''), '{}');
      assert.equal((await turnLog(gateway, sinceLast)).finishReason, 'tool_calls');
      const lines = gateway.logs.slice(since).filter((l) => l.agent === 'hangup');
      assert.deepEqual(
        lines.map((l) => l.status),
        ['apologized', 'ok', 'apologized', 'apologized', 'apologized'],
      );
    },
  );

  it('filler: a slow first word is preceded by the filler phrase; a fast answer gets none', TEST_TIMEOUT, async () => {
    main.respondWith({ events: textEvents(ANSWER), firstEventDelayMs: 300 });
    const slow = await turn(gateway, ims('filler'));
    assertSpoken(slow, `One moment. ${ANSWER}`);
    assertWithin(slow, 300, 300);

    main.respondWith({ events: textEvents(ANSWER) });
    const fast = await turn(gateway, ims('filler'));
    assertSpoken(fast, ANSWER);
    assertWithin(fast, 100);

    // The record says when the filler began the answer (the console's waterfall shows it).
    await gateway.records!.flush();
    const [fastTurn, slowTurn] = (await gateway.records!.searchTurns({ agent: 'filler', limit: 2 })).data;
    assert.ok(slowTurn?.timings?.fillerMs !== undefined && slowTurn.timings.fillerMs >= 90, JSON.stringify(slowTurn?.timings));
    assert.equal(fastTurn?.timings?.fillerMs, undefined);
  });
});
