import type { CallTurn } from '../calls/call-registry.ts';
import { endCallSchema } from '../config/schema.ts';
import type { ChatTurnRequest } from '../protocol/chat-request.ts';
import type { ChatMessage } from '../protocol/chat-types.ts';
import type { PartStream } from '../providers/stream-part.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Agent } from './agent-registry.ts';
import { converse, type ToolRun } from './converse.ts';
import { buildPrompt } from './prompt/build-prompt.ts';
import { emitCallSignals } from './transforms/emit-call-signals.ts';
import { shapeSpeech } from './transforms/shape-speech.ts';

/** How an agent without an `endCall` section signals an end of call its engine decides on. */
const DEFAULT_END_CALL = endCallSchema.parse({ enabled: false });

export interface TurnInput {
  agent: Agent;
  request: ChatTurnRequest;
  signal: AbortSignal;
  logger: Logger;
  /** The call this turn belongs to, when the request names one (memory, barge-in). */
  callTurn?: CallTurn | undefined;
  onToolRun?: (run: ToolRun) => void;
}

/**
 * One conversational turn, prompt in, speakable parts out:
 * prompt ▸ provider rounds (reasoning stripped, tools run) ▸ speech shaping ▸ call signals.
 * Nothing runs until the stream is pulled; `signal` stops it all.
 */
export function runTurn(input: TurnInput): PartStream {
  const { agent, request, callTurn } = input;
  const prompt = buildPrompt(agent.config, request, callTurn?.call.transcript);
  let parts = converse({
    agent,
    router: agent.router,
    request,
    messages: prompt.messages,
    signal: input.signal,
    logger: input.logger,
    ...(input.onToolRun ? { onToolRun: input.onToolRun } : {}),
  });
  if (agent.config.speech.enabled) parts = shapeSpeech(parts);
  parts = emitCallSignals(parts, agent.config.endCall ?? DEFAULT_END_CALL, agent.config.transfer);
  return callTurn ? rememberAnswer(parts, callTurn, prompt.conversation) : parts;
}

/** Keeps the call's transcript: the conversation so far plus what this turn actually sent. */
async function* rememberAnswer(parts: PartStream, callTurn: CallTurn, conversation: ChatMessage[]): PartStream {
  let answer = '';
  try {
    for await (const part of parts) {
      if (part.type === 'text') answer += part.text;
      yield part;
    }
  } finally {
    callTurn.remember(answer === '' ? conversation : [...conversation, { role: 'assistant', content: answer }]);
  }
}
