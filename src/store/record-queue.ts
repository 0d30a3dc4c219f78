/**
 * The write path shared by the SQLite and PostgreSQL stores: a bounded in-memory queue that
 * `enqueue` only appends to (never blocking, never throwing), drained one batch at a time by a
 * background writer — when a batch is full, or when the oldest waiting record has waited
 * `flushIntervalMs`. A batch that fails is retried a few times with backoff, then its records are
 * counted as failed; a full queue drops (and counts) new records. Nothing here ever waits on the
 * database on behalf of a call.
 */

import type {
  CallDetail,
  CallEventRecord,
  CallQuery,
  CallSummary,
  RecordStore,
  StatsQuery,
  StatsRow,
  TurnRecord,
} from './turn-record.ts';
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
}

/** A RecordStore with the queue's counters and a readiness check. */
export interface BatchedRecordStore extends RecordStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Records lost because writing them failed (also counted in `dropped`, with queue overflows). */
  readonly failed: number;
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
  getCall(instanceId: string): Promise<CallDetail | undefined>;
  stats(query: StatsQuery): Promise<StatsRow[]>;
  exportPage(since: string | undefined, after: ExportCursor | undefined, limit: number): Promise<TurnRecord[]>;
  purgeOlderThan(cutoff: string): Promise<number>;
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
  #overflowLog = { at: 0, since: 0 };
  #failureLog = { at: 0, since: 0 };

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

  /** Records lost: queue overflows plus failed writes. */
  get dropped(): number {
    return this.#overflowed + this.#failed;
  }

  get overflowed(): number {
    return this.#overflowed;
  }

  get failed(): number {
    return this.#failed;
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
    this.#overflowLog.since += 1;
    const now = Date.now();
    if (this.#logger && now - this.#overflowLog.at >= LOG_EVERY_MS) {
      this.#logger.warn(
        { store: this.#name, dropped: this.#overflowLog.since, totalDropped: this.#overflowed, queueSize: this.#queueSize, closed: this.#closed },
        this.#closed ? 'record store is closed: record dropped' : 'record queue full: records dropped',
      );
      this.#overflowLog = { at: now, since: 0 };
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
        if (attempt >= this.#retries || this.#broken || this.#closed) {
          this.#broken = true;
          this.#fail(batch.length, error, attempt + 1);
          return;
        }
        await this.#sleep(Math.min(this.#flushIntervalMs * 2 ** attempt, MAX_BACKOFF_MS));
      }
    }
  }

  #fail(count: number, error: unknown, attempts: number): void {
    this.#failed += count;
    this.#failureLog.since += count;
    const now = Date.now();
    if (this.#logger && now - this.#failureLog.at >= LOG_EVERY_MS) {
      this.#logger.error(
        { store: this.#name, dropped: this.#failureLog.since, totalFailed: this.#failed, attempts, err: errorSummary(error) },
        'writing records failed: records dropped',
      );
      this.#failureLog = { at: now, since: 0 };
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
  let closing: Promise<void> | undefined;
  return {
    kind: backend.kind,
    enqueue: (record) => queue.enqueue(record),
    addEvent: (event) => backend.addEvent(event),
    listCalls: (query) => backend.listCalls(query),
    getCall: (instanceId) => backend.getCall(instanceId),
    stats: (query) => backend.stats(query),
    async exportTurns(since, batch) {
      let after: ExportCursor | undefined;
      for (;;) {
        const page = await backend.exportPage(since, after, EXPORT_PAGE);
        if (page.length === 0) return;
        await batch(page);
        if (page.length < EXPORT_PAGE) return;
        const last = page[page.length - 1]!;
        after = { startedAt: last.startedAt, id: last.id };
      }
    },
    purgeOlderThan: (cutoff) => backend.purgeOlderThan(cutoff),
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
