/**
 * Older turns the workflow no longer sends. The IMS workflow keeps at most 20 records, so in a long
 * call the model would forget how the call began; the gateway keeps the call's full transcript and
 * puts back what fell out of the window, within a character budget.
 *
 * Alignment, never a guess: the window's conversation (after its leading system messages) must
 * begin with the last k messages of the transcript, for the largest such k. Messages are compared
 * by role and text, the text with all whitespace and interruption markers removed. An assistant
 * message of the window that holds a marker is what was played of the transcript's answer, so
 * it matches when the transcript's text starts with it (the gateway remembers the whole answer it
 * generated; `HistorySyncWithTTS` sends the played part only).
 * One tolerance: the transcript's newest message, when it is an assistant answer, may be missing
 * from the window (the caller cut in before a word was played, or a newer turn superseded it);
 * alignment is then tried without it. With no alignment the window is returned unchanged.
 *
 * The transcript messages before the overlap are restored newest first, stopping before the one
 * that would take the restored text over `maxChars` characters, so the restored span is always
 * contiguous with the window. Restored messages carry their text only: the platform does not
 * resend earlier images either, and image data would escape the character budget.
 */

import { messageText, type ChatMessage, type ContentPart, type TextContentPart } from '../../core/chat-types.ts';
import { messagesBeforeWindow } from './align-transcript.ts';

export interface RestoredHistory {
  /** The window's leading system messages, the restored messages, then the window's conversation. */
  messages: ChatMessage[];
  /** How many transcript messages were put back. */
  restored: number;
}

/**
 * `window` (what the workflow sent) with the older `transcript` messages it dropped put back
 * before its conversation, at most `maxChars` characters of them. A new array; neither input is
 * mutated, and every window message is the same object.
 */
export function restoreDroppedTurns(window: readonly ChatMessage[], transcript: readonly ChatMessage[], maxChars: number): RestoredHistory {
  let leading = 0;
  while (leading < window.length && isInstruction(window[leading]!)) leading++;
  const conversation = window.slice(leading);
  const unchanged = (): RestoredHistory => ({ messages: [...window], restored: 0 });
  if (conversation.length === 0 || transcript.length === 0) return unchanged();

  const missing = messagesBeforeWindow(transcript, conversation);
  if (missing === undefined || missing === 0) return unchanged();

  const restored: ChatMessage[] = [];
  let chars = 0;
  for (let i = missing - 1; i >= 0; i--) {
    const message = textOnly(transcript[i]!);
    const size = messageSize(message);
    if (chars + size > maxChars) break;
    chars += size;
    restored.push(message);
  }
  if (restored.length === 0) return unchanged();
  restored.reverse();
  return { messages: [...window.slice(0, leading), ...restored, ...conversation], restored: restored.length };
}

/** `message` without image or other non-text parts (the same object when it has none). */
function textOnly(message: ChatMessage): ChatMessage {
  const { content } = message;
  if (!Array.isArray(content) || content.every(isTextPart)) return message;
  const texts = content.filter(isTextPart);
  const [only] = texts;
  return { ...message, content: texts.length === 1 && only !== undefined ? only.text : texts.length === 0 ? '' : texts };
}

function isTextPart(part: ContentPart): part is TextContentPart {
  return part.type === 'text' && typeof part.text === 'string';
}

/** Characters a restored message adds: its text, and the names and arguments of its tool calls. */
function messageSize(message: ChatMessage): number {
  let size = messageText(message).length;
  for (const call of message.tool_calls ?? []) size += call.function.name.length + call.function.arguments.length;
  return size;
}

function isInstruction(message: ChatMessage): boolean {
  return message.role === 'system' || message.role === 'developer';
}
