import { appSignals } from './app-signals.ts';
import { idField, turnNumber, withCallData } from './call-data.ts';
import type { PlatformAdapter } from './platform-adapter.ts';

/** Fields the gateway reads from the body (Volcengine merges the agent's `Custom` JSON into it). */
const CALL_FIELDS = ['maxTokens', 'round_id', 'call_id', 'room_id', 'user_data'];

/**
 * Volcengine / BytePlus RTC conversational AI (`Mode: CustomLLM`): `maxTokens` is camelCase,
 * `round_id` (with `EnableRoundId`) numbers the turns, so a `Prefill` request for the same round
 * replaces the one in progress and an older round never cancels a newer one. Volcengine sends no
 * call id: put `call_id` (and `room_id`, `user_data`) in the agent's `Custom` JSON.
 */
export const volcenginePlatform: PlatformAdapter = {
  name: 'volcengine',
  prefix: '/volcengine',
  toChatBody: ({ body }) => {
    const mapped = withCallData(
      body,
      {
        instanceId: idField(body, 'call_id'),
        channelId: idField(body, 'room_id'),
        sentenceId: turnNumber(body.round_id),
        userData: body.user_data,
      },
      CALL_FIELDS,
    );
    if (mapped.max_tokens === undefined && body.maxTokens !== undefined) mapped.max_tokens = body.maxTokens;
    return mapped;
  },
  signalForm: appSignals,
};
