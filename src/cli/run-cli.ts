/**
 * The command line: `serve` (the default) and the gateway's own commands (doctor, calls). The
 * tools (simulate, check, bench) live outside src/ and add their commands through `runCli`'s
 * second argument (tools/cli/main.ts), so the server never depends on them.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.ts';
import { loadConfig } from '../config/load-config.ts';
import { startUpstreamProbe } from '../diagnostics/startup-probe.ts';
import { startGateway } from '../gateway.ts';
import { bannerLines, sourceLabel } from './banner.ts';
import { runCalls } from './commands/calls.ts';
import { runDoctor } from './commands/doctor.ts';
import { onShutdownSignals } from './shutdown-signals.ts';

/** A command other than serve: parses its own flags and resolves with the exit code. */
export interface CliCommand {
  /** Its line in the usage text. */
  summary: string;
  run(args: string[]): Promise<number>;
}

export type CliCommands = Readonly<Record<string, CliCommand>>;

const GATEWAY_COMMANDS: CliCommands = {
  doctor: { summary: 'Check the configuration end to end: keys, upstreams and models, templates, tools', run: (args) => runDoctor(args) },
  calls: { summary: 'Export call records: calls export --since 24h --format jsonl|csv', run: (args) => runCalls(args) },
};

function usage(commands: CliCommands): string {
  const lines = Object.entries(commands).map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`);
  return `Usage: voice-llm-gateway <command> [options]

Commands:
  serve      Run the gateway (default)
${lines.join('\n')}

Options for serve:
  --config FILE   YAML config (default: $GATEWAY_CONFIG, else ./config.yaml if present)
  --port N        Port to listen on (default 8083)
  --host H        Address to bind (default 0.0.0.0)
  -h, --help      Show this help
`;
}

async function main(argv: string[], commands: CliCommands, usageText: string): Promise<number> {
  const first = argv[0];
  if (first !== undefined && !first.startsWith('-') && first !== 'serve') {
    const command = commands[first];
    if (!command) {
      process.stderr.write(`Unknown command "${first}".\n\n${usageText}`);
      return 2;
    }
    return command.run(argv.slice(1));
  }
  const { values, positionals } = parseArgs({
    args: first === 'serve' ? argv.slice(1) : argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(usageText);
    return 0;
  }
  if (positionals.length > 0) {
    process.stderr.write(`Unexpected argument "${positionals[0]}".\n\n${usageText}`);
    return 2;
  }
  return serve(values);
}

async function serve(options: { config?: string; port?: string; host?: string }): Promise<number> {
  const port = options.port === undefined ? undefined : Number(options.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write(`--port must be a number from 0 to 65535, got "${options.port}".\n`);
    return 2;
  }
  const loaded = loadConfig(options.config === undefined ? {} : { configPath: options.config });
  const startOptions: Parameters<typeof startGateway>[0] = { config: loaded.config };
  if (port !== undefined) startOptions.port = port;
  if (options.host !== undefined) startOptions.host = options.host;
  const gateway = await startGateway(startOptions);
  const { logger } = gateway;
  const host = options.host ?? loaded.config.server.host;
  logger.info(
    {
      url: gateway.url,
      host,
      port: gateway.port,
      source: sourceLabel(loaded),
      agents: Object.keys(loaded.config.agents),
      defaultAgent: loaded.config.defaultAgent,
    },
    'voice-llm-gateway listening',
  );
  if (loaded.source === 'demo') logger.warn({ searched: loaded.searched }, 'no configuration found: running the built-in demo agent');
  for (const warning of loaded.warnings) logger.warn(warning);
  const banner = bannerLines({
    loaded,
    host,
    port: gateway.port,
    url: gateway.url,
    generated: gateway.apiKeys.generated,
    generatedAdmin: gateway.adminKeys.generated,
    toTerminal: process.stdout.isTTY === true,
    ...(loaded.config.console.enabled ? { consoleUrl: gateway.managementUrl } : {}),
  });
  process.stdout.write(`${banner.join('\n')}\n\n`);
  const stopProbe = loaded.config.server.probeUpstreams ? startUpstreamProbe(loaded.config, logger) : undefined;

  const drainTimeoutMs = loaded.config.server.drainTimeoutMs;
  await new Promise<void>((resolve) => {
    onShutdownSignals({
      drain: (signal) => {
        logger.info({ signal, drainTimeoutMs }, 'shutting down');
        if (process.stderr.isTTY) {
          process.stderr.write(
            `Stopping: running answers get up to ${drainTimeoutMs / 1000} s to finish. Press Ctrl-C again to stop at once.\n`,
          );
        }
        stopProbe?.();
        gateway.close().then(resolve, resolve);
      },
      force: (signal) => {
        logger.warn({ signal }, 'stopping at once (second Ctrl-C): running turns are cut');
        process.exit(130);
      },
    });
  });
  return 0;
}

/** Runs the command line `argv` (without node and the script) and sets the exit code; `tools`: commands added by the tools. */
export async function runCli(argv: string[], tools: CliCommands = {}): Promise<void> {
  const commands = { ...GATEWAY_COMMANDS, ...tools };
  const usageText = usage(commands);
  try {
    process.exitCode = await main(argv, commands, usageText);
  } catch (error) {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else if (error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`${error.message}\n\n${usageText}`);
    } else process.stderr.write(`voice-llm-gateway: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof ConfigError ? 78 : 1;
  }
}
