/**
 * `voice-llm-gateway check --platform NAME`: the stream rules, judged on turns sent in that
 * platform's shape to its path, plus the rules where the platform differs from IMS. A rule that
 * cannot be exercised from outside is reported as skip, never as a pass.
 */

import { streamChat, type StreamedTurn } from '../client/stream-chat.ts';
import { SYNTHETIC_HEADER } from '../../src/protocol/synthetic-traffic.ts';
import { platformRequestShape, type PlatformMessage, type PlatformRequestShape } from '../platforms/platform-requests.ts';
import { LONG_QUESTION } from './check-questions.ts';
import { ruleInfo } from './check-rules.ts';
import { fail, finding, runCases, skip, type CheckCase } from './run-cases.ts';
import { checkStreamRules } from './stream-rules.ts';
import type { CheckFinding, CheckReport } from './suite.ts';

export interface PlatformCheckOptions {
  /** The server's root: the platform's path (e.g. /vapi/v1) is appended. */
  baseUrl: string;
  apiKey: string;
  model: string;
  platform: string;
  timeoutMs: number;
}

/** How one request of a case differs from a plain turn in the platform's shape. */
interface SendExtra {
  headers?: Record<string, string>;
  base?: string;
  /** The conversation (default: the caller says hello). */
  messages?: PlatformMessage[];
  /** Body fields over the platform's. */
  body?: Record<string, unknown>;
  /** Leave out the platform's headers. */
  bare?: boolean;
  /** Another call than the suite's (each case that keeps call state uses its own). */
  callId?: string;
  signal?: AbortSignal;
  onText?: (text: string) => void;
}

interface CaseContext {
  options: PlatformCheckOptions;
  shape: PlatformRequestShape;
  /** The platform's base URL on this server. */
  base: string;
  send(turn: number, extra?: SendExtra): Promise<StreamedTurn>;
  /** A call id no other case uses. */
  newCallId(): string;
}

type PlatformCase = CheckCase<CaseContext>;

/** The stream of a plain turn in the platform's shape, judged by every stream rule. */
const streamCase: PlatformCase = {
  id: 'platform-stream',
  title: "a turn in the platform's shape streams by the stream rules",
  async run({ send }) {
    const turn = await send(1);
    const answered = answeredAsStream(turn);
    if (answered) return { summary: 'no stream', findings: [answered] };
    const findings = streamFindings(turn);
    return {
      summary: findings.length === 0 ? `${turn.chunks.length} chunk(s), [DONE]` : `${findings.length} stream rule(s) broken`,
      findings,
    };
  },
};

/** A case that passes when one request, sent a platform's particular way, is answered with a stream. */
function streamsWhen(id: string, title: string, rule: string, how: (context: CaseContext) => Promise<StreamedTurn>): PlatformCase {
  return {
    id,
    title,
    async run(context) {
      const answered = answeredAsStream(await how(context));
      return answered
        ? { summary: `no stream: ${answered.message}`, findings: [{ ...answered, rule, fix: ruleInfo(rule).fix }] }
        : { summary: 'streamed', findings: [] };
    },
  };
}

/** Vapi sends `stream` in the body and may not ask for event-stream in Accept. */
const streamByBodyCase = streamsWhen(
  'vapi-stream-by-body',
  "streaming is decided by the body's stream flag, not the Accept header",
  'stream-by-body',
  ({ send }) => send(1, { headers: { accept: 'application/json' } }),
);

/** Vapi appends /chat/completions to a URL that may already end in it. */
const doubledPathCase = streamsWhen(
  'vapi-doubled-path',
  'the doubled path .../chat/completions/chat/completions is served',
  'doubled-path',
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
          findings: [fail('done', turn.sawDone ? 'events after [DONE]' : 'the stream ended without data: [DONE]')],
        };
  },
};

/** A TRTC retry (same X-Request-Id) must not run the model twice: not visible in the answers. */
const trtcRetryCase: PlatformCase = {
  id: 'trtc-retry-once',
  title: 'a retried X-Request-Id is answered without a second model run',
  run: async () =>
    skip("not exercisable from outside (a second model run does not show in the answers); this gateway's own tests cover it"),
};

/** Volcengine: the id is the same within a stream and differs across requests. */
const distinctIdsCase: PlatformCase = {
  id: 'volcengine-distinct-ids',
  title: 'two turns of a call carry different completion ids',
  async run({ send, newCallId }) {
    const callId = newCallId();
    const first = await send(1, { callId });
    const second = await send(2, { callId, messages: [{ role: 'user', content: 'And what else?' }] });
    const answered = answeredAsStream(first) ?? answeredAsStream(second);
    if (answered) return { summary: 'no stream', findings: [answered] };
    const idOf = (turn: StreamedTurn) => (turn.chunks[0] as { id?: unknown } | undefined)?.id;
    const [a, b] = [idOf(first), idOf(second)];
    return a !== undefined && a === b
      ? {
          summary: `both turns are ${String(a)}`,
          findings: [fail('distinct-ids', `turn 1 and turn 2 both carry the id ${JSON.stringify(a)}`)],
        }
      : { summary: `${String(a)} then ${String(b)}`, findings: [] };
  },
};

/** The limit the maxTokens case sends, and the most characters an answer within it can hold (a token is rarely over 8). */
const MAX_TOKENS = 5;
const CHARS_PER_TOKEN = 8;

/** Volcengine sends the limit as camelCase `maxTokens`: an answer must stop there. */
const maxTokensCase: PlatformCase = {
  id: 'volcengine-max-tokens',
  title: 'camelCase maxTokens limits the answer',
  async run({ send, newCallId }) {
    const turn = await send(1, {
      callId: newCallId(),
      body: { maxTokens: MAX_TOKENS },
      messages: [{ role: 'user', content: 'Count from one to one hundred in words, one number per line.' }],
    });
    const answered = answeredAsStream(turn);
    if (answered) return { summary: 'no stream', findings: [answered] };
    const chars = Array.from(turn.text).length;
    if (turn.finishReason === 'length')
      return { summary: `stopped at the limit (finish_reason length, ${chars} characters)`, findings: [] };
    if (chars > MAX_TOKENS * CHARS_PER_TOKEN) {
      return {
        summary: `${chars} characters past maxTokens ${MAX_TOKENS}`,
        findings: [
          fail(
            'max-tokens',
            `with maxTokens ${MAX_TOKENS} the answer ran to ${chars} characters and finished with ${JSON.stringify(turn.finishReason)}, not "length"`,
            undefined,
            excerpt(turn.text),
          ),
        ],
      };
    }
    return skip(`the answer ended (${chars} characters, finish_reason ${String(turn.finishReason)}) before the limit: not exercised`);
  },
};

/** Volcengine Prefill: the partial text of a round first, then the final text of the same round. */
const prefillCase: PlatformCase = {
  id: 'volcengine-prefill',
  title: 'the final request of a round (after its Prefill request) is answered in full',
  async run({ send, newCallId }) {
    const callId = newCallId();
    const partial = new AbortController();
    let started: () => void = () => undefined;
    const firstWords = new Promise<void>((resolve) => (started = resolve));
    const prefill = send(3, {
      callId,
      signal: partial.signal,
      messages: [{ role: 'user', content: 'Tell me everything you can about' }],
      onText: () => started(),
    })
      .catch(() => undefined)
      .finally(() => started());
    await firstWords;
    const final = await send(3, { callId, messages: [{ role: 'user', content: LONG_QUESTION }] });
    partial.abort();
    const first = await prefill;
    const answered = answeredAsStream(final);
    if (answered) return { summary: 'the final request got no stream', findings: [{ ...answered, rule: 'prefill-round' }] };
    const broken = streamFindings(final);
    if (!final.sawDone || final.stopped) {
      broken.push(fail('prefill-round', 'the answer to the final text of the round did not end with data: [DONE]'));
    }
    const prefillFate =
      first === undefined || first.stopped
        ? 'the prefill answer was left open'
        : first.sawDone
          ? 'the prefill answer ran to its end'
          : 'the prefill answer was cut';
    return { summary: `final answered in full (${final.chunks.length} chunks); ${prefillFate}`, findings: broken };
  },
};

/** Volcengine: an older round arriving late never cuts the newer round's answer. */
const lateRoundCase: PlatformCase = {
  id: 'volcengine-late-round',
  title: "a late request for an older round does not cut the newer round's answer",
  async run({ send, newCallId }) {
    const callId = newCallId();
    let started: () => void = () => undefined;
    const firstWords = new Promise<void>((resolve) => (started = resolve));
    let newerDone = false;
    const newer = send(5, { callId, messages: [{ role: 'user', content: LONG_QUESTION }], onText: () => started() }).finally(() => {
      newerDone = true;
      started();
    });
    await firstWords;
    if (newerDone) return skip('the answer to round 5 ended before round 4 could be sent: not exercised');
    const late = send(4, { callId, messages: [{ role: 'user', content: 'Hello?' }] }).catch(() => undefined);
    const answer = await newer;
    await late;
    const answered = answeredAsStream(answer);
    if (answered) return { summary: 'no stream', findings: [answered] };
    if (!answer.sawDone || answer.finishReason === null) {
      return {
        summary: 'round 5 was cut',
        findings: [
          fail(
            'late-round',
            `the answer to round 5 ended without ${answer.sawDone ? 'a finish_reason' : 'data: [DONE]'} after a request for round 4 arrived`,
            undefined,
            excerpt(answer.text),
          ),
        ],
      };
    }
    return { summary: 'round 5 answered in full', findings: [] };
  },
};

/** Agora's history: turn_id, timestamp and metadata on messages, an interrupted answer marked. */
const agoraHistoryCase = streamsWhen(
  'agora-history-fields',
  'messages with turn_id, timestamp and metadata.interrupted are accepted',
  'agora-message-fields',
  ({ send, newCallId }) => {
    const at = Date.now();
    return send(3, {
      callId: newCallId(),
      body: {
        messages: [
          { role: 'assistant', content: 'Hi, this is Example Shop.', turn_id: 0, timestamp: at - 9000, metadata: { source: 'greeting' } },
          { role: 'user', content: 'Tell me everything', turn_id: 1, timestamp: at - 7000, metadata: { source: 'asr' } },
          { role: 'assistant', content: 'Well, there is a lot', turn_id: 1, timestamp: at - 6000, metadata: { interrupted: true } },
          { role: 'user', content: 'Where is my order?', turn_id: 2, timestamp: at, metadata: { source: 'asr' } },
        ],
      },
    });
  },
);

/** Agora's engine names the call in its headers only. */
const agoraHeadersCase = streamsWhen(
  'agora-headers',
  'the X-Agora-Customllm-* headers alone name the call (no body context)',
  'agora-headers',
  ({ send, newCallId }) =>
    send(1, {
      bare: true,
      body: { context: undefined },
      headers: {
        'x-agora-customllm-appid': 'app-check',
        'x-agora-customllm-channel': newCallId(),
        'x-agora-customllm-uid': '1001',
        'x-agora-customllm-rtmtoken': 'rtm-token-not-logged',
        'x-agora-customllm-subscribertoken': 'subscriber-token-not-logged',
      },
    }),
);

/** How much of the first answer the retry's is compared with (or all of it, if shorter). */
const RETRY_COMPARED_CHARS = 40;

/** LiveKit's plugin retries an identical request after a timeout: the model must not run again. */
const liveKitRetryCase: PlatformCase = {
  id: 'livekit-retry-once',
  title: 'an identical retried request is given the answer already running (the model runs once)',
  async run({ send, newCallId }) {
    const callId = newCallId();
    const messages: PlatformMessage[] = [
      { role: 'user', content: 'Pick a random whole number between 1 and 1000000 and say only that number.' },
    ];
    const first = new AbortController();
    let heard = '';
    let started: () => void = () => undefined;
    const firstWords = new Promise<void>((resolve) => (started = resolve));
    const attempt = send(1, {
      callId,
      messages,
      signal: first.signal,
      onText: (text) => {
        heard += text;
        if (Array.from(heard).length >= RETRY_COMPARED_CHARS) started();
      },
    })
      .catch(() => undefined)
      .finally(() => started());
    // Enough of the answer to tell two runs apart (a first word alike proves nothing), or all of it.
    await firstWords;
    // The plugin's timeout: it drops the request and sends the same one again.
    first.abort();
    await attempt;
    if (heard === '') return skip('the first request carried no words before it ended: nothing to compare');
    const retry = await send(1, { callId, messages });
    const answered = answeredAsStream(retry);
    if (answered) return { summary: 'the retry got no stream', findings: [{ ...answered, rule: 'retry-twice' }] };
    const findings = streamFindings(retry);
    if (!retry.text.startsWith(heard)) {
      findings.push(
        fail(
          'retry-twice',
          `the retry's answer does not begin with the ${heard.length} characters the first request had received: the model ran again`,
          undefined,
          `first: ${excerpt(heard, 120)} | retry: ${excerpt(retry.text, 120)}`,
        ),
      );
    }
    return { summary: findings.length === 0 ? 'the retry got the same answer from its start' : 'the retry got another answer', findings };
  },
};

/** Pipecat without headers: a plain OpenAI body. */
const plainBodyCase = streamsWhen('pipecat-plain-body', 'a plain OpenAI body with no call id is answered', 'plain-body', ({ send }) =>
  send(1, { bare: true }),
);

/** Pipecat passing the call id as the OpenAI `user` parameter. */
const userCallIdCase = streamsWhen(
  'pipecat-user-call-id',
  'the call id in the OpenAI "user" field is accepted',
  'call-id-user',
  ({ send, newCallId }) => send(1, { bare: true, body: { user: newCallId() } }),
);

/** The cases for each platform, after the stream rules every platform is checked by. */
const PLATFORM_CASES: Readonly<Record<string, readonly PlatformCase[]>> = {
  vapi: [streamByBodyCase, doubledPathCase],
  elevenlabs: [doneCase],
  trtc: [trtcRetryCase],
  volcengine: [distinctIdsCase, maxTokensCase, prefillCase, lateRoundCase],
  agora: [agoraHistoryCase, agoraHeadersCase],
  livekit: [liveKitRetryCase],
  pipecat: [plainBodyCase, userCallIdCase],
};

/** Runs the platform's cases one after another (a platform holds one turn of a call at a time). */
export async function runPlatformSuite(options: PlatformCheckOptions): Promise<CheckReport> {
  const suiteCall = `check-${Date.now()}`;
  const identity = { callerNumber: '+16505550199', userData: { customerName: 'Ada' } };
  const shapeFor = (callId: string) => platformRequestShape(options.platform, { callId, ...identity });
  const shape = shapeFor(suiteCall);
  if (shape === undefined) throw new Error(`unknown platform "${options.platform}"`);
  const base = options.baseUrl.replace(/\/+$/, '') + shape.base;
  let calls = 0;
  const send: CaseContext['send'] = (turn, extra = {}) => {
    const call = extra.callId === undefined ? shape : shapeFor(extra.callId)!;
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const body: Record<string, unknown> = {
      model: options.model,
      stream: true,
      ...call.body(extra.messages ?? [{ role: 'user', content: 'hello' }], turn),
      ...extra.body,
    };
    for (const [key, value] of Object.entries(body)) if (value === undefined) delete body[key];
    return streamChat({
      baseUrl: extra.base ?? base,
      apiKey: options.apiKey,
      body: extra.bare ? bareBody(body) : body,
      headers: { ...(extra.bare ? {} : call.headers(turn)), ...extra.headers, [SYNTHETIC_HEADER]: 'check' },
      signal: extra.signal ? AbortSignal.any([extra.signal, timeout]) : timeout,
      ...(extra.onText ? { onText: extra.onText } : {}),
    });
  };
  const context: CaseContext = { options, shape, base, send, newCallId: () => `${suiteCall}-${++calls}` };
  return runCases([streamCase, ...(PLATFORM_CASES[options.platform] ?? [])], context, {
    baseUrl: base,
    alternateBaseUrl: base,
    model: options.model,
    timeoutMs: options.timeoutMs,
  });
}

/** A body without the platform's own fields: only what the OpenAI API has. */
function bareBody(body: Record<string, unknown>): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const key of ['model', 'stream', 'messages', 'user', 'temperature', 'max_tokens']) if (key in body) plain[key] = body[key];
  return plain;
}

/** Every stream rule the turn broke, as findings. */
function streamFindings(turn: StreamedTurn): CheckFinding[] {
  const violations = checkStreamRules(turn.chunks, turn.sawDone);
  if (turn.afterDone > 0) violations.push({ rule: 'after-done', message: `${turn.afterDone} event(s) after data: [DONE]` });
  return violations.map((v) => finding(v.rule, v.message));
}

/** A finding when the answer is not a 200 event stream; undefined when it is. */
function answeredAsStream(turn: StreamedTurn): CheckFinding | undefined {
  if (turn.status !== 200) return fail('http-status', `HTTP ${turn.status}${turn.body ? `: ${turn.body.slice(0, 200)}` : ''}`);
  if (turn.body !== undefined) return fail('content-type', `answered as ${turn.contentType || 'no content type'}, not text/event-stream`);
  return undefined;
}

function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
