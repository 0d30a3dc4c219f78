/**
 * The records schema, shared by SQLite and PostgreSQL. One logical schema, written once; the
 * dialect differences are the few column types in `COLUMN_TYPES` (and, in sql-records.ts, the
 * locking and percentile statements), nothing else.
 *
 * Migrations are versioned and applied in order when a store opens, each in the same transaction
 * as its row in `schema_migrations`, so opening is idempotent and safe to repeat or race (SQLite:
 * BEGIN IMMEDIATE; PostgreSQL: an advisory lock held for the transaction).
 */

export type Dialect = 'sqlite' | 'postgres';

/**
 * - time: PostgreSQL keeps real timestamps; SQLite keeps canonical ISO-8601 UTC text
 *   (`Date.prototype.toISOString()`), which sorts and compares correctly as text.
 * - json: PostgreSQL `json` (not jsonb) keeps the exact text, key order and `\u0000` escapes, so a
 *   record reads back exactly as written; SQLite keeps the JSON text.
 * Booleans are INTEGER 0/1 in both (SQLite has no boolean type).
 */
export const COLUMN_TYPES: Record<Dialect, { time: string; json: string }> = {
  sqlite: { time: 'TEXT', json: 'TEXT' },
  postgres: { time: 'TIMESTAMPTZ', json: 'JSON' },
};

export interface Migration {
  version: number;
  name: string;
  statements(types: { time: string; json: string }): string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'turns, calls, call_events',
    statements: ({ time, json }) => [
      `CREATE TABLE IF NOT EXISTS turns (
        id TEXT PRIMARY KEY,
        instance_id TEXT,
        channel_id TEXT,
        sentence_id BIGINT,
        caller_number TEXT,
        callee_number TEXT,
        user_data TEXT,
        agent TEXT NOT NULL,
        provider TEXT,
        started_at ${time} NOT NULL,
        ended_at ${time} NOT NULL,
        attempts ${json} NOT NULL,
        caller_text TEXT NOT NULL,
        answer_text TEXT NOT NULL,
        tool_runs ${json} NOT NULL,
        signal TEXT,
        finish_reason TEXT,
        outcome TEXT NOT NULL,
        http_status INTEGER NOT NULL,
        ttft_ms DOUBLE PRECISION,
        first_sentence_ms DOUBLE PRECISION,
        total_ms DOUBLE PRECISION NOT NULL,
        prompt_tokens BIGINT,
        completion_tokens BIGINT,
        cancellation TEXT,
        error_code TEXT,
        error_message TEXT
      )`,
      `CREATE INDEX IF NOT EXISTS turns_instance_id ON turns (instance_id, started_at)`,
      `CREATE INDEX IF NOT EXISTS turns_started_at ON turns (started_at)`,
      `CREATE INDEX IF NOT EXISTS turns_agent ON turns (agent, started_at)`,
      // One row per call (instanceId), derived from its turns and events (see refreshCalls).
      `CREATE TABLE IF NOT EXISTS calls (
        instance_id TEXT PRIMARY KEY,
        agent TEXT NOT NULL,
        caller_number TEXT,
        started_at ${time} NOT NULL,
        last_turn_at ${time} NOT NULL,
        turns INTEGER NOT NULL,
        last_outcome TEXT NOT NULL,
        outcome TEXT NOT NULL,
        ended_at ${time},
        hangup INTEGER NOT NULL DEFAULT 0,
        transferred INTEGER NOT NULL DEFAULT 0
      )`,
      `CREATE INDEX IF NOT EXISTS calls_started_at ON calls (started_at)`,
      `CREATE INDEX IF NOT EXISTS calls_last_turn_at ON calls (last_turn_at)`,
      `CREATE INDEX IF NOT EXISTS calls_agent ON calls (agent, started_at)`,
      `CREATE TABLE IF NOT EXISTS call_events (
        instance_id TEXT NOT NULL,
        event_key TEXT NOT NULL,
        event TEXT NOT NULL,
        received_at ${time} NOT NULL,
        payload ${json},
        PRIMARY KEY (instance_id, event_key)
      )`,
      `CREATE INDEX IF NOT EXISTS call_events_received_at ON call_events (received_at)`,
    ],
  },
  {
    version: 2,
    name: 'turns.synthetic',
    // 'check' or 'simulate' for the gateway's own test traffic, so it can be told from real calls.
    statements: () => [`ALTER TABLE turns ADD COLUMN synthetic TEXT`],
  },
  {
    version: 3,
    name: 'number lookup hashes; calls.callee_number, calls.synthetic',
    // Keyed hashes of the full numbers, so a call is found by a number stored masked; the calls'
    // callee and synthetic kind are derived like the rest of the summary (from turns written before).
    statements: () => [
      `ALTER TABLE turns ADD COLUMN caller_hash TEXT`,
      `ALTER TABLE turns ADD COLUMN callee_hash TEXT`,
      `CREATE INDEX IF NOT EXISTS turns_caller_hash ON turns (caller_hash) WHERE caller_hash IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS turns_callee_hash ON turns (callee_hash) WHERE callee_hash IS NOT NULL`,
      `ALTER TABLE calls ADD COLUMN callee_number TEXT`,
      `ALTER TABLE calls ADD COLUMN synthetic TEXT`,
      `UPDATE calls SET
         callee_number = (SELECT t.callee_number FROM turns t
                           WHERE t.instance_id = calls.instance_id AND t.callee_number IS NOT NULL
                           ORDER BY t.started_at, t.id LIMIT 1),
         synthetic = (SELECT MAX(t.synthetic) FROM turns t WHERE t.instance_id = calls.instance_id)`,
    ],
  },
  {
    version: 4,
    name: 'turns.platform',
    // The voice platform that asked (ims, vapi, elevenlabs, ...); null for turns recorded before.
    statements: () => [`ALTER TABLE turns ADD COLUMN platform TEXT`],
  },
  {
    version: 5,
    name: 'turns.timings',
    // The turn's waterfall points (TurnTimings) for the console; attempts and tool runs carry their
    // own start offsets inside their JSON.
    statements: ({ json }) => [`ALTER TABLE turns ADD COLUMN timings ${json}`],
  },
];

export const SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
