/**
 * Opens the configured record store: PostgreSQL when a database URL is set (DATABASE_URL), else
 * the SQLite file.
 */

import { openPostgresStore, type PostgresStoreOptions } from './postgres-store.ts';
import type { BatchedRecordStore } from './record-queue.ts';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';

export interface OpenRecordStoreOptions extends SqliteStoreOptions, PostgresStoreOptions {
  /** PostgreSQL connection URL; unset or empty: SQLite. */
  databaseUrl?: string | undefined;
  /** The SQLite file (its folder is created if missing). */
  sqlitePath: string;
}

export function openRecordStore(options: OpenRecordStoreOptions): BatchedRecordStore {
  const { databaseUrl, sqlitePath, ...rest } = options;
  return databaseUrl ? openPostgresStore(databaseUrl, rest) : openSqliteStore(sqlitePath, rest);
}
