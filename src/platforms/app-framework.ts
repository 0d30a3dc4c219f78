import { appSignals } from './app-signals.ts';
import { header, idField, withCallData } from './call-data.ts';
import type { PlatformAdapter, PlatformName, PlatformRequest } from './platform-adapter.ts';

/**
 * Frameworks whose application owns the pipeline and sends plain OpenAI bodies (LiveKit Agents,
 * Pipecat). The application names the call: header `X-Call-Id` (else the body's `user`), and
 * optionally `X-Caller-Number`, `X-Callee-Number`, `X-User-Data` (JSON text).
 */
export function appFramework(name: PlatformName, retryKey?: (request: PlatformRequest) => string | undefined): PlatformAdapter {
  return {
    name,
    prefix: `/${name}`,
    toChatBody: ({ headers, body }) =>
      withCallData(body, {
        instanceId: header(headers, 'x-call-id') ?? idField(body, 'user'),
        callerNumber: header(headers, 'x-caller-number'),
        calleeNumber: header(headers, 'x-callee-number'),
        userData: header(headers, 'x-user-data'),
      }),
    signalForm: appSignals,
    ...(retryKey ? { retryKey } : {}),
  };
}
