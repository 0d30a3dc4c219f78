import type { ChatMessage } from '../protocol/chat-types.ts';
import type { AgentConfig } from '../config/schema.ts';

/** The upstream prompt: the agent's system prompt first, then the conversation as the caller sent it. */
export function buildPrompt(agent: AgentConfig, messages: readonly ChatMessage[]): ChatMessage[] {
  if (!agent.systemPrompt) return messages.slice();
  return [{ role: 'system', content: agent.systemPrompt }, ...messages];
}
