/**
 * node:sqlite behind the shared SqlExecutor interface. Synchronous underneath: only ever used
 * inside the records worker thread (sqlite-worker.ts), never on the main thread.
 */

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { createPrivateFile } from './private-files.ts';
import type { SqlExecutor, SqlRow, SqlValue } from './sql-records.ts';

const STATEMENT_CACHE = 200;

/** Opens (creating it and its folder if needed) a database in WAL mode. */
export function openSqliteDatabase(file: string, options: { busyTimeoutMs?: number } = {}): DatabaseSync {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    createPrivateFile(file); // else SQLite creates it readable by everyone (umask 022)
  }
  const db = new DatabaseSync(file);
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    db.exec('PRAGMA journal_mode = WAL');
    // Safe with WAL (no corruption); a power cut may lose the last transactions, not the file.
    db.exec('PRAGMA synchronous = NORMAL');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

export class SqliteExecutor implements SqlExecutor {
  readonly dialect = 'sqlite' as const;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, Prepared>();
  #inTransaction = false;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async all(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    const { statement, order } = this.#prepare(sql);
    return statement.all(...bind(order, params)) as SqlRow[];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const { statement, order } = this.#prepare(sql);
    return Number(statement.run(...bind(order, params)).changes);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, mode: 'write' | 'read' = 'write'): Promise<T> {
    if (this.#inTransaction) return fn(this);
    // IMMEDIATE takes the write lock up front, so a writer never fails half-way on a busy database.
    this.#db.exec(mode === 'write' ? 'BEGIN IMMEDIATE' : 'BEGIN');
    this.#inTransaction = true;
    try {
      const result = await fn(this);
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // Already rolled back by SQLite.
      }
      throw error;
    } finally {
      this.#inTransaction = false;
    }
  }

  /**
   * Cached prepared statements. `$n` placeholders become plain `?`, bound in the order they occur:
   * Node.js 22 cannot bind SQLite's numbered `?n` positionally ("column index out of range").
   */
  #prepare(sql: string): Prepared {
    let prepared = this.#statements.get(sql);
    if (!prepared) {
      if (this.#statements.size >= STATEMENT_CACHE) this.#statements.clear();
      const order: number[] = [];
      const statement = this.#db.prepare(
        sql.replace(/\$(\d+)/g, (_, n: string) => {
          order.push(Number(n) - 1);
          return '?';
        }),
      );
      prepared = { statement, order };
      this.#statements.set(sql, prepared);
    }
    return prepared;
  }
}

interface Prepared {
  statement: StatementSync;
  /** For each `?` in the statement, the index of its value in the caller's params. */
  order: number[];
}

function bind(order: readonly number[], params: readonly SqlValue[]): SqlValue[] {
  return order.map((n) => {
    const value = params[n];
    if (value === undefined) throw new RangeError(`no value for the SQL placeholder $${n + 1}`);
    return value;
  });
}
