import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mergeConsecutiveRoles as mergeWithPrefix } from '../../../src/agent/history/merge-consecutive-roles.ts';
import { PHRASES } from '../../../src/agent/language/phrases.ts';
import { messageText, type ChatMessage, type ContentPart } from '../../../src/core/chat-types.ts';
import { growthRatio } from '../../../tools/testing/growth.ts';

const NOTE_PREFIX = PHRASES.en.notePrefix;
const mergeConsecutiveRoles = (messages: readonly ChatMessage[]) => mergeWithPrefix(messages, NOTE_PREFIX);

/** Time at 8x over time at 1x: about 8 when linear, about 64 when quadratic. */
const MAX_GROWTH = 24;
const UNIT = 2_000;

/** The former pair-by-pair merge, kept here as the reference for the behaviour. */
function referenceMerge(messages: readonly ChatMessage[]): ChatMessage[] {
  const isInstruction = (m: ChatMessage): boolean => m.role === 'system' || m.role === 'developer';
  const hasToolCalls = (m: ChatMessage): boolean => (m.tool_calls?.length ?? 0) > 0;
  const asParts = (content: ChatMessage['content']): ContentPart[] =>
    Array.isArray(content) ? content : content ? [{ type: 'text', text: content }] : [];
  const mergePair = (first: ChatMessage, second: ChatMessage, separator: string): ChatMessage => {
    const content =
      Array.isArray(first.content) || Array.isArray(second.content)
        ? [...asParts(first.content), ...asParts(second.content)]
        : [first.content ?? '', second.content ?? ''].filter((text) => text !== '').join(separator);
    const merged: ChatMessage = { role: first.role, content };
    if (first.name !== undefined && first.name === second.name) merged.name = first.name;
    return merged;
  };
  let leading = 0;
  while (leading < messages.length && isInstruction(messages[leading]!)) leading++;
  const out: ChatMessage[] = [];
  if (leading > 0) out.push(messages.slice(1, leading).reduce((merged, next) => mergePair(merged, next, '\n\n'), messages[0]!));
  const firstMergeable = out.length;
  for (let i = leading; i < messages.length; i++) {
    let message = messages[i]!;
    if (isInstruction(message)) {
      const text = messageText(message).trim();
      if (text === '') continue;
      message = { role: 'user', content: NOTE_PREFIX + text };
    }
    const previous = out.length > firstMergeable ? out[out.length - 1] : undefined;
    const mergeable =
      previous !== undefined &&
      previous.role === message.role &&
      (message.role === 'user' || (message.role === 'assistant' && !hasToolCalls(previous) && !hasToolCalls(message)));
    if (mergeable) out[out.length - 1] = mergePair(previous, message, '\n');
    else out.push(message);
  }
  return out;
}

const content = fc.oneof(
  fc.constantFrom('', 'a', ' b ', null),
  fc.array(fc.constantFrom<ContentPart>({ type: 'text', text: 'p' }, { type: 'image_url', image_url: { url: 'data:x' } }), {
    maxLength: 2,
  }),
);
const message: fc.Arbitrary<ChatMessage> = fc
  .record({
    role: fc.constantFrom<ChatMessage['role']>('system', 'developer', 'user', 'assistant', 'tool'),
    content,
    name: fc.option(fc.constantFrom('ann', 'bob'), { nil: undefined }),
    toolCall: fc.boolean(),
  })
  .map(({ role, content, name, toolCall }) => {
    const m: ChatMessage = { role, content };
    if (name !== undefined) m.name = name;
    if (toolCall && role === 'assistant') m.tool_calls = [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }];
    return m;
  });

describe('mergeConsecutiveRoles: one pass', () => {
  it('merges exactly as the former pair-by-pair merge', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 12 }), (messages) => {
        assert.deepEqual(mergeConsecutiveRoles(messages), referenceMerge(messages));
      }),
      { numRuns: 3_000 },
    );
  });

  const adversarial: Array<[string, (n: number) => ChatMessage[]]> = [
    ['many tiny user messages', (n) => Array.from({ length: n }, () => ({ role: 'user', content: 'x' }))],
    ['many tiny system messages', (n) => Array.from({ length: n }, () => ({ role: 'system', content: 'x' }))],
    ['many tiny part arrays', (n) => Array.from({ length: n }, () => ({ role: 'assistant', content: [{ type: 'text', text: 'x' }] }))],
  ];
  for (const [kind, build] of adversarial) {
    it(`grows linearly on ${kind}`, async () => {
      const ratio = await growthRatio((scale) => build(UNIT * scale), mergeConsecutiveRoles);
      assert.ok(ratio < MAX_GROWTH, `8x input took ${ratio.toFixed(1)}x the time`);
    });
  }
});
