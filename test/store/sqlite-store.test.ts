import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import { DEFAULTS, recordStoreSuite, turn } from './record-store-suite.ts';

const root = mkdtempSync(join(tmpdir(), 'records-sqlite-'));
let count = 0;
after(() => rmSync(root, { recursive: true, force: true }));

function readDatabase<T>(file: string, read: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

describe('SQLite record store', () => {
  recordStoreSuite({
    async database() {
      // A folder that doesn't exist yet: the store creates it.
      const file = join(root, `db-${++count}`, 'records.db');
      return {
        open: (options = {}) => openSqliteStore(file, { ...DEFAULTS, ...options }),
        migrationVersions: async () =>
          readDatabase(file, (db) =>
            db
              .prepare('SELECT version FROM schema_migrations ORDER BY version')
              .all()
              .map((row) => Number(row['version'])),
          ),
        exec: async (sql) => {
          const db = new DatabaseSync(file);
          try {
            db.exec(sql);
          } finally {
            db.close();
          }
        },
      };
    },
    openBroken(options) {
      // Under a regular file: no one, not even root, can create it.
      const blocker = join(root, `blocker-${++count}`);
      writeFileSync(blocker, '');
      return openSqliteStore(join(blocker, 'records.db'), options);
    },
  });

  it('keeps the database in WAL mode', async () => {
    const file = join(root, `wal-${++count}`, 'records.db');
    const store = openSqliteStore(file, DEFAULTS);
    store.enqueue(turn());
    await store.close();
    assert.equal(
      readDatabase(file, (db) => db.prepare('PRAGMA journal_mode').get()?.['journal_mode']),
      'wal',
    );
  });

  it("two stores on one file both write: each waits for the other's lock", async () => {
    const file = join(root, `db-${++count}`, 'records.db');
    const first = openSqliteStore(file, DEFAULTS);
    const second = openSqliteStore(file, DEFAULTS);
    for (let i = 0; i < 20; i++) {
      first.enqueue(turn({ instanceId: 'shared' }));
      second.enqueue(turn({ instanceId: 'shared' }));
    }
    await Promise.all([first.flush(), second.flush()]);
    assert.deepEqual([first.written, second.written, first.failed + second.failed], [20, 20, 0]);
    assert.equal((await first.getCall('shared'))?.turns, 40);
    await Promise.all([first.close(), second.close()]);
  });
});
