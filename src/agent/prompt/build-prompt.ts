import type { AgentConfig } from '../../config/schema.ts';
import type { ChatTurnRequest } from '../../protocol/chat-request.ts';
import { messageText, type ChatMessage } from '../../core/chat-types.ts';
import type { CallerLanguage } from '../language/caller-language.ts';
import { PHRASES } from '../language/phrases.ts';
import { limitImages } from '../history/limit-images.ts';
import { markInterruptions } from '../history/interruptions.ts';
import { mergeConsecutiveRoles } from '../history/merge-consecutive-roles.ts';
import { dropOrphanToolMessages } from '../history/orphan-tool-messages.ts';
import { restoreDroppedTurns } from '../history/restore-memory.ts';
import { sanitizeMessages } from '../history/sanitize-messages.ts';
import { renderTemplate } from './render-template.ts';
import { buildTemplateView } from './template-view.ts';

export interface BuiltPrompt {
  /** What the upstream model receives. */
  messages: ChatMessage[];
  /** The conversation without system messages, as the call's memory should keep it. */
  conversation: ChatMessage[];
  /** Older messages restored from the call's memory (memory.mode full). */
  restored: number;
}

/**
 * The upstream prompt for one turn: the agent's system prompt (rendered with the call's data) and
 * the caller's, the conversation (older turns restored from memory when configured), cleaned of
 * what an upstream must never see: interruption markers, orphaned tool messages, unknown fields,
 * images a text-only model cannot take.
 */
export function buildPrompt(
  agent: AgentConfig,
  request: ChatTurnRequest,
  transcript: readonly ChatMessage[] | undefined,
  language: CallerLanguage,
  now: Date = new Date(),
): BuiltPrompt {
  const messages = sanitizeMessages(request.messages);
  let leading = 0;
  while (leading < messages.length && isSystem(messages[leading]!)) leading++;
  const callerSystem = messages.slice(0, leading);
  let conversation = messages.slice(leading);

  let restored = 0;
  if (agent.memory.mode === 'full' && transcript && transcript.length > 0) {
    const result = restoreDroppedTurns(conversation, transcript, agent.memory.maxChars);
    conversation = result.messages;
    restored = result.restored;
  }

  const phrases = PHRASES[language];
  const marked = markInterruptions(conversation, { annotate: agent.history.markInterruptions, note: phrases.interruptionNote });
  let forModel = dropOrphanToolMessages(marked);
  const system = systemPrompt(agent, request, callerSystem, language, now);
  if (system !== undefined) forModel = [{ role: 'system', content: system }, ...forModel];
  forModel = limitImages(forModel, agent.images);
  if (agent.history.mergeConsecutiveRoles) forModel = mergeConsecutiveRoles(forModel, phrases.notePrefix);
  return { messages: forModel, conversation, restored };
}

function systemPrompt(
  agent: AgentConfig,
  request: ChatTurnRequest,
  callerSystem: readonly ChatMessage[],
  language: CallerLanguage,
  now: Date,
): string | undefined {
  const own =
    agent.systemPrompt === undefined
      ? undefined
      : renderTemplate(agent.systemPrompt, buildTemplateView(request.call, request.query, agent.variables, agent.timezone, language, now));
  const fromCaller = callerSystem
    .map(messageText)
    .filter((text) => text.trim() !== '')
    .join('\n\n');
  switch (agent.callerSystemPrompt) {
    case 'ignore':
      return own;
    case 'replace':
      return fromCaller !== '' ? fromCaller : own;
    case 'append':
      if (own === undefined) return fromCaller !== '' ? fromCaller : undefined;
      return fromCaller !== '' ? `${own}\n\n${fromCaller}` : own;
  }
}

function isSystem(message: ChatMessage): boolean {
  return message.role === 'system' || message.role === 'developer';
}
