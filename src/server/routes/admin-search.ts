import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { gatewayError } from '../../core/error-catalog.ts';
import type { RecordSearch, RecordStore, SearchPage } from '../../store/turn-record.ts';
import { CALL_OUTCOMES, blankToUndefined, checkRange, isoTime, parseQuery, text, turnCursorParam, wholeNumber } from './admin.ts';
import { encodeTurnCursor } from './turn-cursor.ts';

const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 50;
const SIGNALS = ['hangup', 'transfer'] as const;
const MAX_BUCKETS = 2000;

/** Built on first use: admin.ts imports this file, so its helpers aren't ready at load time. */
function schemas() {
  const searchSchema = z.strictObject({
    from: isoTime,
    to: isoTime,
    agent: text,
    provider: text,
    outcome: z.preprocess(blankToUndefined, z.enum(CALL_OUTCOMES, { error: `must be one of ${CALL_OUTCOMES.join(', ')}` }).optional()),
    signal: z.preprocess(blankToUndefined, z.enum(SIGNALS, { error: `must be one of ${SIGNALS.join(', ')}` }).optional()),
    errorCode: text,
    caller: text,
    callee: text,
    channel: text,
    q: text,
    synthetic: text,
    cursor: turnCursorParam(),
    limit: wholeNumber(1, MAX_LIMIT, DEFAULT_LIMIT, `must be a whole number from 1 to ${MAX_LIMIT}`),
  });

  const seriesSchema = z.strictObject({
    from: isoTime,
    to: isoTime,
    bucket: wholeNumber(60, 31 * 86_400, 3600, 'must be a whole number of seconds from 60 to 2678400'),
  });
  return { searchSchema, seriesSchema };
}

/**
 * The admin API's search, erasure and charts, behind the same admin key (registered inside the
 * admin scope of admin.ts):
 *  - `GET /admin/search/calls` and `GET /admin/turns`: calls (with a matching turn) or turns,
 *    newest first, filtered by from, to, agent, provider, outcome, signal (hangup|transfer),
 *    errorCode, caller, callee, channel, q (free text in what was said), synthetic (real or a
 *    marker); paged by `cursor` (the `nextCursor` of the page before), stable while calls arrive;
 *  - `DELETE /admin/calls/:instanceId`: erases a call (an erasure request);
 *  - `GET /admin/series?from&to&bucket`: turns per time bucket, tokens per agent and provider.
 */
export function registerAdminSearch(scope: FastifyInstance, store: RecordStore): void {
  const { searchSchema, seriesSchema } = schemas();
  const searchOf = (raw: unknown) => toSearch(parseQuery(searchSchema, raw));
  scope.get('/admin/search/calls', async (request) => listPage(await store.searchCalls(searchOf(request.query))));
  scope.get('/admin/turns', async (request) => listPage(await store.searchTurns(searchOf(request.query))));

  scope.delete('/admin/calls/:instanceId', async (request) => {
    const { instanceId } = request.params as { instanceId: string };
    const removed = await store.deleteCall(instanceId);
    if (removed === 0) {
      throw gatewayError('call_not_found', { instanceId });
    }
    return { object: 'call.deleted', instanceId, deleted: true, turns: removed };
  });

  scope.get('/admin/series', async (request) => {
    const query = parseQuery(seriesSchema, request.query);
    checkRange(query);
    const to = query.to ?? new Date().toISOString();
    const from = query.from ?? new Date(Date.parse(to) - 86_400_000).toISOString();
    if ((Date.parse(to) - Date.parse(from)) / 1000 / query.bucket > MAX_BUCKETS) {
      throw gatewayError('invalid_parameter', { param: 'bucket', problem: `at most ${MAX_BUCKETS} buckets per range` });
    }
    return { object: 'series', from, to, bucket: query.bucket, ...(await store.series({ from, to, bucketSeconds: query.bucket })) };
  });
}

function toSearch(query: z.output<ReturnType<typeof schemas>['searchSchema']>): RecordSearch {
  checkRange(query);
  const search: RecordSearch = { limit: query.limit };
  const { cursor: before, q, limit: _limit, ...filters } = query;
  for (const [key, value] of Object.entries(filters)) {
    if (value !== undefined) (search as unknown as Record<string, unknown>)[key] = value;
  }
  if (q !== undefined) search.text = q;
  if (before !== undefined) search.before = before;
  return search;
}

function listPage<T>(page: SearchPage<T>) {
  return { object: 'list', data: page.data, nextCursor: page.next === null ? null : encodeTurnCursor(page.next) };
}
