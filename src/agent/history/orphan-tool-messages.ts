/**
 * Tool calls and tool results that lost their other half. Upstreams reject a history where an
 * assistant's tool call has no result, or where a tool result answers no call ("messages with role
 * 'tool' must be a response to a preceding message with 'tool_calls'"). Windows cut to the last 20
 * records, interrupted turns and clients that record only part of a round produce both.
 *
 * The pairing rule is the one upstreams enforce: a tool result answers a call only when it sits in
 * the run of `tool` messages that directly follows the assistant message holding that call. So:
 * - a `tool` message whose `tool_call_id` names no call of the assistant message right before its
 *   run (a result before its call, after an unrelated message, or for an unknown id) is dropped,
 *   and so is a second result for a call already answered;
 * - an assistant message's tool calls that no result in that run answers are removed; the message
 *   loses `tool_calls` when none is left, and is dropped when it then has no content either.
 *
 * Kept messages are the same objects; the input is never mutated.
 */

import type { ChatMessage, ContentPart, ToolCall } from '../../core/chat-types.ts';

/** `messages` with every unpaired tool call and tool result removed (a new array). */
export function dropOrphanToolMessages(messages: readonly ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let i = 0;
  while (i < messages.length) {
    const message = messages[i]!;
    i++;
    if (message.role === 'tool') continue; // not in the run after a tool-calling assistant message
    const calls = message.role === 'assistant' ? message.tool_calls : undefined;
    if (calls === undefined || calls.length === 0) {
      out.push(message);
      continue;
    }
    const callIds = new Set(calls.map((call) => call.id));
    const answered = new Set<string>();
    const results: ChatMessage[] = [];
    for (; i < messages.length && messages[i]!.role === 'tool'; i++) {
      const result = messages[i]!;
      const id = result.tool_call_id;
      if (id === undefined || !callIds.has(id) || answered.has(id)) continue;
      answered.add(id);
      results.push(result);
    }
    const assistant = withAnsweredCalls(message, calls, answered);
    if (assistant !== undefined) out.push(assistant);
    for (const result of results) out.push(result); // spreading 100k+ results would overflow the stack
  }
  return out;
}

/** `message` keeping only its answered calls; undefined when nothing of it is left. */
function withAnsweredCalls(message: ChatMessage, calls: ToolCall[], answered: ReadonlySet<string>): ChatMessage | undefined {
  const kept = calls.filter((call) => answered.has(call.id));
  if (kept.length === calls.length) return message;
  if (kept.length > 0) return { ...message, tool_calls: kept };
  if (!hasContent(message.content)) return undefined;
  const { tool_calls: _dropped, ...rest } = message;
  return rest;
}

function hasContent(content: ChatMessage['content']): boolean {
  if (typeof content === 'string') return content.trim() !== '';
  if (!Array.isArray(content)) return false;
  return content.some((part: ContentPart) => part.type !== 'text' || (typeof part.text === 'string' && part.text.trim() !== ''));
}
