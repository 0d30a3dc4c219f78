#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.ts';
import { loadConfig } from '../config/load-config.ts';
import { startGateway } from '../gateway.ts';
import { runBench } from './commands/bench.ts';
import { runCalls } from './commands/calls.ts';
import { runCheck } from './commands/check.ts';
import { runSimulate } from './commands/simulate.ts';
import { onShutdownSignals } from './shutdown-signals.ts';

const USAGE = `Usage: voice-llm-gateway <command> [options]

Commands:
  serve      Run the gateway (default)
  simulate   Rehearse a call as the Alibaba IMS workflow would make it (see: simulate --help)
  check      Check any custom-LLM server against the protocol and strict stream rules
  calls      Export call records: calls export --since 24h --format jsonl|csv
  bench      Measure the gateway against a direct connection (TTFT, throughput, CPU, memory, cancellation)

Options for serve:
  --config FILE   YAML config (default: $GATEWAY_CONFIG, else ./config.yaml if present)
  --port N        Port to listen on (default 8083)
  --host H        Address to bind (default 0.0.0.0)
  -h, --help      Show this help
`;

/** Commands other than serve: each parses its own flags. */
const COMMANDS: Readonly<Record<string, (args: string[]) => Promise<number>>> = {
  simulate: (args) => runSimulate(args),
  check: (args) => runCheck(args),
  calls: (args) => runCalls(args),
  bench: (args) => runBench(args),
};

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first !== undefined && !first.startsWith('-') && first !== 'serve') {
    const command = COMMANDS[first];
    if (!command) {
      process.stderr.write(`Unknown command "${first}".\n\n${USAGE}`);
      return 2;
    }
    return command(argv.slice(1));
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
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    process.stderr.write(`Unexpected argument "${positionals[0]}".\n\n${USAGE}`);
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
  logger.info(
    { url: gateway.url, source: loaded.path ?? loaded.source, agents: Object.keys(loaded.config.agents) },
    'voice-llm-gateway listening',
  );
  printBanner(gateway.url, loaded.source, Object.keys(loaded.config.agents), gateway.apiKeys.generated, gateway.adminKeys.generated);

  const drainTimeoutMs = loaded.config.server.drainTimeoutMs;
  await new Promise<void>((resolve) => {
    onShutdownSignals({
      drain: (signal) => {
        logger.info({ signal, drainTimeoutMs }, 'shutting down');
        if (process.stderr.isTTY) {
          process.stderr.write(`Stopping: running answers get up to ${drainTimeoutMs / 1000} s to finish. Press Ctrl-C again to stop at once.\n`);
        }
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

/** What a person starting the server needs to see: where it listens, which models, which key. */
function printBanner(
  url: string,
  source: string,
  agents: string[],
  generated: GeneratedKey | undefined,
  generatedAdmin: GeneratedKey | undefined,
): void {
  const lines = [
    '',
    `  Voice LLM Gateway on ${url}  (base URL for clients: ${url}/v1)`,
    `  Models (ModelId): ${agents.join(', ')}${source === 'demo' ? '  [built-in demo: no upstream configured]' : ''}`,
  ];
  if (generated) {
    // The key itself only once, to a person at a terminal: logs are collected and kept elsewhere.
    const shown = generated.createdNow && process.stdout.isTTY === true;
    lines.push(
      shown ? `  API key: ${generated.key}` : `  API key: kept in ${generated.file}`,
      `  (${generated.createdNow ? 'generated now and saved to' : 'generated earlier, read from'} ${generated.file}; set server.apiKeys or GATEWAY_API_KEYS to choose your own)`,
    );
  }
  if (generatedAdmin) {
    lines.push(`  Admin key (/admin/*): kept in ${generatedAdmin.file}; set admin.apiKeys to choose your own`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

type GeneratedKey = { key: string; file: string; createdNow: boolean };

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else if (error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`${error.message}\n\n${USAGE}`);
    } else process.stderr.write(`voice-llm-gateway: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof ConfigError ? 78 : 1;
  },
);
