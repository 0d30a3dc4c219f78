import { idField, isRecord, withCallData } from './call-data.ts';
import { offeredToolSignals } from './offered-tool-signals.ts';
import type { PlatformAdapter } from './platform-adapter.ts';

/**
 * ElevenLabs Agents' custom LLM: OpenAI chat completions with `elevenlabs_extra_body` (the
 * conversation's `custom_llm_extra_body`, when "Custom LLM extra body" is on) as the only call
 * data: its `call_id` (or `conversation_id`) is the call, `caller_number` / `callee_number` the
 * numbers, all of it the userData. The call ends and transfers through the system tools
 * ElevenLabs offers: `end_call` and `transfer_to_number` (which says `client_message` itself).
 */
export const elevenLabsPlatform: PlatformAdapter = {
  name: 'elevenlabs',
  prefix: '/elevenlabs',
  detect: ({ body }) => isRecord(body.elevenlabs_extra_body),
  toChatBody: ({ body }) => {
    const extra = isRecord(body.elevenlabs_extra_body) ? body.elevenlabs_extra_body : undefined;
    return withCallData(
      body,
      {
        instanceId: idField(extra, 'call_id') ?? idField(extra, 'conversation_id'),
        callerNumber: idField(extra, 'caller_number'),
        calleeNumber: idField(extra, 'callee_number'),
        userData: extra,
      },
      ['elevenlabs_extra_body', 'user_id'],
    );
  },
  signalForm: (context) =>
    offeredToolSignals(
      {
        end: { name: 'end_call', args: () => ({ reason: 'The conversation is over.' }) },
        transfer: {
          name: 'transfer_to_number',
          args: (destination) => ({
            transfer_number: destination.callee,
            client_message: destination.msg ?? '',
            agent_message: destination.description ?? 'A caller transferred by the voice agent.',
            reason: 'The caller asked for a person.',
          }),
        },
        transferSpeaksMessage: true,
      },
      context,
    ),
};
