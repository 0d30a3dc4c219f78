import { newToolCallId } from '../core/completion-id.ts';
import type { JoinPhrase } from '../agent/call-control/signal-form.ts';
import type { StreamPart } from '../core/stream-part.ts';

/** Building blocks of a signal form: what is said, and a streamed tool call that ends the turn. */

/** A phrase said after what the turn already said, or nothing when empty. */
export function spokenAfter(phrase: string | undefined, say: JoinPhrase): StreamPart[] {
  if (phrase === undefined || phrase === '') return [];
  return [{ type: 'text', text: say(phrase) }];
}

/** One complete tool call and `finish_reason: tool_calls`. */
export function toolCallEnding(name: string, args: Record<string, unknown>): StreamPart[] {
  const callId = newToolCallId();
  return [
    { type: 'tool-call-start', callId, name },
    { type: 'tool-call-delta', callId, argumentsDelta: JSON.stringify(args) },
    { type: 'tool-call-end', callId },
    { type: 'finish', reason: 'tool_calls' },
  ];
}

export const STOP: StreamPart = { type: 'finish', reason: 'stop' };
