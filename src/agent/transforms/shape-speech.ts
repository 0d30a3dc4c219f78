/**
 * Shapes text parts for text-to-speech: every character a TTS engine would read aloud wrongly is
 * removed or rewritten — Markdown syntax (headings, emphasis, code, lists, quotes, rules, tables,
 * links, images, autolinks, citations), HTML tags and entities, LaTeX math (read as words), bare
 * URLs (their host), emoji and decorative symbols — while the words, sentence punctuation, CJK
 * text and newlines (pauses) stay, and so do characters that carry meaning (`press *`, `$5`).
 * Tags the workflow reads (`<imsagent_hangup .../>`, `<No Interrupting>`, `<flush />`,
 * `{{emotion=happy}}`) pass through byte for byte.
 *
 * Streaming: plain text goes out at once; only a bounded suffix that may still turn out to be
 * markup waits for the next part (see speech/shaper.ts). Held-back text is flushed before a part
 * that is not text, and at the end. Other parts pass through unchanged and in order.
 */

import type { PartStream, PartTransform, StreamPart } from '../../core/stream-part.ts';
import { SpeechShaper } from '../speech/shaper.ts';
import type { SpeechShapeOptions } from '../speech/options.ts';

export type { SpeechShapeOptions } from '../speech/options.ts';

export const shapeSpeech = async function* shapeSpeech(
  parts: PartStream,
  options?: SpeechShapeOptions,
): AsyncGenerator<StreamPart, void, undefined> {
  const shaper = new SpeechShaper(options);
  for await (const part of parts) {
    if (part.type === 'text') {
      const text = shaper.push(part.text);
      if (text !== '') yield { type: 'text', text };
      continue;
    }
    // The answer's end: the code fallback, if due, goes before the finish.
    const pending = part.type === 'finish' ? shaper.finish() : shaper.end();
    if (pending !== '') yield { type: 'text', text: pending };
    yield part;
  }
  const pending = shaper.finish();
  if (pending !== '') yield { type: 'text', text: pending };
} satisfies PartTransform;

/** Shapes a complete text (a farewell, an end word) as the stream would, flushed at the end. */
export function shapeSpeechText(text: string, options?: SpeechShapeOptions): string {
  const shaper = new SpeechShaper(options);
  return shaper.push(text) + shaper.finish();
}
