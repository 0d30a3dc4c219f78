/**
 * Every statement the record stores run, written once for both SQLite and PostgreSQL against a
 * tiny executor interface. Placeholders are PostgreSQL-style `$1`; the SQLite executor rewrites
 * them to SQLite's numbered `?1`. The dialect differences are explicit and few:
 *  - column types (schema.ts),
 *  - PostgreSQL takes advisory locks (migrations; per call while its summary row is recomputed,
 *    so two gateways writing turns of one call can't overwrite each other's summary),
 *  - percentiles: `percentile_cont` on PostgreSQL, the same definition with a window query on
 *    SQLite (which has no ordered-set aggregates),
 *  - value encoding: PostgreSQL text can't hold NUL and its timestamps come back as Date.
 * Every value is made storable on both (NUL replaced on PostgreSQL, integers outside the range a
 * JavaScript number holds exactly stored as null), so a record can't fail its batch by its content.
 */

import { COLUMN_TYPES, MIGRATIONS, type Dialect } from './records-schema.ts';
import type {
  CallDetail,
  CallEventRecord,
  CallQuery,
  CallSummary,
  StatsQuery,
  StatsRow,
  SyntheticFilter,
  TurnCursor,
  TurnPage,
  TurnRange,
  TurnRecord,
} from './turn-record.ts';

export type SqlValue = string | number | null;
export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  readonly dialect: Dialect;
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Runs `fn` in one transaction (nested calls join the outer one). 'read' transactions only read:
   * a consistent snapshot without taking SQLite's write lock.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, mode?: 'write' | 'read'): Promise<T>;
}

/** Platform events after which a call is over (its summary outcome becomes 'ended'). */
export const CALL_ENDING_EVENTS: readonly string[] = ['agent_stop', 'session_stop'];
/** Turn outcomes counted in a stats row's error rate. */
export const ERROR_OUTCOMES: readonly string[] = ['error', 'apologized', 'upstream_broken'];

/** Where an export page resumes: after this turn in (started_at, id) order. */
export type ExportCursor = TurnCursor;

const MIGRATION_LOCK = 0x766c6777; // 'vlgw'
const CALL_LOCK_CLASS = 0x766c67; // two-key advisory locks: (class, hashtext(instance_id))
/**
 * Rows per INSERT. PostgreSQL: multi-row inserts save round trips (500 × 30 parameters stays far
 * below its limit). SQLite has no round trips, and binding many parameters to one statement gets
 * slower than linearly: one cached single-row statement per turn is several times faster.
 */
const ROWS_PER_INSERT: Record<Dialect, number> = { postgres: 500, sqlite: 1 };
/** Instance ids per IN (...) list. */
const IDS_PER_STATEMENT = 500;

// ---------------------------------------------------------------------------------------------
// Migrations

/** Applies the migrations this database lacks; returns how many it applied. */
export async function migrate(exec: SqlExecutor): Promise<number> {
  return exec.transaction(async (tx) => {
    if (tx.dialect === 'postgres') await tx.all('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.run(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const applied = new Set((await tx.all('SELECT version FROM schema_migrations')).map((row) => Number(row['version'])));
    let count = 0;
    for (const migration of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements(COLUMN_TYPES[tx.dialect])) await tx.run(statement);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        new Date().toISOString(),
      ]);
      count += 1;
    }
    return count;
  });
}

// ---------------------------------------------------------------------------------------------
// Writing

const TURN_COLUMNS = [
  'id',
  'instance_id',
  'channel_id',
  'sentence_id',
  'caller_number',
  'callee_number',
  'user_data',
  'agent',
  'provider',
  'started_at',
  'ended_at',
  'attempts',
  'caller_text',
  'answer_text',
  'tool_runs',
  'signal',
  'finish_reason',
  'outcome',
  'http_status',
  'ttft_ms',
  'first_sentence_ms',
  'total_ms',
  'prompt_tokens',
  'completion_tokens',
  'cancellation',
  'error_code',
  'error_message',
  'synthetic',
  'caller_hash',
  'callee_hash',
  'platform',
  'timings',
] as const;

/**
 * Inserts turns (a turn already stored is skipped, so a retried batch is harmless) and refreshes
 * the summary rows of their calls, in one transaction. Returns how many turns were new.
 */
export async function insertTurns(exec: SqlExecutor, records: readonly TurnRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  const rows = records.map((record) => encodeTurn(record, exec.dialect));
  // The call ids as stored (NUL replaced on PostgreSQL), for the locks and the summary rows.
  const instanceIds = [...new Set(rows.map((row) => row[TURN_COLUMNS.indexOf('instance_id')]).filter((id) => typeof id === 'string'))];
  return exec.transaction(async (tx) => {
    await lockCalls(tx, instanceIds);
    let inserted = 0;
    for (const chunk of chunks(rows, ROWS_PER_INSERT[tx.dialect])) {
      const params: SqlValue[] = [];
      const tuples: string[] = [];
      for (const row of chunk) {
        tuples.push(`(${row.map((_, i) => `$${params.length + i + 1}`).join(', ')})`);
        params.push(...row);
      }
      inserted += await tx.run(
        `INSERT INTO turns (${TURN_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (id) DO NOTHING`,
        params,
      );
    }
    await refreshCallsById(tx, instanceIds);
    return inserted;
  });
}

/** Stores a platform event; false when this call already has an event with that key. */
export async function insertEvent(exec: SqlExecutor, event: CallEventRecord): Promise<boolean> {
  const text = textEncoder(exec.dialect);
  const instanceId = text(event.instanceId) ?? '';
  return exec.transaction(async (tx) => {
    await lockCalls(tx, [instanceId]);
    const inserted = await tx.run(
      `INSERT INTO call_events (instance_id, event_key, event, received_at, payload) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (instance_id, event_key) DO NOTHING`,
      [
        instanceId,
        text(event.eventKey) ?? '',
        text(event.event) ?? '',
        recordTime(event.receivedAt),
        encodeJson(event.payload ?? null, exec.dialect),
      ],
    );
    if (inserted > 0 && CALL_ENDING_EVENTS.includes(event.event)) await refreshCallsById(tx, [instanceId]);
    return inserted > 0;
  });
}

export async function lockCalls(tx: SqlExecutor, instanceIds: readonly string[]): Promise<void> {
  if (tx.dialect !== 'postgres' || instanceIds.length === 0) return;
  // Sorted, so two transactions locking overlapping calls can't deadlock.
  for (const ids of chunks([...instanceIds].sort(), IDS_PER_STATEMENT)) {
    await tx.all(
      `SELECT pg_advisory_xact_lock(${CALL_LOCK_CLASS}, hashtext(v)) AS locked
       FROM (SELECT v FROM (VALUES ${ids.map((_, i) => `($${i + 1})`).join(', ')}) AS ids (v) ORDER BY v) AS sorted`,
      ids,
    );
  }
}

async function refreshCallsById(tx: SqlExecutor, instanceIds: readonly string[]): Promise<void> {
  for (const ids of chunks(instanceIds, IDS_PER_STATEMENT)) {
    await refreshCalls(tx, `instance_id IN (${ids.map((_, i) => `$${i + 1}`).join(', ')})`, ids);
  }
}

/**
 * Recomputes the summary row of every call whose turns match `filter` (a condition on turns),
 * from its turns and events: first/last turn, count, the last turn's agent and outcome, the first
 * caller and callee numbers seen, hangup/transfer signals, the synthetic kind of any turn, and
 * 'ended' once an ending event arrived. Derived,
 * never incremented, so repeats, retries and purges can't make it drift.
 */
async function refreshCalls(tx: SqlExecutor, filter: string, params: readonly SqlValue[]): Promise<void> {
  const ending = CALL_ENDING_EVENTS.map(sqlString).join(', ');
  await tx.run(
    `INSERT INTO calls (instance_id, agent, caller_number, callee_number, started_at, last_turn_at, turns, last_outcome,
                        outcome, ended_at, hangup, transferred, synthetic)
     SELECT d.instance_id, l.agent, d.caller_number, d.callee_number, d.first_at, d.last_at, d.turns, l.outcome,
            CASE WHEN d.ended_at IS NULL THEN l.outcome ELSE 'ended' END, d.ended_at, d.hangup, d.transferred, d.synthetic
     FROM (
       SELECT s.instance_id, s.first_at, s.last_at, s.turns, s.hangup, s.transferred, s.synthetic,
              (SELECT c.caller_number FROM turns c
                WHERE c.instance_id = s.instance_id AND c.caller_number IS NOT NULL
                ORDER BY c.started_at, c.id LIMIT 1) AS caller_number,
              (SELECT c.callee_number FROM turns c
                WHERE c.instance_id = s.instance_id AND c.callee_number IS NOT NULL
                ORDER BY c.started_at, c.id LIMIT 1) AS callee_number,
              (SELECT x.id FROM turns x WHERE x.instance_id = s.instance_id
                ORDER BY x.started_at DESC, x.id DESC LIMIT 1) AS last_id,
              (SELECT MIN(e.received_at) FROM call_events e
                WHERE e.instance_id = s.instance_id AND e.event IN (${ending})) AS ended_at
       FROM (
         SELECT instance_id, MIN(started_at) AS first_at, MAX(started_at) AS last_at, COUNT(*) AS turns,
                MAX(CASE WHEN signal = 'hangup' THEN 1 ELSE 0 END) AS hangup,
                MAX(CASE WHEN signal LIKE 'transfer:%' THEN 1 ELSE 0 END) AS transferred,
                MAX(synthetic) AS synthetic
         FROM turns WHERE instance_id IS NOT NULL AND ${filter}
         GROUP BY instance_id
       ) AS s
     ) AS d
     JOIN turns l ON l.id = d.last_id
     WHERE true
     ON CONFLICT (instance_id) DO UPDATE SET
       agent = excluded.agent, caller_number = excluded.caller_number, callee_number = excluded.callee_number,
       started_at = excluded.started_at,
       last_turn_at = excluded.last_turn_at, turns = excluded.turns, last_outcome = excluded.last_outcome,
       outcome = excluded.outcome, ended_at = excluded.ended_at, hangup = excluded.hangup,
       transferred = excluded.transferred, synthetic = excluded.synthetic`,
    params,
  );
}

/**
 * Deletes turns that started before `cutoff`, the calls left without turns (with their events),
 * and events older than the cutoff that belong to no recorded call; calls that lost only some of
 * their turns get their summary recomputed. Returns how many turns were deleted.
 */
export async function purgeOlderThan(exec: SqlExecutor, cutoff: string): Promise<number> {
  const at = queryTime(cutoff, 'cutoff');
  return exec.transaction(async (tx) => {
    const removed = await tx.run('DELETE FROM turns WHERE started_at < $1', [at]);
    const orphaned = `SELECT instance_id FROM calls
      WHERE started_at < $1 AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.instance_id = calls.instance_id)`;
    await tx.run(`DELETE FROM call_events WHERE instance_id IN (${orphaned})`, [at]);
    await tx.run(`DELETE FROM calls WHERE instance_id IN (${orphaned})`, [at]);
    await refreshCalls(tx, 'instance_id IN (SELECT instance_id FROM calls WHERE started_at < $1)', [at]);
    await tx.run(
      `DELETE FROM call_events WHERE received_at < $1
         AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.instance_id = call_events.instance_id)`,
      [at],
    );
    return removed;
  });
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * Calls newest first. `from`/`to` select the calls with a turn that started in [from, to), the
 * turns `stats` and `exportPage` cover with the same range. `caller`/`callee` match part of the
 * stored (masked) number, or the keyed hash of the full number on any of the call's turns.
 * `outcome` matches the summary outcome or the last turn's (so 'error' finds calls that ended
 * after an error too). `synthetic` looks at the call's kind (any of its turns').
 */
export async function listCalls(exec: SqlExecutor, query: CallQuery): Promise<{ calls: CallSummary[]; total: number }> {
  const params: SqlValue[] = [];
  const p = (value: SqlValue) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where: string[] = [];
  const from = query.from === undefined ? undefined : p(queryTime(query.from, 'from'));
  const to = query.to === undefined ? undefined : p(queryTime(query.to, 'to'));
  // One bound alone is exact on the summary; with both, a call spanning the range may have no turn in it.
  if (from !== undefined) where.push(`last_turn_at >= ${from}`);
  if (to !== undefined) where.push(`started_at < ${to}`);
  if (from !== undefined && to !== undefined) {
    where.push(
      `EXISTS (SELECT 1 FROM turns t WHERE t.instance_id = calls.instance_id AND t.started_at >= ${from} AND t.started_at < ${to})`,
    );
  }
  where.push(...syntheticCondition(query.synthetic));
  const text = textEncoder(exec.dialect);
  if (query.agent !== undefined) where.push(`agent = ${p(text(query.agent))}`);
  if (query.caller !== undefined) where.push(numberCondition('caller', p, text(query.caller) ?? '', query.callerHash));
  if (query.callee !== undefined) where.push(numberCondition('callee', p, text(query.callee) ?? '', query.calleeHash));
  if (query.outcome !== undefined) {
    const outcome = p(query.outcome);
    where.push(`(outcome = ${outcome} OR last_outcome = ${outcome})`);
  }
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const limit = Math.max(0, Math.floor(Number(query.limit) || 0));
  const offset = Math.max(0, Math.floor(Number(query.offset) || 0));
  return exec.transaction(async (tx) => {
    const [count] = await tx.all(`SELECT COUNT(*) AS n FROM calls ${whereSql}`, params);
    const rows =
      limit === 0
        ? []
        : await tx.all(
            `SELECT * FROM calls ${whereSql} ORDER BY started_at DESC, instance_id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
            [...params, limit, offset],
          );
    return { calls: rows.map(decodeCall), total: Number(count?.['n'] ?? 0) };
  }, 'read');
}

/**
 * One call with its events (by arrival) and its turns by start time: all of them, or the page
 * asked for (one turn more is read, to know whether another page follows).
 */
export async function getCall(exec: SqlExecutor, rawInstanceId: string, page?: TurnPage): Promise<CallDetail | undefined> {
  const instanceId = textEncoder(exec.dialect)(rawInstanceId) ?? '';
  return exec.transaction(async (tx) => {
    const [row] = await tx.all('SELECT * FROM calls WHERE instance_id = $1', [instanceId]);
    if (!row) return undefined;
    const params: SqlValue[] = [instanceId];
    const where = ['instance_id = $1'];
    if (page?.after !== undefined) where.push(afterCursor(params, page.after));
    let limitSql = '';
    if (page !== undefined) {
      params.push(Math.max(1, Math.floor(page.limit)) + 1);
      limitSql = ` LIMIT $${params.length}`;
    }
    const turns = (await tx.all(`SELECT * FROM turns WHERE ${where.join(' AND ')} ORDER BY started_at, id${limitSql}`, params)).map((r) =>
      decodeTurn(r, tx.dialect),
    );
    const more = page !== undefined && turns.length > Math.max(1, Math.floor(page.limit));
    if (more) turns.pop();
    const last = turns.at(-1);
    const events = await tx.all('SELECT * FROM call_events WHERE instance_id = $1 ORDER BY received_at, event_key', [instanceId]);
    return {
      ...decodeCall(row),
      turnRecords: turns,
      events: events.map((r) => decodeEvent(r, tx.dialect)),
      next: more && last ? { startedAt: last.startedAt, id: last.id } : null,
    };
  }, 'read');
}

/** Part of the stored number (a masked number matches its visible digits), or the full number's hash on any turn. */
function numberCondition(party: 'caller' | 'callee', p: (value: SqlValue) => string, part: string, hash: string | undefined): string {
  const like = `${party}_number LIKE ${p(`%${escapeLike(part)}%`)} ESCAPE '\\'`;
  if (hash === undefined) return like;
  return `(${like} OR instance_id IN (SELECT instance_id FROM turns WHERE ${party}_hash = ${p(hash)}))`;
}

/** Real calls only, test traffic only, or both (no condition); the column is named alike in turns and calls. */
function syntheticCondition(filter: SyntheticFilter | undefined): string[] {
  if (filter === 'exclude') return ['synthetic IS NULL'];
  if (filter === 'only') return ['synthetic IS NOT NULL'];
  return [];
}

/** The conditions on turns of a range, adding their parameters: started in [from, to), of the traffic asked for. */
function turnRangeConditions(params: SqlValue[], range: TurnRange): string[] {
  const where: string[] = [];
  if (range.from !== undefined) {
    params.push(queryTime(range.from, 'from'));
    where.push(`started_at >= $${params.length}`);
  }
  if (range.to !== undefined) {
    params.push(queryTime(range.to, 'to'));
    where.push(`started_at < $${params.length}`);
  }
  return [...where, ...syntheticCondition(range.synthetic)];
}

/** The condition "after this turn" in (started_at, id) order; adds its two parameters. */
export function afterCursor(params: SqlValue[], after: TurnCursor): string {
  params.push(queryTime(after.startedAt, 'after'), after.id);
  const at = `$${params.length - 1}`;
  return `(started_at > ${at} OR (started_at = ${at} AND id > $${params.length}))`;
}

/** The turns of a range, oldest first, `limit` at a time after `after`. */
export async function exportPage(
  exec: SqlExecutor,
  range: TurnRange,
  after: ExportCursor | undefined,
  limit: number,
): Promise<TurnRecord[]> {
  const params: SqlValue[] = [];
  const where = turnRangeConditions(params, range);
  if (after !== undefined) where.push(afterCursor(params, after));
  params.push(Math.max(1, Math.floor(limit)));
  const rows = await exec.all(
    `SELECT * FROM turns ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at, id LIMIT $${params.length}`,
    params,
  );
  return rows.map((row) => decodeTurn(row, exec.dialect));
}

const PERCENTILES = [0.5, 0.95, 0.99] as const;

/**
 * Per agent and provider, over the turns of the range: turns, time-to-first-token percentiles
 * (continuous, i.e. linear interpolation between ranks — PostgreSQL's percentile_cont) in whole
 * milliseconds, the error rate to 3 decimals, hangups, transfers and cancellations.
 */
export async function stats(exec: SqlExecutor, query: StatsQuery): Promise<StatsRow[]> {
  const params: SqlValue[] = [];
  const where = turnRangeConditions(params, query);
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const percentileColumns =
    exec.dialect === 'postgres'
      ? PERCENTILES.map((p, i) => `, percentile_cont(${p}) WITHIN GROUP (ORDER BY ttft_ms) AS p${i}`).join('')
      : '';
  return exec.transaction(async (tx) => {
    const rows = await tx.all(
      `SELECT agent, provider, COUNT(*) AS turns,
              SUM(CASE WHEN outcome IN (${ERROR_OUTCOMES.map(sqlString).join(', ')}) THEN 1 ELSE 0 END) AS errors,
              SUM(CASE WHEN signal = 'hangup' THEN 1 ELSE 0 END) AS hangups,
              SUM(CASE WHEN signal LIKE 'transfer:%' THEN 1 ELSE 0 END) AS transfers,
              SUM(CASE WHEN cancellation IS NOT NULL THEN 1 ELSE 0 END) AS cancellations
              ${percentileColumns}
       FROM turns ${whereSql} GROUP BY agent, provider`,
      params,
    );
    const sqlitePercentiles = tx.dialect === 'sqlite' ? await windowPercentiles(tx, where, params) : undefined;
    return rows
      .map((row): StatsRow => {
        const agent = String(row['agent']);
        const provider = row['provider'] === null || row['provider'] === undefined ? null : String(row['provider']);
        const turns = Number(row['turns']);
        const [p50, p95, p99] =
          sqlitePercentiles?.get(groupKey(agent, provider)) ??
          (tx.dialect === 'postgres' ? PERCENTILES.map((_, i) => num(row[`p${i}`])) : [null, null, null]);
        return {
          agent,
          provider,
          turns,
          ttftP50: roundTo(p50 ?? null, 0),
          ttftP95: roundTo(p95 ?? null, 0),
          ttftP99: roundTo(p99 ?? null, 0),
          errorRate: turns > 0 ? (roundTo(Number(row['errors']) / turns, 3) ?? 0) : 0,
          hangups: Number(row['hangups']),
          transfers: Number(row['transfers']),
          cancellations: Number(row['cancellations']),
        };
      })
      .sort(
        (a, b) =>
          compare(a.agent, b.agent) ||
          (a.provider === b.provider ? 0 : a.provider === null ? -1 : b.provider === null ? 1 : compare(a.provider, b.provider)),
      );
  }, 'read');
}

/**
 * percentile_cont for SQLite: the engine ranks each group's first-token times and returns only
 * the (at most six) ranks the percentiles interpolate between, so no group is loaded whole.
 */
async function windowPercentiles(
  tx: SqlExecutor,
  where: readonly string[],
  params: readonly SqlValue[],
): Promise<Map<string, (number | null)[]>> {
  const ranks = PERCENTILES.flatMap((p) => [`CAST(${p} * (n - 1) AS INTEGER)`, `CAST(${p} * (n - 1) AS INTEGER) + 1`]).join(', ');
  const rows = await tx.all(
    `SELECT agent, provider, i, n, ttft_ms FROM (
       SELECT agent, provider, ttft_ms,
              ROW_NUMBER() OVER (PARTITION BY agent, provider ORDER BY ttft_ms) - 1 AS i,
              COUNT(*) OVER (PARTITION BY agent, provider) AS n
       FROM turns WHERE ${['ttft_ms IS NOT NULL', ...where].join(' AND ')}
     ) AS ranked
     WHERE i IN (${ranks})`,
    params,
  );
  const groups = new Map<string, { n: number; values: Map<number, number> }>();
  for (const row of rows) {
    const key = groupKey(String(row['agent']), row['provider'] === null ? null : String(row['provider']));
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { n: Number(row['n']), values: new Map() }));
    group.values.set(Number(row['i']), Number(row['ttft_ms']));
  }
  const result = new Map<string, (number | null)[]>();
  for (const [key, { n, values }] of groups) {
    result.set(
      key,
      PERCENTILES.map((p) => {
        const position = p * (n - 1);
        const lower = Math.trunc(position);
        const low = values.get(lower);
        if (low === undefined) return null;
        const high = lower + 1 < n ? values.get(lower + 1) : undefined;
        return high === undefined || position === lower ? low : low + (high - low) * (position - lower);
      }),
    );
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function encodeTurn(r: TurnRecord, dialect: Dialect): SqlValue[] {
  const text = textEncoder(dialect);
  return [
    text(r.id) ?? '',
    text(r.instanceId),
    text(r.channelId),
    int(r.sentenceId),
    text(r.callerNumber),
    text(r.calleeNumber),
    text(r.userData),
    text(r.agent) ?? '',
    text(r.provider),
    recordTime(r.startedAt),
    recordTime(r.endedAt),
    encodeJson(r.attempts ?? [], dialect),
    text(r.callerText) ?? '',
    text(r.answerText) ?? '',
    encodeJson(r.toolRuns ?? [], dialect),
    text(r.signal),
    text(r.finishReason),
    text(r.outcome) ?? '',
    int(r.httpStatus, INT32_MAX) ?? 0,
    real(r.ttftMs),
    real(r.firstSentenceMs),
    real(r.totalMs) ?? 0,
    int(r.promptTokens),
    int(r.completionTokens),
    text(r.cancellation),
    text(r.errorCode),
    text(r.errorMessage),
    text(r.synthetic),
    r.numberHashes?.caller ?? null,
    r.numberHashes?.callee ?? null,
    text(r.platform),
    r.timings === undefined ? null : encodeJson(r.timings, dialect),
  ];
}

export function decodeTurn(row: SqlRow, dialect: Dialect): TurnRecord {
  const timings = decodeJson(row['timings'], dialect) as TurnRecord['timings'] | null;
  return {
    id: String(row['id']),
    startedAt: time(row['started_at']),
    endedAt: time(row['ended_at']),
    instanceId: str(row['instance_id']),
    channelId: str(row['channel_id']),
    sentenceId: num(row['sentence_id']),
    callerNumber: str(row['caller_number']),
    calleeNumber: str(row['callee_number']),
    userData: str(row['user_data']),
    agent: String(row['agent']),
    provider: str(row['provider']),
    attempts: decodeJson(row['attempts'], dialect) as TurnRecord['attempts'],
    callerText: String(row['caller_text']),
    answerText: String(row['answer_text']),
    toolRuns: decodeJson(row['tool_runs'], dialect) as TurnRecord['toolRuns'],
    signal: str(row['signal']),
    finishReason: str(row['finish_reason']),
    outcome: String(row['outcome']) as TurnRecord['outcome'],
    httpStatus: Number(row['http_status']),
    ttftMs: num(row['ttft_ms']),
    firstSentenceMs: num(row['first_sentence_ms']),
    totalMs: Number(row['total_ms']),
    promptTokens: num(row['prompt_tokens']),
    completionTokens: num(row['completion_tokens']),
    cancellation: str(row['cancellation']),
    errorCode: str(row['error_code']),
    errorMessage: str(row['error_message']),
    synthetic: str(row['synthetic']),
    platform: str(row['platform']),
    ...(timings ? { timings } : {}),
  };
}

export function decodeCall(row: SqlRow): CallSummary {
  return {
    instanceId: String(row['instance_id']),
    agent: String(row['agent']),
    callerNumber: str(row['caller_number']),
    calleeNumber: str(row['callee_number']),
    startedAt: time(row['started_at']),
    lastTurnAt: time(row['last_turn_at']),
    turns: Number(row['turns']),
    outcome: String(row['outcome']),
    endedAt: row['ended_at'] === null || row['ended_at'] === undefined ? null : time(row['ended_at']),
    hangup: Number(row['hangup']) === 1,
    transferred: Number(row['transferred']) === 1,
    synthetic: str(row['synthetic']),
  };
}

function decodeEvent(row: SqlRow, dialect: Dialect): CallEventRecord {
  return {
    instanceId: String(row['instance_id']),
    event: String(row['event']),
    eventKey: String(row['event_key']),
    receivedAt: time(row['received_at']),
    payload: decodeJson(row['payload'], dialect),
  };
}

/** PostgreSQL text can't hold NUL (and JSON strings must be well-formed): replaced by U+FFFD. */
export function textEncoder(dialect: Dialect): (value: string | null | undefined) => string | null {
  if (dialect === 'sqlite') return (value) => (typeof value === 'string' ? value : value == null ? null : String(value));
  return (value) => (value == null ? null : String(value).replaceAll('\0', '\uFFFD'));
}

function encodeJson(value: unknown, dialect: Dialect): string {
  // JSON has no BigInt: written as its digits rather than failing the record.
  const bigints = (v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
  if (dialect === 'sqlite') return JSON.stringify(value, (_key, v: unknown) => bigints(v)) ?? 'null';
  // The json type keeps `\u0000` escapes, but rejects unpaired surrogate escapes (a string cut
  // inside an emoji): make every string well-formed first.
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? v.toWellFormed() : bigints(v))) ?? 'null';
}

/** SQLite gives the JSON text; pg has parsed json columns already. */
function decodeJson(value: unknown, dialect: Dialect): unknown {
  if (value === null || value === undefined) return null;
  return dialect === 'sqlite' && typeof value === 'string' ? JSON.parse(value) : value;
}

/** A record's timestamp, canonical ISO-8601 UTC; an unreadable one becomes "now" rather than failing its batch. */
function recordTime(value: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return new Date(Number.isNaN(ms) ? Date.now() : ms).toISOString();
}

/** A query bound, canonical ISO-8601 UTC. */
export function queryTime(value: string, name: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`${name} is not a date-time: ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

function time(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

function str(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

export function num(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

const INT32_MAX = 2 ** 31 - 1;

/**
 * A whole number the column and JavaScript both hold exactly, else null: PostgreSQL refuses a
 * BIGINT past 2^63 (failing the write), and node:sqlite refuses to read back one past 2^53
 * (failing every later read of that call), so such a value is unknown rather than wrong.
 */
function int(value: number | null | undefined, max = Number.MAX_SAFE_INTEGER): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  const rounded = Math.round(value);
  return Math.abs(rounded) <= max ? rounded : null;
}

function real(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Rounded to `decimals` places (stats are read by people: 512 ms, not 512.3999999). */
function roundTo(value: number | null, decimals: number): number | null {
  if (value === null) return null;
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function groupKey(agent: string, provider: string | null): string {
  return JSON.stringify([agent, provider]);
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}
