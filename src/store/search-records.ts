/**
 * The console's reads and the erasure of one call, for SQLite and PostgreSQL alike (see
 * sql-records.ts for the executor and the dialect rules). Searches page newest first by a
 * (started_at, id) keyset, so a page never shifts while new calls arrive.
 */

import {
  ERROR_OUTCOMES,
  decodeCall,
  decodeTurn,
  escapeLike,
  lockCalls,
  num,
  queryTime,
  sqlString,
  textEncoder,
  type SqlExecutor,
  type SqlValue,
} from './sql-records.ts';
import type { CallSummary, RecordSearch, SearchPage, SeriesQuery, SeriesResult, TurnRecord } from './turn-record.ts';

/** Conditions on `turns` (aliased `t`) for a search's filters, with their parameters. */
function turnConditions(exec: SqlExecutor, query: RecordSearch, params: SqlValue[]): string[] {
  const p = (value: SqlValue) => {
    params.push(value);
    return `$${params.length}`;
  };
  const text = textEncoder(exec.dialect);
  const like = (value: string) => p(`%${escapeLike(text(value) ?? '')}%`);
  const where: string[] = [];
  if (query.from !== undefined) where.push(`t.started_at >= ${p(queryTime(query.from, 'from'))}`);
  if (query.to !== undefined) where.push(`t.started_at < ${p(queryTime(query.to, 'to'))}`);
  if (query.agent !== undefined) where.push(`t.agent = ${p(text(query.agent))}`);
  if (query.provider !== undefined) where.push(`t.provider = ${p(text(query.provider))}`);
  if (query.outcome !== undefined) where.push(`t.outcome = ${p(query.outcome)}`);
  if (query.signal === 'hangup') where.push(`t.signal = 'hangup'`);
  else if (query.signal === 'transfer') where.push(`t.signal LIKE 'transfer:%'`);
  if (query.errorCode !== undefined) where.push(`t.error_code = ${p(text(query.errorCode))}`);
  if (query.caller !== undefined) where.push(`t.caller_number LIKE ${like(query.caller)} ESCAPE '\\'`);
  if (query.callee !== undefined) where.push(`t.callee_number LIKE ${like(query.callee)} ESCAPE '\\'`);
  if (query.channel !== undefined) where.push(`t.channel_id = ${p(text(query.channel))}`);
  if (query.text !== undefined) {
    const needle = like(query.text);
    where.push(`(t.caller_text LIKE ${needle} ESCAPE '\\' OR t.answer_text LIKE ${needle} ESCAPE '\\')`);
  }
  if (query.synthetic === 'real') where.push('t.synthetic IS NULL');
  else if (query.synthetic !== undefined) where.push(`t.synthetic = ${p(query.synthetic)}`);
  return where;
}

/** "Older than the cursor" in (time, id) descending order. */
function beforeCursor(params: SqlValue[], time: string, id: string, before: RecordSearch['before']): string[] {
  if (before === undefined) return [];
  params.push(queryTime(before.startedAt, 'before'), before.id);
  const at = `$${params.length - 1}`;
  return [`(${time} < ${at} OR (${time} = ${at} AND ${id} < $${params.length}))`];
}

const pageSize = (limit: number) => Math.max(1, Math.floor(limit));

function page<T>(rows: T[], limit: number, key: (row: T) => { startedAt: string; id: string }): SearchPage<T> {
  const more = rows.length > pageSize(limit);
  if (more) rows.pop();
  const last = rows.at(-1);
  return { data: rows, next: more && last ? key(last) : null };
}

export async function searchTurns(exec: SqlExecutor, query: RecordSearch): Promise<SearchPage<TurnRecord>> {
  const params: SqlValue[] = [];
  const where = [...turnConditions(exec, query, params), ...beforeCursor(params, 't.started_at', 't.id', query.before)];
  params.push(pageSize(query.limit) + 1);
  const rows = await exec.all(
    `SELECT t.* FROM turns t ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY t.started_at DESC, t.id DESC LIMIT $${params.length}`,
    params,
  );
  return page(
    rows.map((row) => decodeTurn(row, exec.dialect)),
    query.limit,
    (turn) => ({ startedAt: turn.startedAt, id: turn.id }),
  );
}

/** Calls with at least one turn matching every filter (the time range is on that turn). */
export async function searchCalls(exec: SqlExecutor, query: RecordSearch): Promise<SearchPage<CallSummary>> {
  const params: SqlValue[] = [];
  const turnWhere = ['t.instance_id = c.instance_id', ...turnConditions(exec, query, params)];
  const where = [
    ...(turnWhere.length > 1 ? [`EXISTS (SELECT 1 FROM turns t WHERE ${turnWhere.join(' AND ')})`] : []),
    ...beforeCursor(params, 'c.started_at', 'c.instance_id', query.before),
  ];
  params.push(pageSize(query.limit) + 1);
  const rows = await exec.all(
    `SELECT c.* FROM calls c ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY c.started_at DESC, c.instance_id DESC LIMIT $${params.length}`,
    params,
  );
  return page(rows.map(decodeCall), query.limit, (call) => ({ startedAt: call.startedAt, id: call.instanceId }));
}

/** Erases a call: its turns, its events and its summary row, in one transaction. */
export async function deleteCall(exec: SqlExecutor, rawInstanceId: string): Promise<number> {
  const instanceId = textEncoder(exec.dialect)(rawInstanceId) ?? '';
  return exec.transaction(async (tx) => {
    // The same lock a write of this call's turns takes, so a summary can't be rebuilt mid-erasure.
    await lockCalls(tx, [instanceId]);
    const removed = await tx.run('DELETE FROM turns WHERE instance_id = $1', [instanceId]);
    await tx.run('DELETE FROM call_events WHERE instance_id = $1', [instanceId]);
    await tx.run('DELETE FROM calls WHERE instance_id = $1', [instanceId]);
    return removed;
  });
}

/** Turns per bucket of `bucketSeconds` in [from, to), and tokens and failures per agent and provider. */
export async function series(exec: SqlExecutor, query: SeriesQuery): Promise<SeriesResult> {
  const bucket = Math.max(1, Math.floor(query.bucketSeconds));
  const epoch = exec.dialect === 'postgres' ? 'EXTRACT(EPOCH FROM started_at)' : `CAST(strftime('%s', started_at) AS INTEGER)`;
  const failures = `SUM(CASE WHEN outcome IN (${ERROR_OUTCOMES.map(sqlString).join(', ')}) THEN 1 ELSE 0 END)`;
  const apologies = `SUM(CASE WHEN outcome = 'apologized' THEN 1 ELSE 0 END)`;
  const params: SqlValue[] = [queryTime(query.from, 'from'), queryTime(query.to, 'to')];
  const range = 'started_at >= $1 AND started_at < $2';
  return exec.transaction(async (tx) => {
    const buckets = await tx.all(
      `SELECT FLOOR(${epoch} / ${bucket}) AS b, COUNT(*) AS turns, COUNT(DISTINCT instance_id) AS calls,
              ${failures} AS failures, ${apologies} AS apologies,
              SUM(CASE WHEN signal = 'hangup' THEN 1 ELSE 0 END) AS hangups,
              SUM(CASE WHEN signal LIKE 'transfer:%' THEN 1 ELSE 0 END) AS transfers
       FROM turns WHERE ${range} GROUP BY FLOOR(${epoch} / ${bucket}) ORDER BY b`,
      params,
    );
    const usage = await tx.all(
      `SELECT agent, provider, COUNT(*) AS turns, SUM(prompt_tokens) AS prompt, SUM(completion_tokens) AS completion,
              ${failures} AS failures, ${apologies} AS apologies
       FROM turns WHERE ${range} GROUP BY agent, provider ORDER BY agent, provider`,
      params,
    );
    return {
      buckets: buckets.map((row) => ({
        at: new Date(Number(row['b']) * bucket * 1000).toISOString(),
        turns: Number(row['turns']),
        calls: Number(row['calls']),
        failures: Number(row['failures']),
        apologies: Number(row['apologies']),
        hangups: Number(row['hangups']),
        transfers: Number(row['transfers']),
      })),
      usage: usage.map((row) => ({
        agent: String(row['agent']),
        provider: row['provider'] === null || row['provider'] === undefined ? null : String(row['provider']),
        turns: Number(row['turns']),
        promptTokens: num(row['prompt']) ?? 0,
        completionTokens: num(row['completion']) ?? 0,
        failures: Number(row['failures']),
        apologies: Number(row['apologies']),
      })),
    };
  }, 'read');
}
