import { request } from 'undici';
import type { GatewayConfig, OpenAICompatibleProviderConfig } from '../config/schema.ts';
import { chatCompletionsUrl } from '../providers/openai-compatible.ts';
import { errorCode, redactSecrets, upstreamMessage } from '../providers/upstream-errors.ts';
import { closestName } from '../text/did-you-mean.ts';
import { diagnosis, type Diagnosis } from './diagnosis.ts';

/** A model list larger than this is not read to the end (the model is then checked by a request). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** An upstream to probe: a configured openai-compatible provider and the model names used with it. */
export interface UpstreamTarget {
  name: string;
  config: OpenAICompatibleProviderConfig;
  models: string[];
}

export interface ProbeOptions {
  /** Per request. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Every openai-compatible provider with the models agents and fallbacks ask it for. */
export function upstreamTargets(config: GatewayConfig): UpstreamTarget[] {
  const targets = new Map<string, UpstreamTarget>();
  for (const [name, provider] of Object.entries(config.providers)) {
    if (provider.type === 'openai-compatible') targets.set(name, { name, config: provider, models: [] });
  }
  const use = (provider: string, model: string | undefined) => {
    const target = targets.get(provider);
    if (target && model !== undefined && !target.models.includes(model)) target.models.push(model);
  };
  for (const agent of Object.values(config.agents)) {
    use(agent.provider, agent.model);
    for (const fallback of agent.fallbacks) use(fallback.provider, fallback.model);
  }
  return [...targets.values()];
}

export async function probeUpstreams(config: GatewayConfig, options: ProbeOptions = {}): Promise<Diagnosis[]> {
  const results = await Promise.all(upstreamTargets(config).map((target) => probeUpstream(target, options)));
  return results.flat();
}

/**
 * Is the upstream reachable, does it take the key, does it know each model? Lists its models
 * (GET {baseUrl}/models); a model it does not list, or an upstream without a list, is checked
 * with a one-token request. Never throws; never names the key.
 */
export async function probeUpstream(target: UpstreamTarget, options: ProbeOptions = {}): Promise<Diagnosis[]> {
  const subject = `providers.${target.name}`;
  const listing = await send(target, 'GET', modelsUrl(target.config), undefined, options);
  if (listing.kind === 'unreachable') {
    return [diagnosis('FAIL', subject, `unreachable at ${target.config.baseUrl} (${listing.reason}): check baseUrl and the network`)];
  }
  if (listing.status === 401 || listing.status === 403) return [badKey(target, listing)];
  const listed = listing.status >= 200 && listing.status < 300 ? modelIds(listing.body) : undefined;
  const results: Diagnosis[] = [
    diagnosis(
      'PASS',
      subject,
      listed ? `reachable, the key is accepted, ${listed.length} models listed` : `reachable (GET /models answered ${listing.status})`,
    ),
  ];
  for (const model of target.models) {
    if (listed?.includes(model)) {
      results.push(diagnosis('PASS', `${subject} model "${model}"`, 'listed by the upstream'));
      continue;
    }
    results.push(await tryModel(target, model, listed, options));
  }
  return results;
}

async function tryModel(target: UpstreamTarget, model: string, listed: string[] | undefined, options: ProbeOptions): Promise<Diagnosis> {
  const subject = `providers.${target.name} model "${model}"`;
  const body = JSON.stringify({
    ...target.config.defaultParams,
    model,
    stream: false,
    max_tokens: 1,
    messages: [{ role: 'user', content: 'ping' }],
  });
  const answer = await send(target, 'POST', chatCompletionsUrl(target.config.baseUrl, target.config.query), body, options);
  if (answer.kind === 'unreachable') return diagnosis('FAIL', subject, `a one-token request failed (${answer.reason})`);
  if (answer.status >= 200 && answer.status < 300) {
    return diagnosis(
      'PASS',
      subject,
      listed ? "not in the upstream's model list, but a one-token request was answered" : 'a one-token request was answered',
    );
  }
  if (answer.status === 401 || answer.status === 403) return badKey(target, answer);
  const detail = upstreamMessage(answer.body);
  const suggestion = listed ? closestName(model, listed) : undefined;
  const hint = suggestion
    ? ` (did you mean "${suggestion}"?)`
    : listed
      ? ` (the upstream lists: ${listed.slice(0, 8).join(', ')}${listed.length > 8 ? ', …' : ''})`
      : '';
  const what =
    answer.status === 404
      ? 'unknown model, or a wrong baseUrl'
      : answer.status === 400
        ? 'a one-token request was refused (an unknown model name? a parameter the model needs in defaultParams?)'
        : 'the upstream refused a one-token request';
  return diagnosis('FAIL', subject, `${what}: HTTP ${answer.status}${detail ? ` "${redactSecrets(detail)}"` : ''}${hint}`);
}

function badKey(target: UpstreamTarget, answer: { status: number; body: string }): Diagnosis {
  const detail = upstreamMessage(answer.body);
  const where = target.config.apiKey ? `providers.${target.name}.apiKey` : `providers.${target.name}.apiKey (none is set)`;
  return diagnosis(
    'FAIL',
    `providers.${target.name}`,
    `the upstream refused the key (HTTP ${answer.status}${detail ? `: ${redactSecrets(detail)}` : ''}): check ${where}`,
  );
}

function modelsUrl(config: OpenAICompatibleProviderConfig): string {
  const url = new URL(config.baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/models`;
  for (const [key, value] of Object.entries(config.query)) url.searchParams.set(key, value);
  return url.toString();
}

/** The ids of an OpenAI-style model list (`{"data":[{"id":...}]}`; Ollama's `models[].name` too). */
function modelIds(body: string): string[] | undefined {
  try {
    const parsed = JSON.parse(body) as { data?: unknown; models?: unknown };
    const list = Array.isArray(parsed.data) ? parsed.data : Array.isArray(parsed.models) ? parsed.models : undefined;
    if (!list) return undefined;
    return list.flatMap((entry: unknown) => {
      if (typeof entry !== 'object' || entry === null) return [];
      const { id, name } = entry as { id?: unknown; name?: unknown };
      return typeof id === 'string' ? [id] : typeof name === 'string' ? [name] : [];
    });
  } catch {
    return undefined;
  }
}

type Answer = { kind: 'answered'; status: number; body: string } | { kind: 'unreachable'; reason: string };

async function send(
  target: UpstreamTarget,
  method: 'GET' | 'POST',
  url: string,
  body: string | undefined,
  options: ProbeOptions,
): Promise<Answer> {
  const { config } = target;
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'voice-llm-gateway' };
  if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;
  for (const [key, value] of Object.entries(config.headers)) headers[key.toLowerCase()] = value;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
  try {
    const response = await request(url, {
      method,
      headers,
      body,
      signal: AbortSignal.any(signals),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const decoder = new TextDecoder();
    let text = '';
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) break;
      text += decoder.decode(chunk, { stream: true });
    }
    return { kind: 'answered', status: response.statusCode, body: text };
  } catch (error) {
    const code = errorCode(error);
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { kind: 'unreachable', reason: code ?? (timedOut ? `no answer within ${timeoutMs} ms` : redactSecrets(String(error))) };
  }
}
