/**
 * Turns `<think>...</think>` spans inside text parts into reasoning parts (Qwen3 / DeepSeek-R1
 * style models that think out loud in `content`), so the thinking is never spoken.
 *
 * Streaming with bounded look-ahead: only a trailing suffix that could still become a tag
 * (`<`, `<th`, `</thi`, ...) is held back; everything else is yielded at once. Held-back text is
 * flushed when a part that is not text arrives, and at the end. The whitespace run right after
 * `</think>` is dropped so the answer does not start with blank lines. Other parts pass through
 * unchanged and in order.
 */

import type { PartStream, PartTransform, StreamPart } from '../../providers/stream-part.ts';

const OPEN = '<think>';
const CLOSE = '</think>';

/**
 * Where the part of `text` that could still grow into `tag` begins (`text.length` when none).
 * Both tags hold a single `<`, at their start, so such a suffix starts at the last `<`.
 */
function partialTagStart(text: string, tag: string): number {
  const at = text.lastIndexOf('<');
  if (at < 0 || text.length - at >= tag.length) return text.length;
  return tag.startsWith(text.slice(at)) ? at : text.length;
}

const LEADING_WHITESPACE = /^\s+/;

export const stripThinkBlocks: PartTransform = async function* stripThinkBlocks(
  parts: PartStream,
): AsyncGenerator<StreamPart, void, undefined> {
  let inThink = false;
  /** A suffix held back because it may be the start of a tag. */
  let held = '';
  /** Drop whitespace before the first answer text after `</think>`. */
  let trimLeading = false;

  /** Text outside a block, with the post-`</think>` whitespace dropped; '' when nothing remains. */
  const answerText = (text: string): string => {
    if (!trimLeading || text === '') return text;
    const trimmed = text.replace(LEADING_WHITESPACE, '');
    if (trimmed !== '') trimLeading = false;
    return trimmed;
  };

  /** The held-back suffix as a part, or undefined when there is none. */
  const flush = (): StreamPart | undefined => {
    if (held === '') return undefined;
    const text = inThink ? held : answerText(held);
    held = '';
    if (text === '') return undefined;
    return inThink ? { type: 'reasoning', text } : { type: 'text', text };
  };

  for await (const part of parts) {
    if (part.type !== 'text') {
      const pending = flush();
      if (pending !== undefined) yield pending;
      yield part;
      continue;
    }

    if (part.text === '') continue;
    // Fast path: plain answer text with nothing held and no tag in sight.
    if (!inThink && held === '' && !trimLeading && !part.text.includes('<')) {
      yield part;
      continue;
    }

    let rest = held + part.text;
    held = '';
    while (rest !== '') {
      const tag = inThink ? CLOSE : OPEN;
      const found = rest.indexOf(tag);
      if (found < 0) {
        const keepFrom = partialTagStart(rest, tag);
        const ready = rest.slice(0, keepFrom);
        held = rest.slice(keepFrom);
        if (inThink) {
          if (ready !== '') yield { type: 'reasoning', text: ready };
        } else {
          const text = answerText(ready);
          if (text !== '') yield { type: 'text', text };
        }
        break;
      }
      const before = rest.slice(0, found);
      rest = rest.slice(found + tag.length);
      if (inThink) {
        if (before !== '') yield { type: 'reasoning', text: before };
        inThink = false;
        trimLeading = true;
      } else {
        const text = answerText(before);
        if (text !== '') yield { type: 'text', text };
        inThink = true;
      }
    }
  }

  const pending = flush();
  if (pending !== undefined) yield pending;
};
