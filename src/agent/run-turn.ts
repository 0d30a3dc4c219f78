import type { ChatTurnRequest } from '../protocol/chat-request.ts';
import type { PartStream } from '../providers/stream-part.ts';
import type { Agent } from './agent-registry.ts';
import { buildPrompt } from './build-prompt.ts';
import { stripThinkBlocks } from './transforms/strip-think-blocks.ts';

/**
 * One conversational turn: prompt in, speakable parts out. The returned stream starts the
 * provider lazily (on first pull) and stops it when `signal` fires.
 */
export function runTurn(agent: Agent, request: ChatTurnRequest, signal: AbortSignal): PartStream {
  const parts = agent.provider.stream({
    model: agent.config.model,
    messages: buildPrompt(agent.config, request.messages),
    params: { ...agent.config.params, ...request.params },
    signal,
  });
  return stripThinkBlocks(parts);
}
