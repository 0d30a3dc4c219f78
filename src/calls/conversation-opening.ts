import { hash } from 'node:crypto';
import { messageText, type ChatMessage } from '../core/chat-types.ts';

/**
 * A fingerprint of how a turn's conversation begins, so that a call can tell its own late
 * request from a new call that reuses its id: entry i is a hash of the first i+1 messages (after
 * the leading system messages), by role and text without whitespace. A few dozen bytes, whatever
 * the conversation, and kept whatever the memory mode.
 */
export type ConversationOpening = readonly string[];

/** Messages fingerprinted at most: enough to tell how a call began. */
export const OPENING_MESSAGES = 8;
/** Hex characters kept of each hash. */
const HASH_CHARS = 16;
const WHITESPACE = /\s+/g;

export function conversationOpening(messages: readonly ChatMessage[]): ConversationOpening {
  let start = 0;
  while (start < messages.length && isInstruction(messages[start]!)) start++;
  const opening: string[] = [];
  let previous = '';
  for (let i = start; i < messages.length && opening.length < OPENING_MESSAGES; i++) {
    const message = messages[i]!;
    // One-shot hash: no Hash object per message (about a third of the cost; the same digest).
    previous = hash('sha256', `${previous}\n${message.role}\n${messageText(message).replace(WHITESPACE, '')}`, 'hex').slice(0, HASH_CHARS);
    opening.push(previous);
  }
  return opening;
}

/**
 * Whether a conversation that begins with `candidate` is part of the call whose newest turn began
 * with `remembered`: its first messages are the same (all of them, up to the fingerprinted few).
 */
export function continuesOpening(remembered: ConversationOpening, candidate: ConversationOpening): boolean {
  const length = candidate.length;
  return length > 0 && length <= remembered.length && remembered[length - 1] === candidate[length - 1];
}

function isInstruction(message: ChatMessage): boolean {
  return message.role === 'system' || message.role === 'developer';
}
