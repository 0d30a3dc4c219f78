import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecordQueue, type StoreLogger } from '../../src/store/record-queue.ts';
import type { TurnRecord } from '../../src/store/turn-record.ts';
import { turn } from './record-store-suite.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** After the queue's own scheduled drain (setImmediate) and its microtasks. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(2);
  }
}

function capture(): StoreLogger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const log = (level: string) => (obj: object, msg?: string) => void lines.push(msg === undefined ? { level, obj } : { level, obj, msg });
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}

describe('RecordQueue', () => {
  it('writes full batches at once and in order, the rest after flushIntervalMs', async () => {
    const batches: string[][] = [];
    const queue = new RecordQueue({
      queueSize: 100,
      batchSize: 3,
      flushIntervalMs: 40,
      write: async (batch) => void batches.push(batch.map((r) => r.id)),
    });
    const records = Array.from({ length: 7 }, () => turn());
    const started = performance.now();
    for (const record of records) queue.enqueue(record);
    assert.equal(batches.length, 0, "nothing is written on the caller's stack");
    await nextTurn();
    assert.deepEqual(batches, [records.slice(0, 3).map((r) => r.id), records.slice(3, 6).map((r) => r.id)]);
    assert.equal(queue.depth, 1);
    await waitFor(() => batches.length === 3);
    assert.ok(performance.now() - started >= 30, 'the partial batch waited for the interval');
    assert.deepEqual(batches.at(-1), [records[6]!.id]);
    assert.deepEqual([queue.depth, queue.written, queue.dropped], [0, 7, 0]);
  });

  it('a slow writer never delays enqueue; the bound holds while it writes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = new RecordQueue({ queueSize: 10, batchSize: 4, flushIntervalMs: 5, write: () => gate });
    for (let i = 0; i < 4; i++) queue.enqueue(turn());
    await nextTurn(); // the first batch is in flight and stuck
    const started = performance.now();
    for (let i = 0; i < 1000; i++) queue.enqueue(turn());
    assert.ok(performance.now() - started < 100);
    assert.deepEqual([queue.depth, queue.overflowed, queue.dropped], [10, 994, 994]);
    release();
    await queue.flush();
    assert.deepEqual([queue.depth, queue.written], [0, 10]);
  });

  it('retries a failed batch with backoff, then succeeds', async () => {
    let calls = 0;
    const queue = new RecordQueue({
      queueSize: 10,
      batchSize: 10,
      flushIntervalMs: 5,
      writeRetries: 2,
      write: async () => {
        calls += 1;
        if (calls < 3) throw new Error('database is restarting');
      },
    });
    queue.enqueue(turn());
    await queue.flush();
    assert.deepEqual([calls, queue.written, queue.failed], [3, 1, 0]);
  });

  it('gives a batch up after its retries and counts it; while failing, later batches get one attempt', async () => {
    const logger = capture();
    let calls = 0;
    const queue = new RecordQueue({
      queueSize: 100,
      batchSize: 2,
      flushIntervalMs: 5,
      writeRetries: 2,
      logger,
      write: () => {
        calls += 1;
        throw Object.assign(new Error('disk I/O error'), { code: 'ERR_SQLITE_ERROR' });
      },
    });
    for (let i = 0; i < 6; i++) queue.enqueue(turn());
    await queue.flush();
    assert.deepEqual([calls, queue.failed, queue.dropped, queue.written, queue.depth], [3 + 1 + 1, 6, 6, 0, 0]);
    assert.equal(logger.lines.length, 1, 'failures are logged at most every 10 s');
    assert.deepEqual(logger.lines[0]?.obj, {
      store: 'records',
      dropped: 2,
      totalFailed: 2,
      attempts: 3,
      err: { message: 'disk I/O error', code: 'ERR_SQLITE_ERROR' },
    });
  });

  for (const [label, refusal] of [
    ['PostgreSQL (SQLSTATE 22P05)', { code: '22P05', message: 'unsupported Unicode escape sequence' }],
    ['PostgreSQL (SQLSTATE 54000)', { code: '54000', message: 'index row size exceeds btree maximum' }],
    ['SQLite (SQLITE_TOOBIG)', { code: 'ERR_SQLITE_ERROR', errcode: 18, message: 'string or blob too big' }],
    ['the encoder (TypeError)', { name: 'TypeError', message: 'Do not know how to serialize a BigInt' }],
  ] as const) {
    it(`a batch refused for one record by ${label} is split until that record alone is dropped`, async () => {
      const logger = capture();
      const records = Array.from({ length: 16 }, () => turn());
      const poison = records[11]!.id;
      const stored: string[] = [];
      let calls = 0;
      const queue = new RecordQueue({
        queueSize: 100,
        batchSize: 16,
        flushIntervalMs: 5,
        writeRetries: 2,
        logger,
        write: async (batch) => {
          calls += 1;
          if (batch.some((r) => r.id === poison)) throw Object.assign(new Error(refusal.message), refusal);
          stored.push(...batch.map((r) => r.id));
        },
      });
      for (const record of records) queue.enqueue(record);
      await queue.flush();
      assert.deepEqual(
        stored,
        records.filter((r) => r.id !== poison).map((r) => r.id),
        'every other record, in order',
      );
      assert.deepEqual([queue.written, queue.rejected, queue.failed, queue.dropped], [15, 1, 0, 1]);
      assert.deepEqual(queue.droppedByReason, { queue_full: 0, write_failed: 0, invalid_record: 1 });
      assert.equal(calls, 1 + 2 * 4, 'one failed batch, then two halves per level (16 → 1)');
      assert.equal(logger.lines.length, 1);
      assert.equal(logger.lines[0]?.msg, 'the database refused a turn record: record dropped');
      assert.equal((logger.lines[0]?.obj as { turnId?: string } | undefined)?.turnId, poison);
    });
  }

  it('a database that is down is not split record by record', async () => {
    let calls = 0;
    const queue = new RecordQueue({
      queueSize: 100,
      batchSize: 16,
      flushIntervalMs: 5,
      writeRetries: 1,
      write: async () => {
        calls += 1;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
    });
    for (let i = 0; i < 16; i++) queue.enqueue(turn());
    await queue.flush();
    assert.deepEqual([calls, queue.failed, queue.rejected], [2, 16, 0]);
    assert.deepEqual(queue.droppedByReason, { queue_full: 0, write_failed: 16, invalid_record: 0 });
  });

  it('flush() waits for what was queued before it, not for what comes after', async () => {
    const written: TurnRecord[] = [];
    let release: (() => void) | undefined;
    const queue = new RecordQueue({
      queueSize: 100,
      batchSize: 1,
      flushIntervalMs: 60_000,
      write: async (batch) => {
        if (written.length === 1) await new Promise<void>((resolve) => (release = resolve));
        written.push(...batch);
      },
    });
    queue.enqueue(turn());
    await queue.flush();
    assert.equal(written.length, 1);
    queue.enqueue(turn());
    queue.enqueue(turn());
    let flushed = false;
    const flushing = queue.flush().then(() => (flushed = true));
    await sleep(10);
    assert.equal(flushed, false);
    release?.();
    await flushing;
    assert.equal(written.length, 3);
  });

  it('close() flushes, then drops (and counts) what comes after; a failing database does not hold it up', async () => {
    const logger = capture();
    const queue = new RecordQueue({ queueSize: 100, batchSize: 5, flushIntervalMs: 60_000, logger, write: async () => {} });
    queue.enqueue(turn());
    await queue.close();
    assert.equal(queue.written, 1);
    queue.enqueue(turn());
    assert.equal(queue.dropped, 1);
    assert.match(logger.lines[0]?.msg ?? '', /closed/);

    let calls = 0;
    const failing = new RecordQueue({
      queueSize: 1000,
      batchSize: 10,
      flushIntervalMs: 5,
      writeRetries: 5,
      write: async () => {
        calls += 1;
        throw new Error('down');
      },
    });
    for (let i = 0; i < 10; i++) failing.enqueue(turn());
    await failing.flush(); // 6 attempts, backing off 5, 10, 20, 40, 80 ms
    assert.equal(calls, 6);
    for (let i = 0; i < 500; i++) failing.enqueue(turn());
    const started = performance.now();
    await failing.close();
    assert.ok(performance.now() - started < 500, 'close does not retry batch after batch on a dead database');
    assert.deepEqual([failing.failed, failing.depth], [510, 0]);
    assert.equal(calls, 6);
  });
});
