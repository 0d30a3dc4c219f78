/**
 * `voice-llm-gateway check --platform NAME`: the stream rules, judged on turns sent in that
 * platform's shape to its path, plus the rules where the platform differs from IMS. A rule that
 * cannot be exercised from outside is reported as skip, never as a pass.
 */

import { streamChat, type StreamedTurn } from '../client/stream-chat.ts';
import { SYNTHETIC_HEADER } from '../../src/protocol/synthetic-traffic.ts';
import { platformRequestShape, type PlatformRequestShape } from '../platforms/platform-requests.ts';
import { ruleInfo, type CheckStatus } from './check-rules.ts';
import { checkStreamRules } from './stream-rules.ts';
import type { CheckCaseResult, CheckFinding, CheckReport } from './suite.ts';

export interface PlatformCheckOptions {
  /** The server's root: the platform's path (e.g. /vapi/v1) is appended. */
  baseUrl: string;
  apiKey: string;
  model: string;
  platform: string;
  timeoutMs: number;
}

/** What one case found; no findings and not skipped is a pass. */
interface Judged {
  summary: string;
  findings: CheckFinding[];
  skipped?: boolean;
}

interface PlatformCase {
  id: string;
  title: string;
  run(context: CaseContext): Promise<Judged>;
}

interface CaseContext {
  options: PlatformCheckOptions;
  shape: PlatformRequestShape;
  /** The platform's base URL on this server. */
  base: string;
  send(turn: number, extra?: { headers?: Record<string, string>; base?: string }): Promise<StreamedTurn>;
}

const fail = (rule: string, message: string, fix: string): CheckFinding => ({ status: 'fail', rule, message, fix });

/** The stream of a plain turn in the platform's shape, judged by every stream rule. */
const streamCase: PlatformCase = {
  id: 'platform-stream',
  title: "a turn in the platform's shape streams by the stream rules",
  async run({ send }) {
    const turn = await send(1);
    const answered = answeredAsStream(turn);
    if (answered) return { summary: 'no stream', findings: [answered] };
    const violations = checkStreamRules(turn.chunks, turn.sawDone);
    if (turn.afterDone > 0) violations.push({ rule: 'after-done', message: `${turn.afterDone} event(s) after data: [DONE]` });
    const findings = violations.map(
      (v): CheckFinding => ({ status: ruleInfo(v.rule).severity, rule: v.rule, message: v.message, fix: ruleInfo(v.rule).fix }),
    );
    return {
      summary: findings.length === 0 ? `${turn.chunks.length} chunk(s), [DONE]` : `${findings.length} stream rule(s) broken`,
      findings,
    };
  },
};

/** A case that passes when one request, sent a platform's particular way, is answered with a stream. */
function streamsWhen(
  id: string,
  title: string,
  rule: string,
  fix: string,
  how: (context: CaseContext) => Promise<StreamedTurn>,
): PlatformCase {
  return {
    id,
    title,
    async run(context) {
      const answered = answeredAsStream(await how(context));
      return answered
        ? { summary: `no stream: ${answered.message}`, findings: [{ ...answered, rule, fix }] }
        : { summary: 'streamed', findings: [] };
    },
  };
}

/** Vapi sends `stream` in the body and may not ask for event-stream in Accept. */
const streamByBodyCase = streamsWhen(
  'vapi-stream-by-body',
  "streaming is decided by the body's stream flag, not the Accept header",
  'stream-by-body',
  'Stream whenever the body says "stream": true, whatever the Accept header says.',
  ({ send }) => send(1, { headers: { accept: 'application/json' } }),
);

/** Vapi appends /chat/completions to a URL that may already end in it. */
const doubledPathCase = streamsWhen(
  'vapi-doubled-path',
  'the doubled path .../chat/completions/chat/completions is served',
  'doubled-path',
  'Serve .../chat/completions/chat/completions as .../chat/completions (Vapi appends the path to a URL that has it).',
  ({ send, base }) => send(1, { base: `${base}/chat/completions` }),
);

/** ElevenLabs waits for [DONE] to end the agent's turn. */
const doneCase: PlatformCase = {
  id: 'elevenlabs-done',
  title: 'the stream ends with data: [DONE]',
  async run({ send }) {
    const turn = await send(1);
    const answered = answeredAsStream(turn);
    if (answered) return { summary: 'no stream', findings: [answered] };
    return turn.sawDone && turn.afterDone === 0
      ? { summary: 'ends with [DONE]', findings: [] }
      : {
          summary: 'no clean [DONE]',
          findings: [fail('done', turn.sawDone ? 'events after [DONE]' : 'the stream ended without data: [DONE]', ruleInfo('done').fix)],
        };
  },
};

/** A TRTC retry (same X-Request-Id) must not run the model twice: not visible in the answers. */
const retryCase: PlatformCase = {
  id: 'trtc-retry-once',
  title: 'a retried X-Request-Id is answered without a second model run',
  run: async () => ({
    summary: "not exercisable from outside (a second model run does not show in the answers); this gateway's own tests cover it",
    findings: [],
    skipped: true,
  }),
};

/** The cases for each platform, after the stream rules every platform is checked by. */
const PLATFORM_CASES: Readonly<Record<string, readonly PlatformCase[]>> = {
  vapi: [streamByBodyCase, doubledPathCase],
  elevenlabs: [doneCase],
  trtc: [retryCase],
};

/** Runs the platform's cases one after another (a platform holds one turn of a call at a time). */
export async function runPlatformSuite(options: PlatformCheckOptions): Promise<CheckReport> {
  const started = performance.now();
  const startedAt = new Date();
  const shape = platformRequestShape(options.platform, {
    callId: `check-${Date.now()}`,
    callerNumber: '+16505550199',
    userData: { customerName: 'Ada' },
  });
  if (shape === undefined) throw new Error(`unknown platform "${options.platform}"`);
  const base = options.baseUrl.replace(/\/+$/, '') + shape.base;
  const send: CaseContext['send'] = (turn, extra = {}) =>
    streamChat({
      baseUrl: extra.base ?? base,
      apiKey: options.apiKey,
      body: { model: options.model, stream: true, ...shape.body([{ role: 'user', content: 'hello' }], turn) },
      headers: { ...shape.headers(turn), ...extra.headers, [SYNTHETIC_HEADER]: 'check' },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  const context: CaseContext = { options, shape, base, send };
  const cases: CheckCaseResult[] = [];
  for (const platformCase of [streamCase, ...(PLATFORM_CASES[options.platform] ?? [])]) {
    const t0 = performance.now();
    let judged: Judged;
    try {
      judged = await platformCase.run(context);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      judged = { summary: 'no answer', findings: [fail('request-failed', message, ruleInfo('request-failed').fix)] };
    }
    const status: CheckStatus = judged.findings.some((f) => f.status === 'fail')
      ? 'fail'
      : judged.findings.length > 0
        ? 'warn'
        : judged.skipped
          ? 'skip'
          : 'pass';
    cases.push({
      id: platformCase.id,
      title: platformCase.title,
      status,
      durationMs: Math.round(performance.now() - t0),
      summary: judged.summary,
      findings: judged.findings,
    });
  }
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of cases) counts[c.status]++;
  return {
    baseUrl: base,
    alternateBaseUrl: base,
    model: options.model,
    timeoutMs: options.timeoutMs,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    counts,
    cases,
  };
}

/** A finding when the answer is not a 200 event stream; undefined when it is. */
function answeredAsStream(turn: StreamedTurn): CheckFinding | undefined {
  if (turn.status !== 200)
    return fail('http-status', `HTTP ${turn.status}${turn.body ? `: ${turn.body.slice(0, 200)}` : ''}`, ruleInfo('http-status').fix);
  if (turn.body !== undefined)
    return fail(
      'content-type',
      `answered as ${turn.contentType || 'no content type'}, not text/event-stream`,
      ruleInfo('content-type').fix,
    );
  return undefined;
}
