import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startRetention } from '../../src/store/retention.ts';
import type { RecordStore } from '../../src/store/turn-record.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(2);
  }
}

function fakeStore(purge: (cutoff: string) => Promise<number>): RecordStore {
  const unused = () => {
    throw new Error('not used');
  };
  return {
    enqueue: unused,
    addEvent: unused,
    listCalls: unused,
    getCall: unused,
    stats: unused,
    exportTurns: unused,
    purgeOlderThan: purge,
    searchCalls: unused,
    searchTurns: unused,
    series: unused,
    deleteCall: unused,
    flush: unused,
    queueDepth: 0,
    dropped: 0,
    close: unused,
  };
}

describe('startRetention', () => {
  it('purges records older than the retention at start and on every interval, until stopped', async () => {
    const cutoffs: string[] = [];
    const logged: object[] = [];
    const now = Date.parse('2024-06-30T12:00:00.000Z');
    const stop = startRetention(
      fakeStore(async (cutoff) => (cutoffs.push(cutoff), 3)),
      30,
      { info: (obj) => void logged.push(obj), warn: () => {}, error: () => {} },
      { initialDelayMs: 0, intervalMs: 30, now: () => now },
    );
    await waitFor(() => cutoffs.length >= 2);
    stop();
    const seen = cutoffs.length;
    assert.ok(cutoffs.every((cutoff) => cutoff === '2024-05-31T12:00:00.000Z'));
    assert.deepEqual(logged[0], { removed: 3, cutoff: '2024-05-31T12:00:00.000Z', retentionDays: 30 });
    await sleep(60);
    assert.equal(cutoffs.length, seen);
  });

  it('logs a failed purge and tries again next time; never overlaps two purges', async () => {
    let calls = 0;
    let running = 0;
    let overlapped = false;
    const warnings: object[] = [];
    const stop = startRetention(
      fakeStore(async () => {
        calls += 1;
        running += 1;
        overlapped ||= running > 1;
        await sleep(25);
        running -= 1;
        if (calls === 1) throw new Error('database is down');
        return 0;
      }),
      7,
      { info: () => {}, warn: (obj) => void warnings.push(obj), error: () => {} },
      { initialDelayMs: 0, intervalMs: 10 },
    );
    await waitFor(() => calls >= 3);
    stop();
    assert.equal(overlapped, false);
    assert.equal(warnings.length, 1);
    assert.match(JSON.stringify(warnings[0]), /database is down/);
  });
});
