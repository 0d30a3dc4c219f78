/**
 * The IMS interruption marker. With `HistorySyncWithTTS` on, the workflow sends an earlier answer
 * as only what was actually played, with `<ims_agent_interrupted>` where the caller cut in. The
 * marker must never reach a model as text (it would learn to write it, and it could be spoken).
 *
 * `markInterruptions` removes it from assistant messages and, when asked, tells the model where
 * its answer was cut off, in a way it will not read aloud:
 * - the assistant content ends at the marker with "…" (what the caller did not hear is dropped);
 * - a `system` message with {@link INTERRUPTION_NOTE} follows that assistant message (after the
 *   tool results that answer its tool calls, if any, so tool call/result pairs stay adjacent).
 * Without annotation the markers are only removed and the text around them is kept.
 *
 * Tolerated spellings: `<ims_agent_interrupted>`, `</ims_agent_interrupted>`,
 * `<ims_agent_interrupted/>`, any letter case, spaces inside the brackets, and the whitespace
 * around the marker. Only assistant messages are touched: the platform puts the marker nowhere else.
 */

import type { ChatMessage, ContentPart, TextContentPart } from '../../protocol/chat-types.ts';

/** What the model is told, as a system message, after an answer the caller cut off. */
export const INTERRUPTION_NOTE =
  '(The caller interrupted your previous answer at this point and did not hear the rest. Do not repeat it unless asked.)';

/** How an interrupted answer ends once annotated. */
export const INTERRUPTION_ELLIPSIS = '…';

export interface MarkInterruptionsOptions {
  /** Cut the answer at the marker with "…" and add {@link INTERRUPTION_NOTE} after it. */
  annotate: boolean;
}

const MARKER_NAME = 'ims_agent_interrupted';
const MARKER_SOURCE = String.raw`<\s*\/?\s*ims_agent_interrupted\s*\/?\s*>`;
/** One run of markers with the whitespace around it. */
const MARKER_RUN = new RegExp(String.raw`(?:\s*${MARKER_SOURCE})+\s*`, 'gi');
/** The first marker with the whitespace before it (the cut point). */
const FIRST_MARKER = new RegExp(String.raw`\s*${MARKER_SOURCE}`, 'i');
const WHITESPACE = /\s/;

/** Whether `text` holds an interruption marker in any tolerated spelling. */
export function hasInterruptionMarker(text: string): boolean {
  return text.toLowerCase().includes(MARKER_NAME) && FIRST_MARKER.test(text);
}

/**
 * `text` without markers (the same string when it has none). A marker at either end goes with the
 * whitespace next to it; one between words becomes a single space if whitespace surrounded it,
 * and nothing if not (Chinese text runs on without spaces).
 */
export function removeInterruptionMarkers(text: string): string {
  if (!hasInterruptionMarker(text)) return text;
  return text.replace(MARKER_RUN, (run: string, offset: number) => {
    if (offset === 0 || offset + run.length === text.length) return '';
    return WHITESPACE.test(run) ? ' ' : '';
  });
}

/** The text before the first marker, trailing whitespace dropped; undefined when there is none. */
export function textBeforeInterruption(text: string): string | undefined {
  if (!text.toLowerCase().includes(MARKER_NAME)) return undefined;
  const match = FIRST_MARKER.exec(text);
  return match === null ? undefined : text.slice(0, match.index).trimEnd();
}

/** `messages` with every assistant message free of markers; a new array, the input untouched. */
export function markInterruptions(messages: readonly ChatMessage[], options: MarkInterruptionsOptions): ChatMessage[] {
  const out: ChatMessage[] = [];
  /** A note is due after the message just added (and after the tool results that follow it). */
  let noteDue = false;
  let noteWaitsForTools = false;
  for (const message of messages) {
    if (noteDue && !(noteWaitsForTools && message.role === 'tool')) {
      out.push(interruptionNote());
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
  if (noteDue) out.push(interruptionNote());
  return out;
}

function interruptionNote(): ChatMessage {
  return { role: 'system', content: INTERRUPTION_NOTE };
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
