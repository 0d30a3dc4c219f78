import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { demoConfigSource } from '../../src/config/demo-config.ts';
import { imsRequest, readStream, startTestGateway, TEST_ADMIN_KEY, type TestGateway } from '../support/gateway-harness.ts';
import { parsePrometheusText } from '../support/prometheus.ts';

const CALLBACK_TOKEN = 'callback-token-abcdef';

async function say(gateway: TestGateway, instanceId: string, words: string, sentenceId: number, headers: Record<string, string> = {}) {
  const response = await gateway.post(
    '/v1/chat/completions',
    imsRequest('demo', words, {
      extendData: { instanceId, sentenceId: String(sentenceId), callerNumber: '13800000001', calleeNumber: '4009998888' },
    }),
    { headers },
  );
  return readStream(response);
}

async function admin(gateway: TestGateway, path: string, method = 'GET'): Promise<{ status: number; body: any }> {
  const response = await fetch(`${gateway.url}${path}`, { method, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
  return { status: response.status, body: await response.json() };
}

describe('admin search, erasure and series (real SQLite store)', () => {
  let gateway: TestGateway;

  before(async () => {
    gateway = await startTestGateway({
      ...structuredClone(demoConfigSource),
      records: { flushIntervalMs: 10 },
      callbacks: { token: CALLBACK_TOKEN },
    } as Record<string, unknown>);
    await say(gateway, 'call-a', 'hello', 1);
    await say(gateway, 'call-a', 'bye', 2);
    await say(gateway, 'call-b', 'what can you do', 1);
    await say(gateway, 'call-c', 'hello there', 1, { 'x-vlg-synthetic': 'console' });
    await gateway.records!.flush();
  });

  after(async () => gateway.close());

  it('finds calls by what was said, signal, callee and traffic', async () => {
    const ids = async (query: string) =>
      (await admin(gateway, `/admin/search/calls?${query}`)).body.data.map((c: { instanceId: string }) => c.instanceId);
    assert.deepEqual(await ids('q=UPSTREAM_MODEL'), ['call-b']);
    assert.deepEqual(await ids('signal=hangup'), ['call-a']);
    assert.deepEqual(await ids('callee=8888'), ['call-c', 'call-b', 'call-a']);
    assert.deepEqual(await ids('synthetic=real'), ['call-b', 'call-a']);
    assert.deepEqual(await ids('synthetic=console&agent=demo&provider=demo-script'), ['call-c']);
    assert.deepEqual(await ids('errorCode=upstream_timeout'), []);
    const refused = await admin(gateway, '/admin/search/calls?signal=maybe');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.param, 'signal');
  });

  it('pages by cursor, newest first, without shifting while new calls arrive', async () => {
    const first = await admin(gateway, '/admin/search/calls?limit=2');
    assert.deepEqual(
      first.body.data.map((c: { instanceId: string }) => c.instanceId),
      ['call-c', 'call-b'],
    );
    assert.equal(typeof first.body.nextCursor, 'string');
    await say(gateway, 'call-d', 'hello', 1);
    await gateway.records!.flush();
    const second = await admin(gateway, `/admin/search/calls?limit=2&cursor=${first.body.nextCursor}`);
    assert.deepEqual(
      second.body.data.map((c: { instanceId: string }) => c.instanceId),
      ['call-a'],
    );
    assert.equal(second.body.nextCursor, null);
    assert.equal((await admin(gateway, '/admin/search/calls?cursor=nonsense')).status, 400);
  });

  it('lists turns across calls with their timings', async () => {
    const { body } = await admin(gateway, '/admin/turns?agent=demo&limit=3');
    assert.equal(body.data.length, 3);
    const turn = body.data[0];
    assert.ok(turn.timings, 'a new turn carries its waterfall');
    assert.ok(turn.timings.firstByteMs <= turn.timings.lastByteMs);
    assert.equal(typeof turn.attempts[0].startMs, 'number');
    const page2 = await admin(gateway, `/admin/turns?agent=demo&limit=3&cursor=${body.nextCursor}`);
    assert.equal(page2.body.data.length, 2);
    assert.ok(!page2.body.data.some((t: { id: string }) => body.data.some((u: { id: string }) => u.id === t.id)));
  });

  it('gives turns per bucket and tokens per agent and provider', async () => {
    const { status, body } = await admin(gateway, '/admin/series?bucket=60');
    assert.equal(status, 200);
    assert.equal(
      body.buckets.reduce((sum: number, b: { turns: number }) => sum + b.turns, 0),
      5,
    );
    assert.equal(
      body.buckets.reduce((sum: number, b: { hangups: number }) => sum + b.hangups, 0),
      1,
    );
    assert.equal(body.usage.length, 1);
    assert.ok(body.usage[0].completionTokens > 0);
    assert.equal((await admin(gateway, '/admin/series?bucket=60&from=2020-01-01&to=2026-01-01')).status, 400, 'too many buckets');
  });

  it('erases a call on request', async () => {
    const erased = await admin(gateway, '/admin/calls/call-b', 'DELETE');
    assert.deepEqual(erased.body, { object: 'call.deleted', instanceId: 'call-b', deleted: true, turns: 1 });
    assert.equal((await admin(gateway, '/admin/calls/call-b')).status, 404);
    assert.equal((await admin(gateway, '/admin/calls/call-b', 'DELETE')).status, 404);
    assert.deepEqual((await admin(gateway, '/admin/search/calls?q=UPSTREAM_MODEL')).body.data, []);
  });

  it('counts records written, callbacks and upstream latency, and shows breaker states', async () => {
    const post = (authorization: string) =>
      fetch(`${gateway.url}/ims/callbacks`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ instanceId: 'call-a', event: 'agent_stop', eventId: 'e-1' }),
      });
    assert.equal((await post(`Bearer ${CALLBACK_TOKEN}`)).status, 200);
    assert.equal((await post(`Bearer ${CALLBACK_TOKEN}`)).status, 200);
    assert.equal((await post('Bearer wrong')).status, 401);
    const families = parsePrometheusText(await (await fetch(`${gateway.url}/metrics`)).text());
    const value = (name: string, labels: Record<string, string> = {}) =>
      families
        .find((family) => family.name === name)
        ?.metrics.find((metric) => Object.entries(labels).every(([key, v]) => metric.labels?.[key] === v))?.value;
    assert.ok(Number(value('vlg_records_written_total')) >= 5);
    assert.equal(Number(value('vlg_callbacks_total', { result: 'accepted' })), 1);
    assert.equal(Number(value('vlg_callbacks_total', { result: 'duplicate' })), 1);
    assert.equal(Number(value('vlg_callbacks_total', { result: 'refused' })), 1);
    assert.equal(Number(value('vlg_circuit_breaker_state', { provider: 'demo-script' })), 0);
    assert.ok(families.some((family) => family.name === 'vlg_upstream_latency_seconds'));
    const ready = await (await fetch(`${gateway.url}/readyz`)).json();
    assert.deepEqual(ready, { status: 'ready', records: 'ok' });
  });
});

describe('records.content: metadata', () => {
  it('keeps timings and outcomes but not what was said', async () => {
    const gateway = await startTestGateway({
      ...structuredClone(demoConfigSource),
      records: { flushIntervalMs: 10, content: 'metadata' },
    } as Record<string, unknown>);
    try {
      const heard = await say(gateway, 'quiet-1', 'hello', 1);
      assert.ok(heard.text.length > 0, 'the caller still hears the answer');
      await gateway.records!.flush();
      const { body } = await admin(gateway, '/admin/calls/quiet-1');
      const [turn] = body.turnRecords;
      assert.equal(turn.callerText, '');
      assert.equal(turn.answerText, '');
      assert.equal(turn.userData, null);
      assert.equal(turn.outcome, 'ok');
      assert.equal(typeof turn.ttftMs, 'number');
      assert.ok(turn.timings);
    } finally {
      await gateway.close();
    }
  });
});
