import type { IncomingHttpHeaders } from 'node:http';
import type { ExtendDataInput } from '../protocol/extend-data.ts';

/**
 * The body in the gateway's form: the platform's call data as `extendData` (validated there like
 * the IMS workflow's own: short ids without control characters, an integer sentenceId), its own
 * fields taken out so none is relayed upstream.
 */
export function withCallData(
  body: Readonly<Record<string, unknown>>,
  call: ExtendDataInput,
  drop: readonly string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body };
  for (const key of drop) delete out[key];
  const extendData: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(call)) if (value !== undefined && value !== null && value !== '') extendData[key] = value;
  out.extendData = extendData;
  return out;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string or number field of an object (ids arrive as either). */
export function idField(source: unknown, key: string): string | number | undefined {
  const value = isRecord(source) ? source[key] : undefined;
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

/** A request header's single value (the first when repeated). */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** An integer turn number (a number or a string of digits); anything else is no turn order. */
export function turnNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}
