import { parseArgs } from 'node:util';
import { DEFAULT_HANGUP_FUNCTION } from '../../simulate/call-signals.ts';
import { ImsSession, newInstanceId, type ImsSessionOptions } from '../../simulate/ims-session.ts';
import { PLATFORM_NAMES, platformRequestShape, type PlatformRequestShape } from '../../platforms/platform-requests.ts';
import type { PlatformName } from '../../../src/platforms/platform-adapter.ts';
import { runInteractive } from '../../simulate/repl.ts';
import { formatConversationSummary, formatTurnReport, runConversation } from '../../simulate/run-script.ts';
import { loadConversationScript, ScriptError, type ConversationScript } from '../../simulate/script.ts';
import { DEFAULT_TURN_TIMEOUT_MS, type SimulatorConnection } from '../../simulate/simulate-turn.ts';

export const SIMULATE_USAGE = `Usage: voice-llm-gateway simulate --base-url URL --api-key KEY --model ID [options]

Acts as the Alibaba Cloud IMS real-time workflow calling a custom LLM: POSTs URL/chat/completions
with stream: true, the conversation (a 20-record window) and extendData, and reads the stream.
Interactive unless --script is given: each line you type is the caller speaking.

Connection (what is typed into the workflow console):
  --base-url URL          the "target model HTTPS address"; /chat/completions is appended
  --api-key KEY           sent as Authorization: Bearer KEY
  --model ID              the ModelId (may also come from the script)
  --extra-query Q         OpenAIExtraQuery appended to the URL, e.g. 'task_id=1&room_id=2'

The call:
  --platform NAME         hold the call as NAME makes it: ${PLATFORM_NAMES.join(', ')} (default ims).
                          Other than ims, --base-url is the server's root, the platform's path
                          (e.g. /vapi/v1) is appended, and its end/transfer tool calls end the call
  --system TEXT           a system prompt, sent first (not one of the 20 records)
  --caller NUMBER         extendData.callerNumber
  --callee NUMBER         extendData.calleeNumber
  --user-data JSON        extendData.userData, sent as a string
  --instance-id ID        extendData.instanceId (default: 32 random hex digits)
  --channel-id ID         extendData.channelId (default: a random UUID)
  --sentence-id-string    send extendData.sentenceId as "3" rather than 3
  --hangup-function NAME  the FunctionMap's MatchFunction for hangup (default ${DEFAULT_HANGUP_FUNCTION})
  --barge-in-ms N         cut every answer N ms after its first content (the caller speaks over it)
  --history-sync-tts      HistorySyncWithTTS: a cut answer is kept in the history as the text
                          received before the cut followed by <ims_agent_interrupted>
  --timeout-ms N          give up on an answer not finished after N ms (default ${DEFAULT_TURN_TIMEOUT_MS})

Running:
  --script FILE           run the conversation in FILE (YAML) unattended and report each turn
  --json                  with --script: print the report as JSON
  --show-requests         print each request body to stderr
  -h, --help              show this help

Interactive commands: /interrupt (cut the answer now), /history, /help, /quit.
Exit status: 0 the conversation ran and every check passed; 1 a turn failed (no answer, HTTP
error, a stream breaking the rules, a failed expectation); 2 bad arguments or script.
See docs/simulate.md.
`;

export interface SimulateIo {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  error?: NodeJS.WritableStream;
}

/** A wrong flag or value: reported with the usage, exit status 2. */
class UsageError extends Error {}

const OPTIONS = {
  'base-url': { type: 'string' },
  'api-key': { type: 'string' },
  model: { type: 'string' },
  'extra-query': { type: 'string' },
  platform: { type: 'string' },
  system: { type: 'string' },
  caller: { type: 'string' },
  callee: { type: 'string' },
  'user-data': { type: 'string' },
  'instance-id': { type: 'string' },
  'channel-id': { type: 'string' },
  'sentence-id-string': { type: 'boolean' },
  'hangup-function': { type: 'string' },
  'barge-in-ms': { type: 'string' },
  'history-sync-tts': { type: 'boolean' },
  'timeout-ms': { type: 'string' },
  script: { type: 'string' },
  json: { type: 'boolean' },
  'show-requests': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = ReturnType<typeof parseFlags>;

function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** `voice-llm-gateway simulate ...`; resolves to the exit status. */
export async function runSimulate(argv: string[], io: SimulateIo = {}): Promise<number> {
  const input = io.input ?? process.stdin;
  const output = io.output ?? process.stdout;
  const error = io.error ?? process.stderr;
  try {
    const flags = parseFlags(argv);
    if (flags.values.help) {
      output.write(SIMULATE_USAGE);
      return 0;
    }
    // Tolerate the command name itself, whether or not the caller stripped it.
    const extra = flags.positionals.filter((p, i) => !(i === 0 && p === 'simulate'));
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const values = flags.values;
    if (values.json && !values.script) throw new UsageError('--json needs --script');
    const script = values.script === undefined ? undefined : loadConversationScript(values.script);
    const connection = connectionFrom(values, script, error);
    const session = sessionOptionsFrom(values, script, error);
    const platform = platformFrom(values.platform, session);
    if (platform) connection.platform = platform;
    const bargeInMs = milliseconds(values['barge-in-ms'], '--barge-in-ms') ?? script?.bargeInMs;

    if (script) {
      const report = await runConversation(
        script.turns,
        {
          connection,
          session,
          ...(bargeInMs === undefined ? {} : { bargeInMs }),
        },
        values.json
          ? {}
          : {
              onTurn: (turn) => output.write(`${formatTurnReport(turn)}\n\n`),
            },
      );
      output.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatConversationSummary(report)}\n`);
      return report.ok ? 0 : 1;
    }
    const result = await runInteractive({
      session: new ImsSession(session),
      connection,
      input,
      output,
      error,
      ...(bargeInMs === undefined ? {} : { bargeInMs }),
    });
    return result.exitCode;
  } catch (caught) {
    if (caught instanceof UsageError) {
      error.write(`simulate: ${caught.message}\n\n${SIMULATE_USAGE}`);
      return 2;
    }
    if (caught instanceof ScriptError) {
      error.write(`${caught.message}\n`);
      return 2;
    }
    throw caught;
  }
}

function connectionFrom(
  values: Flags['values'],
  script: ConversationScript | undefined,
  error: NodeJS.WritableStream,
): SimulatorConnection {
  const baseUrl = values['base-url'];
  if (!baseUrl) throw new UsageError('--base-url is required');
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new UsageError(`--base-url "${baseUrl}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--base-url must be an http or https URL');
  if (url.search !== '') throw new UsageError('--base-url must not carry a query string: use --extra-query');
  const apiKey = values['api-key'];
  if (!apiKey) throw new UsageError('--api-key is required (the workflow always sends one)');
  const connection: SimulatorConnection = { baseUrl, apiKey };
  const query = values['extra-query'] ?? script?.extraQuery;
  if (query) connection.query = query.replace(/^\?/, '');
  const hangupFunction = values['hangup-function'] ?? script?.hangupFunction;
  if (hangupFunction) connection.hangupFunction = hangupFunction;
  const timeoutMs = milliseconds(values['timeout-ms'], '--timeout-ms');
  if (timeoutMs !== undefined) {
    if (timeoutMs === 0) throw new UsageError('--timeout-ms must be above 0');
    connection.timeoutMs = timeoutMs;
  }
  if (values['show-requests']) connection.onRequest = (body) => error.write(`request: ${JSON.stringify(body)}\n`);
  return connection;
}

function sessionOptionsFrom(
  values: Flags['values'],
  script: ConversationScript | undefined,
  error: NodeJS.WritableStream,
): ImsSessionOptions {
  const model = values.model ?? script?.model;
  if (!model) throw new UsageError('--model is required (the ModelId typed into the console)');
  const options: ImsSessionOptions = { model };
  const set = <K extends keyof ImsSessionOptions>(key: K, value: ImsSessionOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('systemPrompt', values.system ?? script?.system);
  set('callerNumber', values.caller ?? script?.caller);
  set('calleeNumber', values.callee ?? script?.callee);
  set('instanceId', values['instance-id'] ?? script?.instanceId);
  set('channelId', values['channel-id'] ?? script?.channelId);
  set('historySyncTts', values['history-sync-tts'] || script?.historySyncTts || undefined);
  set('sentenceIdAsString', values['sentence-id-string']);
  const userData = values['user-data'] ?? script?.userData;
  if (userData !== undefined) {
    if (values['user-data'] !== undefined && !isJson(userData)) {
      error.write('simulate: warning: --user-data is not valid JSON; it is sent as is, as the workflow would\n');
    }
    options.userData = userData;
  }
  return options;
}

/** The platform's request shape for this call (the session's ids, caller and user data); undefined for IMS. */
function platformFrom(name: string | undefined, session: ImsSessionOptions): PlatformRequestShape | undefined {
  if (name === undefined || name === 'ims') return undefined;
  if (!PLATFORM_NAMES.includes(name as PlatformName)) {
    throw new UsageError(`--platform must be one of ${PLATFORM_NAMES.join(', ')}, got "${name}"`);
  }
  session.instanceId ??= newInstanceId();
  let userData: unknown = {};
  if (session.userData !== undefined) {
    try {
      userData = JSON.parse(session.userData);
    } catch {
      throw new UsageError(`--platform ${name} sends the user data as JSON: it must be a JSON object`);
    }
  }
  if (typeof userData !== 'object' || userData === null || Array.isArray(userData)) {
    throw new UsageError(`--platform ${name} sends the user data as JSON: it must be a JSON object`);
  }
  return platformRequestShape(name, {
    callId: session.instanceId,
    callerNumber: session.callerNumber ?? '',
    userData: userData as Record<string, unknown>,
  });
}

function milliseconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isInteger(number) || number < 0) {
    throw new UsageError(`${flag} must be a whole number of milliseconds (0 or more), got "${value}"`);
  }
  return number;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
