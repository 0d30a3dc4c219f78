/**
 * The write path shared by the SQLite and PostgreSQL stores: a bounded in-memory queue that
 * `enqueue` only appends to (never blocking, never throwing), drained one batch at a time by a
 * background writer — when a batch is full, or when the oldest waiting record has waited
 * `flushIntervalMs`. A batch that fails is retried a few times with backoff, then its records are
 * counted as failed; a batch refused because of what a record holds is split up until the record
 * at fault is alone, and only that one is dropped (counted as invalid); a full queue drops (and
 * counts) new records. Nothing here ever waits on the database on behalf of a call.
 */

import type {
  CallDetail,
  CallEventRecord,
  CallQuery,
  CallSummary,
  RecordStore,
  StatsQuery,
  StatsRow,
  TurnPage,
  TurnRange,
  TurnRecord,
  RecordSearch,
  SearchPage,
  SeriesQuery,
  SeriesResult,
} from './turn-record.ts';
import { LogThrottle } from './log-throttle.ts';
import { RecordCapper, type RecordLimits, type TruncatedField } from './record-limits.ts';
import { isRecordError } from './record-errors.ts';
import type { ExportCursor } from './sql-records.ts';

/** What the stores log with (a pino logger fits). */
export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RecordStoreOptions {
  /** Records waiting to be written at most (including the batch being written); more are dropped. */
  queueSize: number;
  /** Records written per batch. */
  batchSize: number;
  /** How long a record may wait for its batch to fill. */
  flushIntervalMs: number;
  logger?: StoreLogger;
  /** Times a failed batch is retried (backoff flushIntervalMs × 2ⁿ, at most 10 s) before its records are counted as failed. Default 2. */
  writeRetries?: number;
  /** Caps on a record's fields, applied when it is queued (record-limits.ts). Default DEFAULT_RECORD_LIMITS. */
  limits?: RecordLimits;
}

/** Why a record was lost: the queue was full (or closed), the database failed, or it refused that record. */
export type RecordDropReason = 'queue_full' | 'write_failed' | 'invalid_record';

/** A RecordStore with the queue's counters and a readiness check. */
export interface BatchedRecordStore extends RecordStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Records lost because writing them failed (also counted in `dropped`, with queue overflows). */
  readonly failed: number;
  /** Records the database refused on their own (also counted in `dropped`). */
  readonly rejected: number;
  /** `dropped`, by reason. */
  readonly droppedByReason: Readonly<Record<RecordDropReason, number>>;
  /** Fields cut to their cap since start, by field. */
  readonly truncated: ReadonlyMap<TruncatedField, number>;
  /** Records written. */
  readonly written: number;
  /** Resolves once the database is open and migrated; rejects with the reason it isn't. */
  ready(): Promise<void>;
}

/** What a database must do for createBatchedStore. */
export interface RecordBackend {
  readonly kind: 'sqlite' | 'postgres';
  ready(): Promise<void>;
  write(records: TurnRecord[]): Promise<void>;
  addEvent(event: CallEventRecord): Promise<boolean>;
  listCalls(query: CallQuery): Promise<{ calls: CallSummary[]; total: number }>;
  getCall(instanceId: string, page?: TurnPage): Promise<CallDetail | undefined>;
  stats(query: StatsQuery): Promise<StatsRow[]>;
  exportPage(range: TurnRange, after: ExportCursor | undefined, limit: number): Promise<TurnRecord[]>;
  purgeOlderThan(cutoff: string): Promise<number>;
  searchCalls(query: RecordSearch): Promise<SearchPage<CallSummary>>;
  searchTurns(query: RecordSearch): Promise<SearchPage<TurnRecord>>;
  series(query: SeriesQuery): Promise<SeriesResult>;
  deleteCall(instanceId: string): Promise<number>;
  close(): Promise<void>;
}

const LOG_EVERY_MS = 10_000;
const MAX_BACKOFF_MS = 10_000;
const EXPORT_PAGE = 500;

export interface RecordQueueOptions extends RecordStoreOptions {
  write(batch: TurnRecord[]): Promise<void>;
  /** Named in log lines. */
  name?: string;
}

export class RecordQueue {
  readonly #write: (batch: TurnRecord[]) => Promise<void>;
  readonly #queueSize: number;
  readonly #batchSize: number;
  readonly #flushIntervalMs: number;
  readonly #retries: number;
  readonly #logger: StoreLogger | undefined;
  readonly #name: string;

  #pending: TurnRecord[] = [];
  #inFlight = 0;
  /** Records accepted, and records accepted that were since written or given up (FIFO). */
  #accepted = 0;
  #settled = 0;
  #overflowed = 0;
  #failed = 0;
  #rejected = 0;
  #written = 0;
  #closed = false;
  /** The last batch failed every attempt: until one succeeds, batches get a single attempt. */
  #broken = false;
  /** Write partial batches now (the interval elapsed, or someone is flushing). */
  #due = false;
  #draining = false;
  #scheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #waiters: { target: number; resolve: () => void }[] = [];
  readonly #overflowLog = new LogThrottle(LOG_EVERY_MS);
  readonly #failureLog = new LogThrottle(LOG_EVERY_MS);
  readonly #rejectionLog = new LogThrottle(LOG_EVERY_MS);

  constructor(options: RecordQueueOptions) {
    this.#write = options.write;
    this.#queueSize = Math.max(1, Math.floor(options.queueSize));
    this.#batchSize = Math.max(1, Math.floor(options.batchSize));
    this.#flushIntervalMs = Math.max(1, Math.floor(options.flushIntervalMs));
    this.#retries = Math.max(0, Math.floor(options.writeRetries ?? 2));
    this.#logger = options.logger;
    this.#name = options.name ?? 'records';
  }

  /** Records waiting or being written. */
  get depth(): number {
    return this.#pending.length + this.#inFlight;
  }

  /** Records lost: queue overflows, failed writes and records the database refused. */
  get dropped(): number {
    return this.#overflowed + this.#failed + this.#rejected;
  }

  get droppedByReason(): Readonly<Record<RecordDropReason, number>> {
    return { queue_full: this.#overflowed, write_failed: this.#failed, invalid_record: this.#rejected };
  }

  get overflowed(): number {
    return this.#overflowed;
  }

  get failed(): number {
    return this.#failed;
  }

  get rejected(): number {
    return this.#rejected;
  }

  get written(): number {
    return this.#written;
  }

  /** Appends a record; O(1), never throws, never waits. */
  enqueue(record: TurnRecord): void {
    try {
      if (this.#closed || this.depth >= this.#queueSize) {
        this.#overflow();
        return;
      }
      this.#pending.push(record);
      this.#accepted += 1;
      if (this.#pending.length >= this.#batchSize) this.#schedule();
      else this.#arm();
    } catch {
      // Nothing a record store does may reach the call.
    }
  }

  /** Resolves once every record enqueued before this call is written (or, after retries, counted as failed). */
  flush(): Promise<void> {
    const target = this.#accepted;
    if (this.#settled >= target) return Promise.resolve();
    this.#due = true;
    this.#schedule();
    return new Promise((resolve) => this.#waiters.push({ target, resolve }));
  }

  /**
   * Stops accepting records (later ones count as dropped) and flushes. While the database is
   * failing, what is still waiting is counted as failed at once instead of being tried batch by
   * batch, so shutting down never hangs on a dead database.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #overflow(): void {
    this.#overflowed += 1;
    const dropped = this.#overflowLog.count(1);
    if (dropped !== undefined) {
      this.#logger?.warn(
        { store: this.#name, dropped, totalDropped: this.#overflowed, queueSize: this.#queueSize, closed: this.#closed },
        this.#closed ? 'record store is closed: record dropped' : 'record queue full: records dropped',
      );
    }
  }

  /** Starts the interval timer for the records now waiting, if it isn't running. */
  #arm(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#due = true;
      this.#schedule();
    }, this.#flushIntervalMs);
    this.#timer.unref();
  }

  /** Drains soon, off the caller's stack. */
  #schedule(): void {
    if (this.#draining || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#pending.length > 0 && (this.#due || this.#pending.length >= this.#batchSize)) {
        const batch = this.#pending.splice(0, this.#batchSize);
        this.#inFlight = batch.length;
        await this.#writeWithRetries(batch);
        this.#inFlight = 0;
        this.#settled += batch.length;
        this.#notify();
      }
    } finally {
      this.#draining = false;
      this.#inFlight = 0;
    }
    if (this.#pending.length === 0) this.#due = false;
    else if (this.#due) this.#schedule();
    else this.#arm();
  }

  async #writeWithRetries(batch: TurnRecord[]): Promise<void> {
    if (this.#closed && this.#broken) {
      this.#fail(batch.length, new Error('record store closed while the database was failing'), 0);
      return;
    }
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.#write(batch);
        this.#written += batch.length;
        this.#broken = false;
        return;
      } catch (error) {
        if (isRecordError(error)) {
          await this.#isolate(batch, error);
          return;
        }
        if (attempt >= this.#retries || this.#broken || this.#closed) {
          this.#broken = true;
          this.#fail(batch.length, error, attempt + 1);
          return;
        }
        await this.#sleep(Math.min(this.#flushIntervalMs * 2 ** attempt, MAX_BACKOFF_MS));
      }
    }
  }

  /**
   * The database refused `batch` because of what a record holds: each half is written on its own
   * (and split again if it fails the same way), so only the record at fault is lost. A batch of n
   * records with one bad record costs about 2·log2(n) more statements.
   */
  async #isolate(batch: TurnRecord[], error: unknown): Promise<void> {
    if (batch.length === 1) {
      this.#reject(batch[0]!, error);
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await this.#writeWithRetries(batch.slice(0, half));
    await this.#writeWithRetries(batch.slice(half));
  }

  #reject(record: TurnRecord, error: unknown): void {
    this.#rejected += 1;
    const dropped = this.#rejectionLog.count(1);
    if (dropped !== undefined) {
      // The turn id finds the call in the logs; the record's content (caller words, numbers) stays out.
      this.#logger?.error(
        { store: this.#name, dropped, totalRejected: this.#rejected, turnId: String(record.id).slice(0, 100), err: errorSummary(error) },
        'the database refused a turn record: record dropped',
      );
    }
  }

  #fail(count: number, error: unknown, attempts: number): void {
    this.#failed += count;
    const dropped = this.#failureLog.count(count);
    if (dropped !== undefined) {
      this.#logger?.error(
        { store: this.#name, dropped, totalFailed: this.#failed, attempts, err: errorSummary(error) },
        'writing records failed: records dropped',
      );
    }
  }

  /** Backoff; keeps the process alive only while someone waits on flush(). */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      if (this.#waiters.length === 0) timer.unref();
    });
  }

  #notify(): void {
    if (this.#waiters.length === 0) return;
    const waiting: { target: number; resolve: () => void }[] = [];
    for (const waiter of this.#waiters) {
      if (this.#settled >= waiter.target) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#waiters = waiting;
  }
}

/** A RecordStore from a backend: writes go through a RecordQueue, everything else straight to the backend. */
export function createBatchedStore(backend: RecordBackend, options: RecordStoreOptions): BatchedRecordStore {
  const queue = new RecordQueue({ ...options, name: backend.kind, write: (batch) => backend.write(batch) });
  const capper = new RecordCapper(options.limits);
  let closing: Promise<void> | undefined;
  return {
    kind: backend.kind,
    enqueue(record) {
      let capped = record;
      try {
        capped = capper.capTurn(record);
      } catch {
        // A record too malformed to cap is queued as it is: the database refuses it alone.
      }
      queue.enqueue(capped);
    },
    addEvent: (event) => backend.addEvent(capper.capEvent(event)),
    listCalls: (query) => backend.listCalls(query),
    getCall: (instanceId, page) => backend.getCall(instanceId, page),
    stats: (query) => backend.stats(query),
    async exportTurns(range, batch) {
      let after: ExportCursor | undefined;
      for (;;) {
        const page = await backend.exportPage(range, after, EXPORT_PAGE);
        if (page.length === 0) return;
        await batch(page);
        if (page.length < EXPORT_PAGE) return;
        const last = page[page.length - 1]!;
        after = { startedAt: last.startedAt, id: last.id };
      }
    },
    purgeOlderThan: (cutoff) => backend.purgeOlderThan(cutoff),
    searchCalls: (query) => backend.searchCalls(query),
    searchTurns: (query) => backend.searchTurns(query),
    series: (query) => backend.series(query),
    deleteCall: (instanceId) => backend.deleteCall(instanceId),
    flush: () => queue.flush(),
    ready: () => backend.ready(),
    get queueDepth() {
      return queue.depth;
    },
    get dropped() {
      return queue.dropped;
    },
    get failed() {
      return queue.failed;
    },
    get rejected() {
      return queue.rejected;
    },
    get droppedByReason() {
      return queue.droppedByReason;
    },
    get truncated() {
      return capper.truncated;
    },
    get written() {
      return queue.written;
    },
    close() {
      closing ??= (async () => {
        await queue.close();
        await backend.close();
      })();
      return closing;
    },
  };
}

export function errorSummary(error: unknown): { message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? { message: error.message, code } : { message: error.message };
  }
  return { message: String(error) };
}
