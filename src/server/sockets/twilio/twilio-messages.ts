import { z } from 'zod';

/**
 * Twilio ConversationRelay's WebSocket messages
 * (https://www.twilio.com/docs/voice/conversationrelay/websocket-messages) that the gateway reads
 * and sends. Read loosely: fields the gateway does not use are left alone, and a message of
 * another kind is ignored.
 */
export const twilioEventSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('setup'),
    callSid: z.string(),
    from: z.string().optional(),
    to: z.string().optional(),
    customParameters: z.record(z.string(), z.unknown()).optional(),
  }),
  /** The caller's words; with partialPrompts on, pieces arrive with `last: false` until the last. */
  z.looseObject({ type: z.literal('prompt'), voicePrompt: z.string(), lang: z.string().optional(), last: z.boolean().optional() }),
  /** The caller spoke over the answer: what had been spoken of it until then. */
  z.looseObject({
    type: z.literal('interrupt'),
    utteranceUntilInterrupt: z.string().default(''),
    durationUntilInterruptMs: z.number().optional(),
  }),
  z.looseObject({ type: z.literal('dtmf'), digit: z.string() }),
  z.looseObject({ type: z.literal('error'), description: z.string().optional() }),
]);

export type TwilioEvent = z.infer<typeof twilioEventSchema>;

/** A piece of the answer for text-to-speech; `last` ends the answer. */
export interface TwilioTextEvent {
  type: 'text';
  token: string;
  last: boolean;
}

/** Ends the session; `handoffData` (a JSON string) goes to the <Connect action> URL, which transfers or hangs up. */
export interface TwilioEndEvent {
  type: 'end';
  handoffData?: string;
}

export interface TwilioSendDigitsEvent {
  type: 'sendDigits';
  digits: string;
}

export interface TwilioLanguageEvent {
  type: 'language';
  ttsLanguage?: string;
  transcriptionLanguage?: string;
}

export type TwilioReply = TwilioTextEvent | TwilioEndEvent | TwilioSendDigitsEvent | TwilioLanguageEvent;
