import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { formatIssuePath } from '../validation/issue-path.ts';
import { ConfigError } from './config-error.ts';
import { demoConfigSource } from './demo-config.ts';
import { interpolateEnv, type InterpolationProblem } from './env-interpolation.ts';
import { gatewayConfigSchema, type GatewayConfig } from './schema.ts';

export type ConfigSourceKind = 'file' | 'environment' | 'demo';

export interface LoadedConfig {
  config: GatewayConfig;
  source: ConfigSourceKind;
  /** The file read, when source is 'file'. */
  path?: string;
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
  const explicitPath = options.configPath ?? nonEmpty(env.GATEWAY_CONFIG);
  const defaultPath = resolve(cwd, 'config.yaml');
  const path = explicitPath ? resolve(cwd, explicitPath) : existsSync(defaultPath) ? defaultPath : undefined;

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
  const loaded: LoadedConfig = { config, source };
  if (path) loaded.path = path;
  return loaded;
}

/** Resolves `${VAR}` references in a config tree and validates it; problems name their paths. */
export function parseConfig(
  raw: unknown,
  env: Readonly<Record<string, string | undefined>>,
  label: string,
): GatewayConfig {
  const problems: InterpolationProblem[] = [];
  const interpolated = interpolateEnv(raw, env, problems);
  if (problems.length > 0) throw new ConfigError(label, problems.map((p) => `${p.path}: ${p.message}`));
  const parsed = gatewayConfigSchema.safeParse(interpolated);
  if (!parsed.success) throw new ConfigError(label, describeIssues(parsed.error));
  return parsed.data;
}

function readYaml(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(path, document.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
  }
  return document.toJS();
}

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
    if (keys) overrides.apiKeys = keys.split(',').map((k) => k.trim()).filter((k) => k !== '');
    const port = nonEmpty(env.PORT);
    if (port) overrides.port = /^\d+$/.test(port) ? Number(port) : port;
  }
  config.server = server;
  return config;
}

function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = formatIssuePath(issue.path) || '(top level)';
    if (issue.code === 'unrecognized_keys') return `${path}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    return `${path}: ${issue.message}`;
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
