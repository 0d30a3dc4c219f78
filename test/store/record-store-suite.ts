/**
 * One behavioural suite for every RecordStore backend (SQLite always, PostgreSQL when
 * DATABASE_URL is set). Each test gets an empty database of its own.
 */

import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BatchedRecordStore, RecordStoreOptions } from '../../src/store/record-queue.ts';
import { MIGRATIONS } from '../../src/store/records-schema.ts';
import type { CallEventRecord, TurnOutcome, TurnRecord } from '../../src/store/turn-record.ts';

export interface TestDatabase {
  /** A store on this database (may be called again: the same data). */
  open(options?: Partial<RecordStoreOptions>): BatchedRecordStore;
  /** Applied schema_migrations versions, read directly. */
  migrationVersions(): Promise<number[]>;
  /** Runs statements directly (`;`-separated; no store may be open). */
  exec(sql: string): Promise<void>;
}

export interface StoreHarness {
  /** A new, empty database. */
  database(): Promise<TestDatabase>;
  /** A store whose database can never work (unwritable path, closed port). */
  openBroken(options: RecordStoreOptions): BatchedRecordStore;
}

export const DEFAULTS: RecordStoreOptions = { queueSize: 10_000, batchSize: 200, flushIntervalMs: 20, writeRetries: 1 };

const BASE = Date.parse('2024-05-01T00:00:00.000Z');
/** An ISO time `minutes` after the base. */
export const at = (minutes: number) => new Date(BASE + minutes * 60_000).toISOString();
const DAY = 24 * 60;

let sequence = 0;
export function turn(overrides: Partial<TurnRecord> = {}): TurnRecord {
  sequence += 1;
  const startedAt = overrides.startedAt ?? at(0);
  return {
    id: `chatcmpl-${process.pid}-${String(sequence).padStart(6, '0')}`,
    startedAt,
    endedAt: new Date(Date.parse(startedAt) + 1500).toISOString(),
    instanceId: 'call-1',
    channelId: 'chan-1',
    sentenceId: sequence,
    callerNumber: '138****0001',
    calleeNumber: '0571****0000',
    userData: '{"vip":true,"name":"张三"}',
    agent: 'support',
    provider: 'openai',
    attempts: [{ provider: 'openai', model: 'gpt-4o-mini', outcome: 'committed', errorCode: null, ms: 812.5 }],
    callerText: '我想查一下订单 — where is it?',
    answerText: 'Sure — 好的！😀 It shipped.',
    toolRuns: [
      {
        name: 'lookup_order',
        arguments: '{"id":"A-1"}',
        ok: true,
        error: null,
        status: 200,
        result: '{"status":"shipped","eta":"明天"}',
        ms: 33.25,
      },
    ],
    signal: null,
    finishReason: 'stop',
    outcome: 'ok',
    httpStatus: 200,
    ttftMs: 420.7,
    firstSentenceMs: 650.2,
    totalMs: 1500,
    promptTokens: 120,
    completionTokens: 40,
    cancellation: null,
    errorCode: null,
    errorMessage: null,
    synthetic: null,
    platform: 'ims',
    ...overrides,
  };
}

/** One turn of each outcome kind, as the gateway builds them. */
function turnsOfEveryOutcome(instanceId: string): TurnRecord[] {
  const kinds: Record<TurnOutcome, Partial<TurnRecord>> = {
    ok: { signal: 'transfer:1001', finishReason: 'stop' },
    apologized: {
      provider: null,
      attempts: [
        { provider: 'openai', model: 'gpt-4o-mini', outcome: 'failed', errorCode: 'upstream_timeout', ms: 3000 },
        { provider: 'backup', model: null, outcome: 'skipped', errorCode: null, ms: 0 },
      ],
      answerText: '抱歉，请稍后再试。',
      toolRuns: [],
      errorCode: 'upstream_timeout',
      errorMessage: 'every provider failed',
      cancellation: 'timeout',
      promptTokens: null,
      completionTokens: null,
    },
    error: {
      provider: null,
      attempts: [{ provider: 'openai', model: 'gpt-4o-mini', outcome: 'failed', errorCode: 'upstream_5xx', ms: 20 }],
      answerText: '',
      toolRuns: [],
      finishReason: null,
      httpStatus: 502,
      ttftMs: null,
      firstSentenceMs: null,
      errorCode: 'upstream_5xx',
      errorMessage: 'upstream answered 503 "busy"',
    },
    client_closed: { finishReason: null, cancellation: 'client_closed', firstSentenceMs: null, answerText: 'Sure —' },
    superseded: { finishReason: null, cancellation: 'superseded', httpStatus: 200 },
    shutdown: { finishReason: null, cancellation: 'shutdown', httpStatus: 503 },
    upstream_broken: {
      attempts: [
        { provider: 'openai', model: 'gpt-4o-mini', outcome: 'retried', errorCode: 'upstream_reset', ms: 10.5 },
        { provider: 'openai', model: 'gpt-4o-mini', outcome: 'committed', errorCode: 'stream_broken', ms: 900 },
      ],
      signal: 'hangup',
      toolRuns: [
        { name: 'hangup', arguments: '{}', ok: false, error: 'timeout', status: null, result: '', ms: 5000 },
        { name: 'lookup', arguments: '{"q":"\\"quoted\\""}', ok: true, error: null, status: 204, result: 'x'.repeat(2000), ms: 1 },
      ],
      errorCode: 'upstream_broken',
      errorMessage: 'stream ended without [DONE]',
    },
  };
  return Object.entries(kinds).map(([outcome, fields], i) =>
    turn({ instanceId, startedAt: at(10 + i), outcome: outcome as TurnOutcome, ...fields }),
  );
}

function event(
  instanceId: string,
  eventName: string,
  key: string,
  minutes: number,
  payload: unknown = { event: eventName },
): CallEventRecord {
  return { instanceId, event: eventName, eventKey: key, receivedAt: at(minutes), payload };
}

const ids = (calls: { instanceId: string }[]) => calls.map((c) => c.instanceId);

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function recordStoreSuite(harness: StoreHarness): void {
  const opened: BatchedRecordStore[] = [];
  const track = (store: BatchedRecordStore) => (opened.push(store), store);
  const fresh = async (options: Partial<RecordStoreOptions> = {}) => {
    const db = await harness.database();
    return { db, store: track(db.open({ ...DEFAULTS, ...options })) };
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  describe('round trip', () => {
    it('records of every outcome kind come back exactly through getCall, in start order', async () => {
      const { store } = await fresh();
      const records = turnsOfEveryOutcome('call-rt');
      for (const record of [...records].reverse()) store.enqueue(record);
      await store.flush();
      assert.equal(store.written, records.length);
      const call = await store.getCall('call-rt');
      assert.ok(call);
      assert.deepEqual(call.turnRecords, records);
      const { turnRecords, events, next, ...summary } = call;
      assert.deepEqual(events, []);
      assert.equal(next, null);
      assert.deepEqual(summary, {
        instanceId: 'call-rt',
        agent: 'support',
        callerNumber: '138****0001',
        calleeNumber: '0571****0000',
        startedAt: records[0]!.startedAt,
        lastTurnAt: records.at(-1)!.startedAt,
        turns: records.length,
        outcome: 'upstream_broken',
        endedAt: null,
        hangup: true,
        transferred: true,
        synthetic: null,
      });
      assert.equal(await store.getCall('nope'), undefined);
    });

    it('a turn with every optional field empty round-trips too (found by export, not as a call)', async () => {
      const { store } = await fresh();
      const bare = turn({
        instanceId: null,
        channelId: null,
        sentenceId: null,
        callerNumber: null,
        calleeNumber: null,
        userData: null,
        provider: null,
        attempts: [],
        callerText: '',
        answerText: '',
        toolRuns: [],
        finishReason: null,
        ttftMs: null,
        firstSentenceMs: null,
        promptTokens: null,
        completionTokens: null,
        totalMs: 0.25,
      });
      store.enqueue(bare);
      await store.flush();
      const exported: TurnRecord[] = [];
      await store.exportTurns({}, (batch) => void exported.push(...batch));
      assert.deepEqual(exported, [bare]);
      assert.equal((await store.listCalls({ limit: 10, offset: 0 })).total, 0);
    });

    it('awkward text (NUL, a cut surrogate pair) never fails its batch', async () => {
      const { store } = await fresh();
      const fine = turn({ instanceId: 'call-text', startedAt: at(1) });
      const awkward = turn({
        instanceId: 'call-text',
        startedAt: at(2),
        answerText: 'a\u0000b',
        toolRuns: [{ name: 't', arguments: '{}', ok: true, error: null, status: 200, result: `x\u0000y${'😀'.slice(0, 1)}`, ms: 1 }],
      });
      store.enqueue(fine);
      store.enqueue(awkward);
      await store.flush();
      assert.equal(store.failed, 0);
      const call = await store.getCall('call-text');
      assert.equal(call?.turns, 2);
      assert.deepEqual(call?.turnRecords[0], fine);
      assert.match(call?.turnRecords[1]?.answerText ?? '', /^a.b$/);
      assert.match(call?.turnRecords[1]?.toolRuns[0]?.result ?? '', /^x.y.$/);
    });

    it('values a database cannot hold (NUL in a call id, integers past 2^53) are stored as what they can be, and their batch with them', async () => {
      const { store } = await fresh({ writeRetries: 0 });
      const good = turn({ instanceId: 'call-values', startedAt: at(1) });
      const odd = turn({
        instanceId: 'call-\u0000nul',
        startedAt: at(2),
        sentenceId: 2 ** 64,
        httpStatus: 2 ** 40,
        promptTokens: 2 ** 60,
        completionTokens: -(2 ** 70),
      });
      const late = turn({ instanceId: 'call-values', startedAt: at(3) });
      for (const record of [good, odd, late]) store.enqueue(record);
      await store.flush();
      assert.deepEqual([store.written, store.failed, store.rejected, store.dropped], [3, 0, 0, 0]);
      assert.equal((await store.getCall('call-values'))?.turns, 2);
      const stored = await store.getCall('call-\u0000nul');
      assert.equal(stored?.turns, 1);
      assert.match(stored?.instanceId ?? '', /^call-.nul$/);
      const [record] = stored?.turnRecords ?? [];
      assert.deepEqual([record?.sentenceId, record?.httpStatus, record?.promptTokens, record?.completionTokens], [null, 0, null, null]);
      const exported: TurnRecord[] = [];
      await store.exportTurns({}, (batch) => void exported.push(...batch));
      assert.equal(exported.length, 3);
    });

    it('a record the database refuses is dropped alone and counted; the rest of its batch is stored', async () => {
      const { store } = await fresh({ writeRetries: 0 });
      const circular: Record<string, unknown> = { name: 'loop' };
      circular['self'] = circular;
      const bad = turn({ instanceId: 'call-bad', startedAt: at(3), toolRuns: [circular as unknown as TurnRecord['toolRuns'][number]] });
      const good = [
        turn({ instanceId: 'call-a', startedAt: at(1) }),
        turn({ instanceId: 'call-b', startedAt: at(2) }),
        turn({ instanceId: 'call-a', startedAt: at(4) }),
        turn({ instanceId: 'call-b', startedAt: at(5) }),
        turn({ instanceId: 'call-a', startedAt: at(6) }),
      ];
      for (const record of [good[0]!, good[1]!, bad, good[2]!, good[3]!, good[4]!]) store.enqueue(record);
      await store.flush();
      assert.deepEqual([store.written, store.rejected, store.failed, store.dropped], [5, 1, 0, 1]);
      assert.deepEqual(store.droppedByReason, { queue_full: 0, write_failed: 0, invalid_record: 1 });
      assert.equal((await store.getCall('call-a'))?.turns, 3);
      assert.equal((await store.getCall('call-b'))?.turns, 2);
      assert.equal(await store.getCall('call-bad'), undefined);
      // The store keeps working for later batches.
      store.enqueue(turn({ instanceId: 'call-b', startedAt: at(7) }));
      await store.flush();
      assert.equal((await store.getCall('call-b'))?.turns, 3);
    });

    it('fields past their cap are stored cut, with a visible marker, and counted', async () => {
      const { store } = await fresh({ limits: { maxTextChars: 1000, maxToolRunsChars: 5000 } });
      const huge = turn({
        instanceId: 'call-huge',
        answerText: '好'.repeat(2_000_000),
        userData: JSON.stringify({ blob: 'b'.repeat(100_000) }),
        toolRuns: Array.from({ length: 50 }, () => ({
          name: 't',
          arguments: 'a'.repeat(900),
          ok: true,
          error: null,
          status: 200,
          result: 'r',
          ms: 1,
        })),
      });
      store.enqueue(huge);
      await store.flush();
      const [stored] = (await store.getCall('call-huge'))?.turnRecords ?? [];
      assert.ok(stored);
      assert.equal(stored.answerText.length, 1000);
      assert.match(stored.answerText, /^好+…\[truncated 19990\d\d chars\]$/);
      assert.equal(stored.userData?.length, 1000);
      assert.ok(JSON.stringify(stored.toolRuns).length < 5200);
      assert.match(stored.toolRuns.at(-1)?.error ?? '', /truncated \d+ tool runs/);
      assert.equal(stored.callerText, huge.callerText);
      assert.deepEqual(Object.fromEntries(store.truncated), { answerText: 1, userData: 1, toolRuns: 1 });
    });

    it('a turn stored twice (a retried batch) is kept once', async () => {
      const { store } = await fresh();
      const record = turn({ instanceId: 'call-dup' });
      store.enqueue(record);
      await store.flush();
      store.enqueue(record);
      await store.flush();
      const call = await store.getCall('call-dup');
      assert.equal(call?.turns, 1);
      assert.equal(call?.turnRecords.length, 1);
    });
  });

  describe('getCall paging', () => {
    it("pages a call's turns in start order with a stable cursor; turns added earlier never shift a page", async () => {
      const { store } = await fresh();
      // Two turns share a start time: the id breaks the tie.
      const records = [0, 1, 1, 2, 3, 4, 5].map((minutes) => turn({ instanceId: 'call-pages', startedAt: at(minutes) }));
      for (const record of records) store.enqueue(record);
      await store.flush();
      const seen: string[] = [];
      let page = await store.getCall('call-pages', { limit: 3 });
      assert.equal(page?.turns, 7, 'the summary counts every turn');
      const sizes: number[] = [];
      for (;;) {
        assert.ok(page);
        sizes.push(page.turnRecords.length);
        seen.push(...page.turnRecords.map((r) => r.id));
        if (page.next === null) break;
        if (sizes.length === 1) {
          // A late turn that sorts before the cursor doesn't move the next page.
          store.enqueue(turn({ instanceId: 'call-pages', startedAt: at(0) }));
          await store.flush();
        }
        page = await store.getCall('call-pages', { limit: 3, after: page.next });
      }
      assert.deepEqual(sizes, [3, 3, 1]);
      assert.deepEqual(
        seen,
        records.map((r) => r.id),
      );
      const exact = await store.getCall('call-pages', { limit: 8 });
      assert.deepEqual([exact?.turnRecords.length, exact?.next], [8, null]);
      assert.equal((await store.getCall('call-pages'))?.turnRecords.length, 8);
    });
  });

  describe('listCalls', () => {
    async function seeded() {
      const { store } = await fresh();
      const enqueue = (instanceId: string, minutes: number, fields: Partial<TurnRecord> = {}) =>
        store.enqueue(turn({ instanceId, startedAt: at(minutes), ...fields }));
      enqueue('call-a', 60, { agent: 'support', callerNumber: '138****0001' });
      enqueue('call-a', 61, { agent: 'support', callerNumber: '138****0001' });
      enqueue('call-b', 120, { agent: 'sales', callerNumber: '139****0002', outcome: 'error' });
      enqueue('call-c', 180, { agent: 'support', callerNumber: '139****0003' });
      enqueue('call-c', 185, { agent: 'support', callerNumber: '139****0003' });
      enqueue('call-d', 240, { agent: 'support', callerNumber: null });
      enqueue('call-d', 241, { agent: 'support', callerNumber: null, outcome: 'error' });
      enqueue('call-d', 242, { agent: 'support', callerNumber: '137****0004', outcome: 'error' });
      await store.flush();
      assert.equal(await store.addEvent(event('call-c', 'agent_stop', 'stop-c', 186)), true);
      return store;
    }

    it('lists newest first with a total, and pages', async () => {
      const store = await seeded();
      const all = await store.listCalls({ limit: 10, offset: 0 });
      assert.equal(all.total, 4);
      assert.deepEqual(ids(all.calls), ['call-d', 'call-c', 'call-b', 'call-a']);
      assert.deepEqual(all.calls[0], {
        instanceId: 'call-d',
        agent: 'support',
        callerNumber: '137****0004',
        calleeNumber: '0571****0000',
        startedAt: at(240),
        lastTurnAt: at(242),
        turns: 3,
        outcome: 'error',
        endedAt: null,
        hangup: false,
        transferred: false,
        synthetic: null,
      });
      const page1 = await store.listCalls({ limit: 2, offset: 0 });
      const page2 = await store.listCalls({ limit: 2, offset: 2 });
      const page3 = await store.listCalls({ limit: 2, offset: 4 });
      assert.deepEqual([ids(page1.calls), ids(page2.calls), ids(page3.calls)], [['call-d', 'call-c'], ['call-b', 'call-a'], []]);
      assert.deepEqual([page1.total, page2.total, page3.total], [4, 4, 4]);
      assert.deepEqual(await store.listCalls({ limit: 0, offset: 0 }), { calls: [], total: 4 });
    });

    it('filters by agent, caller, outcome and time range', async () => {
      const store = await seeded();
      const list = async (filter: object) => {
        const result = await store.listCalls({ limit: 10, offset: 0, ...filter });
        assert.equal(result.total, result.calls.length);
        return ids(result.calls);
      };
      assert.deepEqual(await list({ agent: 'support' }), ['call-d', 'call-c', 'call-a']);
      assert.deepEqual(await list({ agent: 'nobody' }), []);
      assert.deepEqual(await list({ caller: '0002' }), ['call-b']);
      assert.deepEqual(await list({ caller: '139' }), ['call-c', 'call-b']);
      assert.deepEqual(await list({ caller: '%' }), []);
      assert.deepEqual(await list({ outcome: 'error' }), ['call-d', 'call-b']);
      assert.deepEqual(await list({ outcome: 'ended' }), ['call-c']);
      assert.deepEqual(await list({ outcome: 'ok' }), ['call-c', 'call-a']);
      // Calls active in [from, to).
      assert.deepEqual(await list({ from: at(150), to: at(200) }), ['call-c']);
      assert.deepEqual(await list({ from: at(61), to: at(120) }), ['call-a']);
      assert.deepEqual(await list({ from: at(184) }), ['call-d', 'call-c']);
      assert.deepEqual(await list({ to: at(120) }), ['call-a']);
      // Other spellings of the same instant work.
      assert.deepEqual(await list({ from: '2024-05-01T11:30:00+08:00' }), ['call-d']);
      assert.deepEqual(await list({ agent: 'support', outcome: 'ok', from: at(100) }), ['call-c']);
      await assert.rejects(store.listCalls({ limit: 10, offset: 0, from: 'yesterday-ish' }), /not a date-time/);
    });
  });

  describe('listCalls by number, test traffic and range', () => {
    const hash = (number: string) => `hash-of-${number}`;
    async function seeded() {
      const { store } = await fresh();
      const enqueue = (instanceId: string, minutes: number, fields: Partial<TurnRecord> = {}) =>
        store.enqueue(turn({ instanceId, startedAt: at(minutes), ...fields }));
      enqueue('n-1', 10, {
        callerNumber: '138****0001',
        calleeNumber: '400****0000',
        numberHashes: { caller: hash('13800000001'), callee: hash('4000000000') },
      });
      enqueue('n-1', 40, {
        callerNumber: '138****0001',
        calleeNumber: '400****0000',
        numberHashes: { caller: hash('13800000001'), callee: hash('4000000000') },
      });
      enqueue('n-2', 20, {
        callerNumber: '138****0001',
        calleeNumber: '400****0001',
        numberHashes: { caller: hash('13811110001'), callee: hash('4000000001') },
      });
      enqueue('sim', 30, { callerNumber: '139****0009', calleeNumber: null, synthetic: 'simulate' });
      enqueue('chk', 31, { callerNumber: null, calleeNumber: null, synthetic: 'check' });
      await store.flush();
      return store;
    }
    const listed = async (store: BatchedRecordStore, filter: object) => {
      const result = await store.listCalls({ limit: 10, offset: 0, ...filter });
      assert.equal(result.total, result.calls.length);
      return ids(result.calls);
    };

    it('finds a call by the hash of its number, and still by part of the masked number', async () => {
      const store = await seeded();
      // Both callers are masked alike: only the hash tells them apart.
      assert.deepEqual(await listed(store, { caller: '0001' }), ['n-2', 'n-1']);
      assert.deepEqual(await listed(store, { caller: '13800000001', callerHash: hash('13800000001') }), ['n-1']);
      assert.deepEqual(await listed(store, { caller: '13811110001', callerHash: hash('13811110001') }), ['n-2']);
      assert.deepEqual(await listed(store, { caller: '13900000000', callerHash: hash('13900000000') }), []);
      assert.deepEqual(await listed(store, { callee: '4000000000', calleeHash: hash('4000000000') }), ['n-1']);
      assert.deepEqual(await listed(store, { callee: '****0001' }), ['n-2']);
      assert.deepEqual(await listed(store, { callee: '400' }), ['n-2', 'n-1']);
      const [call] = (await store.listCalls({ limit: 1, offset: 0, callee: '****0001' })).calls;
      assert.equal(call?.calleeNumber, '400****0001');
    });

    it('selects or leaves out test traffic; each call says its kind', async () => {
      const store = await seeded();
      assert.deepEqual(await listed(store, {}), ['chk', 'sim', 'n-2', 'n-1']);
      assert.deepEqual(await listed(store, { synthetic: 'include' }), ['chk', 'sim', 'n-2', 'n-1']);
      assert.deepEqual(await listed(store, { synthetic: 'exclude' }), ['n-2', 'n-1']);
      assert.deepEqual(await listed(store, { synthetic: 'only' }), ['chk', 'sim']);
      const kinds = Object.fromEntries((await store.listCalls({ limit: 10, offset: 0 })).calls.map((c) => [c.instanceId, c.synthetic]));
      assert.deepEqual(kinds, { chk: 'check', sim: 'simulate', 'n-2': null, 'n-1': null });
      const stats = await store.stats({ synthetic: 'exclude' });
      assert.equal(
        stats.reduce((sum, row) => sum + row.turns, 0),
        3,
      );
      assert.equal(
        (await store.stats({ synthetic: 'only' })).reduce((sum, row) => sum + row.turns, 0),
        2,
      );
      const exported: TurnRecord[] = [];
      await store.exportTurns({ synthetic: 'only' }, (batch) => void exported.push(...batch));
      assert.deepEqual(
        exported.map((r) => r.synthetic),
        ['simulate', 'check'],
      );
    });

    it('a range gives the calls of the turns it covers, as the export and the stats do', async () => {
      const store = await seeded();
      for (const range of [
        { from: at(15), to: at(35) },
        { from: at(11), to: at(19) },
        { from: at(20) },
        { to: at(20) },
        { from: at(10), to: at(41) },
      ]) {
        const exported: TurnRecord[] = [];
        await store.exportTurns(range, (batch) => void exported.push(...batch));
        const fromExport = [...new Set(exported.map((r) => r.instanceId))].sort();
        assert.deepEqual((await listed(store, range)).sort(), fromExport, JSON.stringify(range));
        const counted = (await store.stats(range)).reduce((sum, row) => sum + row.turns, 0);
        assert.equal(counted, exported.length, JSON.stringify(range));
      }
      // n-1 spans 10 to 40 with no turn between: not in a range that holds none of its turns.
      assert.deepEqual(await listed(store, { from: at(11), to: at(19) }), []);
    });
  });

  describe('stats', () => {
    it('per agent and provider: percentiles, error rate, hangups, transfers, cancellations', async () => {
      const { store } = await fresh();
      const add = (fields: Partial<TurnRecord>) => store.enqueue(turn({ instanceId: `s-${sequence}`, startedAt: at(30), ...fields }));
      // a/p1: first-token times 0, 10, …, 100 (inserted out of order) and one without.
      for (const ms of [50, 0, 100, 30, 70, 10, 90, 20, 80, 40, 60]) add({ agent: 'a', provider: 'p1', ttftMs: ms });
      add({ agent: 'a', provider: 'p1', ttftMs: null, outcome: 'error' });
      // Mark outcomes/signals on some of them by adding more a/p1 turns with known fields.
      add({ agent: 'a', provider: 'p1', ttftMs: null, outcome: 'apologized', signal: 'hangup' });
      add({ agent: 'a', provider: 'p1', ttftMs: null, outcome: 'upstream_broken', signal: 'hangup' });
      add({ agent: 'a', provider: 'p1', ttftMs: null, outcome: 'client_closed', cancellation: 'client_closed' });
      add({ agent: 'a', provider: 'p1', ttftMs: null, outcome: 'ok', signal: 'transfer:2000', cancellation: 'superseded' });
      add({ agent: 'a', provider: null, ttftMs: null, outcome: 'error' });
      add({ agent: 'a', provider: null, ttftMs: null, outcome: 'error' });
      add({ agent: 'b', provider: 'p2', ttftMs: 42 });
      // Outside the range.
      add({ agent: 'a', provider: 'p1', ttftMs: 10_000, startedAt: at(-1), outcome: 'error' });
      add({ agent: 'c', provider: 'p3', ttftMs: 1, startedAt: at(90) });
      await store.flush();

      const rows = await store.stats({ from: at(0), to: at(60) });
      assert.equal(rows.length, 3);
      const [aNull, aP1, bP2] = rows;
      assert.deepEqual(aNull, {
        agent: 'a',
        provider: null,
        turns: 2,
        ttftP50: null,
        ttftP95: null,
        ttftP99: null,
        errorRate: 1,
        hangups: 0,
        transfers: 0,
        cancellations: 0,
      });
      assert.ok(aP1);
      assert.deepEqual(
        { ...aP1, ttftP50: null, ttftP95: null, ttftP99: null },
        {
          agent: 'a',
          provider: 'p1',
          turns: 16,
          ttftP50: null,
          ttftP95: null,
          ttftP99: null,
          // 3/16, to 3 decimals.
          errorRate: 0.188,
          hangups: 2,
          transfers: 1,
          cancellations: 2,
        },
      );
      assertClose(aP1.ttftP50, 50);
      assertClose(aP1.ttftP95, 95);
      assertClose(aP1.ttftP99, 99);
      assert.deepEqual(
        [bP2?.agent, bP2?.provider, bP2?.turns, bP2?.ttftP50, bP2?.ttftP95, bP2?.ttftP99, bP2?.errorRate],
        ['b', 'p2', 1, 42, 42, 42, 0],
      );

      const all = await store.stats({});
      assert.deepEqual(
        all.map((row) => [row.agent, row.provider, row.turns]),
        [
          ['a', null, 2],
          ['a', 'p1', 17],
          ['b', 'p2', 1],
          ['c', 'p3', 1],
        ],
      );
      // 0, 10, …, 100, 10 000: the 99th percentile lies 0.89 of the way from 100 to 10 000.
      assertClose(all[1]?.ttftP99 ?? null, 100 + (10_000 - 100) * (0.99 * 11 - 10));
      assert.deepEqual(await store.stats({ from: at(1000) }), []);
    });
  });

  describe('search, erasure and series', () => {
    async function seeded() {
      const { store } = await fresh();
      const enqueue = (instanceId: string, minutes: number, fields: Partial<TurnRecord> = {}) =>
        store.enqueue(turn({ instanceId, startedAt: at(minutes), ...fields }));
      enqueue('s-a', 60, { answerText: 'Your refund is on its way.', signal: 'hangup' });
      enqueue('s-b', 120, {
        agent: 'sales',
        provider: 'backup',
        calleeNumber: '400****9999',
        errorCode: 'upstream_timeout',
        outcome: 'apologized',
      });
      enqueue('s-c', 180, { signal: 'transfer:1001', synthetic: 'console', promptTokens: 5, completionTokens: 7 });
      enqueue('s-c', 181, {
        timings: { upstreamSentMs: 1.5, firstUpstreamTokenMs: 300, firstByteMs: 301, lastByteMs: 1400 },
        attempts: [{ provider: 'openai', model: 'm', outcome: 'committed', errorCode: null, ms: 298.5, startMs: 1.5 }],
      });
      await store.flush();
      return store;
    }
    const searchIds = async (store: BatchedRecordStore, filter: object) => ids((await store.searchCalls({ limit: 10, ...filter })).data);

    it('finds calls by text, signal, agent, provider, callee, error code, traffic and time', async () => {
      const store = await seeded();
      assert.deepEqual(await searchIds(store, {}), ['s-c', 's-b', 's-a']);
      assert.deepEqual(await searchIds(store, { text: 'refund' }), ['s-a']);
      assert.deepEqual(await searchIds(store, { text: '好的' }), ['s-c', 's-b']);
      assert.deepEqual(await searchIds(store, { signal: 'transfer' }), ['s-c']);
      assert.deepEqual(await searchIds(store, { signal: 'hangup' }), ['s-a']);
      assert.deepEqual(await searchIds(store, { agent: 'sales', provider: 'backup', callee: '9999', errorCode: 'upstream_timeout' }), [
        's-b',
      ]);
      assert.deepEqual(await searchIds(store, { synthetic: 'real' }), ['s-c', 's-b', 's-a'], 's-c has a real turn too');
      assert.deepEqual(await searchIds(store, { synthetic: 'console' }), ['s-c']);
      assert.deepEqual(await searchIds(store, { from: at(100), to: at(180) }), ['s-b']);
      assert.deepEqual(await searchIds(store, { text: '100%_' }), [], 'LIKE wildcards are matched literally');
    });

    it('pages calls and turns newest first by cursor; timings round-trip', async () => {
      const store = await seeded();
      const first = await store.searchCalls({ limit: 2 });
      assert.deepEqual(ids(first.data), ['s-c', 's-b']);
      assert.deepEqual(first.next, { startedAt: at(120), id: 's-b' });
      const second = await store.searchCalls({ limit: 2, before: first.next! });
      assert.deepEqual([ids(second.data), second.next], [['s-a'], null]);
      const turns = await store.searchTurns({ limit: 3 });
      assert.deepEqual(
        turns.data.map((t) => t.startedAt),
        [at(181), at(180), at(120)],
      );
      assert.deepEqual(turns.data[0]!.timings, { upstreamSentMs: 1.5, firstUpstreamTokenMs: 300, firstByteMs: 301, lastByteMs: 1400 });
      assert.equal(turns.data[0]!.attempts[0]!.startMs, 1.5);
      assert.equal('timings' in turns.data[1]!, false, 'a turn without timings reads back without them');
      const rest = await store.searchTurns({ limit: 3, before: turns.next! });
      assert.deepEqual([rest.data.map((t) => t.startedAt), rest.next], [[at(60)], null]);
    });

    it('erases one call with its events, and sums turns and tokens per bucket and provider', async () => {
      const store = await seeded();
      assert.equal(await store.addEvent(event('s-b', 'agent_stop', 'stop-b', 121)), true);
      const series = await store.series({ from: at(0), to: at(240), bucketSeconds: 3600 });
      assert.deepEqual(
        series.buckets.map((b) => [b.at, b.turns, b.calls, b.apologies, b.hangups, b.transfers]),
        [
          [at(60), 1, 1, 0, 1, 0],
          [at(120), 1, 1, 1, 0, 0],
          [at(180), 2, 1, 0, 0, 1],
        ],
      );
      const support = series.usage.find((row) => row.agent === 'support')!;
      assert.deepEqual([support.turns, support.promptTokens, support.completionTokens], [3, 245, 87]);
      assert.equal(await store.deleteCall('s-b'), 1);
      assert.equal(await store.getCall('s-b'), undefined);
      assert.equal(await store.deleteCall('s-b'), 0);
      assert.deepEqual(await searchIds(store, {}), ['s-c', 's-a']);
      assert.equal(await store.addEvent(event('s-b', 'agent_stop', 'stop-b', 121)), true, 'its events went with it');
    });
  });

  describe('events', () => {
    it('are idempotent per call and key; agent_stop and session_stop end the call', async () => {
      const { store } = await fresh();
      store.enqueue(turn({ instanceId: 'ev-1', startedAt: at(1) }));
      store.enqueue(turn({ instanceId: 'ev-2', startedAt: at(2) }));
      await store.flush();

      assert.equal(await store.addEvent(event('ev-1', 'agent_start', 'k1', 0, { nested: { list: [1, 'two', null] } })), true);
      assert.equal(await store.addEvent(event('ev-1', 'agent_start', 'k1', 0)), false);
      assert.equal((await store.getCall('ev-1'))?.outcome, 'ok');
      // The same key on another call is another event.
      assert.equal(await store.addEvent(event('ev-2', 'agent_start', 'k1', 0, null)), true);

      assert.equal(await store.addEvent(event('ev-1', 'agent_stop', 'k2', 5, 'stopped')), true);
      assert.equal(await store.addEvent(event('ev-1', 'agent_stop', 'k2', 6)), false);
      assert.equal(await store.addEvent(event('ev-2', 'session_stop', 'k3', 7)), true);

      const call = await store.getCall('ev-1');
      assert.equal(call?.outcome, 'ended');
      assert.equal(call?.endedAt, at(5));
      assert.deepEqual(call?.events, [
        event('ev-1', 'agent_start', 'k1', 0, { nested: { list: [1, 'two', null] } }),
        event('ev-1', 'agent_stop', 'k2', 5, 'stopped'),
      ]);
      const other = await store.getCall('ev-2');
      assert.equal(other?.outcome, 'ended');
      assert.equal(other?.endedAt, at(7));
      assert.deepEqual(
        other?.events.map((e) => e.payload),
        [null, { event: 'session_stop' }],
      );

      // A turn after the stop doesn't revive the call.
      store.enqueue(turn({ instanceId: 'ev-1', startedAt: at(8), outcome: 'error' }));
      await store.flush();
      const later = await store.getCall('ev-1');
      assert.deepEqual([later?.outcome, later?.turns, later?.endedAt], ['ended', 2, at(5)]);
    });

    it('an event that arrives before the call has turns is kept and applied when they come', async () => {
      const { store } = await fresh();
      assert.equal(await store.addEvent(event('ev-early', 'agent_stop', 'k', 3)), true);
      assert.equal(await store.getCall('ev-early'), undefined);
      store.enqueue(turn({ instanceId: 'ev-early', startedAt: at(1) }));
      await store.flush();
      const call = await store.getCall('ev-early');
      assert.deepEqual([call?.outcome, call?.endedAt, call?.events.length], ['ended', at(3), 1]);
    });
  });

  describe('queue', () => {
    it('a full queue drops and counts without throwing', async () => {
      const { store } = await fresh({ queueSize: 5, batchSize: 100, flushIntervalMs: 60_000 });
      for (let i = 0; i < 8; i++) store.enqueue(turn({ instanceId: 'q-1', startedAt: at(i) }));
      assert.equal(store.queueDepth, 5);
      assert.equal(store.dropped, 3);
      await store.flush();
      assert.deepEqual([store.queueDepth, store.written, store.dropped, store.failed], [0, 5, 3, 0]);
      assert.equal((await store.getCall('q-1'))?.turns, 5);
    });

    it('writes a batch as soon as it is full, and a partial one after flushIntervalMs', async () => {
      const { store } = await fresh({ batchSize: 3, flushIntervalMs: 60_000 });
      for (let i = 0; i < 4; i++) store.enqueue(turn({ instanceId: 'q-2', startedAt: at(i) }));
      await waitFor(() => store.written === 3);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual([store.written, store.queueDepth], [3, 1]);
      await store.flush();
      assert.equal(store.written, 4);

      const { store: timed } = await fresh({ batchSize: 100, flushIntervalMs: 25 });
      timed.enqueue(turn({ instanceId: 'q-3' }));
      await waitFor(() => timed.written === 1);
    });

    it('exports every turn oldest first, in pages, optionally since a time', async () => {
      const { store } = await fresh({ batchSize: 500 });
      const records = Array.from({ length: 1100 }, (_, i) =>
        turn({ instanceId: `x-${i % 50}`, startedAt: at(Math.floor(i / 2)), toolRuns: [], attempts: [] }),
      );
      for (const record of records) store.enqueue(record);
      await store.flush();
      assert.equal(store.written, 1100);
      const pages: TurnRecord[][] = [];
      await store.exportTurns({}, async (batch) => {
        pages.push(batch);
      });
      assert.deepEqual(
        pages.map((p) => p.length),
        [500, 500, 100],
      );
      const byTimeThenId = [...records].sort((a, b) =>
        a.startedAt === b.startedAt ? (a.id < b.id ? -1 : 1) : a.startedAt < b.startedAt ? -1 : 1,
      );
      assert.deepEqual(
        pages.flat().map((r) => r.id),
        byTimeThenId.map((r) => r.id),
      );
      const since: TurnRecord[] = [];
      await store.exportTurns({ from: at(500) }, (batch) => void since.push(...batch));
      assert.deepEqual(
        since.map((r) => r.id),
        byTimeThenId.filter((r) => r.startedAt >= at(500)).map((r) => r.id),
      );
    });
  });

  describe('a broken database', () => {
    it('never throws from enqueue; counts overflow and failed writes; operations reject; close resolves', async () => {
      const store = track(harness.openBroken({ queueSize: 50, batchSize: 10, flushIntervalMs: 10, writeRetries: 1 }));
      const started = performance.now();
      for (let i = 0; i < 80; i++) store.enqueue(turn({ instanceId: 'broken' }));
      assert.ok(performance.now() - started < 200, 'enqueue does not wait on the database');
      assert.equal(store.dropped, 30);
      await store.flush();
      assert.deepEqual([store.written, store.failed, store.dropped, store.queueDepth], [0, 50, 80, 0]);
      await assert.rejects(store.ready());
      await assert.rejects(store.addEvent(event('broken', 'agent_stop', 'k', 1)));
      await assert.rejects(store.listCalls({ limit: 1, offset: 0 }));
      store.enqueue(turn());
      await store.close();
      assert.equal(store.dropped, 81);
      store.enqueue(turn());
      assert.equal(store.dropped, 82);
    });
  });

  describe('retention', () => {
    it('purges old turns, calls left without turns and their events; recomputes partly purged calls', async () => {
      const { store } = await fresh();
      store.enqueue(turn({ instanceId: 'old', startedAt: at(1 * DAY) }));
      store.enqueue(turn({ instanceId: 'old', startedAt: at(2 * DAY), signal: 'hangup' }));
      store.enqueue(turn({ instanceId: 'mixed', startedAt: at(5 * DAY), signal: 'hangup', callerNumber: '111' }));
      store.enqueue(turn({ instanceId: 'mixed', startedAt: at(15 * DAY), callerNumber: '222' }));
      store.enqueue(turn({ instanceId: null, startedAt: at(3 * DAY) }));
      store.enqueue(turn({ instanceId: 'new', startedAt: at(20 * DAY) }));
      await store.flush();
      await store.addEvent(event('old', 'agent_stop', 'stop', 11 * DAY));
      await store.addEvent(event('mixed', 'agent_start', 'start', 4 * DAY));
      await store.addEvent(event('orphan-old', 'agent_start', 'a', 3 * DAY));
      await store.addEvent(event('orphan-new', 'agent_start', 'a', 19 * DAY));

      assert.equal(await store.purgeOlderThan(at(10 * DAY)), 4);
      assert.equal(await store.getCall('old'), undefined);
      const mixed = await store.getCall('mixed');
      assert.deepEqual(
        [mixed?.turns, mixed?.startedAt, mixed?.hangup, mixed?.callerNumber, mixed?.turnRecords.length, mixed?.events.length],
        [1, at(15 * DAY), false, '222', 1, 1],
      );
      assert.equal((await store.getCall('new'))?.turns, 1);
      assert.deepEqual(ids((await store.listCalls({ limit: 10, offset: 0 })).calls), ['new', 'mixed']);

      // The old call's events went with it, the old orphan event too; the recent orphan stays.
      for (const instanceId of ['old', 'orphan-old', 'orphan-new']) {
        store.enqueue(turn({ instanceId, startedAt: at(21 * DAY) }));
      }
      await store.flush();
      assert.deepEqual((await store.getCall('old'))?.events, []);
      assert.deepEqual((await store.getCall('old'))?.outcome, 'ok');
      assert.deepEqual((await store.getCall('orphan-old'))?.events, []);
      assert.equal((await store.getCall('orphan-new'))?.events.length, 1);
      assert.equal(await store.purgeOlderThan(at(10 * DAY)), 0);
      const exported: TurnRecord[] = [];
      await store.exportTurns({}, (batch) => void exported.push(...batch));
      assert.equal(exported.length, 5);
    });
  });

  describe('lifecycle', () => {
    it('close() writes what is queued; the data is there when the database is opened again; migrations apply once', async () => {
      const { db, store } = await fresh({ flushIntervalMs: 60_000 });
      await store.ready();
      for (let i = 0; i < 3; i++) store.enqueue(turn({ instanceId: 'life', startedAt: at(i) }));
      await store.close();
      assert.deepEqual([store.written, store.dropped], [3, 0]);
      store.enqueue(turn());
      assert.equal(store.dropped, 1);
      await assert.rejects(store.getCall('life'), /closed/);
      await store.close();

      const again = track(db.open(DEFAULTS));
      await again.ready();
      assert.equal((await again.getCall('life'))?.turns, 3);
      assert.deepEqual(
        await db.migrationVersions(),
        MIGRATIONS.map((m) => m.version),
      );
    });

    it('migration 3 fills the new summary columns of calls recorded before it', async () => {
      const { db, store } = await fresh();
      store.enqueue(turn({ instanceId: 'old', startedAt: at(1), calleeNumber: null, synthetic: 'check' }));
      store.enqueue(turn({ instanceId: 'old', startedAt: at(2), calleeNumber: '400****0000', synthetic: 'check' }));
      store.enqueue(turn({ instanceId: 'real', startedAt: at(3) }));
      await store.close();
      // Back to version 2, with the rows it had.
      await db.exec(`DROP INDEX turns_caller_hash; DROP INDEX turns_callee_hash;
        ALTER TABLE turns DROP COLUMN caller_hash; ALTER TABLE turns DROP COLUMN callee_hash;
        ALTER TABLE calls DROP COLUMN callee_number; ALTER TABLE calls DROP COLUMN synthetic;
        DELETE FROM schema_migrations WHERE version = 3`);
      const again = track(db.open(DEFAULTS));
      const { calls } = await again.listCalls({ limit: 10, offset: 0 });
      assert.deepEqual(
        calls.map((c) => [c.instanceId, c.calleeNumber, c.synthetic]),
        [
          ['real', '0571****0000', null],
          ['old', '400****0000', 'check'],
        ],
      );
      assert.deepEqual(
        await db.migrationVersions(),
        MIGRATIONS.map((m) => m.version),
      );
    });

    it('flush() with nothing queued resolves at once; flush waits only for what was queued before it', async () => {
      const { store } = await fresh({ flushIntervalMs: 60_000 });
      await store.flush();
      store.enqueue(turn({ instanceId: 'f' }));
      const flushed = store.flush();
      store.enqueue(turn({ instanceId: 'f', startedAt: at(1) }));
      await flushed;
      assert.ok(store.written >= 1);
      await store.flush();
      assert.equal(store.written, 2);
    });
  });
}

function assertClose(actual: number | null, expected: number): void {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-6, `${actual} ≈ ${expected}`);
}
