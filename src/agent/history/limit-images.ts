/**
 * Image parts for the upstream. The IMS multimodal node sends the newest user turn as text plus
 * up to a configured number of video frames (15 in the vendor's example), each a data URL of
 * tens to hundreds of kilobytes. A text-only model rejects them; a vision model may accept only a
 * few per request, or cost too much with all of them.
 *
 * - `'pass'`: all images go through.
 * - `'drop'`: every `image_url` part is removed.
 * - `N` (a whole number ≥ 0): the newest N image parts of the whole conversation are kept (counted
 *   from the end: the last part of the last message first), older ones are removed. 0 is `'drop'`.
 *
 * A message that lost images keeps its other parts in order. If only text parts are left and
 * there is exactly one, the content collapses to that string (the plainest form, accepted by
 * text-only upstreams); with no part left, the content becomes `''`.
 * Messages that lose nothing are the same objects; the input is never mutated.
 */

import type { ChatMessage, ContentPart, ImageContentPart } from '../../core/chat-types.ts';

export type ImagePolicy = 'pass' | 'drop' | number;

/** `messages` with image parts limited by `policy` (always a new array). */
export function limitImages(messages: readonly ChatMessage[], policy: ImagePolicy): ChatMessage[] {
  if (policy === 'pass') return [...messages];
  let budget = policy === 'drop' ? 0 : Math.max(0, Math.floor(policy));
  if (Number.isNaN(budget)) budget = 0;
  const out = new Array<ChatMessage>(messages.length);
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    const { content } = message;
    if (!Array.isArray(content) || !content.some(isImagePart)) {
      out[i] = message;
      continue;
    }
    const kept: ContentPart[] = [];
    let dropped = 0;
    for (let p = content.length - 1; p >= 0; p--) {
      const part = content[p]!;
      if (!isImagePart(part)) kept.push(part);
      else if (budget > 0) {
        budget--;
        kept.push(part);
      } else dropped++;
    }
    out[i] = dropped === 0 ? message : { ...message, content: collapse(kept.reverse()) };
  }
  return out;
}

export function isImagePart(part: ContentPart): part is ImageContentPart {
  return part.type === 'image_url';
}

function collapse(parts: ContentPart[]): string | ContentPart[] {
  if (parts.length === 0) return '';
  const only = parts[0]!;
  if (parts.length === 1 && only.type === 'text' && typeof only.text === 'string') return only.text;
  return parts;
}
