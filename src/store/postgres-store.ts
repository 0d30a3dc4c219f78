/**
 * The PostgreSQL record store: the shared write queue (record-queue.ts) over a `pg` Pool. Each
 * batch is one transaction of multi-row inserts plus the summary rows of its calls. The schema is
 * migrated before the first operation; when the database is unreachable, that operation fails and
 * the next one tries again, so a gateway started before its database catches up by itself.
 */

import pg from 'pg';
import {
  createBatchedStore,
  errorSummary,
  type BatchedRecordStore,
  type RecordBackend,
  type RecordStoreOptions,
  type StoreLogger,
} from './record-queue.ts';
import {
  exportPage,
  getCall,
  insertEvent,
  insertTurns,
  listCalls,
  migrate,
  purgeOlderThan,
  stats,
  type ExportCursor,
  type SqlExecutor,
  type SqlRow,
  type SqlValue,
} from './sql-records.ts';
import { deleteCall, searchCalls, searchTurns, series } from './search-records.ts';
import type {
  CallDetail,
  CallEventRecord,
  CallQuery,
  CallSummary,
  RecordSearch,
  SearchPage,
  SeriesQuery,
  SeriesResult,
  StatsQuery,
  StatsRow,
  TurnPage,
  TurnRange,
  TurnRecord,
} from './turn-record.ts';

export interface PostgresStoreOptions extends RecordStoreOptions {
  /** Connections at most. Default 4. */
  maxConnections?: number;
  /** How long to wait for a connection. Default 5 s. */
  connectionTimeoutMs?: number;
  /** Server-side limit per statement. Default 60 s. */
  statementTimeoutMs?: number;
}

/** A record store on PostgreSQL (`databaseUrl` as libpq understands it, e.g. postgres://user@host/db). */
export function openPostgresStore(databaseUrl: string, options: PostgresStoreOptions): BatchedRecordStore {
  return createBatchedStore(new PostgresBackend(databaseUrl, options), options);
}

class PostgresExecutor implements SqlExecutor {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  /** Set inside a transaction: every statement goes to this connection. */
  readonly #client: pg.PoolClient | undefined;

  constructor(pool: pg.Pool, client?: pg.PoolClient) {
    this.#pool = pool;
    this.#client = client;
  }

  async all(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return (await (this.#client ?? this.#pool).query(sql, params as SqlValue[])).rows as SqlRow[];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await (this.#client ?? this.#pool).query(sql, params as SqlValue[])).rowCount ?? 0;
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, mode: 'write' | 'read' = 'write'): Promise<T> {
    if (this.#client) return fn(this);
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(mode === 'read' ? 'BEGIN READ ONLY' : 'BEGIN');
      const result = await fn(new PostgresExecutor(this.#pool, client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is unusable: don't give it back to the pool.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

class PostgresBackend implements RecordBackend {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #exec: PostgresExecutor;
  readonly #logger: StoreLogger | undefined;
  #schema: Promise<void> | undefined;
  #closed = false;

  constructor(databaseUrl: string, options: PostgresStoreOptions) {
    this.#logger = options.logger;
    this.#pool = new pg.Pool({
      connectionString: databaseUrl,
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
      idleTimeoutMillis: 10_000,
      statement_timeout: options.statementTimeoutMs ?? 60_000,
      application_name: 'voice-llm-gateway',
      // Idle connections never keep the process alive.
      allowExitOnIdle: true,
    });
    // An idle connection dropped by the server must not become an uncaught 'error'.
    this.#pool.on('error', (error) => {
      this.#logger?.warn({ store: 'postgres', err: errorSummary(error) }, 'records database connection lost');
    });
    this.#exec = new PostgresExecutor(this.#pool);
  }

  ready(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('record store is closed'));
    if (!this.#schema) {
      const attempt = migrate(this.#exec).then(() => undefined);
      this.#schema = attempt;
      attempt.catch(() => {
        if (this.#schema === attempt) this.#schema = undefined;
      });
    }
    return this.#schema;
  }

  async write(records: TurnRecord[]): Promise<void> {
    await this.ready();
    await insertTurns(this.#exec, records);
  }

  async addEvent(event: CallEventRecord): Promise<boolean> {
    await this.ready();
    return insertEvent(this.#exec, event);
  }

  async listCalls(query: CallQuery): Promise<{ calls: CallSummary[]; total: number }> {
    await this.ready();
    return listCalls(this.#exec, query);
  }

  async getCall(instanceId: string, page?: TurnPage): Promise<CallDetail | undefined> {
    await this.ready();
    return getCall(this.#exec, instanceId, page);
  }

  async stats(query: StatsQuery): Promise<StatsRow[]> {
    await this.ready();
    return stats(this.#exec, query);
  }

  async exportPage(range: TurnRange, after: ExportCursor | undefined, limit: number): Promise<TurnRecord[]> {
    await this.ready();
    return exportPage(this.#exec, range, after, limit);
  }

  async searchCalls(query: RecordSearch): Promise<SearchPage<CallSummary>> {
    await this.ready();
    return searchCalls(this.#exec, query);
  }

  async searchTurns(query: RecordSearch): Promise<SearchPage<TurnRecord>> {
    await this.ready();
    return searchTurns(this.#exec, query);
  }

  async series(query: SeriesQuery): Promise<SeriesResult> {
    await this.ready();
    return series(this.#exec, query);
  }

  async deleteCall(instanceId: string): Promise<number> {
    await this.ready();
    return deleteCall(this.#exec, instanceId);
  }

  async purgeOlderThan(cutoff: string): Promise<number> {
    await this.ready();
    return purgeOlderThan(this.#exec, cutoff);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
