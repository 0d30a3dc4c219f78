/**
 * Strict role alternation, for upstreams that reject two messages of the same role in a row (some
 * vLLM chat templates, older Qwen and Llama templates: "Conversation roles must alternate").
 * Voice histories break alternation often: the caller speaks twice before an answer, an answer is
 * dropped when the caller cut in, a note follows an interrupted answer.
 *
 * Choices:
 * - The leading `system` / `developer` messages merge into one message (texts joined with a blank
 *   line), keeping the first one's role. Templates accept one system message, at the start.
 * - A `system` / `developer` message after the conversation started becomes a `user` message
 *   prefixed "[Note] " ("【提示】" in Chinese). Moving it to the top would detach it from the
 *   moment it refers to (e.g. the interruption note after a cut-off answer); it then merges with
 *   the `user` messages around it.
 *   One with no text is dropped.
 * - Consecutive `user` messages merge into one, and so do consecutive `assistant` messages without
 *   tool calls: string contents are joined with "\n" (empty ones skipped); when any of them is an
 *   array of parts, the result is the parts in order, strings becoming text parts (so images stay).
 *   The merged message keeps `name` only when all of them carry the same one.
 * - Assistant messages with tool calls and `tool` messages are never merged: the call/result
 *   pairing must stay exactly as it is.
 *
 * Unmerged messages are the same objects; the input is never mutated.
 */

import { messageText, type ChatMessage, type ContentPart } from '../../protocol/chat-types.ts';

/**
 * `messages` with runs of the same role merged as described above (a new array); `notePrefix`
 * starts a mid-conversation system message turned into a user message ("[Note] ").
 */
export function mergeConsecutiveRoles(messages: readonly ChatMessage[], notePrefix: string): ChatMessage[] {
  let leading = 0;
  while (leading < messages.length && isInstruction(messages[leading]!)) leading++;

  const out: ChatMessage[] = [];
  if (leading > 0) out.push(mergeRun(messages.slice(0, leading), '\n\n'));

  // Each run is merged once at its end: merging pair by pair re-copied the text merged so far.
  let run: ChatMessage[] = [];
  for (let i = leading; i < messages.length; i++) {
    let message = messages[i]!;
    if (isInstruction(message)) {
      const text = messageText(message).trim();
      if (text === '') continue;
      message = { role: 'user', content: notePrefix + text };
    }
    const previous = run[run.length - 1];
    if (previous !== undefined && !canMerge(previous, message)) {
      out.push(mergeRun(run, '\n'));
      run = [];
    }
    run.push(message);
  }
  if (run.length > 0) out.push(mergeRun(run, '\n'));
  return out;
}

function isInstruction(message: ChatMessage): boolean {
  return message.role === 'system' || message.role === 'developer';
}

function canMerge(previous: ChatMessage, next: ChatMessage): boolean {
  if (previous.role !== next.role) return false;
  if (next.role === 'user') return true;
  return next.role === 'assistant' && !hasToolCalls(previous) && !hasToolCalls(next);
}

function hasToolCalls(message: ChatMessage): boolean {
  return (message.tool_calls?.length ?? 0) > 0;
}

/**
 * One message holding `run` in order, with the first one's role (the same object for a run of
 * one). Strings before the first array of parts join with `separator` into one text; from the
 * first array on, every non-empty string becomes a text part of its own.
 */
function mergeRun(run: readonly ChatMessage[], separator: string): ChatMessage {
  const first = run[0]!;
  if (run.length === 1) return first;
  const texts: string[] = [];
  let parts: ContentPart[] | undefined;
  for (const { content } of run) {
    if (parts === undefined && !Array.isArray(content)) {
      if (content) texts.push(content);
      continue;
    }
    if (parts === undefined) {
      const joined = texts.join(separator);
      parts = joined === '' ? [] : [{ type: 'text', text: joined }];
    }
    if (Array.isArray(content)) for (const part of content) parts.push(part);
    else if (content) parts.push({ type: 'text', text: content });
  }
  const merged: ChatMessage = { role: first.role, content: parts ?? texts.join(separator) };
  if (first.name !== undefined && run.every((message) => message.name === first.name)) merged.name = first.name;
  return merged;
}
