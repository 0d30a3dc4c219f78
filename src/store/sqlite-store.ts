/**
 * The SQLite record store. The database lives in a worker thread (sqlite-worker.ts) because
 * node:sqlite is synchronous; this side keeps the bounded write queue (record-queue.ts) and turns
 * every operation into a request/response message. A worker that fails to start, dies or stalls
 * only fails those requests (a dead worker is started again on the next one); it never reaches
 * `enqueue`.
 */

import { resolve as resolvePath } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SqliteWorkerCommand, SqliteWorkerData, SqliteWorkerRequest, SqliteWorkerResponse } from './sqlite-worker.ts';
import {
  createBatchedStore,
  errorSummary,
  type BatchedRecordStore,
  type RecordBackend,
  type RecordStoreOptions,
  type StoreLogger,
} from './record-queue.ts';
import type { ExportCursor } from './sql-records.ts';
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

export interface SqliteStoreOptions extends RecordStoreOptions {
  /** A request the worker hasn't answered by then fails (the worker keeps running). Default 30 s. */
  requestTimeoutMs?: number;
  /** How long SQLite waits for a lock held by another connection. Default 5 s. */
  busyTimeoutMs?: number;
}

// Runs from source (.ts) and, if ever compiled, as .js.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './sqlite-worker.ts' : './sqlite-worker.js', import.meta.url);
const RESPAWN_AFTER_MS = 1000;
const PURGE_TIMEOUT_MS = 10 * 60_000;
const CLOSE_TIMEOUT_MS = 5000;

/** A record store on a SQLite file (created with its folder if missing), written from a worker thread. */
export function openSqliteStore(file: string, options: SqliteStoreOptions): BatchedRecordStore {
  return createBatchedStore(new SqliteWorkerBackend(resolvePath(file), options), options);
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

class SqliteWorkerBackend implements RecordBackend {
  readonly kind = 'sqlite' as const;
  readonly #data: SqliteWorkerData;
  readonly #timeoutMs: number;
  readonly #logger: StoreLogger | undefined;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  #nextId = 0;
  #closed = false;
  #exitedAt = 0;
  #exitError: Error | undefined;

  constructor(file: string, options: SqliteStoreOptions) {
    this.#data = options.busyTimeoutMs === undefined ? { file } : { file, busyTimeoutMs: options.busyTimeoutMs };
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#logger = options.logger;
  }

  ready(): Promise<void> {
    return this.#request<void>({ op: 'ready' });
  }

  async write(records: TurnRecord[]): Promise<void> {
    await this.#request<number>({ op: 'write', records });
  }

  addEvent(event: CallEventRecord): Promise<boolean> {
    return this.#request({ op: 'addEvent', event });
  }

  listCalls(query: CallQuery): Promise<{ calls: CallSummary[]; total: number }> {
    return this.#request({ op: 'listCalls', query });
  }

  getCall(instanceId: string, page?: TurnPage): Promise<CallDetail | undefined> {
    return this.#request({ op: 'getCall', instanceId, page });
  }

  stats(query: StatsQuery): Promise<StatsRow[]> {
    return this.#request({ op: 'stats', query });
  }

  exportPage(range: TurnRange, after: ExportCursor | undefined, limit: number): Promise<TurnRecord[]> {
    return this.#request({ op: 'exportPage', range, after, limit });
  }

  searchCalls(query: RecordSearch): Promise<SearchPage<CallSummary>> {
    return this.#request({ op: 'searchCalls', query });
  }

  searchTurns(query: RecordSearch): Promise<SearchPage<TurnRecord>> {
    return this.#request({ op: 'searchTurns', query });
  }

  series(query: SeriesQuery): Promise<SeriesResult> {
    return this.#request({ op: 'series', query });
  }

  deleteCall(instanceId: string): Promise<number> {
    return this.#request({ op: 'deleteCall', instanceId });
  }

  purgeOlderThan(cutoff: string): Promise<number> {
    return this.#request({ op: 'purge', cutoff }, Math.max(this.#timeoutMs, PURGE_TIMEOUT_MS));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const worker = this.#worker;
    if (!worker) return;
    try {
      await this.#send(worker, { op: 'close' }, CLOSE_TIMEOUT_MS);
    } catch {
      // Terminated below either way.
    }
    await worker.terminate();
  }

  #request<T>(command: SqliteWorkerCommand, timeoutMs = this.#timeoutMs): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('record store is closed'));
    let worker: Worker;
    try {
      worker = this.#ensureWorker();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.#send(worker, command, timeoutMs) as Promise<T>;
  }

  #send(worker: Worker, command: SqliteWorkerCommand, timeoutMs: number): Promise<unknown> {
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.#updateRef();
        reject(new Error(`records worker did not answer ${command.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.#pending.set(id, { resolve, reject, timer });
      this.#updateRef();
      try {
        worker.postMessage({ id, command } satisfies SqliteWorkerRequest);
      } catch (error) {
        // A record that cannot be cloned to the worker keeps its error name (DataCloneError), so the
        // queue drops that record alone (see record-errors.ts).
        const name = error instanceof Error ? error.name : 'Error';
        this.#settle({ id, ok: false, error: { name, ...errorSummary(error) } });
      }
    });
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    if (this.#exitError && Date.now() - this.#exitedAt < RESPAWN_AFTER_MS) throw this.#exitError;
    const worker = new Worker(WORKER_URL, { workerData: this.#data, name: 'records-sqlite' });
    worker.on('message', (response: SqliteWorkerResponse) => this.#settle(response));
    worker.on('error', (error: unknown) => {
      this.#exitError = error instanceof Error ? error : new Error(String(error));
      this.#logger?.error({ store: 'sqlite', err: errorSummary(error) }, 'records worker failed');
    });
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#exitedAt = Date.now();
      const error = this.#exitError ?? new Error(`records worker exited (code ${code})`);
      this.#exitError = error;
      for (const [id, pending] of this.#pending) {
        clearTimeout(pending.timer);
        this.#pending.delete(id);
        pending.reject(error);
      }
    });
    this.#worker = worker;
    this.#exitError = undefined;
    this.#updateRef();
    return worker;
  }

  #settle(response: SqliteWorkerResponse): void {
    const pending = this.#pending.get(response.id);
    if (!pending) return; // timed out already
    this.#pending.delete(response.id);
    clearTimeout(pending.timer);
    this.#updateRef();
    if (response.ok) pending.resolve(response.result);
    else pending.reject(Object.assign(new Error(response.error.message), response.error));
  }

  /** The worker keeps the process alive only while a request waits on it. */
  #updateRef(): void {
    if (!this.#worker) return;
    if (this.#pending.size > 0) this.#worker.ref();
    else this.#worker.unref();
  }
}
