import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { checkStreamRules } from '../../tools/check/stream-rules.ts';
import {
  startMockUpstream,
  textEvents,
  type MockUpstream,
  type RecordedRequest,
  type ScenarioSource,
} from '../../tools/testing/mock-upstream.ts';
import { imsRequest, readStream, startTestGateway, TEST_ADMIN_KEY, TEST_KEY, type TestGateway } from '../support/gateway-harness.ts';
import { parsePrometheusText } from '../support/prometheus.ts';
import {
  deleteKeys,
  redisSkipReason,
  startRedisProxy,
  testRedis,
  TEST_REDIS_URL,
  uniquePrefix,
  type RedisProxy,
} from '../support/redis.ts';

const skip = await redisSkipReason();

type Message = { role: string; content?: unknown };

const CALLBACK_TOKEN = 'callback-token-0123456789';
const LONG_ANSWER = 'A long answer that the caller will talk over long before it is finished, word after word.';

/** The model drips LONG_ANSWER (an event every `intervalMs`) to a request that says `slow`, and answers `quick` to any other. */
function slowFor(slow: string, quick: string, intervalMs: number): ScenarioSource {
  return (request) =>
    JSON.stringify(request.body).includes(slow)
      ? { events: textEvents(LONG_ANSWER), eventIntervalMs: intervalMs }
      : { events: textEvents(quick) };
}

function sentTo(request: RecordedRequest): string[] {
  return (request.body as { messages: Message[] }).messages.map((m) => `${m.role}:${String(m.content)}`);
}

async function metric(gateway: TestGateway, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const families = parsePrometheusText(await (await fetch(`${gateway.url}/metrics`)).text());
  const sample = families
    .find((family) => family.name === name)
    ?.metrics.find((m) => Object.entries(labels).every(([key, value]) => m.labels?.[key] === value));
  return sample?.value === undefined ? undefined : Number(sample.value);
}

async function readiness(gateway: TestGateway): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${gateway.url}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function gatewayConfig(
  upstream: MockUpstream,
  state: Record<string, unknown>,
  limits: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    server: { apiKeys: [TEST_KEY, 'second-key-0123456789', 'third-key-0123456789'], limits },
    providers: { mock: { type: 'openai-compatible', baseUrl: upstream.url, apiKey: 'sk-x' } },
    agents: {
      remembering: { provider: 'mock', model: 'm', memory: { mode: 'full' } },
      plain: { provider: 'mock', model: 'm' },
    },
    calls: { newCallAfterIdleSeconds: 5 },
    callbacks: { token: CALLBACK_TOKEN },
    state: { store: 'redis', ...state },
  };
}

interface Replicas {
  redis: Redis;
  upstream: MockUpstream;
  a: TestGateway;
  b: TestGateway;
}

/** Two gateways on one Redis prefix, one mock model, and a Redis connection to look at the keys. */
async function startReplicas(prefix: string, limits: Record<string, unknown> = {}): Promise<Replicas> {
  const upstream = await startMockUpstream();
  // A generous budget: on a loaded CI machine a 50 ms one can pass by, and the turn would (rightly) go local.
  const config = gatewayConfig(upstream, { url: TEST_REDIS_URL, keyPrefix: prefix, timeoutMs: 1000 }, limits);
  const [a, b] = await Promise.all([startTestGateway(config), startTestGateway(config)]);
  return { redis: testRedis(), upstream, a, b };
}

async function stopReplicas(replicas: Partial<Replicas>, prefix: string): Promise<void> {
  await Promise.all([replicas.a?.close(), replicas.b?.close()]);
  await replicas.upstream?.close();
  if (replicas.redis) {
    await deleteKeys(replicas.redis, prefix);
    replicas.redis.disconnect();
  }
}

describe('two replicas sharing call state through Redis', { skip }, () => {
  const prefix = uniquePrefix('replicas');
  let redis: Redis;
  let upstream: MockUpstream;
  let a: TestGateway;
  let b: TestGateway;

  before(async () => ({ redis, upstream, a, b } = await startReplicas(prefix)));
  after(() => stopReplicas({ redis, upstream, a, b }, prefix));

  it('a newer turn on replica B cancels the turn streaming on replica A within milliseconds, upstream included', async (t) => {
    upstream.respondWith(slowFor('first question', 'Second answer.', 30));
    const before = upstream.requests.length;
    const call = { instanceId: 'barge-across', sentenceId: 1 };
    const first = await a.post('/v1/chat/completions', imsRequest('plain', 'first question', { extendData: call }));
    const firstReader = readStream(first);
    await upstream.waitForRequests(before + 1, 2000);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const sentAt = Date.now();
    const second = await b.post('/v1/chat/completions', imsRequest('plain', 'second question', { extendData: { ...call, sentenceId: 2 } }));
    const aborted = await upstream.waitForAbort(before, 2000);
    const cancelMs = aborted.closedAt! - sentAt;
    t.diagnostic(`A's upstream request was aborted ${cancelMs} ms after B's turn was sent`);
    assert.ok(cancelMs < 250, `A's upstream request was aborted ${cancelMs} ms after B's turn was sent`);
    const firstStream = await firstReader;
    assert.deepEqual(checkStreamRules(firstStream.chunks, firstStream.sawDone), [], 'the superseded stream still ends cleanly');
    assert.ok(firstStream.text.length < LONG_ANSWER.length);
    assert.equal((await readStream(second)).text, 'Second answer.');
    await eventually('A logged its turn', async () => a.logs.some((l) => l.instanceId === 'barge-across' && l.status !== undefined));
    assert.ok(
      a.logs.some((l) => l.status === 'superseded' && l.instanceId === 'barge-across'),
      "A's log line says superseded",
    );
    await a.records!.flush();
    const onRecord = (await (
      await fetch(`${a.url}/admin/calls/barge-across`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } })
    ).json()) as {
      turnRecords: Array<{ outcome: string; cancellation: string | null }>;
    };
    assert.deepEqual(
      onRecord.turnRecords.map((r) => [r.outcome, r.cancellation]),
      [['superseded', 'superseded']],
      "A's turn record says superseded",
    );
    assert.equal(await metric(a, 'vlg_shared_state_remote_cancels_total'), 1);
    assert.equal(await metric(b, 'vlg_shared_state_remote_cancels_total'), 0);
  });

  it('a late request for an older sentence arriving at B is superseded, and the newer answer on A goes on', async () => {
    upstream.respondWith(slowFor('newer question', 'Older answer.', 10));
    const before = upstream.requests.length;
    const call = { instanceId: 'late-across' };
    const newer = readStream(
      await a.post('/v1/chat/completions', imsRequest('plain', 'newer question', { extendData: { ...call, sentenceId: 5 } })),
    );
    await upstream.waitForRequests(before + 1, 2000);
    const late = await b.post(
      '/v1/chat/completions',
      imsRequest('plain', 'older question', { stream: false, extendData: { ...call, sentenceId: 4 } }),
    );
    assert.equal(late.status, 409);
    assert.equal(((await late.json()) as { error: { code: string } }).error.code, 'superseded');
    assert.equal((await newer).text, LONG_ANSWER, 'the newer answer was not cut');
    assert.equal(upstream.requests.length, before + 1, 'the late request never reached the model');
  });

  it('call memory (memory.mode full) written by A is restored by B', async () => {
    upstream.respondWith({ events: textEvents('Noted.') });
    const call = { instanceId: 'memory-across' };
    await readStream(
      await a.post(
        '/v1/chat/completions',
        imsRequest('remembering', 'x', { extendData: { ...call, sentenceId: 1 }, messages: [{ role: 'user', content: 'my name is Li' }] }),
      ),
    );
    // The answer's end is written after the stream closed, without holding the caller.
    await eventually('A wrote the memory', async () => (await redis.exists(`${prefix}memory:{key-1:instance:memory-across}`)) === 1, 2000);
    await readStream(
      await b.post(
        '/v1/chat/completions',
        imsRequest('remembering', 'x', {
          extendData: { ...call, sentenceId: 2 },
          messages: [
            { role: 'assistant', content: 'Noted.' },
            { role: 'user', content: 'what is my name?' },
          ],
        }),
      ),
    );
    assert.deepEqual(sentTo(upstream.requests.at(-1)!), ['user:my name is Li', 'assistant:Noted.', 'user:what is my name?']);
    const ttl = await redis.pttl(`${prefix}memory:{key-1:instance:memory-across}`);
    assert.ok(ttl > 29 * 60_000 && ttl <= 30 * 60_000, `the memory expires after memory.idleMinutes (${ttl} ms)`);
  });

  it('an agent_stop callback received by B ends the call begun on A: its memory and sentence order are gone', async () => {
    upstream.respondWith({ events: textEvents('Noted.') });
    const call = { instanceId: 'ended-across' };
    const memoryKey = `${prefix}memory:{key-1:instance:ended-across}`;
    await readStream(await a.post('/v1/chat/completions', imsRequest('remembering', 'hello', { extendData: { ...call, sentenceId: 7 } })));
    await eventually('A wrote the memory', async () => (await redis.exists(memoryKey)) === 1, 2000);
    const callback = await fetch(`${b.url}/ims/callbacks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CALLBACK_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'agent_stop', instanceId: 'ended-across', eventId: 'stop-1' }),
    });
    assert.equal(callback.status, 200);
    await eventually(
      'the call is gone',
      async () => (await redis.exists(`${prefix}call:{key-1:instance:ended-across}`, memoryKey)) === 0,
      2000,
    );
    // The same opening and a lower sentence moments later: a late request of a live call, had it not ended.
    const again = await a.post(
      '/v1/chat/completions',
      imsRequest('remembering', 'hello', { stream: false, extendData: { ...call, sentenceId: 1 } }),
    );
    assert.equal(again.status, 200);
    assert.deepEqual(sentTo(upstream.requests.at(-1)!), ['user:hello'], 'nothing of the ended call was restored');
  });

  it('/readyz and the metrics say the shared state is up', async () => {
    assert.deepEqual(await readiness(a), { status: 200, body: { status: 'ready', sharedState: 'up', records: 'ok' } });
    assert.equal(await metric(b, 'vlg_shared_state_up', { store: 'redis' }), 1);
  });

  it('keys hold the key id, never the API key', async () => {
    const keys = await redis.keys(`${prefix}*`);
    assert.ok(keys.length > 0);
    for (const key of keys) assert.ok(!key.includes(TEST_KEY), key);
  });
});

describe('per-key limits counted across replicas', { skip }, () => {
  const prefix = uniquePrefix('limits');
  let redis: Redis;
  let upstream: MockUpstream;
  let a: TestGateway;
  let b: TestGateway;

  before(
    async () => ({ redis, upstream, a, b } = await startReplicas(prefix, { maxConcurrentStreamsPerKey: 2, requestsPerMinutePerKey: 5 })),
  );
  after(() => stopReplicas({ redis, upstream, a, b }, prefix));

  const turnAs = (gateway: TestGateway, key: string, text: string) =>
    gateway.post('/v1/chat/completions', imsRequest('plain', text, { extendData: {} }), { headers: { authorization: `Bearer ${key}` } });

  it("a key's streams in flight are counted on both replicas together, and a slot frees when a stream ends", async () => {
    upstream.respondWith((request) =>
      JSON.stringify(request.body).includes('hold')
        ? { events: textEvents('Held answer.'), firstEventDelayMs: 400 }
        : { events: textEvents('Quick.') },
    );
    const key = 'second-key-0123456789';
    const before = upstream.requests.length;
    const held = [turnAs(a, key, 'hold 1'), turnAs(b, key, 'hold 2')];
    await upstream.waitForRequests(before + 2, 2000);
    const refused = await turnAs(a, key, 'third');
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'too_many_concurrent_streams_for_key');
    const other = await turnAs(b, TEST_KEY, 'another key');
    assert.equal((await readStream(other)).text, 'Quick.', 'another key has slots of its own');
    for (const response of held) assert.equal((await readStream(await response)).text, 'Held answer.');
    await eventually('the slots are free', async () => (await redis.zcard(`${prefix}streams:{key-2}`)) === 0, 2000);
    assert.equal((await readStream(await turnAs(b, key, 'again'))).text, 'Quick.');
  });

  it("a key's requests per minute are counted on both replicas together", async () => {
    upstream.respondWith({ events: textEvents('Quick.') });
    const key = 'third-key-0123456789';
    for (let i = 0; i < 5; i++) {
      const response = await turnAs(i % 2 === 0 ? a : b, key, `request ${i}`);
      assert.equal(response.status, 200, `request ${i}`);
      await readStream(response);
    }
    const refused = await turnAs(a, key, 'one too many');
    assert.equal(refused.status, 429);
    const body = (await refused.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'rate_limit_exceeded');
    assert.equal(refused.headers.get('retry-after'), '12', '60 s / 5: the next slot frees in 12 s');
    assert.equal((await turnAs(b, key, 'on B too')).status, 429);
  });
});

/** state.timeoutMs of the failure tests: short, yet above a loaded machine's event-loop stalls. */
const BUDGET_MS = 250;

describe('when Redis fails, calls keep answering on local state, and the replica rejoins', { skip }, () => {
  const prefix = uniquePrefix('failure');
  let redis: Redis;
  let proxy: RedisProxy;
  let upstream: MockUpstream;
  let gateway: TestGateway;

  before(async () => {
    redis = testRedis();
    proxy = await startRedisProxy();
    upstream = await startMockUpstream();
    gateway = await startTestGateway(gatewayConfig(upstream, { url: proxy.url, keyPrefix: prefix, timeoutMs: BUDGET_MS }));
  });
  after(async () => {
    await gateway?.close();
    await upstream?.close();
    await proxy?.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  const turn = (instanceId: string, sentenceId: number, stream = true) =>
    gateway.post('/v1/chat/completions', imsRequest('remembering', 'hello', { stream, extendData: { instanceId, sentenceId } }));
  /** Sentence 1 of `instanceId`, answered slowly (say `slowFor('long one', …)`); resolves once it reached the model. */
  const longTurn = async (instanceId: string) => {
    const index = upstream.requests.length;
    const reading = readStream(
      await gateway.post('/v1/chat/completions', imsRequest('remembering', 'long one', { extendData: { instanceId, sentenceId: 1 } })),
    );
    await upstream.waitForRequests(index + 1, 2000);
    return { index, reading };
  };
  const sharedStateIs = (state: string) =>
    eventually(`the shared state is ${state}`, async () => (await readiness(gateway)).body.sharedState === state);

  it('Redis down: turns are answered, barge-in and sentence order hold on this replica, /readyz (still 200) and the metrics say degraded', async () => {
    upstream.respondWith(slowFor('long one', 'Still answering.', 30));
    // Begun on the shared state, still streaming when Redis goes away.
    const first = await longTurn('down-1');
    await proxy.cut();
    await sharedStateIs('degraded');
    const started = Date.now();
    assert.equal((await readStream(await turn('down-1', 2))).text, 'Still answering.');
    assert.equal(
      (await upstream.waitForAbort(first.index, 2000)).aborted,
      true,
      'the next sentence, on local state, cancelled the turn begun on Redis',
    );
    assert.ok((await first.reading).text.length < LONG_ANSWER.length);
    assert.equal((await readStream(await turn('down-2', 1))).text, 'Still answering.');
    assert.ok(Date.now() - started < 1000, 'no turn waited on the dead Redis');
    const late = await turn('down-2', 0, false);
    assert.equal(late.status, 409, 'sentence order holds on local state: a late request is superseded');
    assert.deepEqual(await readiness(gateway), { status: 200, body: { status: 'ready', sharedState: 'degraded', records: 'ok' } });
    assert.equal(await metric(gateway, 'vlg_shared_state_up', { store: 'redis' }), 0);
    assert.ok((await metric(gateway, 'vlg_shared_state_fallbacks_total', { operation: 'begin' }))! >= 2);
    assert.ok((await metric(gateway, 'vlg_shared_state_fallbacks_total', { operation: 'admit' }))! >= 2);
  });

  it('Redis back: the replica rejoins on its own and turns use the shared state again', async () => {
    upstream.respondWith(slowFor('long one', 'Shared again.', 30));
    // Begun on local state during the outage, still streaming when Redis comes back.
    const during = await longTurn('back-1');
    await proxy.restore();
    await sharedStateIs('up');
    assert.equal(await metric(gateway, 'vlg_shared_state_up', { store: 'redis' }), 1);
    assert.equal((await readStream(await turn('back-1', 2))).text, 'Shared again.');
    assert.equal(
      (await upstream.waitForAbort(during.index, 2000)).aborted,
      true,
      'the next sentence, on Redis, cancelled the turn begun during the outage',
    );
    assert.ok((await during.reading).text.length < LONG_ANSWER.length);
    assert.equal(await redis.hget(`${prefix}call:{key-1:instance:back-1}`, 'sid'), '2');
  });

  it('a replica started while Redis is unreachable serves at once, degraded', async () => {
    const alone = await startTestGateway(gatewayConfig(upstream, { url: 'redis://127.0.0.1:1', keyPrefix: prefix }));
    try {
      assert.deepEqual(await readiness(alone), { status: 200, body: { status: 'ready', sharedState: 'degraded', records: 'ok' } });
      upstream.respondWith({ events: textEvents('Alone.') });
      const response = await alone.post(
        '/v1/chat/completions',
        imsRequest('remembering', 'hello', { extendData: { instanceId: 'alone-1', sentenceId: 1 } }),
      );
      assert.equal((await readStream(response)).text, 'Alone.');
      assert.ok(
        alone.logs.some((l) => l.level === 40 && /Redis does not answer/.test(String(l.msg))),
        'the log says so',
      );
    } finally {
      await alone.close();
    }
  });

  it('Redis hanging: a turn waits no longer than state.timeoutMs for it, then answers on local state', async () => {
    upstream.respondWith({ events: textEvents('Not held up.') });
    proxy.stall();
    const started = Date.now();
    const stream = await readStream(await turn('stalled-1', 1));
    const elapsed = Date.now() - started;
    assert.equal(stream.text, 'Not held up.');
    assert.ok(elapsed < BUDGET_MS + 750, `the turn took ${elapsed} ms with Redis hanging (budget ${BUDGET_MS} ms)`);
    assert.equal((await readiness(gateway)).body.sharedState, 'degraded');
    await proxy.restore();
    await sharedStateIs('up');
  });

  it('a cancel sent while this replica was cut off from Redis still stops its turn once it reconnects', async () => {
    const other = await startTestGateway(gatewayConfig(upstream, { url: TEST_REDIS_URL, keyPrefix: prefix, timeoutMs: 1000 }));
    try {
      upstream.respondWith(slowFor('long one', 'Quick.', 150));
      const first = await longTurn('lost-cancel');
      await proxy.cut();
      await sharedStateIs('degraded');
      const newer = await other.post(
        '/v1/chat/completions',
        imsRequest('remembering', 'quick', { extendData: { instanceId: 'lost-cancel', sentenceId: 2 } }),
      );
      assert.equal((await readStream(newer)).text, 'Quick.');
      assert.equal(upstream.requests[first.index]!.aborted, false, 'the cancel message never reached the cut-off replica');
      await proxy.restore();
      assert.equal((await upstream.waitForAbort(first.index, 4000)).aborted, true, 'on reconnecting it saw the call taken over');
      assert.ok((await first.reading).text.length < LONG_ANSWER.length);
    } finally {
      await other.close();
    }
  });
});
