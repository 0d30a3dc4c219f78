import { appSignals } from './app-signals.ts';
import { header, isRecord, withCallData } from './call-data.ts';
import type { PlatformAdapter } from './platform-adapter.ts';

/**
 * Tencent TRTC conversational AI (`LLMType: openai`): the call rides in headers, `X-Task-Id`
 * (the task, i.e. the call) and `X-Room-Id`; `MetaInfo` in the body is the userData.
 * `X-Request-Id` stays the same when TRTC retries a request (after its 3 s timeout): the retry
 * is given the same answer, never a second run of the model.
 */
export const trtcPlatform: PlatformAdapter = {
  name: 'trtc',
  prefix: '/trtc',
  detect: ({ headers }) => header(headers, 'x-task-id') !== undefined,
  toChatBody: ({ headers, body }) =>
    withCallData(
      body,
      {
        instanceId: header(headers, 'x-task-id'),
        channelId: header(headers, 'x-room-id'),
        userData: isRecord(body.MetaInfo) || typeof body.MetaInfo === 'string' ? body.MetaInfo : undefined,
      },
      ['MetaInfo'],
    ),
  signalForm: appSignals,
  retryKey: ({ headers }) => header(headers, 'x-request-id'),
};
