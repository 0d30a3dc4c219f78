/**
 * The bench's options (`voice-llm-gateway bench ...`, `npm run bench -- ...`), their defaults, and
 * how many streams each cell of the sweep runs.
 */

import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

/** A failure that ends the run (exit code 1): a server that did not start, a probe that timed out. */
export class BenchError extends Error {}

/** Bad options (exit code 2). */
export class UsageError extends BenchError {}

export type Layout = 'split' | 'shared';

export interface MockSettings {
  firstTokenMs: number;
  chunks: number;
  chunkChars: number;
  intervalMs: number;
}

/** An already-running server to measure instead of the built-in gateway. */
export interface ExternalSettings {
  /** Base URL, without a trailing /chat/completions. */
  gatewayUrl: string;
  apiKey: string | undefined;
  model: string;
  upstreamUrl: string | undefined;
  upstreamKey: string | undefined;
  upstreamModel: string | undefined;
  prompt: string;
}

export interface Settings {
  /** built-in: mock upstream, pipe relay and gateway started here; external: --gateway-url. */
  mode: 'built-in' | 'external';
  requests: number;
  concurrency: number[];
  warmup: number;
  cancelRuns: number;
  layout: Layout;
  /** `--state redis`: also measure a gateway on call state shared through this Redis. */
  redisUrl: string | undefined;
  /** `--replicas N` (N >= 2): also measure N gateway processes on Redis state, round-robin. */
  replicas: number;
  /** The run's own prefix for its Redis keys. */
  redisKeyPrefix: string;
  profileServers: string | undefined;
  json: boolean;
  mock: MockSettings;
  external: ExternalSettings | undefined;
}

/** Streams per concurrency slot (at least) in a measured cell above concurrency 1. */
export const ROUNDS_PER_CELL = 10;
/** ...but no more than this many streams per path in one cell (the default sweep then takes ~1.5 minutes on 2 cores). */
export const MAX_CELL_STREAMS = 8192;
/** Warm-up streams per concurrency slot (at least) before a cell. */
export const WARMUP_ROUNDS = 2;

const DEFAULTS = {
  'built-in': { requests: 400, concurrency: '1,16,64,256,1024', warmup: 50 },
  external: { requests: 100, concurrency: '1,16', warmup: 5 },
} as const;
const DEFAULT_PROMPT = 'Say hello in one short sentence.';
const MAX_CONCURRENCY = 16_384;

export const BENCH_USAGE = `Usage: voice-llm-gateway bench [options]      (or: npm run bench -- [options])

Measures what a voice call pays for going through the gateway, against three paths to the same
built-in mock upstream LLM, across a concurrency sweep:
  direct      client -> mock upstream
  pipe relay  client -> a minimal node:http pipe relay -> mock upstream (the floor any relay pays)
  gateway     client -> the real gateway (openai-compatible provider) -> mock upstream
For each path and concurrency: time to first token (TTFT) p50/p90/p99 and what it adds over direct,
streams and content chunks per second, CPU time (user + system) of the serving process per stream,
and memory (heap and RSS) per open stream, with max(c, 64) streams held open; the phases (request
-> upstream, upstream's first content -> client) each path adds over direct; then the cancellation
latency of a client close and of a barge-in, and the targets, as gateway / pipe relay ratios: added
TTFT at concurrency 1 <= 1.25x; CPU per stream <= 1.5x and heap per open call <= 2x at 1, 64 and
1024 (a concurrency not swept is "not measured"). The load generator (node:http) runs in this
process, the servers in child processes. Progress goes to stderr; the report (markdown, or JSON
with --json) to stdout.
Exit code: 0; 1 when a stream failed or a server did not start (a missed target is reported, never
fatal); 2 for bad options.

Load:
  --concurrency LIST     streams in flight, swept in order (default ${DEFAULTS['built-in'].concurrency})
  --requests N           measured streams per path and concurrency: N at concurrency 1, above it
                         max(N, ${ROUNDS_PER_CELL} x c) capped at ${MAX_CELL_STREAMS} (default ${DEFAULTS['built-in'].requests})
  --warmup N             unmeasured streams per path first, at least ${WARMUP_ROUNDS} x c (default ${DEFAULTS['built-in'].warmup})
  --cancel-runs N        measured cancellation runs of each kind (default 50)
Built-in mock upstream:
  --first-token-ms N     simulated model time to first token (default 20)
  --chunks N             content events per answer (default 40)
  --chunk-chars N        characters per content event (default 4)
  --interval-ms N        pause between content events; 0 sends the answer in one write (default 0)
Shared call state (docs/shared-state.md):
  --state memory|redis   redis: also measure a gateway with state.store redis (path "gateway,
                         Redis state") beside the in-memory one, and judge its added TTFT at
                         concurrency 1 (target <= 0.5 ms) (default memory)
  --redis URL            the Redis to use (default REDIS_URL, else redis://127.0.0.1:6379); keys
                         go under a prefix of their own, deleted at the end
  --replicas N           also measure N gateway processes sharing Redis state, each stream sent
                         to the next (round-robin), against the one Redis-state gateway
                         (implies --state redis)
Processes:
  --layout split|shared  split: mock upstream, pipe relay and gateway in three child processes
                         (default); shared: all in one (CPU and memory then include the mock's)
  --profile-servers DIR  write a CPU profile (.cpuprofile) of each server process to DIR
Output:
  --json                 the report as JSON
  -h, --help             this help

Measuring an already-running server instead (this gateway elsewhere, or any custom-LLM server):
  --gateway-url URL      its base URL as an OpenAI client takes it, e.g. http://127.0.0.1:8083/v1
  --model ID             the model to ask for (for this gateway: an agent id)
  --api-key KEY          its bearer key
  --upstream-url URL     optional: the upstream it calls, measured directly as the "direct" path
  --upstream-model ID    the model to ask the upstream for (required with --upstream-url)
  --upstream-key KEY     the upstream's bearer key
  --prompt TEXT          the user message (default "${DEFAULT_PROMPT}")
  Then only TTFT, throughput and errors are measured, for that server and (with --upstream-url)
  direct: its CPU and memory are not visible from here, there is no pipe relay, and cancellation
  needs the built-in mock. Defaults drop to --requests ${DEFAULTS.external.requests} --concurrency ${DEFAULTS.external.concurrency} --warmup ${DEFAULTS.external.warmup}.
  Against a real model every stream costs tokens: size the run accordingly. A gateway admits 2000
  streams at once by default, one key's as many (server.limits): more in flight are answered 429 (errors).
`;

function readArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      requests: { type: 'string' },
      concurrency: { type: 'string' },
      warmup: { type: 'string' },
      'cancel-runs': { type: 'string' },
      'first-token-ms': { type: 'string' },
      chunks: { type: 'string' },
      'chunk-chars': { type: 'string' },
      'interval-ms': { type: 'string' },
      layout: { type: 'string' },
      state: { type: 'string' },
      redis: { type: 'string' },
      replicas: { type: 'string' },
      'profile-servers': { type: 'string' },
      json: { type: 'boolean', default: false },
      'gateway-url': { type: 'string' },
      'api-key': { type: 'string' },
      model: { type: 'string' },
      'upstream-url': { type: 'string' },
      'upstream-key': { type: 'string' },
      'upstream-model': { type: 'string' },
      prompt: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
}

/** A base URL as an OpenAI client takes it; a full .../chat/completions URL is accepted too. */
function baseUrl(name: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--${name} must be an http(s) URL, got "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--${name} must be an http(s) URL, got "${text}"`);
  return url.href.replace(/\/+$/, '').replace(/\/chat\/completions$/, '');
}

/** The settings, or 'help' when only the usage was asked for. Throws UsageError on bad options. */
export function parseSettings(argv: string[]): Settings | 'help' {
  let parsed: ReturnType<typeof readArgs>;
  try {
    parsed = readArgs(argv);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const int = (name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
      throw new UsageError(
        `--${name} must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got "${text}"`,
      );
    }
    return value;
  };

  const mode = values['gateway-url'] === undefined ? 'built-in' : 'external';
  const defaults = DEFAULTS[mode];
  let external: ExternalSettings | undefined;
  if (mode === 'external') {
    const builtInOnly = [
      'first-token-ms',
      'chunks',
      'chunk-chars',
      'interval-ms',
      'layout',
      'profile-servers',
      'cancel-runs',
      'state',
      'redis',
      'replicas',
    ] as const;
    const misplaced = builtInOnly.filter((name) => values[name] !== undefined);
    if (misplaced.length > 0) {
      throw new UsageError(
        `${misplaced.map((n) => `--${n}`).join(', ')} only apply to the built-in mock upstream and gateway, not with --gateway-url`,
      );
    }
    if (values.model === undefined) throw new UsageError('--gateway-url needs --model ID (for this gateway: an agent id)');
    if (values['upstream-url'] !== undefined && values['upstream-model'] === undefined) {
      throw new UsageError('--upstream-url needs --upstream-model ID');
    }
    external = {
      gatewayUrl: baseUrl('gateway-url', values['gateway-url']!),
      apiKey: values['api-key'],
      model: values.model,
      upstreamUrl: values['upstream-url'] === undefined ? undefined : baseUrl('upstream-url', values['upstream-url']),
      upstreamKey: values['upstream-key'],
      upstreamModel: values['upstream-model'],
      prompt: values.prompt ?? DEFAULT_PROMPT,
    };
  } else {
    const externalOnly = ['api-key', 'model', 'upstream-url', 'upstream-key', 'upstream-model', 'prompt'] as const;
    const misplaced = externalOnly.filter((name) => values[name] !== undefined);
    if (misplaced.length > 0) throw new UsageError(`${misplaced.map((n) => `--${n}`).join(', ')} only apply with --gateway-url`);
  }

  const layout = values.layout ?? 'split';
  if (layout !== 'split' && layout !== 'shared') throw new UsageError(`--layout must be split or shared, got "${layout}"`);
  const replicas = int('replicas', values.replicas ?? '1', 1, 64);
  const state = values.state ?? (replicas > 1 ? 'redis' : 'memory');
  if (state !== 'memory' && state !== 'redis') throw new UsageError(`--state must be memory or redis, got "${state}"`);
  if (replicas > 1 && state !== 'redis') throw new UsageError('--replicas shares call state through Redis: it needs --state redis');
  if (state === 'redis' && layout === 'shared') throw new UsageError('--state redis needs --layout split (a process per server)');
  if (values.redis !== undefined && state !== 'redis') throw new UsageError('--redis only applies with --state redis');
  const concurrency = (values.concurrency ?? defaults.concurrency)
    .split(',')
    .map((part) => int('concurrency', part.trim(), 1, MAX_CONCURRENCY));
  return {
    mode,
    requests: int('requests', values.requests ?? String(defaults.requests), 1),
    concurrency: [...new Set(concurrency)],
    warmup: int('warmup', values.warmup ?? String(defaults.warmup), 0),
    cancelRuns: int('cancel-runs', values['cancel-runs'] ?? '50', 1),
    layout,
    redisUrl: state === 'redis' ? (values.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') : undefined,
    replicas,
    redisKeyPrefix: `vlg-bench:${randomUUID().slice(0, 8)}:`,
    profileServers: values['profile-servers'],
    json: values.json,
    mock: {
      firstTokenMs: int('first-token-ms', values['first-token-ms'] ?? '20', 0, 60_000),
      chunks: int('chunks', values.chunks ?? '40', 1, 100_000),
      chunkChars: int('chunk-chars', values['chunk-chars'] ?? '4', 1, 10_000),
      intervalMs: int('interval-ms', values['interval-ms'] ?? '0', 0, 60_000),
    },
    external,
  };
}

/** Measured streams per path in the cell at concurrency `c`. */
export function cellStreams(settings: Settings, c: number): number {
  return c === 1 ? settings.requests : Math.max(settings.requests, Math.min(ROUNDS_PER_CELL * c, MAX_CELL_STREAMS));
}

/** Warm-up streams per path before the cell at concurrency `c`. */
export function warmupStreams(settings: Settings, c: number): number {
  return c === 1 ? settings.warmup : Math.max(settings.warmup, WARMUP_ROUNDS * c);
}
