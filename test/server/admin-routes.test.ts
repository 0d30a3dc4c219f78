import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { BearerAuth } from '../../src/server/bearer-auth.ts';
import { registerAdminRoutes } from '../../src/server/routes/admin.ts';
import { openRecordStore } from '../../src/store/open-store.ts';
import { PhoneLookup } from '../../src/store/phone-lookup.ts';
import type { BatchedRecordStore } from '../../src/store/record-queue.ts';
import type { CallDetail, CallSummary, StatsRow, TurnRecord } from '../../src/store/turn-record.ts';

const ADMIN_KEY = 'admin-key-0123456789';
const lookup = new PhoneLookup('lookup-key-for-tests-0123456789');
const CHAT_KEY = 'chat-key-9876543210';

/** A complete turn record; `startedAt` is an ISO time, the rest has plausible defaults. */
function turn(overrides: Partial<TurnRecord> & { id: string; startedAt: string }): TurnRecord {
  const started = Date.parse(overrides.startedAt);
  return {
    endedAt: new Date(started + 1500).toISOString(),
    instanceId: null,
    channelId: null,
    sentenceId: null,
    callerNumber: null,
    calleeNumber: null,
    userData: null,
    agent: 'sales',
    provider: 'primary',
    attempts: [{ provider: 'primary', model: 'm-1', outcome: 'committed', errorCode: null, ms: 120 }],
    callerText: 'hello',
    answerText: 'Hi there.',
    toolRuns: [],
    signal: null,
    finishReason: 'stop',
    outcome: 'ok',
    httpStatus: 200,
    ttftMs: 100,
    firstSentenceMs: 200,
    totalMs: 1500,
    promptTokens: 10,
    completionTokens: 5,
    cancellation: null,
    errorCode: null,
    errorMessage: null,
    synthetic: null,
    platform: 'ims',
    ...overrides,
  };
}

// Four calls on four days (newest last), and a plain OpenAI client's turn that belongs to no call.
const A = 'call-a';
const B = 'call-b';
const C = 'call-c';
const D = 'call-d';
/** The clock of durations in from/to: a day after call D. */
const NOW = new Date('2026-01-14T09:00:00.000Z');
const RECORDS: TurnRecord[] = [
  turn({
    id: 'a-2',
    instanceId: A,
    startedAt: '2026-01-10T10:01:00.000Z',
    sentenceId: 2,
    callerNumber: '138****0001',
    ttftMs: 300.4,
    toolRuns: [
      { name: 'lookup_order', arguments: '{"id":"42"}', ok: true, error: null, status: 200, result: '{"state":"shipped"}', ms: 80 },
    ],
  }),
  turn({
    id: 'a-1',
    instanceId: A,
    startedAt: '2026-01-10T10:00:00.000Z',
    sentenceId: 1,
    callerNumber: '138****0001',
    ttftMs: 100,
    calleeNumber: '400****0000',
    numberHashes: { caller: lookup.hash('13800000001')!, callee: lookup.hash('4000000000')! },
  }),
  turn({
    id: 'a-3',
    instanceId: A,
    startedAt: '2026-01-10T10:02:00.000Z',
    sentenceId: 3,
    callerNumber: '138****0001',
    ttftMs: 200,
    signal: 'hangup',
    answerText: 'Goodbye.',
  }),
  turn({ id: 'b-1', instanceId: B, agent: 'support', startedAt: '2026-01-11T09:00:00.000Z', callerNumber: '139****0002' }),
  turn({
    id: 'b-2',
    instanceId: B,
    agent: 'support',
    startedAt: '2026-01-11T09:01:00.000Z',
    callerNumber: '139****0002',
    outcome: 'error',
    httpStatus: 502,
    ttftMs: null,
    firstSentenceMs: null,
    answerText: '',
    errorCode: 'upstream_error',
    errorMessage: 'upstream failed',
    attempts: [
      { provider: 'primary', model: 'm-1', outcome: 'retried', errorCode: 'upstream_5xx', ms: 50 },
      { provider: 'primary', model: 'm-1', outcome: 'failed', errorCode: 'upstream_5xx', ms: 60 },
    ],
  }),
  turn({ id: 'c-1', instanceId: C, startedAt: '2026-01-12T12:00:00.000Z', callerNumber: '137****0003', signal: 'transfer:human' }),
  turn({
    id: 'd-1',
    instanceId: D,
    agent: 'support',
    provider: 'backup',
    startedAt: '2026-01-13T09:00:00.000Z',
    callerNumber: '136****0004',
    outcome: 'apologized',
    cancellation: null,
  }),
  turn({ id: 'plain-1', startedAt: '2026-01-12T08:00:00.000Z', agent: 'sales', cancellation: 'client_closed', outcome: 'client_closed' }),
];

describe('admin routes (real SQLite store)', () => {
  let dir: string;
  let store: BatchedRecordStore;
  let app: FastifyInstance;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vlg-admin-'));
    store = openRecordStore({ sqlitePath: join(dir, 'records.db'), queueSize: 1000, batchSize: 100, flushIntervalMs: 20 });
    await store.ready();
    for (const record of RECORDS) store.enqueue(record);
    await store.flush();
    assert.equal(store.written, RECORDS.length);
    await store.addEvent({
      instanceId: A,
      event: 'agent_start',
      eventKey: 'k1',
      receivedAt: '2026-01-10T09:59:59.000Z',
      payload: { event: 'agent_start' },
    });
    app = Fastify();
    registerAdminRoutes(app, { store, auth: new BearerAuth([ADMIN_KEY, 'second-admin-key']), phoneLookup: lookup, now: () => NOW });
    await app.ready();
  });

  after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `key` null: no Authorization header. */
  const get = (url: string, key: string | null = ADMIN_KEY) =>
    app.inject({ method: 'GET', url, headers: key === null ? {} : { authorization: `Bearer ${key}` } });
  const list = async (query: string) => {
    const response = await get(`/admin/calls${query}`);
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as { object: string; data: CallSummary[]; total: number; limit: number; offset: number };
  };
  const ids = (calls: CallSummary[]) => calls.map((c) => c.instanceId);

  describe('auth', () => {
    for (const url of ['/admin/calls', `/admin/calls/${A}`, '/admin/calls/nope', '/admin/stats', '/admin/calls?limit=0']) {
      it(`${url}: no key, a wrong key or the chat key → 401 in OpenAI shape`, async () => {
        for (const key of [null, 'wrong-key', CHAT_KEY]) {
          const response = await get(url, key);
          assert.equal(response.statusCode, 401, `${url} with ${key}`);
          assert.match(String(response.headers['content-type']), /application\/json/);
          const body = response.json() as { error: { type: string; code: string; message: string; param: unknown } };
          assert.equal(body.error.type, 'authentication_error');
          assert.equal(body.error.code, 'invalid_api_key');
          assert.equal(body.error.param, null);
          assert.equal(response.headers['www-authenticate'], 'Bearer realm="admin"');
        }
      });
    }
    it('a malformed Authorization header → 401', async () => {
      const response = await app.inject({ method: 'GET', url: '/admin/stats', headers: { authorization: ADMIN_KEY } });
      assert.equal(response.statusCode, 401);
    });
    it('any configured admin key works', async () => {
      assert.equal((await get('/admin/stats', 'second-admin-key')).statusCode, 200);
      assert.equal((await get('/admin/stats')).statusCode, 200);
    });
  });

  describe('GET /admin/calls', () => {
    it('lists every call newest first, in a list envelope with defaults', async () => {
      const response = await get('/admin/calls');
      assert.equal(response.headers['cache-control'], 'no-store');
      const body = response.json() as { object: string; data: CallSummary[]; total: number; limit: number; offset: number };
      assert.equal(body.object, 'list');
      assert.equal(body.total, 4);
      assert.equal(body.limit, 50);
      assert.equal(body.offset, 0);
      assert.deepEqual(ids(body.data), [D, C, B, A]);
      const a = body.data.find((c) => c.instanceId === A)!;
      assert.deepEqual(a, {
        instanceId: A,
        agent: 'sales',
        callerNumber: '138****0001',
        calleeNumber: '400****0000',
        startedAt: '2026-01-10T10:00:00.000Z',
        lastTurnAt: '2026-01-10T10:02:00.000Z',
        turns: 3,
        outcome: 'ok',
        endedAt: null,
        hangup: true,
        transferred: false,
        synthetic: null,
      });
      assert.equal(body.data.find((c) => c.instanceId === C)!.transferred, true);
    });

    it('filters by agent, caller (part of the masked number), outcome and time', async () => {
      assert.deepEqual(ids((await list('?agent=sales')).data), [C, A]);
      assert.deepEqual(ids((await list('?agent=support')).data), [D, B]);
      assert.deepEqual(ids((await list('?caller=0002')).data), [B]);
      assert.deepEqual(ids((await list('?caller=****000')).data), [D, C, B, A]);
      assert.deepEqual(ids((await list('?outcome=error')).data), [B]);
      assert.deepEqual(ids((await list('?outcome=apologized')).data), [D]);
      assert.deepEqual(ids((await list('?agent=nobody')).data), []);
      // Calls with a turn that started in [from, to).
      const window = await list('?from=2026-01-11&to=2026-01-13');
      assert.deepEqual(ids(window.data), [C, B]);
      assert.equal(window.total, 2);
      assert.deepEqual(ids((await list('?from=2026-01-10T10:01:30Z&to=2026-01-10T13:00:00%2B02:00')).data), [A]);
      // A's turns are at 10:00, 10:01 and 10:02: a range between two of them holds none.
      assert.deepEqual(ids((await list('?from=2026-01-10T10:00:10Z&to=2026-01-10T10:00:50Z')).data), []);
      assert.deepEqual(ids((await list('?agent=sales&from=2026-01-11')).data), [C]);
      // Durations back from now, as calls export --since reads them (now: 2026-01-14T09:00Z).
      assert.deepEqual(ids((await list('?from=24h')).data), [D]);
      assert.deepEqual(ids((await list('?from=3d&to=2d')).data), [B]);
    });

    it('finds a call by the full number (its keyed hash), however it is written, and still by the masked form', async () => {
      for (const caller of ['13800000001', '+8613800000001', '+86 138 0000 0001', '8613800000001', '0001', '138****0001']) {
        assert.deepEqual(ids((await list(`?caller=${encodeURIComponent(caller)}`)).data), [A], caller);
      }
      assert.deepEqual(ids((await list('?caller=13800000009')).data), []);
      for (const callee of ['4000000000', '400-000-0000', '+86 400 000 0000', '400****0000']) {
        assert.deepEqual(ids((await list(`?callee=${encodeURIComponent(callee)}`)).data), [A], callee);
      }
      // A number is found in the range asked for only.
      assert.deepEqual(ids((await list('?caller=13800000001&from=2026-01-11')).data), []);
    });

    it('filters test traffic with synthetic (include by default)', async () => {
      assert.equal((await list('?synthetic=include')).total, 4);
      assert.equal((await list('?synthetic=exclude')).total, 4);
      assert.equal((await list('?synthetic=only')).total, 0);
    });

    it('treats empty parameters as absent', async () => {
      const body = await list('?agent=&caller=&callee=&outcome=&synthetic=&from=&to=&limit=&offset=');
      assert.equal(body.total, 4);
      assert.equal(body.limit, 50);
    });

    it('pages with limit and offset; total counts every match', async () => {
      const first = await list('?limit=2');
      assert.deepEqual(ids(first.data), [D, C]);
      assert.deepEqual([first.total, first.limit, first.offset], [4, 2, 0]);
      const second = await list('?limit=2&offset=2');
      assert.deepEqual(ids(second.data), [B, A]);
      assert.equal(second.total, 4);
      const past = await list('?limit=2&offset=4');
      assert.deepEqual(past.data, []);
      assert.equal(past.total, 4);
      const filtered = await list('?agent=sales&limit=1&offset=1');
      assert.deepEqual(ids(filtered.data), [A]);
      assert.equal(filtered.total, 2);
      assert.equal((await list('?limit=500')).data.length, 4);
    });

    it('refuses bad parameters with a 400 naming the parameter', async () => {
      const cases: Array<[string, string]> = [
        ['limit=0', 'limit'],
        ['limit=501', 'limit'],
        ['limit=abc', 'limit'],
        ['limit=1.5', 'limit'],
        ['limit=1&limit=2', 'limit'],
        ['offset=-1', 'offset'],
        ['offset=x', 'offset'],
        ['from=yesterday', 'from'],
        ['from=2026-02-30', 'from'],
        ['to=2026-01-10T10:00:00', 'to'],
        ['from=2026-01-12&to=2026-01-11', 'from'],
        ['outcome=bogus', 'outcome'],
        ['synthetic=yes', 'synthetic'],
        ['from=1y', 'from'],
        [`agent=${'x'.repeat(300)}`, 'agent'],
        ['agentId=sales', 'agentId'],
      ];
      for (const [query, param] of cases) {
        const response = await get(`/admin/calls?${query}`);
        assert.equal(response.statusCode, 400, query);
        const body = response.json() as { error: { message: string; type: string; param: string; code: string } };
        assert.equal(body.error.type, 'invalid_request_error', query);
        assert.equal(body.error.code, 'invalid_parameter', query);
        assert.equal(body.error.param, param, query);
        assert.ok(body.error.message.includes(param), `${query}: ${body.error.message}`);
      }
    });
  });

  describe('GET /admin/calls/:instanceId', () => {
    it('returns the call with every turn in order (timings, attempts, tool runs) and its events', async () => {
      const response = await get(`/admin/calls/${A}`);
      assert.equal(response.statusCode, 200, response.body);
      const call = response.json() as CallDetail;
      assert.equal(call.instanceId, A);
      assert.equal(call.turns, 3);
      assert.equal(call.hangup, true);
      assert.deepEqual(
        call.turnRecords.map((t) => t.id),
        ['a-1', 'a-2', 'a-3'],
      );
      // The number hashes are written only: never shown.
      const expected = ['a-1', 'a-2', 'a-3'].map((id) => {
        const { numberHashes: _hashes, ...shown } = RECORDS.find((r) => r.id === id)!;
        return shown;
      });
      assert.deepEqual(call.turnRecords, expected);
      assert.doesNotMatch(response.body, /[0-9a-f]{64}/);
      assert.equal(call.turnRecords[1]!.toolRuns[0]!.name, 'lookup_order');
      assert.equal(call.turnRecords[0]!.ttftMs, 100);
      assert.deepEqual(call.events, [
        { instanceId: A, event: 'agent_start', eventKey: 'k1', receivedAt: '2026-01-10T09:59:59.000Z', payload: { event: 'agent_start' } },
      ]);
      assert.equal((response.json() as { nextCursor: unknown }).nextCursor, null);
    });

    it('pages the turns with limit and an opaque nextCursor (null on the last page)', async () => {
      type Page = Omit<CallDetail, 'next'> & { nextCursor: string | null };
      const first = await get(`/admin/calls/${A}?limit=2`);
      assert.equal(first.statusCode, 200, first.body);
      const page1 = first.json() as Page;
      assert.deepEqual(
        page1.turnRecords.map((t) => t.id),
        ['a-1', 'a-2'],
      );
      assert.equal(page1.turns, 3);
      assert.equal(typeof page1.nextCursor, 'string');
      const page2 = (await get(`/admin/calls/${A}?limit=2&cursor=${encodeURIComponent(page1.nextCursor!)}`)).json() as Page;
      assert.deepEqual(
        page2.turnRecords.map((t) => t.id),
        ['a-3'],
      );
      assert.equal(page2.nextCursor, null);
      assert.deepEqual(page2.events, page1.events);

      // The configured default page and maximum limit.
      const small = Fastify();
      registerAdminRoutes(small, { store, auth: new BearerAuth([ADMIN_KEY]), turnPages: { turnsPerPage: 1, maxTurnsPerPage: 2 } });
      const inject = (url: string) => small.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const defaultPage = (await inject(`/admin/calls/${A}`)).json() as Page;
      assert.deepEqual(
        defaultPage.turnRecords.map((t) => t.id),
        ['a-1'],
      );
      assert.equal((await inject(`/admin/calls/${A}?limit=3`)).statusCode, 400);
      await small.close();
    });

    it('refuses a bad limit or cursor, and unknown parameters', async () => {
      const nul = Buffer.from(JSON.stringify(['2026-01-10T10:00:00.000Z', 'a\u0000'])).toString('base64url');
      for (const [query, param] of [
        ['limit=0', 'limit'],
        ['limit=501', 'limit'],
        ['limit=ten', 'limit'],
        ['cursor=not-a-cursor', 'cursor'],
        [`cursor=${Buffer.from('["soon","a-1"]').toString('base64url')}`, 'cursor'],
        [`cursor=${nul}`, 'cursor'],
        ['offset=2', 'offset'],
      ] as const) {
        const response = await get(`/admin/calls/${A}?${query}`);
        assert.equal(response.statusCode, 400, query);
        assert.equal((response.json() as { error: { param: string } }).error.param, param, query);
      }
    });

    it('keeps the failed attempts of a failed turn', async () => {
      const call = (await get(`/admin/calls/${B}`)).json() as CallDetail;
      assert.equal(call.outcome, 'error');
      assert.deepEqual(
        call.turnRecords[1]!.attempts.map((a) => a.outcome),
        ['retried', 'failed'],
      );
      assert.equal(call.turnRecords[1]!.errorCode, 'upstream_error');
    });

    it('404s in OpenAI shape for an unknown call', async () => {
      for (const id of ['unknown', 'plain-1', encodeURIComponent('a b/c')]) {
        const response = await get(`/admin/calls/${id}`);
        assert.equal(response.statusCode, 404, id);
        const body = response.json() as { error: { type: string; code: string; param: string; message: string } };
        assert.equal(body.error.code, 'call_not_found');
        assert.equal(body.error.type, 'not_found_error');
        assert.equal(body.error.param, 'instanceId');
      }
    });
  });

  describe('GET /admin/stats', () => {
    it('answers one row per agent and provider', async () => {
      const response = await get('/admin/stats');
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json() as { object: string; data: StatsRow[] };
      assert.equal(body.object, 'list');
      for (const row of body.data) {
        assert.deepEqual(Object.keys(row).sort(), [
          'agent',
          'cancellations',
          'errorRate',
          'hangups',
          'provider',
          'transfers',
          'ttftP50',
          'ttftP95',
          'ttftP99',
          'turns',
        ]);
      }
      const row = (agent: string, provider: string) => body.data.find((r) => r.agent === agent && r.provider === provider);
      const sales = row('sales', 'primary')!;
      assert.equal(sales.turns, 5); // 3 of call A, 1 of C, the plain client's
      assert.equal(sales.hangups, 1);
      assert.equal(sales.transfers, 1);
      assert.equal(sales.cancellations, 1);
      assert.equal(sales.errorRate, 0);
      assert.equal(sales.ttftP50, 100);
      // 100, 100, 100, 200, 300.4: p95 interpolates to 280.32 ms, shown in whole milliseconds.
      assert.equal(sales.ttftP95, 280);
      const support = row('support', 'primary')!;
      assert.equal(support.turns, 2);
      assert.equal(support.errorRate, 0.5);
      assert.equal(row('support', 'backup')!.errorRate, 1); // apologized counts as an error
      assert.equal(body.data.length, 3);
    });

    it('limits to [from, to) and validates the bounds', async () => {
      const body = (await get('/admin/stats?from=2026-01-11&to=2026-01-12')).json() as { data: StatsRow[] };
      assert.deepEqual(
        body.data.map((r) => [r.agent, r.provider, r.turns]),
        [['support', 'primary', 2]],
      );
      const empty = (await get('/admin/stats?from=2030-01-01')).json() as { data: StatsRow[] };
      assert.deepEqual(empty.data, []);
      for (const [query, param] of [
        ['from=soon', 'from'],
        ['to=2026-13-01', 'to'],
        ['limit=5', 'limit'],
        ['synthetic=no', 'synthetic'],
      ] as const) {
        const response = await get(`/admin/stats?${query}`);
        assert.equal(response.statusCode, 400, query);
        assert.equal((response.json() as { error: { param: string } }).error.param, param);
      }
    });
  });

  it('a store failure is a 500 in OpenAI shape, never a stack trace', async () => {
    const broken = Fastify();
    const errors: object[] = [];
    const failing = { ...store, listCalls: async () => Promise.reject(new Error('disk on fire')) };
    registerAdminRoutes(broken, { store: failing, auth: new BearerAuth([ADMIN_KEY]), logger: { error: (obj) => errors.push(obj) } });
    const response = await broken.inject({ method: 'GET', url: '/admin/calls', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    assert.equal(response.statusCode, 500);
    assert.equal((response.json() as { error: { code: string } }).error.code, 'internal_error');
    assert.doesNotMatch(response.body, /disk on fire/);
    assert.equal(errors.length, 1);
    await broken.close();
  });
});
