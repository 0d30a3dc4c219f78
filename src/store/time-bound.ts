/**
 * The time bounds every records query takes (the admin API's `from`/`to`, the export's
 * `--since`/`--until`), read the same everywhere: an ISO date (UTC midnight), an ISO date-time
 * with a zone, or a duration back from now (`90m`, `24h`, `7d`, `2w`).
 */

export const TIME_BOUND_FORMAT =
  'an ISO date (2026-11-01), a date-time with a zone (2026-11-01T08:00:00Z) or a duration back from now (90m, 24h, 7d, 2w)';

const DURATION = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/i;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** The largest time a Date holds. */
const MAX_TIME_MS = 8.64e15;

/** A bound as canonical UTC ISO; undefined for anything else (and for a duration reaching before any Date). */
export function parseTimeBound(value: string, now: Date): string | undefined {
  const text = value.trim();
  const duration = DURATION.exec(text);
  if (!duration) return parseIsoTime(text);
  const at = now.getTime() - Number(duration[1]) * UNIT_MS[duration[2]!.toLowerCase()]!;
  return Number.isFinite(at) && Math.abs(at) <= MAX_TIME_MS ? new Date(at).toISOString() : undefined;
}

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/i;

/**
 * `2026-11-01` (UTC midnight) or a date-time with a zone (`2026-11-01T08:00:00Z`,
 * `2026-11-01T16:00+08:00`), as canonical UTC ISO; undefined for anything else, including
 * impossible dates (2026-02-30) and date-times without a zone (ambiguous).
 */
export function parseIsoTime(value: string): string | undefined {
  const match = ISO_DATE_TIME.exec(value.trim());
  if (!match) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0'] = match;
  const components = [Number(year), Number(month), Number(day)];
  const date = new Date(Date.UTC(components[0]!, components[1]! - 1, components[2]!));
  if (date.getUTCFullYear() !== components[0] || date.getUTCMonth() + 1 !== components[1] || date.getUTCDate() !== components[2]) {
    return undefined;
  }
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  const ms = Date.parse(match[4] === undefined ? `${value.trim()}T00:00:00Z` : value.trim());
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
