/**
 * Caps on what one turn record may keep, applied when a record is queued (so the queue's memory is
 * bounded too), whatever path built it. Text past a cap is cut and marked visibly with
 * `…[truncated N chars]`; every cut is counted per field, for the metrics.
 *
 * - Identifiers (ids, numbers, names, codes) are capped at KEY_CHARS, a property of the schema
 *   rather than a setting: they are indexed (PostgreSQL refuses index rows past ~2.7 kB, failing
 *   the write) and the admin API looks calls up by ids of at most that length.
 * - Free text (the caller's words, the answer, userData, the error message, each tool run's
 *   arguments, result and error) is capped at `maxTextChars`.
 * - The tool runs of a turn are capped at `maxToolRunsChars` of JSON: the runs past it are replaced
 *   by one marker run saying how many were left out.
 */

import type { CallEventRecord, ToolRunRecord, TurnRecord } from './turn-record.ts';

export interface RecordLimits {
  maxTextChars: number;
  maxToolRunsChars: number;
}

/** The defaults of records.maxTextChars and records.maxToolRunsChars (config/schema.ts). */
export const DEFAULT_RECORD_LIMITS: Readonly<RecordLimits> = { maxTextChars: 8000, maxToolRunsChars: 32_000 };

/** Identifiers: ids, phone numbers, agent and provider names, codes. */
export const KEY_CHARS = 256;

/** The fields whose cuts are counted (a fixed list: metric label values). */
export type TruncatedField = 'callerText' | 'answerText' | 'userData' | 'errorMessage' | 'toolRuns' | 'attempts' | 'identifier' | 'event';

export function truncationMarker(removedChars: number): string {
  return `…[truncated ${removedChars} chars]`;
}

/**
 * `value` if it fits in `max` characters; else its start and the marker, `max` characters in all
 * (never splitting a surrogate pair), so a capped identifier is still one the admin API accepts.
 */
export function truncateText(value: string, max: number): string {
  if (value.length <= max) return value;
  let keep = max;
  // The marker's length depends on the count it shows: settle in a few steps.
  for (let i = 0; i < 3; i++) keep = Math.max(0, max - truncationMarker(value.length - keep).length);
  const code = value.charCodeAt(keep - 1);
  if (keep > 0 && code >= 0xd800 && code <= 0xdbff) keep -= 1;
  return `${value.slice(0, keep)}${truncationMarker(value.length - keep)}`;
}

/** Applies the caps and counts what it cut. */
export class RecordCapper {
  readonly #limits: RecordLimits;
  readonly #truncated = new Map<TruncatedField, number>();

  constructor(limits: RecordLimits = DEFAULT_RECORD_LIMITS) {
    this.#limits = limits;
  }

  /** Fields cut since start, by field (monotonic). */
  get truncated(): ReadonlyMap<TruncatedField, number> {
    return this.#truncated;
  }

  /** A copy of the record within its caps. */
  capTurn(record: TurnRecord): TurnRecord {
    const key = (value: string | null) => this.#cut(value, KEY_CHARS, 'identifier');
    const text = (value: string | null, field: TruncatedField) => this.#cut(value, this.#limits.maxTextChars, field);
    return {
      ...record,
      id: key(record.id) ?? '',
      instanceId: key(record.instanceId),
      channelId: key(record.channelId),
      callerNumber: key(record.callerNumber),
      calleeNumber: key(record.calleeNumber),
      userData: text(record.userData, 'userData'),
      agent: key(record.agent) ?? '',
      provider: key(record.provider),
      attempts: record.attempts.map((attempt) => ({
        ...attempt,
        provider: this.#cut(attempt.provider, KEY_CHARS, 'attempts') ?? '',
        model: this.#cut(attempt.model, KEY_CHARS, 'attempts'),
        errorCode: this.#cut(attempt.errorCode, KEY_CHARS, 'attempts'),
      })),
      callerText: text(record.callerText, 'callerText') ?? '',
      answerText: text(record.answerText, 'answerText') ?? '',
      toolRuns: this.#capToolRuns(record.toolRuns),
      signal: key(record.signal),
      finishReason: key(record.finishReason),
      cancellation: key(record.cancellation),
      errorCode: key(record.errorCode),
      errorMessage: text(record.errorMessage, 'errorMessage'),
    };
  }

  /** A platform event's identifiers within KEY_CHARS (its payload is bounded by the callback's body limit). */
  capEvent(event: CallEventRecord): CallEventRecord {
    return {
      ...event,
      instanceId: this.#cut(event.instanceId, KEY_CHARS, 'event') ?? '',
      event: this.#cut(event.event, KEY_CHARS, 'event') ?? '',
      eventKey: this.#cut(event.eventKey, KEY_CHARS, 'event') ?? '',
    };
  }

  #capToolRuns(runs: readonly ToolRunRecord[]): ToolRunRecord[] {
    const { maxTextChars, maxToolRunsChars } = this.#limits;
    const kept: ToolRunRecord[] = [];
    let size = 2; // []
    for (const [index, run] of runs.entries()) {
      const capped: ToolRunRecord = {
        ...run,
        name: this.#cut(run.name, KEY_CHARS, 'toolRuns') ?? '',
        arguments: this.#cut(run.arguments, maxTextChars, 'toolRuns') ?? '',
        error: this.#cut(run.error, maxTextChars, 'toolRuns'),
        result: this.#cut(run.result, maxTextChars, 'toolRuns') ?? '',
      };
      const runSize = JSON.stringify(capped).length + 1;
      if (size + runSize > maxToolRunsChars) {
        const rest = runs.slice(index);
        const restChars = rest.reduce((sum, r) => sum + JSON.stringify(r).length + 1, 0);
        kept.push(omittedRuns(rest.length, restChars));
        this.#count('toolRuns');
        return kept;
      }
      size += runSize;
      kept.push(capped);
    }
    return kept;
  }

  #cut(value: string | null, max: number, field: TruncatedField): string | null {
    if (typeof value !== 'string') return value ?? null;
    if (value.length <= max) return value;
    this.#count(field);
    return truncateText(value, max);
  }

  #count(field: TruncatedField): void {
    this.#truncated.set(field, (this.#truncated.get(field) ?? 0) + 1);
  }
}

/** Stands for the tool runs left out, where they would have been. */
function omittedRuns(count: number, chars: number): ToolRunRecord {
  return {
    name: '…',
    arguments: '',
    ok: false,
    error: `…[truncated ${count} tool run${count === 1 ? '' : 's'}, ${chars} chars]`,
    status: null,
    result: '',
    ms: 0,
  };
}
