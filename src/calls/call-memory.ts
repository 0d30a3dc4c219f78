import { messageText, type ChatMessage } from '../core/chat-types.ts';

/**
 * What a call remembers of its conversation (`memory.mode: full`) and what that costs. Sizes are
 * approximate heap bytes: two per character (V8 strings are one or two bytes a character) plus a
 * fixed overhead per message, so that a limit in bytes bounds what the process really holds.
 */
export interface CallMemory {
  /** The newest messages, oldest first, text only. */
  readonly messages: readonly ChatMessage[];
  readonly bytes: number;
}

export const EMPTY_MEMORY: CallMemory = { messages: [], bytes: 0 };

/** At most this many messages, whatever their size. */
export const MAX_REMEMBERED_MESSAGES = 400;
const MESSAGE_OVERHEAD_BYTES = 96;

/**
 * The newest messages of `conversation` that fit in `maxBytes` (and MAX_REMEMBERED_MESSAGES), in
 * order, each reduced to its text: restoring puts back text only, so images (often hundreds of
 * kilobytes of base64) are never kept. A contiguous tail: restoring needs no gaps. Reads only what
 * it keeps, plus one message.
 */
export function rememberNewest(conversation: readonly ChatMessage[], maxBytes: number): CallMemory {
  const kept: ChatMessage[] = [];
  let bytes = 0;
  for (let i = conversation.length - 1; i >= 0 && kept.length < MAX_REMEMBERED_MESSAGES; i--) {
    const message = textOnly(conversation[i]!);
    const size = messageBytes(message);
    if (bytes + size > maxBytes) break;
    bytes += size;
    kept.push(message);
  }
  return { messages: kept.reverse(), bytes };
}

/** `message` with its content as plain text when it has other parts (the same object otherwise). */
function textOnly(message: ChatMessage): ChatMessage {
  const { content } = message;
  if (!Array.isArray(content) || content.every((part) => part.type === 'text')) return message;
  return { ...message, content: messageText(message) };
}

function messageBytes(message: ChatMessage): number {
  let chars = messageText(message).length + (message.name?.length ?? 0) + (message.tool_call_id?.length ?? 0);
  for (const call of message.tool_calls ?? []) chars += call.id.length + call.function.name.length + call.function.arguments.length;
  return MESSAGE_OVERHEAD_BYTES + 2 * chars;
}
