import type { LoadedConfig } from '../config/load-config.ts';

export interface GeneratedKey {
  key: string;
  file: string;
  createdNow: boolean;
}

export interface BannerFacts {
  loaded: LoadedConfig;
  /** The address bound (0.0.0.0 and :: are every interface). */
  host: string;
  port: number;
  /** The URL a client on this machine uses, e.g. http://127.0.0.1:8083. */
  url: string;
  generated: GeneratedKey | undefined;
  generatedAdmin: GeneratedKey | undefined;
  /** The banner goes to a person's terminal, not a log stream. */
  toTerminal: boolean;
  /** Where the operator's console is, when it is on (admin.listen may put it elsewhere). */
  consoleUrl?: string;
}

/**
 * What a person starting the server needs to see, all of it true: where it listens (every
 * interface or one), where the config came from, which models and which default, which key.
 * Running the demo because nothing was found is said loudly, with how to point at a config.
 */
export function bannerLines(facts: BannerFacts): string[] {
  const { loaded, url } = facts;
  const { config } = loaded;
  const lines = ['', `  Voice LLM Gateway listening on ${listening(facts.host, facts.port)}: ${url}/v1`];
  lines.push(`  Config: ${sourceLabel(loaded)}`);
  const agents = Object.keys(config.agents);
  lines.push(
    `  Models (ModelId): ${agents.join(', ')}; ` +
      (config.defaultAgent === undefined
        ? 'no default agent (any other ModelId is refused with 404)'
        : `default agent: ${config.defaultAgent} (answers any other ModelId)`),
  );
  if (facts.generated) {
    const { generated } = facts;
    // The key itself only once, to a person at a terminal: logs are collected and kept elsewhere.
    const shown = generated.createdNow && facts.toTerminal;
    lines.push(
      shown ? `  API key: ${generated.key}` : `  API key: kept in ${generated.file}`,
      `  (${generated.createdNow ? 'generated now and saved to' : 'generated earlier, read from'} ${generated.file}; set server.apiKeys or GATEWAY_API_KEYS to choose your own)`,
    );
  }
  if (facts.generatedAdmin) {
    lines.push(`  Admin key (/admin/*): kept in ${facts.generatedAdmin.file}; set admin.apiKeys to choose your own`);
  }
  if (facts.consoleUrl) lines.push(`  Console: ${facts.consoleUrl}/console (sign in with an admin key)`);
  if (loaded.source === 'demo') lines.push('', ...demoNotice(loaded.searched));
  for (const warning of loaded.warnings) lines.push(`  Warning: ${warning}`);
  return lines;
}

function listening(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::')
    return `${host.includes(':') ? `[${host}]` : host}:${port} (all interfaces); clients on this machine`;
  const shown = host.includes(':') ? `[${host}]` : host;
  const local = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  return `${shown}:${port}${local ? ' (this machine only)' : ''}; clients`;
}

export function sourceLabel(loaded: LoadedConfig): string {
  if (loaded.source === 'file') return loaded.path ?? 'file';
  if (loaded.source === 'environment') return 'UPSTREAM_* environment variables';
  return `built-in demo (no config.yaml in ${loaded.searched})`;
}

/** Said when no configuration was found: the gateway answers, but with scripted words only. */
export function demoNotice(searched: string): string[] {
  return [
    '  !! No configuration found: no --config, no GATEWAY_CONFIG, no config.yaml in',
    `  !! ${searched}, no UPSTREAM_* variables. Running the BUILT-IN DEMO agent (scripted answers, no model).`,
    '  !! To use your own: --config FILE, GATEWAY_CONFIG=FILE, config.yaml in that folder, or UPSTREAM_BASE_URL/UPSTREAM_MODEL.',
  ];
}
