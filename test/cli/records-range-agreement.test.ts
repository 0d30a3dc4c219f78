/**
 * The same range and traffic filter through the admin API (`from`, `to`, `synthetic`) and
 * through `calls export` (`--since`, `--until`, `--synthetic`) cover the same turns: the calls
 * listed are the calls of the turns exported, and the stats count those turns. On SQLite, and on
 * PostgreSQL when DATABASE_URL is set.
 */

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { runCalls } from '../../src/cli/commands/calls.ts';
import { BearerAuth } from '../../src/server/bearer-auth.ts';
import { registerAdminRoutes } from '../../src/server/routes/admin.ts';
import { openRecordStore } from '../../src/store/open-store.ts';
import type { CallSummary, StatsRow, TurnRecord } from '../../src/store/turn-record.ts';
import { postgresSchemas } from '../support/postgres-schemas.ts';
import { textSink } from '../support/text-sink.ts';
import { turn } from '../store/record-store-suite.ts';

const ADMIN_KEY = 'admin-key-0123456789';
const NOW = new Date('2024-05-02T00:00:00.000Z');
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000).toISOString();

/** Calls of several turns across the day, some of them test traffic, and a turn of no call. */
function records(): TurnRecord[] {
  const turns: TurnRecord[] = [];
  const call = (instanceId: string, hours: number[], synthetic: string | null = null) => {
    for (const h of hours) turns.push(turn({ instanceId, startedAt: hoursAgo(h), synthetic }));
  };
  call('morning', [20, 19.5]);
  call('long', [18, 6]);
  call('noon', [12, 11.9, 11.8]);
  call('simulated', [12.5, 12.4], 'simulate');
  call('checked', [3], 'check');
  call('late', [1, 0.5]);
  turns.push(turn({ instanceId: null, startedAt: hoursAgo(12.2) }));
  // Exactly on a bound: in the range it starts, not in the one it ends.
  call('edge', [8]);
  return turns;
}

const RANGES: Array<{ since: string; until?: string }> = [
  { since: '24h' },
  { since: '2024-05-01', until: '2024-05-01T12:00:00Z' },
  { since: '13h', until: '8h' },
  { since: '2024-05-01T16:00:00+08:00', until: '2024-05-01T20:00:00+08:00' },
  { since: '17h', until: '7h' },
  { since: '90m' },
];

async function agreement(databaseUrl: string | undefined): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vlg-range-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `server: { dataDir: ${JSON.stringify(join(dir, 'data'))} }\n`);
  const store = openRecordStore({
    databaseUrl,
    sqlitePath: join(dir, 'data', 'records.db'),
    queueSize: 1000,
    batchSize: 100,
    flushIntervalMs: 10,
  });
  const app = Fastify();
  try {
    for (const record of records()) store.enqueue(record);
    await store.flush();
    registerAdminRoutes(app, { store, auth: new BearerAuth([ADMIN_KEY]), now: () => NOW });
    const admin = async <T>(path: string): Promise<T> => {
      const response = await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      assert.equal(response.statusCode, 200, response.body);
      return response.json() as T;
    };
    for (const range of RANGES) {
      for (const synthetic of ['include', 'exclude', 'only']) {
        const label = `${JSON.stringify(range)} synthetic=${synthetic}`;
        const flags = ['export', '--since', range.since, '--synthetic', synthetic, '--config', config];
        if (range.until !== undefined) flags.push('--until', range.until);
        const output = textSink();
        const error = textSink();
        const env = databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl };
        assert.equal(await runCalls(flags, { output, error, env, cwd: dir, now: () => NOW }), 0, error.text());
        const exported = output
          .text()
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as TurnRecord);

        const query = new URLSearchParams({ from: range.since, synthetic, limit: '500' });
        if (range.until !== undefined) query.set('to', range.until);
        const listed = await admin<{ data: CallSummary[]; total: number }>(`/admin/calls?${query}`);
        query.delete('limit');
        const stats = await admin<{ data: StatsRow[] }>(`/admin/stats?${query}`);

        const exportedCalls = [...new Set(exported.flatMap((r) => (r.instanceId === null ? [] : [r.instanceId])))].sort();
        assert.deepEqual(listed.data.map((c) => c.instanceId).sort(), exportedCalls, label);
        assert.equal(listed.total, exportedCalls.length, label);
        assert.equal(
          stats.data.reduce((sum, row) => sum + row.turns, 0),
          exported.length,
          label,
        );
      }
    }
    // The ranges above are not all empty or all full: the comparison means something. 'long'
    // spans this range with no turn in it; 'edge' starts exactly at its start.
    const some = await admin<{ data: CallSummary[] }>('/admin/calls?from=8h&to=2024-05-01T17:00:00Z');
    assert.deepEqual(
      some.data.map((c) => c.instanceId),
      ['edge'],
    );
    const middle = await admin<{ data: CallSummary[] }>('/admin/calls?from=17h&to=7h');
    assert.deepEqual(
      middle.data.map((c) => c.instanceId),
      ['edge', 'noon', 'simulated'],
    );
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('one range, read alike by the admin API and calls export', () => {
  it('SQLite', async () => {
    await agreement(undefined);
  });

  const databaseUrl = process.env.DATABASE_URL;
  const schemas = databaseUrl ? postgresSchemas(databaseUrl, 'vlg_range') : undefined;
  after(async () => {
    await schemas?.dropAll();
  });
  it('PostgreSQL', { skip: schemas ? false : 'DATABASE_URL is not set' }, async () => {
    await agreement(await schemas!.create());
  });
});
