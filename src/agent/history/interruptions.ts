/**
 * The IMS interruption marker. With `HistorySyncWithTTS` on, the workflow sends an earlier answer
 * as only what was actually played, with `<ims_agent_interrupted>` where the caller cut in. The
 * marker must never reach a model as text (it would learn to write it, and it could be spoken).
 *
 * `markInterruptions` removes it from assistant messages and, when asked, tells the model where
 * its answer was cut off, in a way it will not read aloud:
 * - the assistant content ends at the marker with "…" (what the caller did not hear is dropped);
 * - a `system` message with the note (in the agent's language) follows that assistant message (after the
 *   tool results that answer its tool calls, if any, so tool call/result pairs stay adjacent).
 * Without annotation the markers are only removed and the text around them is kept.
 *
 * Tolerated spellings: `<ims_agent_interrupted>`, `</ims_agent_interrupted>`,
 * `<ims_agent_interrupted/>`, any letter case, spaces inside the brackets, and the whitespace
 * around the marker. Only assistant messages are touched: the platform puts the marker nowhere else.
 */

import type { ChatMessage, ContentPart, TextContentPart } from '../../protocol/chat-types.ts';
import { isWhitespace } from '../../text/is-whitespace.ts';

/** How an interrupted answer ends once annotated. */
export const INTERRUPTION_ELLIPSIS = '…';

export interface MarkInterruptionsOptions {
  /** Cut the answer at the marker with "…" and add `note` after it. */
  annotate: boolean;
  /** What the model is told, as a system message, after an answer the caller cut off. */
  note: string;
}

const MARKER_NAME = 'ims_agent_interrupted';
const LESS_THAN = 0x3c;
const SLASH = 0x2f;
const GREATER_THAN = 0x3e;

/** Whether `text` holds an interruption marker in any tolerated spelling. */
export function hasInterruptionMarker(text: string): boolean {
  return text.toLowerCase().includes(MARKER_NAME) && findMarker(text, 0) !== undefined;
}

/**
 * `text` without markers (the same string when it has none). A marker at either end goes with the
 * whitespace next to it; one between words becomes a single space if whitespace surrounded it,
 * and nothing if not (Chinese text runs on without spaces).
 *
 * A run is markers separated by whitespace only, with the whitespace around them. Found by a
 * single forward scan (no `\s*` pattern: those backtrack quadratically on long whitespace).
 */
export function removeInterruptionMarkers(text: string): string {
  if (!text.toLowerCase().includes(MARKER_NAME)) return text;
  let marker = findMarker(text, 0);
  if (marker === undefined) return text;
  const pieces: string[] = [];
  let copied = 0;
  while (marker !== undefined) {
    let start = marker.start;
    while (start > copied && isWhitespace(text.charCodeAt(start - 1))) start--;
    let end = marker.end;
    for (;;) {
      end = skipWhitespace(text, end);
      const next = markerEnd(text, end);
      if (next === undefined) break;
      end = next;
    }
    pieces.push(text.slice(copied, start));
    const atEdge = start === 0 || end === text.length;
    if (!atEdge && containsWhitespace(text, start, end)) pieces.push(' ');
    copied = end;
    marker = findMarker(text, end);
  }
  pieces.push(text.slice(copied));
  return pieces.join('');
}

/** The text before the first marker, trailing whitespace dropped; undefined when there is none. */
export function textBeforeInterruption(text: string): string | undefined {
  if (!text.toLowerCase().includes(MARKER_NAME)) return undefined;
  const marker = findMarker(text, 0);
  return marker === undefined ? undefined : text.slice(0, marker.start).trimEnd();
}

interface MarkerSpan {
  /** Index of its `<`. */
  start: number;
  /** Index after its `>`. */
  end: number;
}

/**
 * The first marker at or after `from`. Linear: a marker holds no `<` after its first character,
 * so each attempt reads only up to the next `<`, and attempts never overlap.
 */
function findMarker(text: string, from: number): MarkerSpan | undefined {
  for (let at = text.indexOf('<', from); at >= 0; at = text.indexOf('<', at + 1)) {
    const end = markerEnd(text, at);
    if (end !== undefined) return { start: at, end };
  }
  return undefined;
}

/** The end of the marker starting exactly at `at` (`<\s*\/?\s*name\s*\/?\s*>`, any case), if any. */
function markerEnd(text: string, at: number): number | undefined {
  if (text.charCodeAt(at) !== LESS_THAN) return undefined;
  let i = skipOptionalSlash(text, skipWhitespace(text, at + 1));
  for (let k = 0; k < MARKER_NAME.length; k++, i++) {
    if (asciiLower(text.charCodeAt(i)) !== MARKER_NAME.charCodeAt(k)) return undefined;
  }
  i = skipOptionalSlash(text, skipWhitespace(text, i));
  return text.charCodeAt(i) === GREATER_THAN ? i + 1 : undefined;
}

/** After `\/?\s*` from `at` (the whitespace before it already skipped). */
function skipOptionalSlash(text: string, at: number): number {
  return text.charCodeAt(at) === SLASH ? skipWhitespace(text, at + 1) : at;
}

function skipWhitespace(text: string, from: number): number {
  let i = from;
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i++;
  return i;
}

function containsWhitespace(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (isWhitespace(text.charCodeAt(i))) return true;
  return false;
}

/** ASCII letters folded to lower case; everything else unchanged (as the `i` flag does without `u`). */
function asciiLower(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
}

/** `messages` with every assistant message free of markers; a new array, the input untouched. */
export function markInterruptions(messages: readonly ChatMessage[], options: MarkInterruptionsOptions): ChatMessage[] {
  const out: ChatMessage[] = [];
  /** A note is due after the message just added (and after the tool results that follow it). */
  let noteDue = false;
  let noteWaitsForTools = false;
  for (const message of messages) {
    if (noteDue && !(noteWaitsForTools && message.role === 'tool')) {
      out.push(interruptionNote(options.note));
      noteDue = false;
    }
    if (message.role !== 'assistant') {
      out.push(message);
      continue;
    }
    if (options.annotate) {
      const cut = cutAtInterruption(message);
      out.push(cut ?? message);
      if (cut !== undefined) {
        noteDue = true;
        noteWaitsForTools = (message.tool_calls?.length ?? 0) > 0;
      }
    } else {
      out.push(withoutMarkers(message));
    }
  }
  if (noteDue) out.push(interruptionNote(options.note));
  return out;
}

function interruptionNote(note: string): ChatMessage {
  return { role: 'system', content: note };
}

/** `message` ended at its first marker with "…"; undefined when it holds no marker. */
function cutAtInterruption(message: ChatMessage): ChatMessage | undefined {
  const { content } = message;
  if (typeof content === 'string') {
    const before = textBeforeInterruption(content);
    return before === undefined ? undefined : { ...message, content: before + INTERRUPTION_ELLIPSIS };
  }
  if (!Array.isArray(content)) return undefined;
  for (let i = 0; i < content.length; i++) {
    const part = content[i]!;
    if (!isTextPart(part)) continue;
    const before = textBeforeInterruption(part.text);
    if (before === undefined) continue;
    // Everything after the cut point was never played: the parts after this one go too.
    const parts = [...content.slice(0, i), { ...part, text: before + INTERRUPTION_ELLIPSIS }];
    return { ...message, content: parts };
  }
  return undefined;
}

/** `message` with its markers removed (the same object when it has none). */
function withoutMarkers(message: ChatMessage): ChatMessage {
  const { content } = message;
  if (typeof content === 'string') {
    const text = removeInterruptionMarkers(content);
    return text === content ? message : { ...message, content: text };
  }
  if (!Array.isArray(content) || !content.some((part) => isTextPart(part) && hasInterruptionMarker(part.text))) {
    return message;
  }
  const parts: ContentPart[] = [];
  for (const part of content) {
    if (!isTextPart(part) || !hasInterruptionMarker(part.text)) {
      parts.push(part);
      continue;
    }
    const text = removeInterruptionMarkers(part.text);
    if (text !== '') parts.push({ ...part, text }); // a part that held only the marker goes
  }
  return { ...message, content: parts.length > 0 ? parts : '' };
}

function isTextPart(part: ContentPart): part is TextContentPart {
  return part.type === 'text' && typeof part.text === 'string';
}
