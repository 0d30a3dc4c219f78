/**
 * The `cursor` of GET /admin/calls/{instanceId}: the position after the last turn of a page, as an
 * opaque URL-safe string. It names a turn by its start time and id, so a page never shifts when
 * turns are added or purged elsewhere in the call.
 */

import type { TurnCursor } from '../../store/turn-record.ts';

export function encodeTurnCursor(cursor: TurnCursor): string {
  return Buffer.from(JSON.stringify([cursor.startedAt, cursor.id])).toString('base64url');
}

/** The cursor, or undefined when `text` is not one this server made. */
export function decodeTurnCursor(text: string): TurnCursor | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [startedAt, id] = value as unknown[];
  if (typeof startedAt !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(startedAt))) return undefined;
  // Stored ids never hold control characters; PostgreSQL would refuse a NUL in a query.
  if (id.length > 1000 || /[\u0000-\u001f]/.test(id)) return undefined;
  return { startedAt, id };
}
