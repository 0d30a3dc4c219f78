import { z } from 'zod';

/**
 * Retell's custom LLM WebSocket protocol (https://docs.retellai.com/api-references/llm-websocket),
 * the messages the gateway reads and sends. Read loosely: fields the gateway does not use are
 * left alone, and a message of another kind is ignored.
 */

/** One utterance of Retell's transcript; tool-call entries (transcript_with_tool_calls) carry no content. */
const utteranceSchema = z.looseObject({ role: z.string(), content: z.string().optional() });
const transcriptSchema = z.array(utteranceSchema).default([]);

export const retellEventSchema = z.discriminatedUnion('interaction_type', [
  z.looseObject({ interaction_type: z.literal('ping_pong'), timestamp: z.number() }),
  z.looseObject({ interaction_type: z.literal('call_details'), call: z.record(z.string(), z.unknown()) }),
  z.looseObject({ interaction_type: z.literal('update_only'), transcript: transcriptSchema }),
  z.looseObject({ interaction_type: z.literal('response_required'), response_id: z.number().int().min(0), transcript: transcriptSchema }),
  z.looseObject({ interaction_type: z.literal('reminder_required'), response_id: z.number().int().min(0), transcript: transcriptSchema }),
]);

export type RetellEvent = z.infer<typeof retellEventSchema>;
export type RetellUtterance = z.infer<typeof utteranceSchema>;

/** Sent first: Retell keeps the socket alive with pings (and reconnects), and sends the call's details. */
export interface RetellConfigEvent {
  response_type: 'config';
  config: { auto_reconnect: boolean; call_details: boolean };
}

/** A piece of the answer to `response_id`; the last has `content_complete` and any action for after it is spoken. */
export interface RetellResponseEvent {
  response_type: 'response';
  response_id: number;
  content: string;
  content_complete: boolean;
  end_call?: boolean;
  transfer_number?: string;
  digit_to_press?: string;
}

export interface RetellPingPongEvent {
  response_type: 'ping_pong';
  timestamp: number;
}

export type RetellReply = RetellConfigEvent | RetellResponseEvent | RetellPingPongEvent;
