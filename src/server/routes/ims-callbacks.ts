import type { CallbackResult } from '../../telemetry/operations-metrics.ts';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { gatewayError } from '../../core/error-catalog.ts';
import { GatewayError } from '../../core/gateway-error.ts';
import { CALL_ENDING_EVENTS } from '../../store/sql-records.ts';
import type { CallEventRecord, RecordStore } from '../../store/turn-record.ts';
import { exceedsJsonDepth } from '../../validation/json-depth.ts';
import { parseBearer, SecretSet } from '../bearer-auth.ts';
import { toClientError } from '../client-errors.ts';
import { sendError } from '../error-response.ts';

/** What the route logs with (a pino logger fits). */
export interface CallbackLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ImsCallbackDeps {
  store: RecordStore;
  /** `callbacks.token`; unset or blank: the endpoint is off (404). */
  token: string | undefined;
  logger: CallbackLogger;
  /** A call-ending event (agent_stop, session_stop) was stored for this instanceId. */
  onCallEnded?: (instanceId: string) => void;
  /** Counts each callback's result (the vlg_callbacks_total metric). */
  count?: (result: CallbackResult) => void;
}

export const IMS_CALLBACK_PATH = '/ims/callbacks';

/** Callback bodies are small JSON documents (chat records, recording URLs); larger is a mistake. */
const BODY_LIMIT_BYTES = 1024 * 1024;
const MAX_ID_CHARS = 256;
const MAX_EVENT_CHARS = 128;
/** Real callbacks nest a few levels; the body is hashed and stored by recursive code. */
const MAX_DEPTH = 32;

/*
 * What a callback body may look like. The IMS agent callback is a JSON object such as
 *   {"aiAgentId":"…","instanceId":"39f8…","event":"agent_stop","code":1001,"message":"…",
 *    "timestamp":"2023-10-01T12:00:00Z","data":{…},"userData":"…","extendData":{…}}
 * with events agent_start, session_start, agent_stop, error, intent_detected,
 * intent_recognized, llm_data_received, tts_data_received, chat_record, audio_record,
 * full_audio_record, outbound_call, inbound_call, client_defined_data, instruction, …
 * Field names are matched tolerantly: case-insensitively and ignoring "_" and "-", first at the
 * top level, then inside `extendData` and then `data` (either may be an object or a JSON string):
 *  - the event name:  event, eventType, eventName (Event, EventType, event_type, …);
 *  - the instance id: instanceId, agentInstanceId, aiAgentInstanceId (InstanceId, instance_id, …),
 *    a string or a number;
 *  - the platform's event id (top level only), used as the idempotence key when present:
 *    eventId, callbackId, notifyId (EventId, event_id, …).
 * Without an event id, the key is the sha256 of the canonical body (keys sorted at every level),
 * so a callback the platform delivers twice is stored once. The whole body is kept as the payload.
 * Any Content-Type is read as JSON (platforms differ in what they declare).
 */
const EVENT_FIELDS = ['event', 'eventtype', 'eventname'];
const INSTANCE_FIELDS = ['instanceid', 'agentinstanceid', 'aiagentinstanceid'];
const EVENT_ID_FIELDS = ['eventid', 'callbackid', 'notifyid'];
const NESTED_FIELDS = ['extenddata', 'data'];

/**
 * `POST /ims/callbacks`: the IMS agent event callbacks, recorded against their call. The platform
 * sends the configured token in `Authorization` (raw, or as `Bearer <token>`), compared in constant
 * time. A repeat of a stored event answers 200 `{ok: true, duplicate: true}` (so the platform stops
 * retrying); the store marks the call ended on agent_stop/session_stop. Errors are OpenAI-shaped
 * and answered by the route itself, so they keep that shape in any app.
 */
export function registerImsCallbacks(app: FastifyInstance, deps: ImsCallbackDeps): void {
  const token = deps.token?.trim() ? deps.token : undefined;
  const expected = token === undefined ? undefined : new SecretSet([token]);
  const { logger } = deps;

  void app.register(async (scope) => {
    // The body is read as bytes and parsed by the handler (after the token check), so a malformed
    // one gets the same OpenAI-shaped 400 and log line as any other rejected callback.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
      done(null, body);
    });
    scope.setErrorHandler(async (error, request, reply) => {
      const clientError = toClientError(error);
      deps.count?.(clientError.status === 401 ? 'refused' : clientError.status >= 500 ? 'failed' : 'invalid');
      if (clientError.status >= 500) logger.error({ err: error, method: request.method, url: request.url }, 'IMS callback failed');
      // The route's own refusals are logged where they are made; this catches the framework's
      // (an oversized body, a broken Content-Length).
      else if (!(error instanceof GatewayError)) {
        logger.warn({ status: clientError.status, code: clientError.code }, `IMS callback rejected: ${clientError.message}`);
      }
      return sendError(reply, clientError);
    });

    scope.post(
      IMS_CALLBACK_PATH,
      {
        bodyLimit: BODY_LIMIT_BYTES,
        onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
          if (expected === undefined) {
            throw gatewayError('callbacks_disabled', { path: IMS_CALLBACK_PATH });
          }
          const problem = checkToken(request.headers.authorization, expected);
          if (problem !== undefined) {
            logger.warn({ reason: problem, remoteAddress: request.ip }, 'IMS callback refused: bad token');
            reply.header('www-authenticate', 'Bearer realm="ims-callbacks"');
            throw gatewayError('invalid_callback_token', { missing: problem === 'missing' });
          }
        },
      },
      async (request) => {
        const event = readCallback(request.body, request.headers['content-type']);
        const stored = await deps.store.addEvent(event).catch((cause: unknown) => {
          throw gatewayError('records_unavailable', undefined, { cause });
        });
        logger.debug({ instanceId: event.instanceId, event: event.event, duplicate: !stored }, 'IMS callback');
        if (stored && CALL_ENDING_EVENTS.includes(event.event)) deps.onCallEnded?.(event.instanceId);
        deps.count?.(stored ? 'accepted' : 'duplicate');
        return stored ? { ok: true } : { ok: true, duplicate: true };
      },
    );
  });

  /** Turns the raw body into an event record; a 400 (with a warn line) when it isn't one. */
  function readCallback(body: unknown, contentType: string | undefined): CallEventRecord {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
    const reject = (error: GatewayError, detail: object = {}): never => {
      logger.warn(
        { code: error.code, contentType: contentType ?? null, bodyBytes: bytes.length, ...detail },
        `IMS callback rejected: ${error.message}`,
      );
      throw error;
    };
    if (bytes.length === 0) return reject(gatewayError('invalid_json', { of: 'callback', empty: true }));
    let payload: unknown;
    try {
      payload = JSON.parse(bytes.toString('utf8'));
    } catch {
      return reject(gatewayError('invalid_json', { of: 'callback', empty: false }));
    }
    if (!isObject(payload)) return reject(gatewayError('invalid_callback'));
    if (exceedsJsonDepth(payload, MAX_DEPTH)) return reject(gatewayError('too_deep', { maxDepth: MAX_DEPTH }));
    const fields = Object.keys(payload).slice(0, 20);
    const scopes = [payload, ...NESTED_FIELDS.map((name) => asObject(field(payload, [name]))).filter(isObject)];
    const event = firstValue(scopes, EVENT_FIELDS);
    const instanceId = firstValue(scopes, INSTANCE_FIELDS);
    if (typeof event !== 'string' || event.trim() === '' || event.length > MAX_EVENT_CHARS) {
      return reject(gatewayError('missing_event'), { fields });
    }
    if (
      (typeof instanceId !== 'string' && !(typeof instanceId === 'number' && Number.isFinite(instanceId))) ||
      String(instanceId).trim() === '' ||
      String(instanceId).length > MAX_ID_CHARS
    ) {
      return reject(gatewayError('missing_instance_id'), { fields, event: event.trim() });
    }
    const platformId = field(payload, EVENT_ID_FIELDS);
    const eventKey =
      (typeof platformId === 'string' && platformId.trim() !== '' && platformId.length <= MAX_ID_CHARS) ||
      (typeof platformId === 'number' && Number.isFinite(platformId))
        ? `id:${String(platformId).trim()}`
        : `sha256:${createHash('sha256').update(canonicalJson(payload)).digest('hex')}`;
    return {
      instanceId: String(instanceId).trim(),
      event: event.trim(),
      eventKey,
      receivedAt: new Date().toISOString(),
      payload,
    };
  }
}

/** Why a header fails, or undefined when it carries the token (raw or as Bearer). */
function checkToken(header: string | undefined, expected: SecretSet): 'missing' | 'wrong' | undefined {
  if (header === undefined || header.trim() === '') return 'missing';
  const raw = header.trim();
  // Both forms are always compared (no early exit).
  const rawMatches = expected.indexOf(raw) >= 0;
  const bearerMatches = expected.indexOf(parseBearer(raw) ?? '') >= 0;
  return rawMatches || bearerMatches ? undefined : 'wrong';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An object, or a JSON string holding one (IMS sends extendData/data either way). */
function asObject(value: unknown): Record<string, unknown> | undefined {
  if (isObject(value)) return value;
  if (typeof value !== 'string' || !value.trimStart().startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/** The first field of `object` whose normalized name is one of `names` (in the order of `names`). */
function field(object: Record<string, unknown>, names: readonly string[]): unknown {
  const byName = new Map<string, unknown>();
  for (const [key, value] of Object.entries(object)) {
    const name = normalizeName(key);
    if (!byName.has(name) && value !== null && value !== undefined) byName.set(name, value);
  }
  for (const name of names) if (byName.has(name)) return byName.get(name);
  return undefined;
}

function firstValue(scopes: readonly Record<string, unknown>[], names: readonly string[]): unknown {
  for (const scope of scopes) {
    const value = field(scope, names);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** JSON with object keys sorted at every level: equal documents, equal text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((key) => [key, v[key]]),
        )
      : v,
  );
}
