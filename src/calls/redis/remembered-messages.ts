import type { ChatMessage } from '../../core/chat-types.ts';
import { rememberNewest } from '../call-memory.ts';

/**
 * A call's memory as stored in Redis: the newest messages (text only, see rememberNewest) as a
 * JSON array of at most `maxBytes` UTF-8 bytes. rememberNewest bounds heap bytes; a value of
 * mostly CJK text takes more bytes in UTF-8 than that estimate, so the oldest messages are
 * dropped until the JSON fits too.
 */
export function encodeMemory(conversation: readonly ChatMessage[], maxBytes: number): string {
  const { messages } = rememberNewest(conversation, maxBytes);
  let from = 0;
  let json = JSON.stringify(messages);
  while (Buffer.byteLength(json) > maxBytes && from < messages.length) {
    from++;
    json = JSON.stringify(messages.slice(from));
  }
  return json;
}

/** The stored memory; an unreadable value (another version's, a hand edit) is no memory. */
export function decodeMemory(json: string | undefined): ChatMessage[] {
  if (json === undefined) return [];
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter(isMessage) : [];
  } catch {
    return [];
  }
}

function isMessage(value: unknown): value is ChatMessage {
  return typeof value === 'object' && value !== null && typeof (value as { role?: unknown }).role === 'string';
}
