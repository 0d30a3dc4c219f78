import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerImsCallbacks } from '../../src/server/routes/ims-callbacks.ts';
import { openRecordStore } from '../../src/store/open-store.ts';
import type { BatchedRecordStore } from '../../src/store/record-queue.ts';
import type { RecordStore, TurnRecord } from '../../src/store/turn-record.ts';
import { createLogger } from '../../src/telemetry/logger.ts';

const TOKEN = 'callback-token-5f2a9c';

function turn(id: string, instanceId: string, startedAt: string): TurnRecord {
  return {
    id,
    startedAt,
    endedAt: new Date(Date.parse(startedAt) + 1000).toISOString(),
    instanceId,
    channelId: 'channel-1',
    sentenceId: 1,
    callerNumber: '138****0001',
    calleeNumber: null,
    userData: null,
    agent: 'sales',
    provider: 'primary',
    attempts: [],
    callerText: 'hi',
    answerText: 'Hello.',
    toolRuns: [],
    signal: null,
    finishReason: 'stop',
    outcome: 'ok',
    httpStatus: 200,
    ttftMs: 90,
    firstSentenceMs: 150,
    totalMs: 1000,
    promptTokens: null,
    completionTokens: null,
    cancellation: null,
    errorCode: null,
    errorMessage: null,
    synthetic: null,
    platform: 'ims',
  };
}

/** A logger that keeps its lines. */
function capturedLogger() {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return {
    logger: createLogger({ level: 'debug', destination }),
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** An IMS agent callback body as the platform documents it. */
function callback(event: string, instanceId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aiAgentId: 'agent-0d31c',
    instanceId,
    event,
    code: 1001,
    message: 'ok',
    timestamp: '2026-01-10T10:05:00Z',
    ...extra,
  };
}

describe('POST /ims/callbacks (real SQLite store)', () => {
  let dir: string;
  let store: BatchedRecordStore;
  let app: FastifyInstance;
  let logs: ReturnType<typeof capturedLogger>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vlg-callbacks-'));
    store = openRecordStore({ sqlitePath: join(dir, 'records.db'), queueSize: 1000, batchSize: 100, flushIntervalMs: 20 });
    await store.ready();
    logs = capturedLogger();
    app = Fastify();
    registerImsCallbacks(app, { store, token: TOKEN, logger: logs.logger });
    await app.ready();
  });

  after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: unknown, authorization: string | null = `Bearer ${TOKEN}`, contentType = 'application/json') =>
    app.inject({
      method: 'POST',
      url: '/ims/callbacks',
      headers: { ...(authorization === null ? {} : { authorization }), 'content-type': contentType },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });

  describe('token', () => {
    it('accepts the raw token and "Bearer <token>"', async () => {
      const raw = await post(callback('agent_start', 'tok-1'), TOKEN);
      assert.equal(raw.statusCode, 200, raw.body);
      assert.deepEqual(raw.json(), { ok: true });
      const bearer = await post(callback('session_start', 'tok-1'), `bearer  ${TOKEN}`);
      assert.equal(bearer.statusCode, 200, bearer.body);
    });

    it('refuses a missing, wrong or partial token with a 401 in OpenAI shape, and stores nothing', async () => {
      for (const header of [null, '', 'wrong', `Bearer ${TOKEN}x`, TOKEN.slice(0, -1), `Basic ${TOKEN}`, `Bearer`]) {
        const response = await post(callback('agent_start', 'tok-refused'), header);
        assert.equal(response.statusCode, 401, String(header));
        const body = response.json() as { error: { type: string; code: string } };
        assert.equal(body.error.type, 'authentication_error');
        assert.equal(body.error.code, 'invalid_callback_token');
      }
      // The token is checked before the body is even read.
      const malformed = await post('{not json', 'wrong');
      assert.equal(malformed.statusCode, 401);
      assert.equal(await store.getCall('tok-refused'), undefined);
      assert.ok(logs.lines().some((line) => line.msg === 'IMS callback refused: bad token' && line.level === 40));
    });

    it('never writes the token (or what was presented) to the log', async () => {
      await post(callback('agent_start', 'tok-log'), 'Bearer presented-secret-value');
      assert.ok(!logs.text().includes(TOKEN));
      assert.ok(!logs.text().includes('presented-secret-value'));
    });

    it('is off (404 in OpenAI shape) when no token is configured', async () => {
      for (const token of [undefined, '', '   ']) {
        const off = Fastify();
        registerImsCallbacks(off, { store, token, logger: capturedLogger().logger });
        const response = await off.inject({
          method: 'POST',
          url: '/ims/callbacks',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          payload: JSON.stringify(callback('agent_start', 'off-1')),
        });
        assert.equal(response.statusCode, 404);
        assert.equal((response.json() as { error: { code: string } }).error.code, 'callbacks_disabled');
        await off.close();
      }
      assert.equal(await store.getCall('off-1'), undefined);
    });
  });

  describe('recording', () => {
    it('agent_stop marks the call ended; every event is kept with its payload', async () => {
      const id = 'call-ended';
      store.enqueue(turn('ended-1', id, '2026-01-10T10:00:00.000Z'));
      store.enqueue(turn('ended-2', id, '2026-01-10T10:01:00.000Z'));
      await store.flush();
      assert.equal((await store.getCall(id))?.outcome, 'ok');

      const start = callback('agent_start', id, { timestamp: '2026-01-10T09:59:00Z' });
      assert.equal((await post(start)).statusCode, 200);
      const before = await store.getCall(id);
      assert.equal(before?.endedAt, null);

      const stop = callback('agent_stop', id, { data: { reason: 'caller hung up' } });
      const response = await post(stop);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), { ok: true });

      const call = await store.getCall(id);
      assert.ok(call);
      assert.equal(call.outcome, 'ended');
      assert.match(call.endedAt ?? '', /^\d{4}-\d{2}-\d{2}T/);
      assert.deepEqual(
        call.events.map((e) => e.event),
        ['agent_start', 'agent_stop'],
      );
      assert.deepEqual(call.events[1]!.payload, stop);
      assert.match(call.events[1]!.eventKey, /^sha256:[0-9a-f]{64}$/);
    });

    it('a repeated callback is stored once and answered 200 duplicate', async () => {
      const id = 'call-repeat';
      store.enqueue(turn('repeat-1', id, '2026-01-10T11:00:00.000Z'));
      await store.flush();
      const body = callback('chat_record', id, { data: { dialogues: [{ roundId: 'r1', role: 'user', content: 'hi' }] } });
      assert.deepEqual((await post(body)).json(), { ok: true });
      const again = await post(body);
      assert.equal(again.statusCode, 200);
      assert.deepEqual(again.json(), { ok: true, duplicate: true });
      // The same document with its keys in another order is the same event.
      const reordered = Object.fromEntries(Object.entries(body).reverse());
      assert.deepEqual((await post(reordered)).json(), { ok: true, duplicate: true });
      // A different body is a different event.
      assert.deepEqual((await post({ ...body, timestamp: '2026-01-10T11:00:01Z' })).json(), { ok: true });
      assert.equal((await store.getCall(id))?.events.length, 2);
    });

    it("uses the platform's event id for idempotence when there is one", async () => {
      const id = 'call-event-id';
      store.enqueue(turn('event-id-1', id, '2026-01-10T12:00:00.000Z'));
      await store.flush();
      const first = await post(callback('tts_data_received', id, { eventId: 'ev-1', timestamp: '2026-01-10T12:00:01Z' }));
      assert.deepEqual(first.json(), { ok: true });
      // A redelivery may differ in its timestamp: the id decides.
      const redelivered = await post(callback('tts_data_received', id, { eventId: 'ev-1', timestamp: '2026-01-10T12:00:09Z' }));
      assert.deepEqual(redelivered.json(), { ok: true, duplicate: true });
      const call = await store.getCall(id);
      assert.deepEqual(
        call?.events.map((e) => e.eventKey),
        ['id:ev-1'],
      );
    });

    it('finds the event name and instance id under other common spellings', async () => {
      const id = 'call-spellings';
      store.enqueue(turn('spell-1', id, '2026-01-10T13:00:00.000Z'));
      await store.flush();
      const bodies: unknown[] = [
        { Event: 'intent_detected', InstanceId: id },
        { EventType: 'intent_recognized', AgentInstanceId: id },
        { event_type: 'llm_data_received', instance_id: id },
        { event: 'outbound_call', extendData: JSON.stringify({ instanceId: id, status: 'answered' }) },
        { event: 'audio_record', data: { InstanceId: id, role: 'user', url: 'https://example.com/a.wav' } },
        { eventName: 'error', aiAgentInstanceId: id, code: 4001 },
      ];
      for (const body of bodies) {
        const response = await post(body);
        assert.equal(response.statusCode, 200, `${JSON.stringify(body)} → ${response.body}`);
      }
      const call = await store.getCall(id);
      assert.deepEqual(call?.events.map((e) => e.event).sort(), [
        'audio_record',
        'error',
        'intent_detected',
        'intent_recognized',
        'llm_data_received',
        'outbound_call',
      ]);
      assert.equal(call?.outcome, 'ok'); // none of these ends the call
    });

    it('accepts JSON whatever the declared Content-Type, and a numeric instance id', async () => {
      const response = await post(callback('session_start', 'ct-1'), `Bearer ${TOKEN}`, 'text/plain');
      assert.equal(response.statusCode, 200, response.body);
      const numeric = await post({ event: 'session_start', instanceId: 12345 });
      assert.equal(numeric.statusCode, 200, numeric.body);
    });

    it('session_stop ends the call too, even when it arrives before the turns are written', async () => {
      const id = 'call-early-stop';
      assert.deepEqual((await post(callback('session_stop', id))).json(), { ok: true });
      store.enqueue(turn('early-1', id, '2026-01-10T14:00:00.000Z'));
      await store.flush();
      const call = await store.getCall(id);
      assert.equal(call?.outcome, 'ended');
    });
  });

  describe('malformed bodies', () => {
    const cases: Array<[string, string, string]> = [
      ['not JSON', '{"event": "agent_stop", ', 'invalid_json'],
      ['empty', '', 'invalid_json'],
      ['an array', JSON.stringify([callback('agent_stop', 'x')]), 'invalid_callback'],
      ['a string', JSON.stringify('agent_stop'), 'invalid_callback'],
      ['no event', JSON.stringify({ instanceId: 'bad-1', code: 1001 }), 'missing_event'],
      ['a blank event', JSON.stringify({ event: ' ', instanceId: 'bad-1' }), 'missing_event'],
      ['a non-string event', JSON.stringify({ event: 7, instanceId: 'bad-1' }), 'missing_event'],
      ['no instance id', JSON.stringify({ event: 'agent_stop', aiAgentId: 'agent-1' }), 'missing_instance_id'],
      ['an object as instance id', JSON.stringify({ event: 'agent_stop', instanceId: { id: 1 } }), 'missing_instance_id'],
      // Recursive hashing and storing would overflow the stack (a 500 before).
      [
        'nested 10,000 levels deep',
        `{"event":"agent_stop","instanceId":"deep-1","data":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
        'too_deep',
      ],
    ];
    for (const [what, body, code] of cases) {
      it(`${what} → 400 in OpenAI shape and a warn line`, async () => {
        const before = logs.lines().length;
        const response = await post(body);
        assert.equal(response.statusCode, 400, response.body);
        const error = (response.json() as { error: { type: string; code: string; message: string } }).error;
        assert.equal(error.type, 'invalid_request_error');
        assert.equal(error.code, code);
        const added = logs.lines().slice(before);
        assert.equal(added.length, 1, JSON.stringify(added));
        assert.equal(added[0]!.level, 40);
        assert.equal(added[0]!.code, code);
        assert.match(String(added[0]!.msg), /^IMS callback rejected/);
        assert.ok(!logs.text().includes(TOKEN));
      });
    }
    it('a body over 1 MiB → 413 in OpenAI shape and a warn line', async () => {
      const before = logs.lines().length;
      const response = await post(callback('chat_record', 'bad-1', { data: 'x'.repeat(1024 * 1024) }));
      assert.equal(response.statusCode, 413);
      assert.equal((response.json() as { error: { code: string } }).error.code, 'request_too_large');
      assert.ok(
        logs
          .lines()
          .slice(before)
          .some((line) => line.level === 40),
      );
    });
    it('no Content-Type at all is still read as JSON', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/ims/callbacks',
        headers: { authorization: TOKEN },
        payload: Buffer.from(JSON.stringify(callback('session_start', 'no-ct'))),
      });
      assert.equal(response.statusCode, 200, response.body);
    });
    it('nothing was stored for them', async () => {
      assert.equal(await store.getCall('bad-1'), undefined);
    });
  });

  it('answers 503 (so the platform retries) when the store fails', async () => {
    const failing: RecordStore = { ...store, addEvent: () => Promise.reject(new Error('database locked')) };
    const captured = capturedLogger();
    const broken = Fastify();
    registerImsCallbacks(broken, { store: failing, token: TOKEN, logger: captured.logger });
    const response = await broken.inject({
      method: 'POST',
      url: '/ims/callbacks',
      headers: { authorization: TOKEN, 'content-type': 'application/json' },
      payload: JSON.stringify(callback('agent_stop', 'x')),
    });
    assert.equal(response.statusCode, 503);
    assert.equal((response.json() as { error: { code: string } }).error.code, 'records_unavailable');
    assert.doesNotMatch(response.body, /database locked/);
    assert.ok(captured.lines().some((line) => line.level === 50));
    await broken.close();
  });
});
