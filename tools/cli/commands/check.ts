import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { formatReportJson, formatReportJUnit, formatReportTable } from '../../check/check-report.ts';
import { runConformanceSuite } from '../../check/suite.ts';
import { runPlatformSuite } from '../../check/platform-suite.ts';
import { PLATFORM_NAMES } from '../../platforms/platform-requests.ts';
import { socketUrl } from '../../client/json-socket-client.ts';
import { runRetellSuite } from '../../check/retell-suite.ts';
import { runTwilioSuite } from '../../check/twilio-suite.ts';
import type { CheckReport } from '../../check/suite.ts';
import { SOCKET_PLATFORM_NAMES } from '../../platforms/socket-messages.ts';

const ALL_PLATFORM_NAMES: readonly string[] = [...PLATFORM_NAMES, ...SOCKET_PLATFORM_NAMES];

export const CHECK_USAGE = `Usage: voice-llm-gateway check --base-url URL --api-key KEY --model ID [options]

Runs the conformance suite against any custom-LLM server (this gateway or another one): it calls
POST {base-url}/chat/completions the way the Alibaba Cloud IMS workflow and strict voice clients
do, and reports every deviation with the offending event and how to fix it. See docs/check.md.

Options for check:
  --base-url URL     The base URL as pasted into the console (with or without /v1)
  --api-key KEY      The API key the server expects (sent as "Authorization: Bearer KEY")
  --model ID         The ModelId to send
  --platform NAME    Check as NAME calls: ${ALL_PLATFORM_NAMES.join(', ')} (default ims). Other than
                     ims, --base-url is the server's root, the platform's path is appended, turns
                     go in its shape, and its own rules are checked (SKIP where not exercisable).
                     retell and twilio are checked over their WebSocket: --base-url is the URL the
                     platform is given (Retell's LLM WebSocket URL with its secret; Twilio's
                     <ConversationRelay url>), --api-key is optional (Twilio's Auth Token, to
                     sign the handshake) and --model is not used
  --signed-url URL   twilio: the URL the signature signs (default --base-url as wss)
  --timeout-ms N     Limit per request, whole answer included (default 10000)
  --concurrency N    Requests in flight at once (default 4)
  --json             Print the report as JSON instead of a table
  --junit FILE       Also write the report as JUnit XML (one testcase per case)
  -h, --help         Show this help

Exit code: 0 when no case fails (warnings alone pass), 1 when a case fails, 2 on bad options.
`;

export interface CheckIo {
  output?: NodeJS.WritableStream;
  error?: NodeJS.WritableStream;
}

/** `voice-llm-gateway check ...`: returns the exit code. `argv` may start with "check". */
export async function runCheck(argv: string[], io: CheckIo = {}): Promise<number> {
  const output = io.output ?? process.stdout;
  const error = io.error ?? process.stderr;
  const usageError = (message: string) => {
    error.write(`${message}\n\n${CHECK_USAGE}`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'base-url': { type: 'string' },
        'api-key': { type: 'string' },
        model: { type: 'string' },
        platform: { type: 'string' },
        'signed-url': { type: 'string' },
        'timeout-ms': { type: 'string' },
        concurrency: { type: 'string' },
        json: { type: 'boolean' },
        junit: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (cause) {
    return usageError(cause instanceof Error ? cause.message : String(cause));
  }
  const { values } = parsed;
  const positionals = parsed.positionals[0] === 'check' ? parsed.positionals.slice(1) : parsed.positionals;
  if (values.help) {
    output.write(CHECK_USAGE);
    return 0;
  }
  if (positionals.length > 0) return usageError(`Unexpected argument "${positionals[0]}".`);
  const platform = values.platform;
  if (platform !== undefined && !ALL_PLATFORM_NAMES.includes(platform)) {
    return usageError(`--platform must be one of ${ALL_PLATFORM_NAMES.join(', ')}, got "${platform}".`);
  }
  const overSocket = (SOCKET_PLATFORM_NAMES as readonly string[]).includes(platform ?? '');
  if (values['signed-url'] !== undefined && platform !== 'twilio') return usageError('--signed-url is for --platform twilio.');
  const missing = (overSocket ? (['base-url'] as const) : (['base-url', 'api-key', 'model'] as const)).filter((name) => !values[name]);
  if (missing.length > 0) return usageError(`Missing ${missing.map((name) => `--${name}`).join(', ')}.`);
  const baseUrl = values['base-url']!;
  const timeoutMs = positiveInteger(values['timeout-ms'], 10_000);
  if (timeoutMs === undefined) return usageError(`--timeout-ms must be a positive whole number, got "${values['timeout-ms']}".`);
  let report: CheckReport;
  if (overSocket) {
    const url = socketUrl(baseUrl);
    if (url === undefined) return usageError(`--base-url must be a ws(s) or http(s) URL, got "${baseUrl}".`);
    const options = {
      url,
      timeoutMs,
      ...(values['api-key'] === undefined || platform === 'retell' ? {} : { authToken: values['api-key'] }),
      ...(values['signed-url'] === undefined ? {} : { signedUrl: values['signed-url'] }),
    };
    report = platform === 'retell' ? await runRetellSuite(options) : await runTwilioSuite(options);
    return writeReport(report, values, output, error);
  }
  try {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    return usageError(`--base-url must be an http(s) URL, got "${baseUrl}".`);
  }
  const concurrency = positiveInteger(values.concurrency, 4);
  if (concurrency === undefined) return usageError(`--concurrency must be a positive whole number, got "${values.concurrency}".`);

  report =
    platform === undefined || platform === 'ims'
      ? await runConformanceSuite({ baseUrl, apiKey: values['api-key']!, model: values.model!, timeoutMs, concurrency })
      : await runPlatformSuite({ baseUrl, apiKey: values['api-key']!, model: values.model!, timeoutMs, platform });
  return writeReport(report, values, output, error);
}

/** Prints the report (table or JSON), writes the JUnit file if asked; the exit code. */
function writeReport(
  report: CheckReport,
  values: { json?: boolean | undefined; junit?: string | undefined },
  output: NodeJS.WritableStream,
  error: NodeJS.WritableStream,
): number {
  output.write(values.json ? formatReportJson(report) : formatReportTable(report));
  if (values.junit !== undefined) {
    try {
      mkdirSync(dirname(values.junit), { recursive: true });
      writeFileSync(values.junit, formatReportJUnit(report));
    } catch (cause) {
      error.write(`Could not write the JUnit report to ${values.junit}: ${cause instanceof Error ? cause.message : String(cause)}\n`);
      return 2;
    }
  }
  return report.counts.fail > 0 ? 1 : 0;
}

function positiveInteger(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  const value = Number(text);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}
