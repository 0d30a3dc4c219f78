/**
 * The messages Retell and Twilio ConversationRelay send a custom-LLM WebSocket, built as the
 * platforms build them (the recorded examples in test/platforms/fixtures/retell and twilio):
 * shared by `simulate` and `check`.
 */

import { twilioSignature } from '../../src/server/sockets/twilio/twilio-signature.ts';

/** The platforms that call over their own WebSocket rather than HTTP chat completions. */
export const SOCKET_PLATFORM_NAMES = ['retell', 'twilio'] as const;

/** Who is on the call, as the platform tells the server. */
export interface SocketCallIdentity {
  callId: string;
  callerNumber?: string;
  calleeNumber?: string;
  userData?: Record<string, unknown>;
}

export interface RetellUtterance {
  role: 'agent' | 'user';
  content: string;
}

/** The address Retell dials: the LLM WebSocket URL given in its console, with `/{call_id}` appended. */
export function retellCallUrl(url: URL, callId: string): string {
  const dialled = new URL(url);
  dialled.pathname = `${dialled.pathname.replace(/\/+$/, '')}/${encodeURIComponent(callId)}`;
  return dialled.toString();
}

export const retell = {
  callDetails: (call: SocketCallIdentity) => ({
    interaction_type: 'call_details',
    call: {
      call_type: 'phone_call',
      call_id: call.callId,
      agent_id: 'agent_simulated',
      call_status: 'ongoing',
      direction: 'inbound',
      ...(call.callerNumber === undefined ? {} : { from_number: call.callerNumber }),
      ...(call.calleeNumber === undefined ? {} : { to_number: call.calleeNumber }),
      metadata: call.userData ?? {},
      retell_llm_dynamic_variables: {},
      start_timestamp: Date.now(),
    },
  }),
  responseRequired: (responseId: number, transcript: readonly RetellUtterance[]) => ({
    interaction_type: 'response_required',
    response_id: responseId,
    transcript,
  }),
  reminderRequired: (responseId: number, transcript: readonly RetellUtterance[]) => ({
    interaction_type: 'reminder_required',
    response_id: responseId,
    transcript,
  }),
  /** The caller spoke over the agent: Retell updates the transcript (what was spoken of the answer) and takes the turn. */
  updateOnly: (transcript: readonly RetellUtterance[]) => ({ interaction_type: 'update_only', transcript, turntaking: 'user_turn' }),
  pingPong: (timestamp = Date.now()) => ({ interaction_type: 'ping_pong', timestamp }),
};

/** Twilio signs the URL it requested (always wss), keyed with the account's Auth Token. */
export function twilioHandshakeHeaders(authToken: string | undefined, signedUrl: string): Record<string, string> {
  return authToken === undefined ? {} : { 'x-twilio-signature': twilioSignature(authToken, signedUrl) };
}

/** The URL Twilio would sign for a socket address: the same, with the wss scheme. */
export function twilioSignedUrl(url: URL): string {
  const signed = new URL(url);
  signed.protocol = 'wss:';
  return signed.toString();
}

export const twilio = {
  setup: (call: SocketCallIdentity) => ({
    type: 'setup',
    sessionId: `VX${call.callId
      .replace(/[^0-9a-z]/gi, '')
      .padEnd(32, '0')
      .slice(0, 32)}`,
    callSid: call.callId,
    parentCallSid: '',
    from: call.callerNumber ?? '',
    to: call.calleeNumber ?? '',
    forwardedFrom: call.calleeNumber ?? '',
    callerName: '',
    direction: 'inbound',
    callType: 'PSTN',
    callStatus: 'RINGING',
    accountSid: 'AC00000000000000000000000000000000',
    applicationSid: null,
    customParameters: call.userData ?? {},
  }),
  prompt: (words: string, lang = 'en-US') => ({ type: 'prompt', voicePrompt: words, lang, last: true }),
  interrupt: (heard: string, durationMs: number) => ({
    type: 'interrupt',
    utteranceUntilInterrupt: heard,
    durationUntilInterruptMs: Math.round(durationMs),
  }),
  dtmf: (digit: string) => ({ type: 'dtmf', digit }),
};
