/**
 * The adversarial inputs of `npm run stress`: for every transform of request or model text, the
 * shapes of input most likely to make it super-linear (long runs of one character, many markers,
 * many tiny messages or parts). Each case builds an input of about `chars` characters and returns
 * the work to time.
 */

import { markInterruptions } from '../../src/agent/history/interruptions.ts';
import { PHRASES } from '../../src/agent/language/phrases.ts';
import { limitImages } from '../../src/agent/history/limit-images.ts';
import { mergeConsecutiveRoles } from '../../src/agent/history/merge-consecutive-roles.ts';
import { dropOrphanToolMessages } from '../../src/agent/history/orphan-tool-messages.ts';
import { restoreDroppedTurns } from '../../src/agent/history/restore-memory.ts';
import { sanitizeMessages } from '../../src/agent/history/sanitize-messages.ts';
import { renderTemplate } from '../../src/agent/prompt/render-template.ts';
import { buildTemplateView } from '../../src/agent/prompt/template-view.ts';
import { ToolRouter } from '../../src/agent/tool-router.ts';
import { routeToolCalls } from '../../src/agent/transforms/route-tool-calls.ts';
import { shapeSpeech } from '../../src/agent/transforms/shape-speech.ts';
import { stripThinkBlocks } from '../../src/agent/transforms/strip-think-blocks.ts';
import { guardModelCommands } from '../../src/agent/transforms/guard-model-commands.ts';
import { applyPronunciations } from '../../src/agent/transforms/apply-pronunciations.ts';
import { readDigits } from '../../src/agent/transforms/read-digits.ts';
import { agentConfigSchema } from '../../src/config/schema.ts';
import { parseChatRequest } from '../../src/protocol/chat-request.ts';
import { messageText, type ChatMessage, type ContentPart } from '../../src/core/chat-types.ts';
import { toCallMetadata } from '../../src/protocol/extend-data.ts';
import type { PartStream, PartTransform, StreamPart } from '../../src/core/stream-part.ts';

export interface StressCase {
  transform: string;
  kind: string;
  /** Builds the input (untimed) and returns the work to time. */
  prepare(chars: number): () => unknown;
}

const MARKER = '<ims_agent_interrupted>';
/** Upstream deltas are a few characters to a few dozen. */
const DELTA_CHARS = 64;
/** The call registry keeps at most this many remembered messages. */
const REMEMBERED = 400;

/** `unit` repeated to about `chars` characters. */
function fill(unit: string, chars: number): string {
  return unit.repeat(Math.max(1, Math.floor(chars / unit.length)));
}

const texts: Record<string, (chars: number) => string> = {
  'whitespace, then no marker': (n) => `ok${' '.repeat(n)}x${MARKER}`,
  'whitespace around markers': (n) => `ok${fill(`${' '.repeat(4096)}${MARKER}`, n)}x`,
  'many markers': (n) => fill(`a ${MARKER} `, n),
  'run of *': (n) => fill('*', n),
  'run of _': (n) => fill('_', n),
  'run of ~': (n) => fill('~', n),
  'run of #': (n) => fill('#', n),
  'backticks at line starts': (n) => fill('```\n', n),
  'run of <': (n) => fill('<', n),
  'think tags': (n) => fill('<think>a</think> ', n),
  'unclosed <imsagent_': (n) => fill('<imsagent_', n),
  'unclosed [link](': (n) => fill('[a](', n),
  prose: (n) => fill('The line is fine, **thanks** for asking. ', n),
  'run of unclosed < imsagent': (n) => fill('< imsagent_transfer_call callee="', n),
  'half-matching rules': (n) => fill('Voice LLM Gatewa', n),
  'run of digits': (n) => fill('1380013800', n),
  'digits and separators': (n) => fill('1-', n),
  'stray </think>': (n) => `${fill('I should be brief. ', n)}</think>We open at 9.`,
};

/** `names` of {@link texts}: the kinds a transform is stressed with. */
function textCases(transform: string, names: readonly string[], prepare: (text: string) => () => unknown): StressCase[] {
  return names.map((kind) => ({ transform, kind, prepare: (chars) => prepare(texts[kind]!(chars)) }));
}

function chunks(text: string): StreamPart[] {
  const parts: StreamPart[] = [];
  for (let i = 0; i < text.length; i += DELTA_CHARS) parts.push({ type: 'text', text: text.slice(i, i + DELTA_CHARS) });
  return parts;
}

async function* streamOf(parts: readonly StreamPart[]): PartStream {
  yield* parts;
}

async function drain(stream: PartStream): Promise<void> {
  for await (const _part of stream) {
    // consumed only
  }
}

function streamCases(transform: string, names: readonly string[], run: PartTransform): StressCase[] {
  return textCases(transform, names, (text) => {
    const parts = chunks(text);
    return () => drain(run(streamOf(parts)));
  });
}

const messageInputs: Record<string, (chars: number) => ChatMessage[]> = {
  'long whitespace answers': (n) =>
    Array.from({ length: 4 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `ok${' '.repeat(n / 4)}x${MARKER} y` })),
  'many tiny messages': (n) => Array.from({ length: n / 8 }, (_, i) => ({ role: i % 3 === 2 ? 'assistant' : 'user', content: 'x' })),
  'many tiny parts': (n) => [
    { role: 'user', content: Array.from({ length: n / 32 }, (): ContentPart => ({ type: 'text', text: 'x' })) },
    { role: 'assistant', content: Array.from({ length: n / 32 }, (): ContentPart => ({ type: 'text', text: `${MARKER}x` })) },
  ],
  'many one-part messages': (n) => Array.from({ length: n / 32 }, () => ({ role: 'user', content: [{ type: 'text', text: 'x' }] })),
  'many images': (n) => [
    {
      role: 'user',
      content: Array.from({ length: n / 64 }, (): ContentPart => ({ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } })),
    },
  ],
  'many tool results': (n) => [
    {
      role: 'assistant',
      content: null,
      tool_calls: Array.from({ length: n / 128 }, (_, i) => ({
        id: `c${i}`,
        type: 'function' as const,
        function: { name: 'f', arguments: '{}' },
      })),
    },
    ...Array.from({ length: n / 128 }, (_, i): ChatMessage => ({ role: 'tool', tool_call_id: `c${i}`, content: 'ok' })),
    ...Array.from({ length: n / 128 }, (_, i): ChatMessage => ({ role: 'tool', tool_call_id: `x${i}`, content: 'orphan' })),
  ],
};

function messageCases(transform: string, names: readonly string[], prepare: (messages: ChatMessage[]) => () => unknown): StressCase[] {
  return names.map((kind) => ({ transform, kind, prepare: (chars) => prepare(messageInputs[kind]!(chars)) }));
}

/** A remembered call that matches the window everywhere but at its newest message (the worst case). */
function rememberedFor(window: readonly ChatMessage[]): ChatMessage[] {
  const remembered = window.slice(-REMEMBERED).map((message) => ({ ...message, content: messageText(message).replaceAll(MARKER, '') }));
  remembered.push({ role: 'user', content: 'something else' });
  return remembered;
}

/** Identical answers, so that every overlap tried fails only at its last message. */
function identicalAnswers(chars: number): ChatMessage[] {
  const count = Math.min(REMEMBERED, Math.max(1, Math.floor(chars / 4096)));
  return Array.from({ length: count }, () => ({ role: 'assistant', content: `${'a'.repeat(Math.floor(chars / count / 2))}${MARKER}` }));
}

const endCallAgent = agentConfigSchema.parse({ provider: 'stress', model: 'stress', endCall: { enabled: true } });

function toolCallStream(chars: number): StreamPart[] {
  const parts: StreamPart[] = [{ type: 'tool-call-start', callId: 'held', name: 'end_call' }];
  const deltas = Math.max(1, Math.floor(chars / DELTA_CHARS));
  const delta = ' '.repeat(DELTA_CHARS);
  for (let i = 0; i < deltas; i++) parts.push({ type: 'tool-call-delta', callId: 'held', argumentsDelta: delta });
  parts.push({ type: 'tool-call-end', callId: 'held' }, { type: 'finish', reason: 'tool_calls' });
  return parts;
}

function requestBody(kind: string, chars: number): string {
  const messages = kind === 'long string' ? [{ role: 'user', content: ' '.repeat(chars) }] : (messageInputs[kind]!(chars) as unknown[]);
  return JSON.stringify({ model: 'm', stream: true, messages, extendData: { instanceId: 'i', sentenceId: ` ${'1'.repeat(8)} ` } });
}

const userDataInputs: Record<string, (chars: number) => string> = {
  'long whitespace value': (n) => JSON.stringify({ name: `a${' '.repeat(n)}b` }),
  'many list items': (n) => JSON.stringify({ items: Array.from({ length: n / 8 }, (_, i) => i) }),
  'many keys': (n) => JSON.stringify(Object.fromEntries(Array.from({ length: n / 16 }, (_, i) => [`k${i}`, 'v']))),
};
const TEMPLATE = 'Hi {{userData.name}}. {{#userData.items}}{{.}},{{/userData.items}} {{userData.k1}} {{callerNumber}} {{now}}';
const TEMPLATE_DEFAULTS = { 'userData.name': 'there', 'userData.city': 'Hangzhou', 'userData.k2': 'x' };

export const stressCases: StressCase[] = [
  ...messageCases(
    'markInterruptions (annotate)',
    ['long whitespace answers', 'many tiny parts'],
    (m) => () => markInterruptions(m, { annotate: true, note: PHRASES.en.interruptionNote }),
  ),
  ...messageCases(
    'markInterruptions (remove)',
    ['long whitespace answers', 'many tiny parts'],
    (m) => () => markInterruptions(m, { annotate: false, note: PHRASES.en.interruptionNote }),
  ),
  ...textCases('markInterruptions (one answer)', ['whitespace, then no marker', 'whitespace around markers', 'many markers'], (text) => {
    const messages: ChatMessage[] = [{ role: 'assistant', content: text }];
    return () => {
      markInterruptions(messages, { annotate: true, note: PHRASES.en.interruptionNote });
      markInterruptions(messages, { annotate: false, note: PHRASES.en.interruptionNote });
    };
  }),
  ...messageCases(
    'mergeConsecutiveRoles',
    ['many tiny messages', 'many one-part messages'],
    (m) => () => mergeConsecutiveRoles(m, PHRASES.en.notePrefix),
  ),
  ...messageCases('restoreDroppedTurns', ['long whitespace answers', 'many tiny messages', 'many tiny parts'], (m) => {
    const remembered = rememberedFor(m);
    return () => restoreDroppedTurns(m, remembered, 24_000);
  }),
  {
    transform: 'restoreDroppedTurns',
    kind: '400 identical played answers',
    prepare: (chars) => {
      const window = identicalAnswers(chars);
      const remembered = [
        ...window.map((m) => ({ ...m, content: messageText(m).replace(MARKER, 'tail') })),
        { role: 'user' as const, content: 'x' },
      ];
      return () => restoreDroppedTurns(window, remembered, 24_000);
    },
  },
  ...messageCases('sanitizeMessages', ['many tiny messages', 'many tool results'], (m) => {
    const dirty = m.map((message) => ({ ...message, reasoning_content: 'r', index: 0 }));
    return () => sanitizeMessages(dirty);
  }),
  ...messageCases('dropOrphanToolMessages', ['many tool results', 'many tiny messages'], (m) => () => dropOrphanToolMessages(m)),
  ...messageCases('limitImages (newest 2)', ['many images', 'many tiny parts'], (m) => () => limitImages(m, 2)),
  ...Object.keys(userDataInputs).map(
    (kind): StressCase => ({
      transform: 'system prompt template',
      kind,
      prepare: (chars) => {
        const call = toCallMetadata({ callerNumber: '10086', userData: userDataInputs[kind]!(chars) });
        return () => renderTemplate(TEMPLATE, buildTemplateView(call, {}, TEMPLATE_DEFAULTS, 'Asia/Shanghai', 'en'));
      },
    }),
  ),
  ...streamCases('stripThinkBlocks', ['run of <', 'think tags', 'whitespace, then no marker', 'prose'], stripThinkBlocks),
  ...streamCases('stripThinkBlocks (unopened)', ['stray </think>', 'prose'], (parts) =>
    stripThinkBlocks(parts, { mode: () => 'unopened' }),
  ),
  ...streamCases('guardModelCommands', ['run of <', 'unclosed <imsagent_', 'run of unclosed < imsagent', 'prose'], (parts) =>
    guardModelCommands(parts, {
      honour: false,
      transfer: undefined,
      hangupFunctionName: 'hangup',
      clientFunctions: new Set(),
      onCommand: () => {},
    }),
  ),
  ...streamCases('applyPronunciations', ['half-matching rules', 'run of digits', 'prose'], (parts) =>
    applyPronunciations(parts, [
      { written: 'Voice LLM Gateway', spoken: 'voice gateway', ignoreCase: true, wholeWord: true },
      { written: '110', spoken: '幺幺零', ignoreCase: false, wholeWord: true },
    ]),
  ),
  ...streamCases('readDigits', ['run of digits', 'digits and separators', 'prose'], (parts) =>
    readDigits(parts, { minDigits: 7, language: 'en' }),
  ),
  ...streamCases(
    'shapeSpeech',
    [
      'run of *',
      'run of _',
      'run of ~',
      'run of #',
      'backticks at line starts',
      'run of <',
      'unclosed <imsagent_',
      'unclosed [link](',
      'whitespace, then no marker',
      'prose',
    ],
    shapeSpeech,
  ),
  {
    transform: 'routeToolCalls',
    kind: 'held arguments in tiny deltas',
    prepare: (chars) => {
      const parts = toolCallStream(chars);
      const router = new ToolRouter(endCallAgent);
      return () => drain(routeToolCalls(streamOf(parts), router, undefined, () => undefined));
    },
  },
  ...['long string', 'many tiny messages', 'many tiny parts', 'many images', 'many tool results'].map(
    (kind): StressCase => ({
      transform: 'request validation (JSON + schema)',
      kind,
      prepare: (chars) => {
        const body = requestBody(kind, chars);
        return () => parseChatRequest(JSON.parse(body));
      },
    }),
  ),
];
