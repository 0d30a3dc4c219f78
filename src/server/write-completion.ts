import type { FastifyReply } from 'fastify';
import type { PartStream } from '../core/stream-part.ts';
import { CompletionBuilder } from '../protocol/completion-builder.ts';
import { FINISHED, type TurnEnding } from '../telemetry/turn-outcome.ts';
import type { TurnReport } from '../telemetry/turn-report.ts';

export interface CompletionTarget {
  reply: FastifyReply;
  id: string;
  created: number;
  model: string;
  report: TurnReport;
}

/**
 * Sends a turn as one `chat.completion` (`stream: false`) once its parts are all in. A failure
 * throws, before anything was sent: the route's error response.
 */
export async function writeCompletion(parts: PartStream, target: CompletionTarget): Promise<TurnEnding> {
  const { report } = target;
  const builder = new CompletionBuilder();
  for await (const part of parts) {
    if (part.type === 'text') report.text(part.text);
    else if (part.type === 'usage') report.usage = part.usage;
    builder.add(part);
  }
  const completion = builder.build(target.id, target.created, target.model);
  report.finishReason = completion.choices[0]!.finish_reason;
  await target.reply.send(completion);
  return FINISHED;
}
