import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from './config-error.ts';
import { configWarnings } from './config-warnings.ts';
import { demoConfigSource } from './demo-config.ts';
import { describeIssues } from './describe-issues.ts';
import { describeInterpolationProblems, interpolateEnv, type InterpolationProblem } from './env-interpolation.ts';
import { gatewayConfigSchema, type GatewayConfig } from './schema.ts';

export type ConfigSourceKind = 'file' | 'environment' | 'demo';

export interface LoadedConfig {
  config: GatewayConfig;
  source: ConfigSourceKind;
  /** The file read, when source is 'file'. */
  path?: string;
  /** The folder searched for config.yaml. */
  searched: string;
  /** Legal but probably wrong (short keys, UPSTREAM_* variables a config file overrode): log them. */
  warnings: string[];
}

export interface LoadConfigOptions {
  /** --config; otherwise GATEWAY_CONFIG; otherwise ./config.yaml if present. */
  configPath?: string;
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
}

/**
 * Finds and validates the configuration: a YAML file, or the UPSTREAM_* quick-start variables,
 * or the built-in demo agent. GATEWAY_API_KEYS and PORT override the server section in every case.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const path = findConfigFile(options);

  let raw: unknown;
  let source: ConfigSourceKind;
  if (path) {
    raw = readYaml(path);
    source = 'file';
  } else if (nonEmpty(env.UPSTREAM_BASE_URL) || nonEmpty(env.UPSTREAM_MODEL)) {
    raw = quickStartSource(env);
    source = 'environment';
  } else {
    raw = structuredClone(demoConfigSource);
    source = 'demo';
  }
  const label = path ?? (source === 'environment' ? 'UPSTREAM_* environment variables' : 'built-in demo');

  const config = parseConfig(applyServerOverrides(raw ?? {}, env), env, label);
  const warnings = configWarnings(config);
  const ignored = QUICK_START_VARIABLES.filter((name) => nonEmpty(env[name]));
  if (path && ignored.length > 0) {
    warnings.unshift(
      `${ignored.join(', ')} ${ignored.length > 1 ? 'are' : 'is'} set but ignored: the config file ${path} wins over the UPSTREAM_* variables`,
    );
  }
  const loaded: LoadedConfig = { config, source, searched: cwd, warnings };
  if (path) loaded.path = path;
  return loaded;
}

/** The config file to read: --config, else GATEWAY_CONFIG, else ./config.yaml if present; undefined: none. */
export function findConfigFile(options: LoadConfigOptions): string | undefined {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicitPath = options.configPath ?? nonEmpty(env.GATEWAY_CONFIG);
  const defaultPath = resolve(cwd, 'config.yaml');
  return explicitPath ? resolve(cwd, explicitPath) : existsSync(defaultPath) ? defaultPath : undefined;
}

/** Resolves `${VAR}` references in a config tree and validates it; problems name their paths. */
export function parseConfig(raw: unknown, env: Readonly<Record<string, string | undefined>>, label: string): GatewayConfig {
  const problems: InterpolationProblem[] = [];
  const interpolated = interpolateEnv(raw, env, problems);
  if (problems.length > 0) throw new ConfigError(label, describeInterpolationProblems(problems));
  // The input of each issue is kept for quoting advice (a YAML number where text is expected).
  const parsed = gatewayConfigSchema.safeParse(interpolated, { reportInput: true });
  if (!parsed.success) throw new ConfigError(label, describeIssues(parsed.error, gatewayConfigSchema));
  return parsed.data;
}

export function readYaml(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      path,
      document.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`),
    );
  }
  return document.toJS();
}

const QUICK_START_VARIABLES = ['UPSTREAM_BASE_URL', 'UPSTREAM_API_KEY', 'UPSTREAM_MODEL'] as const;

function quickStartSource(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const baseUrl = nonEmpty(env.UPSTREAM_BASE_URL);
  const model = nonEmpty(env.UPSTREAM_MODEL);
  const problems: string[] = [];
  if (!baseUrl) problems.push('UPSTREAM_BASE_URL: must be set (e.g. https://dashscope.aliyuncs.com/compatible-mode/v1)');
  if (!model) problems.push('UPSTREAM_MODEL: must be set (the upstream model name, e.g. qwen-plus)');
  if (!baseUrl || !model) throw new ConfigError('UPSTREAM_* environment variables', problems);
  const provider: Record<string, unknown> = { type: 'openai-compatible', baseUrl };
  const apiKey = nonEmpty(env.UPSTREAM_API_KEY);
  if (apiKey) provider.apiKey = apiKey;
  return {
    providers: { upstream: provider },
    agents: { [model]: { provider: 'upstream', model } },
    defaultAgent: model,
  };
}

function applyServerOverrides(tree: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) return tree;
  const config = { ...(tree as Record<string, unknown>) };
  const server =
    config.server !== null && typeof config.server === 'object' && !Array.isArray(config.server)
      ? { ...(config.server as Record<string, unknown>) }
      : config.server === undefined
        ? {}
        : config.server;
  if (typeof server === 'object' && server !== null && !Array.isArray(server)) {
    const overrides = server as Record<string, unknown>;
    const keys = nonEmpty(env.GATEWAY_API_KEYS);
    if (keys)
      overrides.apiKeys = keys
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k !== '');
    const port = nonEmpty(env.PORT);
    if (port) overrides.port = /^\d+$/.test(port) ? Number(port) : port;
  }
  config.server = server;
  return config;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
