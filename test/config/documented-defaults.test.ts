import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/load-config.ts';

/**
 * The defaults in docs/configuration.md are the schema's: every documented default that is a
 * literal value is what the schema fills in, and every value the schema fills in is documented.
 * The schema is the one place defaults live; this keeps the reference page honest about them.
 */

const DOC = new URL('../../docs/configuration.md', import.meta.url);

/** A config with every section present once, so each default is filled in somewhere. */
const EVERY_SECTION = {
  providers: {
    up: { type: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1' },
    script: { type: 'scripted' },
  },
  agents: {
    a: {
      provider: 'up',
      model: 'm',
      endCall: {},
      transfer: { destinations: { desk: { callee: '1' } } },
      pressDigits: {},
      tools: [{ name: 't', description: 'd', url: 'http://127.0.0.1:1/' }],
    },
  },
  defaultAgent: 'a',
  platforms: { retell: { secret: 'x'.repeat(32) }, twilio: {} },
};

/** Where the rows of each documented table live in the parsed config (rows may add a dotted path). */
const TABLE_BASE: Record<string, string> = {
  '`server`': 'server',
  '`server.limits`': 'server.limits',
  '`type: openai-compatible`': 'providers.up',
  '`timeouts`, `retry`, `circuitBreaker`': 'providers.up',
  '`type: scripted`': 'providers.script',
  '`agents` and `defaultAgent`': 'agents.a',
  '`endCall`': 'agents.a.endCall',
  '`transfer`': 'agents.a.transfer',
  '`pressDigits`': 'agents.a.pressDigits',
  '`tools`': 'agents.a.tools.0',
  '`history`, `speech`, `memory`, `images`': 'agents.a',
  '`calls`': '',
  '`state`': '',
  '`records`, `privacy`, `admin`, `console`, `metrics`, `callbacks`': '',
  '`platforms`': '',
};

/** Documented defaults that name another setting rather than a value. */
const DEFAULT_IS_ANOTHER_SETTING = new Set([
  'platforms.retell.agent',
  'platforms.twilio.agent',
  'server.limits.maxConcurrentStreamsPerKey',
]);

interface DocumentedDefault {
  path: string;
  literal: string;
}

/** Each row `| \`key\` | type | \`default\` | ... |` of the tables named in TABLE_BASE. */
function documentedRows(markdown: string): { rows: DocumentedDefault[]; tables: Set<string> } {
  const rows: DocumentedDefault[] = [];
  const tables = new Set<string>();
  let base: string | undefined;
  for (const line of markdown.split('\n')) {
    const heading = /^#{2,4} (.+)$/.exec(line);
    if (heading) {
      base = TABLE_BASE[heading[1]!.trim()];
      if (base !== undefined) tables.add(heading[1]!.trim());
      continue;
    }
    if (base === undefined || !line.startsWith('|')) continue;
    const cells = splitRow(line);
    const key = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    if (key === undefined || key.includes('[]') || key.includes('<')) continue;
    rows.push({ path: base === '' ? key : `${base}.${key}`, literal: cells[2] ?? '' });
  }
  return { rows, tables };
}

/** Table cells, with `\|` inside a cell kept. */
function splitRow(line: string): string[] {
  return line
    .slice(1, line.endsWith('|') ? -1 : undefined)
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

/** The value a default cell states, when it states one: one code span, maybe followed by a note in parentheses. */
function statedLiteral(cell: string): string | undefined {
  return /^`([^`]*)`(?: \([^)]*\))?$/.exec(cell)?.[1];
}

/** The literal read as the schema's value is typed: text as written, anything else as YAML. */
function statedValue(literal: string, actual: unknown): unknown {
  if (typeof actual !== 'string') return parseYaml(literal);
  return literal === '""' || literal === "''" ? '' : literal;
}

function valueAt(root: unknown, path: string): unknown {
  let value = root;
  for (const key of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
  return value;
}

/** Every leaf (a scalar, an empty list or map, or a map under a `Record` key) the schema filled in. */
function leaves(value: unknown, path: string, out: Map<string, unknown>): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [key, inner] of Object.entries(value)) leaves(inner, path === '' ? key : `${path}.${key}`, out);
  } else out.set(path, value);
  return out;
}

const markdown = readFileSync(DOC, 'utf8');
const config = parseConfig(EVERY_SECTION, {}, 'documented defaults');

describe('documented defaults', () => {
  const { rows, tables } = documentedRows(markdown);

  it('finds every reference table', () => {
    assert.deepEqual([...tables].sort(), Object.keys(TABLE_BASE).sort());
  });

  it('states, for every literal default in the reference, the value the schema fills in', () => {
    let checked = 0;
    for (const row of rows) {
      // Sections the test config sets itself (such as `tools`) show what was given, not a default.
      if (DEFAULT_IS_ANOTHER_SETTING.has(row.path) || valueAt(EVERY_SECTION, row.path) !== undefined) continue;
      const literal = statedLiteral(row.literal);
      if (literal === undefined) continue;
      const actual = valueAt(config, row.path);
      assert.deepEqual(
        actual,
        statedValue(literal, actual),
        `${row.path}: documented ${row.literal}, the schema gives ${JSON.stringify(actual)}`,
      );
      checked++;
    }
    assert.ok(checked >= 70, `only ${checked} documented defaults were checked`);
  });

  it('documents every value the schema fills in by default', () => {
    const documented = rows.map((row) => row.path);
    const isDocumented = (path: string) =>
      documented.some((row) => row === path || row.startsWith(`${path}.`) || path.startsWith(`${row}.`));
    const given = leaves(EVERY_SECTION, '', new Map());
    const missing = [...leaves(config, '', new Map()).keys()].filter((path) => !given.has(path) && !isDocumented(path));
    assert.deepEqual(missing, [], 'settings with a default but no row in docs/configuration.md');
  });
});
