/**
 * The records database thread. node:sqlite is synchronous, so the SQLite store runs it here, off
 * the main thread: the main thread posts commands (batches of turns to write, queries) and gets
 * one response per command, handled strictly in order.
 */

import { parentPort, workerData } from 'node:worker_threads';
import type { DatabaseSync } from 'node:sqlite';
import { openSqliteDatabase, SqliteExecutor } from './sqlite-executor.ts';
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
} from './sql-records.ts';
import { deleteCall, searchCalls, searchTurns, series } from './search-records.ts';
import type { CallEventRecord, CallQuery, RecordSearch, SeriesQuery, StatsQuery, TurnPage, TurnRange, TurnRecord } from './turn-record.ts';

export interface SqliteWorkerData {
  file: string;
  busyTimeoutMs?: number;
}

export type SqliteWorkerCommand =
  | { op: 'ready' }
  | { op: 'write'; records: TurnRecord[] }
  | { op: 'addEvent'; event: CallEventRecord }
  | { op: 'listCalls'; query: CallQuery }
  | { op: 'getCall'; instanceId: string; page: TurnPage | undefined }
  | { op: 'stats'; query: StatsQuery }
  | { op: 'exportPage'; range: TurnRange; after: ExportCursor | undefined; limit: number }
  | { op: 'purge'; cutoff: string }
  | { op: 'searchCalls'; query: RecordSearch }
  | { op: 'searchTurns'; query: RecordSearch }
  | { op: 'series'; query: SeriesQuery }
  | { op: 'deleteCall'; instanceId: string }
  | { op: 'close' };

export interface SqliteWorkerRequest {
  id: number;
  command: SqliteWorkerCommand;
}

/** A failure as it crosses the thread: `errcode` is node:sqlite's result code (see record-errors.ts). */
export interface SqliteWorkerError {
  name: string;
  message: string;
  code?: string;
  errcode?: number;
}

export type SqliteWorkerResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: SqliteWorkerError };

const port = parentPort;
if (!port) throw new Error('sqlite-worker.ts runs only as a worker thread (see sqlite-store.ts)');
const { file, busyTimeoutMs } = workerData as SqliteWorkerData;

let db: DatabaseSync | undefined;
let executor: SqliteExecutor | undefined;
let closed = false;

/** The open, migrated database; opening is retried on the next command after a failure. */
async function database(): Promise<SqliteExecutor> {
  if (closed) throw new Error('records database is closed');
  if (executor) return executor;
  const opened = openSqliteDatabase(file, busyTimeoutMs === undefined ? {} : { busyTimeoutMs });
  try {
    const candidate = new SqliteExecutor(opened);
    await migrate(candidate);
    db = opened;
    executor = candidate;
    return candidate;
  } catch (error) {
    opened.close();
    throw error;
  }
}

async function handle(command: SqliteWorkerCommand): Promise<unknown> {
  switch (command.op) {
    case 'ready':
      await database();
      return undefined;
    case 'write':
      return insertTurns(await database(), command.records);
    case 'addEvent':
      return insertEvent(await database(), command.event);
    case 'listCalls':
      return listCalls(await database(), command.query);
    case 'getCall':
      return getCall(await database(), command.instanceId, command.page);
    case 'stats':
      return stats(await database(), command.query);
    case 'exportPage':
      return exportPage(await database(), command.range, command.after, command.limit);
    case 'purge': {
      const removed = await purgeOlderThan(await database(), command.cutoff);
      // Give the space of a large purge back to the WAL file's next cycle.
      if (removed > 0) db?.exec('PRAGMA wal_checkpoint(PASSIVE)');
      return removed;
    }
    case 'searchCalls':
      return searchCalls(await database(), command.query);
    case 'searchTurns':
      return searchTurns(await database(), command.query);
    case 'series':
      return series(await database(), command.query);
    case 'deleteCall':
      return deleteCall(await database(), command.instanceId);
    case 'close':
      closed = true;
      db?.close();
      db = undefined;
      executor = undefined;
      return undefined;
  }
}

let chain: Promise<void> = Promise.resolve();
port.on('message', ({ id, command }: SqliteWorkerRequest) => {
  chain = chain.then(async () => {
    let response: SqliteWorkerResponse;
    try {
      response = { id, ok: true, result: await handle(command) };
    } catch (error) {
      response = { id, ok: false, error: serializeError(error) };
    }
    try {
      port.postMessage(response);
    } catch (error) {
      port.postMessage({ id, ok: false, error: serializeError(error) } satisfies SqliteWorkerResponse);
    }
  });
});

function serializeError(error: unknown): SqliteWorkerError {
  if (error instanceof Error) {
    const { code, errcode } = error as { code?: unknown; errcode?: unknown };
    const serialized: SqliteWorkerError = { name: error.name, message: error.message };
    if (typeof code === 'string') serialized.code = code;
    if (typeof errcode === 'number') serialized.errcode = errcode;
    return serialized;
  }
  return { name: 'Error', message: String(error) };
}
