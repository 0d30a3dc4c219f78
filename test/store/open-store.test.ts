import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRecordStore } from '../../src/store/open-store.ts';
import { DEFAULTS } from './record-store-suite.ts';

const root = mkdtempSync(join(tmpdir(), 'records-open-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('openRecordStore', () => {
  it('opens SQLite without a database URL (or with an empty one)', async () => {
    for (const databaseUrl of [undefined, '']) {
      const store = openRecordStore({ ...DEFAULTS, databaseUrl, sqlitePath: join(root, 'records.db') });
      assert.equal(store.kind, 'sqlite');
      await store.ready();
      await store.close();
    }
  });

  it('opens PostgreSQL when a database URL is set (connecting lazily)', async () => {
    const store = openRecordStore({ ...DEFAULTS, databaseUrl: 'postgres://nobody@127.0.0.1:1/none', sqlitePath: join(root, 'unused.db') });
    assert.equal(store.kind, 'postgres');
    await store.close();
  });
});
