import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { messagesBeforeWindow } from '../../../src/agent/history/align-transcript.ts';
import { hasInterruptionMarker, removeInterruptionMarkers } from '../../../src/agent/history/interruptions.ts';
import { messageText, type ChatMessage } from '../../../src/core/chat-types.ts';
import { growthRatio } from '../../../tools/testing/growth.ts';

/** Time at 8x over time at 1x: about 8 when linear, about 64 when quadratic. */
const MAX_GROWTH = 24;
const MARKER = '<ims_agent_interrupted>';

/** The former message-by-message comparison, kept here as the reference for the behaviour. */
function referenceBefore(transcript: readonly ChatMessage[], conversation: readonly ChatMessage[]): number | undefined {
  const comparable = (message: ChatMessage) => {
    const text = messageText(message);
    const key = removeInterruptionMarkers(text).replace(/\s+/g, '');
    return { role: message.role, key, played: message.role === 'assistant' && hasInterruptionMarker(text) };
  };
  const remembered = transcript.map(comparable);
  const sent = conversation.map(comparable);
  const missingBefore = (end: number): number | undefined => {
    for (let k = Math.min(end, sent.length); k >= 1; k--) {
      let matches = true;
      for (let j = 0; j < k && matches; j++) {
        const r = remembered[end - k + j]!;
        const s = sent[j]!;
        matches = r.role === s.role && (r.key === s.key || (s.played && r.key.startsWith(s.key)));
      }
      if (matches) return end - k;
    }
    return undefined;
  };
  const missing = missingBefore(remembered.length);
  if (missing === undefined && transcript.at(-1)?.role === 'assistant') return missingBefore(remembered.length - 1);
  return missing;
}

const message: fc.Arbitrary<ChatMessage> = fc
  .record({
    role: fc.constantFrom<ChatMessage['role']>('user', 'assistant'),
    text: fc.constantFrom('', 'a', 'a b', 'ab', 'abc', 'b', '\u0101'),
    marker: fc.boolean(),
  })
  .map(({ role, text, marker }) => ({ role, content: marker ? `${text} ${MARKER}` : text }));

/**
 * A remembered call of `count` identical messages but the last, and a window of `count` that
 * matches every one of them, so every overlap tried fails only at its last message. Every text is
 * a string of its own, as when parsed from JSON.
 */
function lateMismatch(count: number, played: boolean): [ChatMessage[], ChatMessage[]] {
  const role = played ? 'assistant' : 'user';
  const text = (): string => `${'a'.repeat(1_000)} `;
  const transcript: ChatMessage[] = Array.from({ length: count }, () => ({ role, content: text() }));
  transcript.push({ role: 'user', content: 'different' });
  const window: ChatMessage[] = Array.from({ length: count }, () => ({
    role,
    content: played ? `${text().slice(0, 500)}${MARKER}` : text(),
  }));
  return [transcript, window];
}

describe('messagesBeforeWindow', () => {
  it('aligns exactly as the former comparison did', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), fc.array(message, { minLength: 1, maxLength: 8 }), (transcript, window) => {
        assert.equal(messagesBeforeWindow(transcript, window), referenceBefore(transcript, window));
      }),
      { numRuns: 5_000 },
    );
  });

  for (const played of [false, true]) {
    it(`grows linearly with the text of a window that mismatches late (${played ? 'played answers' : 'exact messages'}), up to 400 messages`, async () => {
      const ratio = await growthRatio(
        (scale) => lateMismatch(50 * scale, played),
        ([transcript, window]) => messagesBeforeWindow(transcript, window),
      );
      assert.ok(ratio < MAX_GROWTH, `8x input took ${ratio.toFixed(1)}x the time`);
    });
  }
});
