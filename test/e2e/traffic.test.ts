/**
 * Traffic end to end: admission control (concurrent streams and requests per minute per key),
 * clients that never finish sending their request, and graceful shutdown (readiness, refusing
 * new turns, draining running ones, ending the rest cleanly).
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { checkStreamRules } from '../../tools/check/stream-rules.ts';
import { startMockUpstream, textEvents, type MockUpstream, type RecordedRequest } from '../../tools/testing/mock-upstream.ts';
import { imsRequest, readStream, startTestGateway, TEST_KEY, type ParsedStream, type TestGateway } from '../support/gateway-harness.ts';

const OTHER_KEY = 'other-key-9876543210';
const ANSWER = 'Hello there, how can I help you today?';
const CHAT = '/v1/chat/completions';
const SLACK_MS = 1500;
const TEST_TIMEOUT = { timeout: 15_000 };

let callCounter = 0;
/** An IMS request with its own call, so concurrent turns never supersede each other (barge-in). */
function ims(model: string, text = 'hi', instanceId = `traffic-call-${++callCounter}`): Record<string, unknown> {
  return imsRequest(model, text, { extendData: { instanceId, channelId: `chan-${instanceId}`, sentenceId: '1' } });
}

function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

function lastUserText(request: RecordedRequest): string {
  const messages = (request.body as { messages?: Array<{ role: string; content: unknown }> }).messages ?? [];
  const content = messages.filter((m) => m.role === 'user').at(-1)?.content;
  return typeof content === 'string' ? content : '';
}

function finishOf(stream: ParsedStream): unknown {
  return stream.chunks.filter((c) => Array.isArray(c.choices) && c.choices.length > 0).at(-1)?.choices[0].finish_reason;
}

async function assertAnswered(response: Response, text: string): Promise<ParsedStream> {
  assert.equal(response.status, 200);
  const stream = await readStream(response);
  assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
  assert.equal(stream.text, text);
  assert.equal(finishOf(stream), 'stop');
  assert.deepEqual(stream.afterDone, []);
  return stream;
}

async function assertOpenAIError(response: Response, status: number, type: string, code: string): Promise<void> {
  assert.equal(response.status, status);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await response.json()) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(body.error.type, type);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.doesNotMatch(String(body.error.message), new RegExp(`${TEST_KEY}|${OTHER_KEY}`), 'never the key');
}

/** Polls until `check` holds, at most `timeoutMs`. */
async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function provider(baseUrl: string): Record<string, unknown> {
  return { type: 'openai-compatible', baseUrl, apiKey: 'sk-upstream', retry: { maxRetries: 0 } };
}

/** Rejects if `promise` has not settled within `ms`: every wait is bounded. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A chat request over node:http, for when the test must own the connection: `agent: false` (the
 * default) gives a connection of its own that `request.destroy()` really closes; a keep-alive Agent
 * keeps it open after the response, as a voice platform's connection pool does.
 */
function postRaw(
  gateway: TestGateway,
  body: unknown,
  options: { key?: string; agent?: Agent | false } = {},
): { request: ClientRequest; response: Promise<IncomingMessage> } {
  const payload = JSON.stringify(body);
  const request = httpRequest(new URL(CHAT, gateway.url), {
    method: 'POST',
    agent: options.agent ?? false,
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(payload)),
      authorization: `Bearer ${options.key ?? TEST_KEY}`,
    },
  });
  request.on('error', () => {}); // destroying it on purpose is no failure
  const response = within(
    new Promise<IncomingMessage>((resolve, reject) => {
      request.once('response', (res: IncomingMessage) => {
        res.on('error', () => {});
        resolve(res);
      });
      request.once('error', reject);
    }),
    5000,
    'the response headers',
  );
  request.end(payload);
  return { request, response };
}

/** Reads a node:http SSE response with the harness's spec-compliant parser. */
function readSse(response: IncomingMessage): Promise<ParsedStream> {
  return within(readStream({ body: response } as unknown as Response), 10_000, 'the end of the stream');
}

describe('admission control per API key', () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;

  before(async () => {
    upstream = await startMockUpstream();
    // "slow" answers start at once and then hold the stream open until the client leaves.
    upstream.respondWith((request) =>
      lastUserText(request) === 'slow'
        ? { events: textEvents('Hello there, this answer never ends.'), hangAfterEvents: 2 }
        : { events: textEvents(ANSWER) },
    );
    gateway = await startTestGateway({
      server: { apiKeys: [TEST_KEY, OTHER_KEY], limits: { maxConcurrentStreamsPerKey: 2 } },
      providers: { mock: provider(upstream.url) },
      agents: { agent: { provider: 'mock', model: 'm' } },
    });
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  it(
    'a 3rd concurrent stream of the same key gets 429 with Retry-After and an OpenAI error; another key still streams; a freed slot is reusable',
    TEST_TIMEOUT,
    async () => {
      const firstSlow = upstream.requests.length;
      const held = [postRaw(gateway, ims('agent', 'slow')), postRaw(gateway, ims('agent', 'slow'))];
      try {
        for (const { response } of held) assert.equal((await response).statusCode, 200);

        const third = await gateway.post(CHAT, ims('agent'), { signal: AbortSignal.timeout(3000) });
        assert.equal(third.headers.get('retry-after'), '1');
        await assertOpenAIError(third, 429, 'rate_limit_error', 'too_many_concurrent_streams_for_key');

        await assertAnswered(
          await gateway.post(CHAT, ims('agent'), { headers: bearer(OTHER_KEY), signal: AbortSignal.timeout(3000) }),
          ANSWER,
        );
      } finally {
        for (const { request } of held) request.destroy();
      }
      // The held streams' clients left: their upstream requests are aborted and their slots freed.
      await upstream.waitForAbort(firstSlow, 2000);
      await upstream.waitForAbort(firstSlow + 1, 2000);
      let response: Response | undefined;
      await eventually(
        async () => {
          response = await gateway.post(CHAT, ims('agent'), { signal: AbortSignal.timeout(3000) });
          if (response.status === 200) return true;
          await response.body?.cancel();
          return false;
        },
        2000,
        'a slot of the first key to be free again',
      );
      await assertAnswered(response!, ANSWER);
    },
  );
});

describe('requests per minute per API key', () => {
  let upstream: MockUpstream;
  let gateway: TestGateway;

  before(async () => {
    upstream = await startMockUpstream({ events: textEvents(ANSWER) });
    gateway = await startTestGateway({
      server: { apiKeys: [TEST_KEY, OTHER_KEY], limits: { requestsPerMinutePerKey: 3 } },
      providers: { mock: provider(upstream.url) },
      agents: { agent: { provider: 'mock', model: 'm' } },
    });
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  it(
    'the 4th request within a minute gets 429 rate_limit_exceeded with Retry-After; another key is not affected',
    TEST_TIMEOUT,
    async () => {
      for (let i = 0; i < 3; i++) {
        await assertAnswered(await gateway.post(CHAT, ims('agent'), { signal: AbortSignal.timeout(3000) }), ANSWER);
      }
      const before = upstream.requests.length;
      const fourth = await gateway.post(CHAT, ims('agent'), { signal: AbortSignal.timeout(3000) });
      // 3 per minute: the next slot frees 20 s after the burst.
      assert.equal(fourth.headers.get('retry-after'), '20');
      await assertOpenAIError(fourth, 429, 'rate_limit_error', 'rate_limit_exceeded');
      assert.equal(upstream.requests.length, before, 'a refused request never reaches the upstream');

      await assertAnswered(
        await gateway.post(CHAT, ims('agent'), { headers: bearer(OTHER_KEY), signal: AbortSignal.timeout(3000) }),
        ANSWER,
      );
    },
  );
});

describe('clients that never finish sending their request', () => {
  const REQUEST_TIMEOUT_MS = 500;
  let upstream: MockUpstream;
  let gateway: TestGateway;
  const sockets: Socket[] = [];

  before(async () => {
    upstream = await startMockUpstream({ events: textEvents(ANSWER) });
    gateway = await startTestGateway({
      server: { limits: { requestTimeoutMs: REQUEST_TIMEOUT_MS, headersTimeoutMs: REQUEST_TIMEOUT_MS } },
      providers: { mock: provider(upstream.url) },
      agents: { agent: { provider: 'mock', model: 'm' } },
    });
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await gateway?.close();
    await upstream?.close();
  });

  /** A raw client that sends `head` then trickles `trickle` one byte every 100 ms, never finishing. */
  async function slowClient(head: string, trickle = ''): Promise<{ socket: Socket; closed: Promise<{ at: number; received: string }> }> {
    const url = new URL(gateway.url);
    const socket = connect(Number(url.port), url.hostname);
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => (received += data));
    socket.on('error', () => {}); // a reset is a disconnect too
    const closed = new Promise<{ at: number; received: string }>((resolve) =>
      socket.once('close', () => resolve({ at: performance.now(), received })),
    );
    socket.write(head);
    let at = 0;
    const timer = setInterval(() => {
      if (at < trickle.length && !socket.destroyed) socket.write(trickle[at++]!);
    }, 100);
    socket.once('close', () => clearInterval(timer));
    return { socket, closed };
  }

  const unfinishedBody = [
    `POST ${CHAT} HTTP/1.1`,
    'Host: 127.0.0.1',
    `Authorization: Bearer ${TEST_KEY}`,
    'Content-Type: application/json',
    'Content-Length: 1000',
    '',
    '{"model":"agent",',
  ].join('\r\n');
  const unfinishedHeaders = `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;

  it('the server keeps serving others while slow clients hold sockets open', TEST_TIMEOUT, async () => {
    const slow = await Promise.all([
      slowClient(unfinishedBody),
      slowClient(unfinishedHeaders, 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'),
    ]);
    await assertAnswered(await gateway.post(CHAT, ims('agent'), { signal: AbortSignal.timeout(3000) }), ANSWER);
    const ready = await fetch(`${gateway.url}/readyz`, { signal: AbortSignal.timeout(3000) });
    assert.equal(ready.status, 200);
    for (const { socket } of slow) socket.destroy();
  });

  // Node's http server checks headersTimeout/requestTimeout only every `connectionsCheckingInterval`
  // (default 30 s), which src/server/build-app.ts does not set (Fastify passes it via its `http`
  // option): a slow client is cut after up to requestTimeoutMs + 30 s, not after requestTimeoutMs.
  it('a client that never finishes its request is disconnected within requestTimeoutMs', TEST_TIMEOUT, async () => {
    const started = performance.now();
    const clients = await Promise.all([
      slowClient(unfinishedBody),
      slowClient(unfinishedHeaders, 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'),
    ]);
    const limit = REQUEST_TIMEOUT_MS + SLACK_MS;
    const outcome = await Promise.race([
      Promise.all(clients.map((c) => c.closed)),
      new Promise<'still open'>((resolve) => setTimeout(resolve, limit, 'still open')),
    ]);
    for (const { socket } of clients) socket.destroy();
    assert.notEqual(outcome, 'still open', `a slow client was still connected after ${limit} ms`);
    for (const { at, received } of outcome as Array<{ at: number; received: string }>) {
      assert.ok(at - started >= REQUEST_TIMEOUT_MS - 50, 'not cut before its time');
      // Node answers 408 Request Timeout when it can; a bare close is acceptable too.
      if (received !== '') assert.match(received, /^HTTP\/1\.1 408/);
    }
  });
});

describe('graceful shutdown', () => {
  const SENTENCE = 'The quick brown fox jumps over the lazy dog. ';

  it(
    'close(5000): /readyz turns 503 at once (or the connection is refused), new turns are refused, the running stream completes fully with [DONE]',
    TEST_TIMEOUT,
    async () => {
      // 4 sentences in 5-character chunks, 50 ms apart: ~1.9 s.
      const text = SENTENCE.repeat(4).trim();
      const upstream = await startMockUpstream({ events: textEvents(text, { chunkSize: 5 }), eventIntervalMs: 50 });
      const gateway = await startTestGateway({
        providers: { mock: provider(upstream.url) },
        agents: { agent: { provider: 'mock', model: 'm' } },
      });
      let closing: Promise<number> | undefined;
      try {
        const started = performance.now();
        const response = await gateway.post(CHAT, ims('agent'), { signal: AbortSignal.timeout(8000) });
        assert.equal(response.status, 200);
        const streamed = readStream(response).then((stream) => ({ stream, at: performance.now() }));
        const since = gateway.logs.length;

        closing = gateway.close(5000).then(() => performance.now());

        // On a connection already open: 503; a new connection is refused (the listener closed).
        const ready = await fetch(`${gateway.url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch((error: unknown) => error);
        if (ready instanceof Response) {
          assert.equal(ready.status, 503);
          await ready.body?.cancel();
        } else {
          assert.equal((ready as { cause?: { code?: string } }).cause?.code, 'ECONNREFUSED', String(ready));
        }

        try {
          const refused = await gateway.post(CHAT, ims('agent'), { signal: AbortSignal.timeout(2000) });
          assert.equal(refused.headers.get('retry-after'), '1');
          await assertOpenAIError(refused, 503, 'server_error', 'shutting_down');
        } catch (error) {
          // A refused connection is an acceptable answer too; a timeout (hang) is not.
          if (error instanceof assert.AssertionError) throw error;
          const code = (error as { cause?: { code?: string } }).cause?.code;
          assert.ok(
            code === 'ECONNREFUSED' || code === 'ECONNRESET',
            `the new request neither got 503 nor a refused connection: ${String(error)}`,
          );
        }

        const { stream, at } = await streamed;
        assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
        assert.equal(stream.text, text, 'the running answer is not cut');
        assert.equal(finishOf(stream), 'stop');
        assert.ok(at - started >= 1500, `the stream really was slow (${Math.round(at - started)} ms)`);

        const closedAt = await within(closing, 5000, 'close(5000)');
        assert.ok(closedAt >= at - 50, 'close() waited for the running turn');
        assert.ok(closedAt - started < 2000 + SLACK_MS, `close() took ${Math.round(closedAt - started)} ms`);
        const line = gateway.logs.slice(since).find((l) => l.agent === 'agent');
        assert.equal(line?.status, 'ok');
      } finally {
        if (closing === undefined) await gateway.close(0);
        else await closing.catch(() => undefined);
        await upstream.close();
      }
    },
  );

  it('close(100): a long stream is ended cleanly (finish + [DONE]) after ~100 ms, logged with status shutdown', TEST_TIMEOUT, async () => {
    // ~100 chunks 50 ms apart: ~5 s, far longer than the drain timeout.
    const text = SENTENCE.repeat(11).trim();
    const upstream = await startMockUpstream({ events: textEvents(text, { chunkSize: 5 }), eventIntervalMs: 50 });
    const gateway = await startTestGateway({
      providers: { mock: provider(upstream.url) },
      agents: { agent: { provider: 'mock', model: 'm' } },
    });
    let closing: Promise<number> | undefined;
    try {
      // A connection of its own (a kept-alive one is tested below).
      const response = await postRaw(gateway, ims('agent')).response;
      assert.equal(response.statusCode, 200);
      const since = gateway.logs.length;
      const streamed = readSse(response).then((stream) => ({ stream, at: performance.now() }));

      const closeStarted = performance.now();
      closing = gateway.close(100).then(() => performance.now());

      const { stream, at } = await streamed;
      assert.deepEqual(checkStreamRules(stream.chunks, stream.sawDone), []);
      assert.equal(finishOf(stream), 'stop');
      assert.deepEqual(stream.afterDone, []);
      assert.ok(stream.text.length > 0 && stream.text.length < text.length, `a prefix was said: ${JSON.stringify(stream.text)}`);
      assert.ok(text.startsWith(stream.text), 'what was said is intact');
      assert.ok(at - closeStarted >= 90, `ended after the drain timeout, not before (${Math.round(at - closeStarted)} ms)`);
      assert.ok(at - closeStarted < 100 + SLACK_MS, `ended ${Math.round(at - closeStarted)} ms after close(100)`);

      const closedAt = await within(closing, 5000, 'close(100)');
      assert.ok(closedAt - closeStarted < 100 + SLACK_MS, `close(100) took ${Math.round(closedAt - closeStarted)} ms`);
      await upstream.waitForAbort(0, 2000);
      const line = gateway.logs.slice(since).find((l) => l.agent === 'agent');
      assert.equal(line?.status, 'shutdown');
      assert.equal(line?.errorCode, 'shutdown');
      assert.equal(line?.finishReason, 'stop');
    } finally {
      if (closing === undefined) await gateway.close(0);
      else await closing.catch(() => undefined);
      await upstream.close();
    }
  });

  // gateway.close(): drain() aborts the turns still running after the drain timeout and returns at
  // once; app.close() then runs while those aborted streams are still writing their clean ending,
  // so their connections are not idle when Node's server.close() closes the idle ones. Once the
  // stream has ended, a kept-alive connection then holds close() until the client drops it (undici
  // fetch: 4 s; a voice platform's pool: longer; at most server.limits.keepAliveTimeoutMs, 65 s).
  it('close(100) returns soon after the drain timeout even when the client keeps its connection alive', TEST_TIMEOUT, async () => {
    const text = SENTENCE.repeat(11).trim();
    const upstream = await startMockUpstream({ events: textEvents(text, { chunkSize: 5 }), eventIntervalMs: 50 });
    const gateway = await startTestGateway({
      providers: { mock: provider(upstream.url) },
      agents: { agent: { provider: 'mock', model: 'm' } },
    });
    const agent = new Agent({ keepAlive: true });
    let closing: Promise<string> | undefined;
    try {
      const response = await postRaw(gateway, ims('agent'), { agent }).response;
      const streamed = readSse(response);
      const closeStarted = performance.now();
      closing = gateway.close(100).then(() => 'closed');
      const stream = await streamed;
      assert.equal(stream.sawDone, true, 'the stream itself ends cleanly');
      const limit = 100 + SLACK_MS;
      const outcome = await Promise.race([closing, new Promise<string>((resolve) => setTimeout(resolve, limit, 'still closing'))]);
      assert.equal(outcome, 'closed', `close(100) had not returned ${Math.round(performance.now() - closeStarted)} ms later`);
    } finally {
      agent.destroy(); // lets a close() that waits for the kept-alive connection finish
      if (closing === undefined) await gateway.close(0);
      else await within(closing, 5000, 'close() once the client dropped its connection');
      await upstream.close();
    }
  });

  // Node stops checking headersTimeout/requestTimeout once server.close() is called, and
  // closeIdleConnections() skips a connection that has not completed a request: a client that
  // connected and sent nothing (or half a request) keeps close() pending until the client leaves
  // (measured: still pending after 45 s). Under SIGTERM the process does not exit.
  it('close(100) is not held up by a connection that never sent a (whole) request', TEST_TIMEOUT, async () => {
    const gateway = await startTestGateway({ providers: { s: { type: 'scripted' } }, agents: { agent: { provider: 's' } } });
    const url = new URL(gateway.url);
    const sockets = ['', `POST ${CHAT} HTTP/1.1\r\nHost: 127.0.0.1\r\n`].map((head) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write(head));
      socket.on('error', () => {});
      return socket;
    });
    let closing: Promise<string> | undefined;
    try {
      await within(
        Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once('connect', resolve)))),
        2000,
        'the raw connections',
      );
      await new Promise((resolve) => setTimeout(resolve, 50)); // let the server see them
      closing = gateway.close(100).then(() => 'closed');
      const limit = 100 + SLACK_MS;
      const outcome = await Promise.race([closing, new Promise<string>((resolve) => setTimeout(resolve, limit, 'still closing'))]);
      assert.equal(outcome, 'closed', `close(100) had not returned after ${limit} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      if (closing === undefined) await gateway.close(0);
      else await within(closing, 5000, 'close() once the raw connections were gone');
    }
  });
});
