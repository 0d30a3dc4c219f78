/**
 * The streaming frame of the speech stages that rewrite text (pronunciations, digits): a scanner
 * decides as much of the text as it can, and only the undecided suffix waits for the next text
 * part. That suffix is decided as final before a part that is not text, and at the end. Other parts
 * pass through unchanged and in order; no empty text part is yielded.
 */

import type { PartStream } from '../../core/stream-part.ts';

export interface TextScanner {
  /**
   * Appends the spoken form of a decided prefix of `text` to `out` and returns that prefix's
   * length. With `final` no more text follows, so all of it must be decided.
   */
  scan(text: string, final: boolean, out: string[]): number;
}

/** A decision's answer when the text so far cannot tell. */
export const NEED_MORE = -1;
/** IMS commands (`<imsagent_…>`, closed within 512 characters) pass intact, as through speech shaping. */
const IMS_PREFIX = '<imsagent_';
const IMS_LIMIT = 512;

/** The end of the IMS command starting at `at`, 0 when none does, NEED_MORE when the text cannot tell yet. */
export function imsCommandEnd(text: string, at: number, final: boolean): number {
  const known = Math.min(IMS_PREFIX.length, text.length - at);
  if (text.slice(at, at + known) !== IMS_PREFIX.slice(0, known)) return 0;
  if (known < IMS_PREFIX.length) return final ? 0 : NEED_MORE;
  // Looked for only within the limit, so a long text without `>` is not searched again and again.
  const close = text.slice(at + known, at + IMS_LIMIT).indexOf('>');
  if (close >= 0) return at + known + close + 1;
  return final || text.length - at >= IMS_LIMIT ? 0 : NEED_MORE;
}

export async function* rewriteText(parts: PartStream, scanner: TextScanner): PartStream {
  let held = '';
  const step = (text: string, final: boolean): string => {
    const out: string[] = [];
    held = text.slice(scanner.scan(text, final, out));
    return out.join('');
  };
  for await (const part of parts) {
    if (part.type === 'text') {
      if (part.text === '') continue;
      const text = step(held + part.text, false);
      if (text !== '') yield { type: 'text', text };
      continue;
    }
    if (held !== '') {
      const text = step(held, true);
      if (text !== '') yield { type: 'text', text };
    }
    yield part;
  }
  if (held !== '') {
    const text = step(held, true);
    if (text !== '') yield { type: 'text', text };
  }
}
