import { parseArgs } from 'node:util';
import { DEFAULT_HANGUP_FUNCTION } from '../../simulate/call-signals.ts';
import { socketUrl } from '../../client/json-socket-client.ts';
import { newInstanceId, type ImsSessionOptions } from '../../simulate/ims-session.ts';
import { httpCall } from '../../simulate/http-call.ts';
import { PLATFORM_NAMES, platformRequestShape, type PlatformRequestShape } from '../../platforms/platform-requests.ts';
import type { PlatformName } from '../../../src/platforms/platform-adapter.ts';
import { runInteractive } from '../../simulate/repl.ts';
import { RetellCall } from '../../simulate/retell-call.ts';
import { formatConversationSummary, formatOpening, formatTurnReport, runConversation } from '../../simulate/run-script.ts';
import { loadConversationScript, ScriptError, type ConversationScript } from '../../simulate/script.ts';
import type { SimulatedCall } from '../../simulate/simulated-call.ts';
import { DEFAULT_TURN_TIMEOUT_MS, type SimulatorConnection } from '../../simulate/simulate-turn.ts';
import { TwilioCall } from '../../simulate/twilio-call.ts';
import { SOCKET_PLATFORM_NAMES } from '../../platforms/socket-messages.ts';

const ALL_PLATFORM_NAMES: readonly string[] = [...PLATFORM_NAMES, ...SOCKET_PLATFORM_NAMES];
/** Flags of the IMS request that a socket platform has no place for. */
const HTTP_ONLY_FLAGS = ['extra-query', 'system', 'hangup-function', 'history-sync-tts', 'sentence-id-string', 'channel-id'] as const;

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
  --platform NAME         hold the call as NAME makes it: ${ALL_PLATFORM_NAMES.join(', ')} (default ims).
                          Other than ims, --base-url is the server's root, the platform's path
                          (e.g. /vapi/v1) is appended, and its end/transfer tool calls end the call.
                          retell and twilio call over their WebSocket: --base-url is then the URL
                          the platform is given (Retell's LLM WebSocket URL, with its secret, to
                          which /{call_id} is appended; Twilio's <ConversationRelay url>), ws(s)
                          or http(s); --api-key is Twilio's Auth Token (signs the handshake) and
                          --model is only shown (the server picks the agent)
  --signed-url URL        twilio: the URL the signature signs (default --base-url as wss)
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

Interactive commands: /interrupt (cut the answer now), /history, /help, /quit; on retell /remind
(the caller stays silent: reminder_required), on twilio /dtmf KEYS (key presses).
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
  'signed-url': { type: 'string' },
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
    const call = isSocketPlatform(values.platform)
      ? socketCallFrom(values.platform, values, script, error)
      : httpCallFrom(values, script, error);
    for (const [index, turn] of (script?.turns ?? []).entries()) {
      if (turn.event !== 'speech' && !call.events.includes(turn.event)) {
        const takes = turn.event === 'dtmf' ? 'twilio' : 'retell';
        throw new UsageError(`turn ${index + 1} is a ${turn.event} turn: only --platform ${takes} takes those`);
      }
    }
    const bargeInMs = milliseconds(values['barge-in-ms'], '--barge-in-ms') ?? script?.bargeInMs;

    if (script) {
      const report = await runConversation(
        script.turns,
        { call, ...(bargeInMs === undefined ? {} : { bargeInMs }) },
        values.json
          ? {}
          : {
              onOpen: (opening) => {
                const text = formatOpening(opening);
                if (text !== '') output.write(`${text}\n\n`);
              },
              onTurn: (turn) => output.write(`${formatTurnReport(turn)}\n\n`),
            },
      );
      output.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatConversationSummary(report)}\n`);
      return report.ok ? 0 : 1;
    }
    const result = await runInteractive({
      call,
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

function isSocketPlatform(name: string | undefined): name is (typeof SOCKET_PLATFORM_NAMES)[number] {
  return (SOCKET_PLATFORM_NAMES as readonly (string | undefined)[]).includes(name);
}

/** IMS, or an HTTP platform: one request a turn. */
function httpCallFrom(values: Flags['values'], script: ConversationScript | undefined, error: NodeJS.WritableStream): SimulatedCall {
  if (values['signed-url'] !== undefined) throw new UsageError('--signed-url is for --platform twilio');
  const connection = connectionFrom(values, script, error);
  const session = sessionOptionsFrom(values, script, error);
  const platform = platformFrom(values.platform, session);
  if (platform) connection.platform = platform;
  return httpCall(session, connection);
}

/** Retell or Twilio: the platform's WebSocket, held open for the call. */
function socketCallFrom(
  name: (typeof SOCKET_PLATFORM_NAMES)[number],
  values: Flags['values'],
  script: ConversationScript | undefined,
  error: NodeJS.WritableStream,
): SimulatedCall {
  for (const flag of HTTP_ONLY_FLAGS) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} has no place in a ${name} call (it is part of the HTTP request)`);
  }
  const base = values['base-url'];
  if (!base) throw new UsageError('--base-url is required');
  const url = socketUrl(base);
  if (url === undefined) throw new UsageError(`--base-url must be a ws, wss, http or https URL, got "${base}"`);
  if (name === 'retell' && values['api-key'] !== undefined) {
    error.write('simulate: warning: Retell sends no API key on its socket; --api-key is ignored (the secret is in the URL)\n');
  }
  if (name === 'retell' && values['signed-url'] !== undefined) throw new UsageError('--signed-url is for --platform twilio');
  const session = sessionOptionsFrom({ ...values, model: values.model ?? script?.model ?? "(the server's agent)" }, script, error);
  session.instanceId ??= name === 'twilio' ? `CA${newInstanceId()}` : `call_${newInstanceId()}`;
  const call = {
    callId: session.instanceId,
    ...(session.callerNumber === undefined ? {} : { callerNumber: session.callerNumber }),
    ...(session.calleeNumber === undefined ? {} : { calleeNumber: session.calleeNumber }),
    userData: userDataObject(name, session.userData),
  };
  const timeoutMs = milliseconds(values['timeout-ms'], '--timeout-ms') ?? DEFAULT_TURN_TIMEOUT_MS;
  if (timeoutMs === 0) throw new UsageError('--timeout-ms must be above 0');
  const settings = {
    url,
    model: session.model,
    call,
    timeoutMs,
    ...(values['show-requests'] ? { onSend: (message: unknown) => error.write(`request: ${JSON.stringify(message)}\n`) } : {}),
  };
  if (name === 'retell') return new RetellCall(settings);
  return new TwilioCall({
    ...settings,
    ...(values['api-key'] === undefined ? {} : { authToken: values['api-key'] }),
    ...(values['signed-url'] === undefined ? {} : { signedUrl: values['signed-url'] }),
  });
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
    throw new UsageError(`--platform must be one of ${ALL_PLATFORM_NAMES.join(', ')}, got "${name}"`);
  }
  session.instanceId ??= newInstanceId();
  return platformRequestShape(name, {
    callId: session.instanceId,
    callerNumber: session.callerNumber ?? '',
    userData: userDataObject(name, session.userData),
  });
}

/** The user data as the JSON object another platform than IMS sends. */
function userDataObject(platform: string, userData: string | undefined): Record<string, unknown> {
  if (userData === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(userData);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--platform ${platform} sends the user data as JSON: it must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
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
