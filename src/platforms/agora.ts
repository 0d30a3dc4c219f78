import { appSignals } from './app-signals.ts';
import { header, idField, isRecord, turnNumber, withCallData } from './call-data.ts';
import type { PlatformAdapter } from './platform-adapter.ts';

const HEADER_PREFIX = 'x-agora-customllm-';
/** The gateway's own interruption mark (see src/agent/history/interruptions.ts). */
const INTERRUPTED = ' <ims_agent_interrupted>';

/**
 * Agora Conversational AI Engine: the channel in `X-Agora-Customllm-Channel` (else the body's
 * `context.channel`) is the call, the newest user message's `turn_id` the turn order; an
 * assistant message with `metadata.interrupted` was cut off by the caller and gets the gateway's
 * interruption mark, so the model is told (history.markInterruptions) as on IMS.
 */
export const agoraPlatform: PlatformAdapter = {
  name: 'agora',
  prefix: '/agora',
  detect: ({ headers }) => Object.keys(headers).some((name) => name.startsWith(HEADER_PREFIX)),
  toChatBody: ({ headers, body }) => {
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const newestUser = messages.findLast((message) => isRecord(message) && message.role === 'user');
    const mapped = withCallData(
      body,
      {
        channelId: header(headers, `${HEADER_PREFIX}channel`) ?? idField(body.context, 'channel'),
        sentenceId: turnNumber(isRecord(newestUser) ? newestUser.turn_id : undefined),
        userData: isRecord(body.context) ? body.context : undefined,
      },
      ['context'],
    );
    if (Array.isArray(body.messages)) mapped.messages = messages.map(markInterrupted);
    return mapped;
  },
  signalForm: appSignals,
};

function markInterrupted(message: unknown): unknown {
  if (!isRecord(message) || message.role !== 'assistant' || typeof message.content !== 'string') return message;
  const interrupted = isRecord(message.metadata) && message.metadata.interrupted === true;
  return interrupted ? { ...message, content: message.content + INTERRUPTED } : message;
}
