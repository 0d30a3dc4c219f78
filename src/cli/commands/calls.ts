import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../config/config-error.ts';
import type { LoadConfigOptions } from '../../config/load-config.ts';
import { loadRecordsSettings, type RecordsSettings } from '../../config/load-records-settings.ts';
import { openRecordStore } from '../../store/open-store.ts';
import type { BatchedRecordStore } from '../../store/record-queue.ts';
import { parseTimeBound, TIME_BOUND_FORMAT } from '../../store/time-bound.ts';
import { SYNTHETIC_FILTERS, type SyntheticFilter, type TurnRange, type TurnRecord } from '../../store/turn-record.ts';

export const CALLS_USAGE = `Usage: voice-llm-gateway calls export --since ISO_OR_DURATION [options]

Exports the recorded turns (one per answer the gateway gave) that started at or after --since
(and before --until), oldest first, from the records database the server writes: PostgreSQL when
DATABASE_URL is set, else the SQLite file records.sqliteFile under server.dataDir (relative to
the current folder, as for the server). The range and the synthetic filter are read as the admin
API reads from, to and synthetic.

Options for calls export:
  --since WHEN      2026-11-01 (UTC midnight), 2026-11-01T08:00:00+08:00, or a duration back
                    from now: 90m, 24h, 7d, 2w (s, m, h, d, w)
  --until WHEN      The same forms; turns that started before it (default: no end)
  --synthetic WHICH include (the default: every turn), exclude (real calls only) or only (the
                    turns sent by voice-llm-gateway check and simulate)
  --format FORMAT   jsonl (one TurnRecord as JSON per line; the default) or csv (one row per
                    turn, a header row first; attempts and toolRuns as JSON text;
                    text starting with = + - @ gets a leading ' so no cell is a formula)
  --config FILE     YAML config (default: $GATEWAY_CONFIG, else ./config.yaml if present); only
                    server.dataDir and records are read, so upstream secrets need not be set
  --output FILE     Write here instead of to stdout (the folder is created if missing)
  -h, --help        Show this help

Exit code: 0 exported (perhaps nothing), 1 the database or the output failed, 2 bad options,
78 invalid configuration.
`;

export interface CallsIo {
  output?: NodeJS.WritableStream;
  error?: NodeJS.WritableStream;
  /** Defaults to process.env (DATABASE_URL, GATEWAY_CONFIG, ...). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where relative paths (config, dataDir, --output) start; defaults to process.cwd(). */
  cwd?: string;
  /** For durations in --since; defaults to the clock. */
  now?: () => Date;
}

/** A wrong flag or value: reported with the usage, exit status 2. */
class UsageError extends Error {}

/**
 * The CSV columns: every TurnRecord field but the number hashes (written, never read), in this
 * order. Typed so that a field added to TurnRecord fails to compile until it is placed here.
 */
const CSV_COLUMNS = Object.keys({
  id: 0,
  startedAt: 0,
  endedAt: 0,
  instanceId: 0,
  channelId: 0,
  sentenceId: 0,
  callerNumber: 0,
  calleeNumber: 0,
  userData: 0,
  agent: 0,
  provider: 0,
  attempts: 0,
  callerText: 0,
  answerText: 0,
  toolRuns: 0,
  signal: 0,
  finishReason: 0,
  outcome: 0,
  httpStatus: 0,
  ttftMs: 0,
  firstSentenceMs: 0,
  totalMs: 0,
  promptTokens: 0,
  completionTokens: 0,
  cancellation: 0,
  errorCode: 0,
  errorMessage: 0,
  synthetic: 0,
  platform: 0,
  timings: 0,
} satisfies Record<Exclude<keyof TurnRecord, 'numberHashes'>, 0>) as Exclude<keyof TurnRecord, 'numberHashes'>[];

/** `voice-llm-gateway calls ...`: resolves to the exit code. `argv` may start with "calls". */
export async function runCalls(argv: string[], io: CallsIo = {}): Promise<number> {
  const stdout = io.output ?? process.stdout;
  const stderr = io.error ?? process.stderr;
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  const now = io.now ?? (() => new Date());
  let options: ExportOptions;
  try {
    const parsed = parseFlags(argv.length > 0 && argv[0] === 'calls' ? argv.slice(1) : argv);
    if (parsed === 'help') {
      stdout.write(CALLS_USAGE);
      return 0;
    }
    options = resolveOptions(parsed, now());
  } catch (error) {
    if (error instanceof UsageError) {
      stderr.write(`calls: ${error.message}\n\n${CALLS_USAGE}`);
      return 2;
    }
    throw error;
  }

  const configOptions: LoadConfigOptions = { env, cwd };
  if (options.config !== undefined) configOptions.configPath = options.config;
  let config: RecordsSettings;
  try {
    config = loadRecordsSettings(configOptions);
  } catch (error) {
    if (error instanceof ConfigError) {
      stderr.write(`${error.message}\n`);
      return 78;
    }
    throw error;
  }

  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  const sqlitePath = resolve(cwd, config.server.dataDir, config.records.sqliteFile);
  if (databaseUrl === undefined && !existsSync(sqlitePath)) {
    stderr.write(
      `calls: no records database at ${sqlitePath} (server.dataDir + records.sqliteFile). ` +
        'Run this from the folder the server runs in, pass its --config, or set DATABASE_URL.\n',
    );
    return 1;
  }
  const store = openRecordStore({
    databaseUrl,
    sqlitePath,
    queueSize: config.records.queueSize,
    batchSize: config.records.batchSize,
    flushIntervalMs: config.records.flushIntervalMs,
  });
  const where = databaseUrl === undefined ? sqlitePath : 'PostgreSQL (DATABASE_URL)';
  try {
    try {
      await store.ready();
    } catch (error) {
      stderr.write(`calls: cannot open the records database ${where}: ${message(error)}\n`);
      return 1;
    }
    let target: NodeJS.WritableStream;
    let file: ReturnType<typeof createWriteStream> | undefined;
    const path = options.output === undefined ? undefined : resolve(cwd, options.output);
    if (path === undefined) target = stdout;
    else {
      try {
        mkdirSync(dirname(path), { recursive: true });
        file = createWriteStream(path);
        await once(file, 'open');
      } catch (error) {
        stderr.write(`calls: cannot write ${path}: ${message(error)}\n`);
        return 1;
      }
      target = file;
    }
    try {
      const count = await exportTurns(store, options, target);
      if (file) {
        file.end();
        await once(file, 'finish');
      }
      stderr.write(
        `calls: exported ${count} turn${count === 1 ? '' : 's'} since ${options.range.from}` +
          `${options.range.to === undefined ? '' : ` until ${options.range.to}`}${path === undefined ? '' : ` to ${path}`}\n`,
      );
      return 0;
    } catch (error) {
      if (file && path !== undefined) {
        // No half file that looks like a complete export.
        file.destroy();
        rmSync(path, { force: true });
      }
      stderr.write(`calls: export failed: ${message(error)}\n`);
      return 1;
    }
  } finally {
    await store.close().catch(() => undefined);
  }
}

interface ExportOptions {
  /** from: --since (always set), to: --until. */
  range: TurnRange & { from: string };
  format: 'jsonl' | 'csv';
  config?: string;
  output?: string;
}

type ParsedFlags = ReturnType<typeof parseArgsStrict>;

function parseArgsStrict(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      synthetic: { type: 'string' },
      format: { type: 'string' },
      config: { type: 'string' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function parseFlags(argv: string[]): ParsedFlags | 'help' {
  let parsed: ParsedFlags;
  try {
    parsed = parseArgsStrict(argv);
  } catch (error) {
    throw new UsageError(message(error));
  }
  if (parsed.values.help) return 'help';
  return parsed;
}

function resolveOptions(parsed: ParsedFlags, now: Date): ExportOptions {
  const [subcommand, ...rest] = parsed.positionals;
  if (subcommand === undefined) throw new UsageError('missing the subcommand: calls export ...');
  if (subcommand !== 'export') throw new UsageError(`unknown subcommand "${subcommand}" (only "export")`);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const { values } = parsed;
  if (values.since === undefined || values.since.trim() === '') {
    throw new UsageError('--since is required (e.g. --since 24h or --since 2026-11-01)');
  }
  const format = (values.format ?? 'jsonl').trim().toLowerCase();
  if (format !== 'jsonl' && format !== 'csv') throw new UsageError(`--format must be jsonl or csv, got "${values.format}"`);
  const synthetic = (values.synthetic ?? 'include').trim().toLowerCase();
  if (!isSyntheticFilter(synthetic)) {
    throw new UsageError(`--synthetic must be ${SYNTHETIC_FILTERS.join(', ')}, got "${values.synthetic}"`);
  }
  const range: ExportOptions['range'] = { from: timeOption('--since', values.since, now), synthetic };
  if (values.until !== undefined) range.to = timeOption('--until', values.until, now);
  if (range.to !== undefined && range.from > range.to) throw new UsageError(`--since ${range.from} is after --until ${range.to}`);
  const options: ExportOptions = { range, format };
  if (values.config !== undefined) options.config = values.config;
  if (values.output !== undefined) {
    if (values.output.trim() === '') throw new UsageError('--output needs a file name');
    options.output = values.output;
  }
  return options;
}

/** A --since or --until value, as the admin API reads from and to; canonical UTC ISO. */
function timeOption(flag: string, value: string, now: Date): string {
  const iso = parseTimeBound(value, now);
  if (iso === undefined) throw new UsageError(`${flag} "${value}" must be ${TIME_BOUND_FORMAT}`);
  return iso;
}

function isSyntheticFilter(value: string): value is SyntheticFilter {
  return (SYNTHETIC_FILTERS as readonly string[]).includes(value);
}

/** Streams the turns to `target`, waiting whenever it is full; resolves to how many were written. */
async function exportTurns(store: BatchedRecordStore, options: ExportOptions, target: NodeJS.WritableStream): Promise<number> {
  let failure: Error | undefined;
  const onError = (error: Error) => {
    failure ??= error;
  };
  target.on('error', onError);
  const write = async (text: string) => {
    if (failure) throw failure;
    if (!target.write(text)) {
      await new Promise<void>((resolveDrain, rejectDrain) => {
        const done = () => {
          target.off('drain', done);
          target.off('error', fail);
          resolveDrain();
        };
        const fail = (error: Error) => {
          target.off('drain', done);
          target.off('error', fail);
          rejectDrain(error);
        };
        target.on('drain', done);
        target.on('error', fail);
      });
    }
    if (failure) throw failure;
  };
  let count = 0;
  try {
    if (options.format === 'csv') await write(csvRow(CSV_COLUMNS));
    await store.exportTurns(options.range, async (records) => {
      const lines = records.map((record) => (options.format === 'csv' ? csvRow(csvValues(record)) : `${JSON.stringify(record)}\n`));
      await write(lines.join(''));
      count += records.length;
    });
  } finally {
    target.off('error', onError);
  }
  return count;
}

/**
 * A turn as CSV fields: nulls empty, nested values as JSON text, text that a spreadsheet would
 * run as a formula defused (numbers are written as they are: a number is never a formula).
 */
export function csvValues(record: TurnRecord): string[] {
  return CSV_COLUMNS.map((column) => {
    const value: unknown = record[column];
    if (value === null || value === undefined) return '';
    if (typeof value === 'number') return String(value);
    return defuseFormula(typeof value === 'object' ? JSON.stringify(value) : String(value));
  });
}

/**
 * Caller words, answers and tool output are untrusted: a cell starting with = + - @ (or a tab or
 * CR, which some spreadsheets skip before reading one) is shown as text by prefixing a single
 * quote, as OWASP's CSV injection guidance says.
 */
function defuseFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** One RFC 4180 row (CRLF-terminated): a field with a comma, quote, CR, LF or edge space is quoted, quotes doubled. */
export function csvRow(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export const CSV_HEADER: readonly string[] = CSV_COLUMNS;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
