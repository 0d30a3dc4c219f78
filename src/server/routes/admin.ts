import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { gatewayError } from '../../core/error-catalog.ts';
import type { PhoneLookup } from '../../store/phone-lookup.ts';
import { parseIsoTime, parseTimeBound, TIME_BOUND_FORMAT } from '../../store/time-bound.ts';
import { SYNTHETIC_FILTERS, type CallQuery, type RecordStore, type SyntheticFilter, type TurnPage } from '../../store/turn-record.ts';
import type { BearerAuth } from '../bearer-auth.ts';
import { toClientError } from '../client-errors.ts';
import { sendError } from '../error-response.ts';
import { registerAdminSearch } from './admin-search.ts';
import { decodeTurnCursor, encodeTurnCursor } from './turn-cursor.ts';

export interface AdminRouteDeps {
  store: RecordStore;
  /** Built from `admin.apiKeys` (never the chat keys). */
  auth: BearerAuth;
  /** Where failures of the store are logged (optional: a bare app may have none). */
  logger?: { error(obj: object, msg?: string): void };
  /** Turns per page of one call (admin.turnsPerPage, admin.maxTurnsPerPage). Default 100 and 500. */
  turnPages?: { turnsPerPage: number; maxTurnsPerPage: number };
  /** Hashes a full number given as `caller`/`callee`, to find it although stored masked. */
  phoneLookup?: PhoneLookup | undefined;
  /** For durations in from/to (`24h`); defaults to the clock. */
  now?: () => Date;
}

/** Outcomes a call can be filtered by: every turn outcome, and 'ended'. */
export const CALL_OUTCOMES = ['ok', 'apologized', 'error', 'client_closed', 'superseded', 'shutdown', 'upstream_broken', 'ended'] as const;

const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 50;
const MAX_TEXT = 256;

/**
 * The admin API, every route behind the admin key (`Authorization: Bearer <admin key>`):
 *  - `GET /admin/calls?from&to&agent&caller&callee&outcome&synthetic&limit&offset`: calls, newest
 *    first, as `{ object: 'list', data: CallSummary[], total, limit, offset }`;
 *  - `GET /admin/calls/:instanceId?limit&cursor`: one call with a page of its turns (in order),
 *    its platform events, and `nextCursor` (null on the last page);
 *  - `GET /admin/stats?from&to&synthetic`: per agent and provider, as `{ object: 'list', data: StatsRow[] }`.
 * `from`/`to` bound the turns' start times, [from, to), read as `calls export` reads
 * `--since`/`--until` (time-bound.ts). `synthetic` is exclude, only or include: the call list
 * includes test traffic by default (each call says whether it is), the stats exclude it. An empty
 * parameter counts as absent; an unknown one is refused (a typo must not silently widen the
 * query). Errors are OpenAI-shaped and answered by these routes themselves (error-response.ts),
 * so they keep that shape in any app.
 */
export function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  const { turnsPerPage, maxTurnsPerPage } = deps.turnPages ?? { turnsPerPage: 100, maxTurnsPerPage: 500 };
  const now = deps.now ?? (() => new Date());
  const callQuerySchema = z.strictObject({
    limit: wholeNumber(1, maxTurnsPerPage, turnsPerPage, `must be a whole number from 1 to ${maxTurnsPerPage}`),
    cursor: turnCursorParam(),
  });
  void app.register(async (scope) => {
    scope.setErrorHandler(async (error, request, reply) => {
      if (toClientError(error).status >= 500)
        deps.logger?.error({ err: error, method: request.method, url: request.url }, 'admin request failed');
      return sendError(reply, error);
    });
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      reply.header('cache-control', 'no-store');
      const checked = deps.auth.check(request.headers.authorization);
      if (checked.failure !== undefined) {
        reply.header('www-authenticate', 'Bearer realm="admin"');
        throw gatewayError('invalid_api_key', { realm: 'admin', failure: checked.failure });
      }
    });

    scope.get('/admin/calls', async (request) => {
      const query = parseQuery(callsQuerySchema, request.query);
      const callQuery: CallQuery = { ...timeRange(query, now()), limit: query.limit, offset: query.offset, synthetic: query.synthetic };
      if (query.agent !== undefined) callQuery.agent = query.agent;
      if (query.caller !== undefined) callQuery.caller = query.caller;
      const callerHash = deps.phoneLookup?.hash(query.caller);
      if (callerHash !== undefined) callQuery.callerHash = callerHash;
      if (query.callee !== undefined) callQuery.callee = query.callee;
      const calleeHash = deps.phoneLookup?.hash(query.callee);
      if (calleeHash !== undefined) callQuery.calleeHash = calleeHash;
      if (query.outcome !== undefined) callQuery.outcome = query.outcome;
      const { calls, total } = await deps.store.listCalls(callQuery);
      return { object: 'list', data: calls, total, limit: query.limit, offset: query.offset };
    });

    scope.get('/admin/calls/:instanceId', async (request) => {
      const { instanceId } = request.params as { instanceId: string };
      if (instanceId.length > MAX_TEXT) {
        throw gatewayError('invalid_parameter', { param: 'instanceId', maxChars: MAX_TEXT });
      }
      const query = parseQuery(callQuerySchema, request.query);
      const page: TurnPage = { limit: query.limit };
      if (query.cursor !== undefined) page.after = query.cursor;
      const call = await deps.store.getCall(instanceId, page);
      if (!call) {
        throw gatewayError('call_not_found', { instanceId });
      }
      const { next, ...detail } = call;
      return { ...detail, nextCursor: next === null ? null : encodeTurnCursor(next) };
    });

    scope.get('/admin/stats', async (request) => {
      const query = parseQuery(statsQuerySchema, request.query);
      return { object: 'list', data: await deps.store.stats({ ...timeRange(query, now()), synthetic: query.synthetic }) };
    });

    registerAdminSearch(scope, deps.store);
  });
}

// ---------------------------------------------------------------------------------------------
// Query validation

/** `?x=` is the same as no x (forms send empty fields). */
export const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const TIME_FORMAT = 'must be an ISO date (2026-11-01) or date-time with a zone (2026-11-01T08:00:00Z)';

/** An ISO date or zoned date-time, normalized to the canonical UTC form. */
export const isoTime = z.preprocess(
  blankToUndefined,
  z
    .string({ error: TIME_FORMAT })
    .transform((value, ctx) => {
      const iso = parseIsoTime(value);
      if (iso === undefined) {
        ctx.addIssue({ code: 'custom', message: TIME_FORMAT });
        return z.NEVER;
      }
      return iso;
    })
    .optional(),
);

/** A page's `cursor`: the `nextCursor` of an earlier page, decoded. */
export const turnCursorParam = () =>
  z.preprocess(
    blankToUndefined,
    z
      .string({ error: 'must be given once, as text' })
      .transform((value, ctx) => {
        const cursor = decodeTurnCursor(value);
        if (cursor === undefined) {
          ctx.addIssue({ code: 'custom', message: 'must be the nextCursor of an earlier page' });
          return z.NEVER;
        }
        return cursor;
      })
      .optional(),
  );

export const text = z.preprocess(
  blankToUndefined,
  z.string({ error: 'must be given once, as text' }).trim().max(MAX_TEXT, `must be at most ${MAX_TEXT} characters`).optional(),
);

export const wholeNumber = (min: number, max: number, fallback: number, message: string) =>
  z.preprocess(
    (value) => blankToUndefined(value) ?? String(fallback),
    z
      .string({ error: message })
      .trim()
      .regex(/^\d+$/, message)
      .transform(Number)
      .pipe(z.number().int(message).min(min, message).max(max, message)),
  );

/** A time bound (time-bound.ts), checked here and read against the clock by `timeRange`. */
const timeBound = z.preprocess(
  blankToUndefined,
  z
    .string({ error: `must be ${TIME_BOUND_FORMAT}` })
    .trim()
    .refine((value) => parseTimeBound(value, new Date()) !== undefined, `must be ${TIME_BOUND_FORMAT}`)
    .optional(),
);

const syntheticFilter = (fallback: SyntheticFilter) =>
  z.preprocess(
    (value) => blankToUndefined(value) ?? fallback,
    z.enum(SYNTHETIC_FILTERS, { error: `must be one of ${SYNTHETIC_FILTERS.join(', ')}` }),
  );

const callsQuerySchema = z.strictObject({
  from: timeBound,
  to: timeBound,
  agent: text,
  caller: text,
  callee: text,
  outcome: z.preprocess(blankToUndefined, z.enum(CALL_OUTCOMES, { error: `must be one of ${CALL_OUTCOMES.join(', ')}` }).optional()),
  synthetic: syntheticFilter('include'),
  limit: wholeNumber(1, MAX_LIMIT, DEFAULT_LIMIT, `must be a whole number from 1 to ${MAX_LIMIT}`),
  offset: wholeNumber(0, Number.MAX_SAFE_INTEGER, 0, 'must be a whole number, 0 or more'),
});

const statsQuerySchema = z.strictObject({ from: timeBound, to: timeBound, synthetic: syntheticFilter('exclude') });

export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const parsed = schema.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const name = issue.keys[0]!;
    throw gatewayError('invalid_parameter', { param: name, unknown: true });
  }
  const name = String(issue.path[0] ?? 'query');
  throw gatewayError('invalid_parameter', { param: name, problem: issue.message });
}

/** from/to as canonical UTC times (durations counted back from `now`); from must not be after to. */
function timeRange(query: { from?: string | undefined; to?: string | undefined }, now: Date): { from?: string; to?: string } {
  const range: { from?: string; to?: string } = {};
  for (const name of ['from', 'to'] as const) {
    const value = query[name];
    if (value === undefined) continue;
    const iso = parseTimeBound(value, now);
    if (iso === undefined) throw gatewayError('invalid_parameter', { param: name, problem: `must be ${TIME_BOUND_FORMAT}` });
    range[name] = iso;
  }
  checkRange(range);
  return range;
}

/** from must not be after to. */
export function checkRange(query: { from?: string | undefined; to?: string | undefined }): void {
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
    throw gatewayError('invalid_parameter', { param: 'from', after: 'to' });
  }
}
