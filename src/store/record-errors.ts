/**
 * Tells a batch that failed because of what one of its records holds (a value the database or the
 * encoder refuses) from a batch that failed because the database is unavailable. Only the first
 * kind is worth splitting up to find the record at fault: retrying records one by one against a
 * database that is down would only multiply the waiting.
 */

/** PostgreSQL SQLSTATE classes caused by a row's values: 22 data exception, 23 integrity constraint, 54 program limit (e.g. an index row too large). */
const POSTGRES_RECORD_CLASSES = new Set(['22', '23', '54']);
/** SQLite primary result codes caused by a row's values: TOOBIG, CONSTRAINT, MISMATCH. */
const SQLITE_RECORD_CODES = new Set([18, 19, 20]);
/**
 * Raised while a record is encoded or handed to the records worker (JSON.stringify of a cycle or
 * a BigInt, a value node:sqlite cannot bind, one that cannot be cloned), never by an outage.
 */
const ENCODING_ERRORS = new Set(['TypeError', 'RangeError', 'DataCloneError']);

export function isRecordError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code, errcode } = error as { name?: unknown; code?: unknown; errcode?: unknown };
  if (typeof name === 'string' && ENCODING_ERRORS.has(name)) return true;
  // node-postgres puts the SQLSTATE (five characters) in `code`.
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && POSTGRES_RECORD_CLASSES.has(code.slice(0, 2))) return true;
  // node:sqlite puts the (extended) result code in `errcode`; its low byte is the primary code.
  return typeof errcode === 'number' && SQLITE_RECORD_CODES.has(errcode & 0xff);
}
