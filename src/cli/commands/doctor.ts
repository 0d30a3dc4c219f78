import { parseArgs } from 'node:util';
import { AgentRegistry } from '../../agent/agent-registry.ts';
import { renderTemplate } from '../../agent/prompt/render-template.ts';
import { turnLanguage } from '../../agent/language/caller-language.ts';
import { buildTemplateView } from '../../agent/prompt/template-view.ts';
import { ConfigError } from '../../config/config-error.ts';
import { MIN_KEY_LENGTH } from '../../config/config-warnings.ts';
import { loadConfig, type LoadedConfig } from '../../config/load-config.ts';
import { diagnosis, type Diagnosis } from '../../diagnostics/diagnosis.ts';
import { probeHttpTool } from '../../diagnostics/probe-http-tool.ts';
import { probeRedis } from '../../diagnostics/probe-redis.ts';
import { probeUpstreams } from '../../diagnostics/probe-upstreams.ts';
import { sourceLabel } from '../banner.ts';

export const DOCTOR_USAGE = `Usage: voice-llm-gateway doctor [--config FILE]

Checks the configuration end to end, as "serve" would load it: where it comes from, the chat
keys, each upstream (reachable, key accepted, model known), the prompt templates rendered with
sample call data, the HTTP tools' endpoints, and Redis with state.store redis. Prints
PASS / WARN / FAIL lines.

Options for doctor:
  --config FILE     YAML config (default: $GATEWAY_CONFIG, else ./config.yaml if present)
  --timeout-ms N    Limit per network request (default 10000)
  -h, --help        Show this help

Exit code: 0 when nothing fails (warnings alone pass), 1 when a check fails, 2 on bad options.
`;

/** Sample call data a template is rendered with (what an IMS phone call sends). */
const SAMPLE_CALL = {
  instanceId: 'doctor-instance',
  channelId: 'doctor-channel',
  sentenceId: 1,
  callerNumber: '13800000001',
  calleeNumber: '057100000000',
  userData: {},
  userDataRaw: '',
  userDataInvalid: false,
};

export interface DoctorIo {
  output?: NodeJS.WritableStream;
  error?: NodeJS.WritableStream;
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
}

/** `voice-llm-gateway doctor`: returns the exit code. */
export async function runDoctor(argv: string[], io: DoctorIo = {}): Promise<number> {
  const output = io.output ?? process.stdout;
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, 'timeout-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }).values;
  } catch (cause) {
    (io.error ?? process.stderr).write(`${cause instanceof Error ? cause.message : String(cause)}\n\n${DOCTOR_USAGE}`);
    return 2;
  }
  if (values.help) {
    output.write(DOCTOR_USAGE);
    return 0;
  }
  const timeoutMs = values['timeout-ms'] === undefined ? 10_000 : Number(values['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    (io.error ?? process.stderr).write(`--timeout-ms must be a positive whole number.\n\n${DOCTOR_USAGE}`);
    return 2;
  }
  const findings = await diagnose(
    {
      ...(values.config === undefined ? {} : { configPath: values.config }),
      ...(io.env ? { env: io.env } : {}),
      ...(io.cwd ? { cwd: io.cwd } : {}),
    },
    timeoutMs,
  );
  for (const f of findings) output.write(`${f.status.padEnd(4)}  ${f.subject}: ${f.message}\n`);
  const count = (status: Diagnosis['status']) => findings.filter((f) => f.status === status).length;
  output.write(`\n${count('PASS')} pass, ${count('WARN')} warn, ${count('FAIL')} fail\n`);
  return count('FAIL') > 0 ? 1 : 0;
}

async function diagnose(options: Parameters<typeof loadConfig>[0], timeoutMs: number): Promise<Diagnosis[]> {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [diagnosis('FAIL', 'config', error.message.split('\n')[0]!), ...error.problems.map((p) => diagnosis('FAIL', 'config', p))];
  }
  const { config } = loaded;
  const findings: Diagnosis[] = [
    diagnosis(
      loaded.source === 'demo' ? 'WARN' : 'PASS',
      'config',
      `${sourceLabel(loaded)}${loaded.source === 'demo' ? ': the built-in demo agent would answer, no model' : ''}`,
    ),
  ];
  for (const warning of loaded.warnings) findings.push(diagnosis('WARN', 'config', warning));
  const keys = chatKeys(config.server.apiKeys);
  if (keys) findings.push(keys);
  try {
    new AgentRegistry(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    findings.push(...error.problems.map((p) => diagnosis('FAIL', 'agents', p)));
  }
  for (const [id, agent] of Object.entries(config.agents)) {
    if (agent.systemPrompt === undefined) continue;
    try {
      // The sample call has no caller's words: `auto` shows the English {{now}}.
      const view = buildTemplateView(SAMPLE_CALL, {}, agent.variables, agent.timezone, turnLanguage(agent.language, ''));
      const text = renderTemplate(agent.systemPrompt, view).replace(/\s+/g, ' ').trim();
      findings.push(
        diagnosis(
          'PASS',
          `agents.${id}.systemPrompt`,
          `renders with sample call data: "${text.length > 100 ? `${text.slice(0, 100)}…` : text}"`,
        ),
      );
    } catch {
      // AgentRegistry has reported a template that does not parse.
    }
  }
  findings.push(...(await probeUpstreams(config, { timeoutMs })));
  const tools = Object.entries(config.agents).flatMap(([id, agent]) =>
    agent.tools.map((tool, i) => probeHttpTool(`agents.${id}.tools[${i}] ${tool.name}`, tool, timeoutMs)),
  );
  findings.push(...(await Promise.all(tools)));
  const redis = await probeRedis(config.state, (options?.env ?? process.env).REDIS_URL, timeoutMs);
  if (redis) findings.push(redis);
  return findings;
}

/** Undefined when a key is too short: the config warnings above already say which. */
function chatKeys(keys: readonly string[]): Diagnosis | undefined {
  const present = keys.filter((key) => key.trim() !== '');
  if (present.length === 0) {
    return diagnosis(
      'WARN',
      'server.apiKeys',
      "none configured: the gateway generates one and keeps it in server.dataDir (api-key); the console's API-KEY must be that key",
    );
  }
  if (present.some((key) => key.trim().length < MIN_KEY_LENGTH)) return undefined;
  return diagnosis('PASS', 'server.apiKeys', `${present.length} key(s), each at least ${MIN_KEY_LENGTH} characters`);
}
