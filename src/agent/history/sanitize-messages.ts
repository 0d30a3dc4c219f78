/**
 * Keeps only the message fields an OpenAI-compatible upstream accepts, so nothing a client added
 * (`reasoning_content`, `audio`, `refusal`, `index` on echoed tool calls, vendor extras, ...) is
 * relayed. Several upstreams reject unknown fields with a 400 (DeepSeek, for one, refuses
 * `reasoning_content` sent back), and a 400 on a phone line is silence.
 *
 * What survives, per role:
 * - every role: `role`, `content`, `name` (when a non-empty string);
 * - assistant: `tool_calls` (when non-empty), each reduced to `{ id, type: 'function',
 *   function: { name, arguments } }`;
 * - tool: `tool_call_id`.
 * `tool_calls` on other roles and `tool_call_id` on other roles are dropped: no upstream reads
 * them there. Missing content becomes `null` on an assistant message with tool calls (the one
 * place the API allows no content) and `''` elsewhere. Content parts are relayed untouched.
 *
 * Messages that are already clean are returned as the same objects; the input is never mutated.
 */

import type { ChatMessage, ToolCall } from '../../core/chat-types.ts';

/** A clean copy of `messages` (a new array; clean messages reused as they are). */
export function sanitizeMessages(messages: readonly ChatMessage[]): ChatMessage[] {
  return messages.map(sanitizeMessage);
}

/** `message` with only the fields its role may carry upstream (the same object when clean). */
export function sanitizeMessage(message: ChatMessage): ChatMessage {
  if (isClean(message)) return message;
  const toolCalls = keptToolCalls(message);
  const clean: ChatMessage = { role: message.role, content: cleanContent(message, toolCalls !== undefined) };
  if (isNonEmptyString(message.name)) clean.name = message.name;
  if (toolCalls !== undefined) clean.tool_calls = toolCalls.map(sanitizeToolCall);
  if (message.role === 'tool' && typeof message.tool_call_id === 'string') clean.tool_call_id = message.tool_call_id;
  return clean;
}

/** `call` reduced to the fields of the OpenAI tool-call shape (the same object when clean). */
export function sanitizeToolCall(call: ToolCall): ToolCall {
  if (isCleanToolCall(call)) return call;
  return { id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } };
}

const MESSAGE_KEYS: ReadonlySet<string> = new Set(['role', 'content', 'name', 'tool_calls', 'tool_call_id']);

function isClean(message: ChatMessage): boolean {
  for (const key of Object.keys(message)) if (!MESSAGE_KEYS.has(key)) return false;
  const hasToolCalls = keptToolCalls(message) !== undefined;
  if (message.content === undefined || (message.content === null && !hasToolCalls)) return false;
  if ('name' in message && !isNonEmptyString(message.name)) return false;
  if ('tool_calls' in message && (!hasToolCalls || !message.tool_calls!.every(isCleanToolCall))) return false;
  if ('tool_call_id' in message && (message.role !== 'tool' || typeof message.tool_call_id !== 'string')) return false;
  return true;
}

/** The tool calls worth relaying: only an assistant's, and only a non-empty list. */
function keptToolCalls(message: ChatMessage): ToolCall[] | undefined {
  const calls = message.tool_calls;
  return message.role === 'assistant' && Array.isArray(calls) && calls.length > 0 ? calls : undefined;
}

function cleanContent(message: ChatMessage, hasToolCalls: boolean): ChatMessage['content'] {
  const { content } = message;
  if (typeof content === 'string' || Array.isArray(content)) return content;
  return hasToolCalls ? null : '';
}

const TOOL_CALL_KEYS: ReadonlySet<string> = new Set(['id', 'type', 'function']);
const FUNCTION_KEYS: ReadonlySet<string> = new Set(['name', 'arguments']);

function isCleanToolCall(call: ToolCall): boolean {
  if (call.type !== 'function') return false;
  for (const key of Object.keys(call)) if (!TOOL_CALL_KEYS.has(key)) return false;
  for (const key of Object.keys(call.function)) if (!FUNCTION_KEYS.has(key)) return false;
  return true;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
