import { request as httpRequest, createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { Agent } from '../../src/agent/agent-registry.ts';
import type { KeyPressDropEvent } from '../../src/agent/call-control/press-digits.ts';
import type { CallSignalForm } from '../../src/agent/call-control/signal-form.ts';
import { converse, type ToolRun } from '../../src/agent/converse.ts';
import { ToolRouter } from '../../src/agent/tool-router.ts';
import { emitSignals } from '../../src/agent/transforms/emit-call-signals.ts';
import { routeTools, type ServerToolCall } from '../../src/agent/transforms/route-tool-calls.ts';
import { agentConfigSchema, endCallSchema, type AgentConfig, type EndCallConfig, type TransferConfig } from '../../src/config/schema.ts';
import type { ChatMessage } from '../../src/core/chat-types.ts';
import type { PartStream, PartTransform } from '../../src/core/stream-part.ts';
import type { ChatCompletion } from '../../src/protocol/completion-builder.ts';
import { parseChatRequest } from '../../src/protocol/chat-request.ts';
import type { Provider } from '../../src/providers/provider.ts';
import { apologize } from '../../src/resilience/apologize-on-failure.ts';
import { sayFiller } from '../../src/resilience/filler.ts';
import { streamWithFallbacks, type AttemptEvent } from '../../src/resilience/provider-chain.ts';
import type { ProviderTarget } from '../../src/resilience/provider-target.ts';
import { toClientError } from '../../src/server/client-errors.ts';
import { CompletionChannel } from '../../src/server/completion-channel.ts';
import { SseChannel } from '../../src/server/sse-channel.ts';
import { writeAnswer } from '../../src/server/write-answer.ts';
import { classifyTurn, type TurnEnding } from '../../src/telemetry/turn-outcome.ts';
import { type FinishedTurn, TurnReport } from '../../src/telemetry/turn-report.ts';
import type { PhraseJoiner } from '../../src/text/phrase-joiner.ts';
import { targetOf } from './test-provider.ts';
import type { Stage } from './stage-kit.ts';

/**
 * The core stages of a turn as the stage kit drives them: each built from the few settings a test
 * names, everything else as production sets it. The one place tests construct these stages.
 */

const NEVER_ABORTED = new AbortController().signal;

/** The filler stage: `phrase` said once when no part arrived within `afterMs`. */
export function fillerStage(afterMs: number, phrase: string, onFiller?: () => void): Stage {
  return sayFiller({ afterMs, phrase, onFiller });
}

/** What the apology stage told the call about its turns. */
export interface ApologyLedger {
  failures: number;
  successes: number;
  apologies: unknown[];
}

/** The apology stage, with the agent's `onFailure` settings (production defaults otherwise). */
export function apologyStage(
  onFailure: Partial<AgentConfig['onFailure']> = {},
  options: { signal?: AbortSignal; failuresBefore?: number; defaultMessage?: string } = {},
): { stage: Stage; ledger: ApologyLedger } {
  const ledger: ApologyLedger = { failures: options.failuresBefore ?? 0, successes: 0, apologies: [] };
  const config = { ...agentConfigSchema.shape.onFailure.parse(undefined), ...onFailure };
  const stage: Stage = apologize({
    config,
    defaultMessage: options.defaultMessage ?? 'Sorry, please say that again.',
    signal: options.signal ?? NEVER_ABORTED,
    recordFailure: () => ++ledger.failures,
    recordSuccess: () => {
      ledger.successes++;
      ledger.failures = 0;
    },
    onApology: (error) => ledger.apologies.push(error),
  });
  return { stage, ledger };
}

export interface CallSignalSettings {
  /** The agent's `endCall` section (schema defaults otherwise); its farewell is the default one if unset. */
  endCall?: Partial<EndCallConfig>;
  transfer?: TransferConfig;
  /** How the platform is told. */
  form: CallSignalForm;
  /** The speech stages the answer went through. */
  speech?: PartTransform;
}

/** The call-signal stage: `end-call` / `transfer` / `digits` parts into the platform's form; the signals it decided, the key presses it dropped. */
export function callSignalsStage(settings: CallSignalSettings): {
  stage: Stage;
  signals: string[];
  keyPressesDropped: KeyPressDropEvent[];
} {
  const signals: string[] = [];
  const keyPressesDropped: KeyPressDropEvent[] = [];
  const endCall = { ...endCallSchema.parse({}), farewell: 'Goodbye.', ...settings.endCall };
  const stage: Stage = emitSignals({
    endCall,
    transfer: settings.transfer,
    form: settings.form,
    onSignal: (signal) => signals.push(signal),
    speech: settings.speech,
    onKeyPressDropped: (event) => keyPressesDropped.push(event),
  });
  return { stage, signals, keyPressesDropped };
}

/** The endCall settings the signal form sees (schema defaults under `overrides`). */
export function endCallSettings(overrides: Partial<EndCallConfig> = {}): EndCallConfig {
  return { ...endCallSchema.parse({}), ...overrides };
}

/** The tool-routing stage for an agent's config; the HTTP tool calls it handed over, the key presses it dropped. */
export function toolRoutingStage(
  agent: AgentConfig,
  joiner?: PhraseJoiner,
): { stage: Stage; serverCalls: ServerToolCall[]; keyPressesDropped: KeyPressDropEvent[] } {
  const serverCalls: ServerToolCall[] = [];
  const keyPressesDropped: KeyPressDropEvent[] = [];
  const router = new ToolRouter(agent);
  const stage: Stage = routeTools({
    router,
    transfer: agent.transfer,
    onServerCall: (call) => serverCalls.push(call),
    joiner,
    onKeyPressDropped: (event) => keyPressesDropped.push(event),
  });
  return { stage, serverCalls, keyPressesDropped };
}

/** An agent's config from the fields a test names (the schema fills in the rest). */
export function agentConfig(fields: Record<string, unknown> = {}): AgentConfig {
  return agentConfigSchema.parse({ provider: 'primary', ...fields });
}

/** The provider chain as a source of parts; the attempts it reported. */
export function providerChain(
  targets: readonly ProviderTarget[],
  options: { signal?: AbortSignal; messages?: ChatMessage[]; params?: Record<string, unknown> } = {},
): { parts: PartStream; attempts: AttemptEvent[] } {
  const attempts: AttemptEvent[] = [];
  const request = { messages: options.messages ?? [{ role: 'user' as const, content: 'Hello?' }], params: options.params ?? {} };
  const parts = streamWithFallbacks(targets, request, options.signal ?? NEVER_ABORTED, (event) => attempts.push(event));
  return { parts, attempts };
}

/** The model's side of a turn (rounds, the agent's HTTP tools run between them) for an agent on `providers`. */
export function conversation(
  config: AgentConfig,
  providers: readonly Provider[],
  body: { messages?: unknown[]; tools?: unknown[] } = {},
): { parts: PartStream; toolRuns: ToolRun[] } {
  const targets = providers.map((provider) => targetOf(provider));
  const agent: Agent = {
    id: 'test-agent',
    config,
    provider: providers[0]!,
    targets,
    router: new ToolRouter(config),
    mayEndOrTransfer: false, // read by runTurn only
  };
  const request = parseChatRequest({
    model: 'test-agent',
    messages: body.messages ?? [{ role: 'user', content: 'Hello?' }],
    ...(body.tools ? { tools: body.tools } : {}),
  });
  const toolRuns: ToolRun[] = [];
  const parts = converse({
    agent,
    router: agent.router,
    request,
    messages: request.messages,
    signal: NEVER_ABORTED,
    logger: pino({ level: 'silent' }),
    language: 'en',
    onToolRun: (run) => toolRuns.push(run),
  });
  return { parts, toolRuns };
}

/** What a client received from the stream writer. */
export interface ClientResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The `data:` payloads in order (`[DONE]` as the string). */
  events: string[];
  /** The turn as it ended: what was sent, and the outcome the one classifier decided from the writer's ending. */
  turn: FinishedTurn;
}

/**
 * Writes `parts` to a real client through the production stream writer: a node:http server on a
 * free local port, one request, the whole response read back.
 */
export async function writeToClient(
  parts: PartStream,
  options: { includeUsage?: boolean; signal?: AbortSignal; model?: string; onTextSent?: (text: string) => void } = {},
): Promise<ClientResponse> {
  const report = new TurnReport('test-agent', 'primary', { userDataInvalid: false }, true);
  report.onText = options.onTextSent;
  let ending: Promise<TurnEnding> | undefined;
  const server = createServer((_req, res) => {
    const signal = options.signal ?? NEVER_ABORTED;
    const channel = new SseChannel({
      res,
      id: 'chatcmpl-test',
      created: 1_700_000_000,
      model: options.model ?? 'test-agent',
      includeUsage: options.includeUsage ?? false,
      signal,
      report,
    });
    ending = writeAnswer(parts, channel, { report, signal, toError: toClientError });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    const events = [...response.body.matchAll(/^data: (.*)$/gm)].map((match) => match[1]!);
    const turn = report.end(classifyTurn(await ending!));
    return { ...response, events, turn };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The same parts as a non-streaming answer (`stream: false`), built as the chat route builds it. */
export async function completionOf(parts: PartStream): Promise<ChatCompletion> {
  const report = new TurnReport('test-agent', 'primary', { userDataInvalid: false }, true);
  let sent: ChatCompletion | undefined;
  const channel = new CompletionChannel({
    id: 'chatcmpl-test',
    created: 1_700_000_000,
    model: 'test-agent',
    send: (completion) => (sent = completion),
  });
  const ending = await writeAnswer(parts, channel, { report, signal: NEVER_ABORTED, toError: toClientError });
  if (ending.how === 'failed') throw ending.error;
  if (sent === undefined) throw new Error(`no completion was sent (the turn ended ${ending.how})`);
  return sent;
}
