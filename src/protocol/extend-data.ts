import { z } from 'zod';
import { exceedsJsonDepth } from '../validation/json-depth.ts';

/**
 * IMS call metadata (`extendData`). Documented types are loose in practice: sentenceId arrives as
 * an integer or a numeric string; userData is a string that may hold JSON, or not.
 *
 * Checked at the edge, because these values become map keys, log fields and database columns:
 * ids are short, well-formed text without control characters (a NUL fails a PostgreSQL write);
 * sentenceId is an integer a JavaScript number and a BIGINT both hold exactly (a 400-digit one
 * would parse to Infinity and outrank every later turn).
 */
export const MAX_CALL_ID_CHARS = 256;
export const SENTENCE_ID_RULE = `must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, as a number or a string of digits`;

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

const idText = z
  .string()
  .max(MAX_CALL_ID_CHARS, `must be at most ${MAX_CALL_ID_CHARS} characters`)
  .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters (such as NUL or a line break)')
  .refine((value) => value.isWellFormed(), 'must be well-formed Unicode text');

const idString = z.union([z.string(), z.number().transform(String)], { error: 'must be a string or a number' }).pipe(idText);

const sentenceId = z.union([z.number(), z.string()], { error: SENTENCE_ID_RULE }).transform((value, ctx) => {
  const parsed = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < 0) {
    ctx.addIssue({ code: 'custom', message: SENTENCE_ID_RULE });
    return z.NEVER;
  }
  return parsed + 0; // -0 becomes 0
});

export const extendDataSchema = z.looseObject({
  instanceId: idString.optional(),
  channelId: idString.optional(),
  sentenceId: sentenceId.optional(),
  callerNumber: idString.optional(),
  calleeNumber: idString.optional(),
  // Kept raw: the business decides what it holds. Parsed separately, never a reason to reject
  // (a client that sends an object instead of a JSON string gets it serialised).
  userData: z
    .unknown()
    .transform((value, ctx) => {
      if (typeof value === 'string' || value == null) return value ?? undefined;
      try {
        return JSON.stringify(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a string (the JSON the business passed), not a structure this deep' });
        return z.NEVER;
      }
    })
    .optional(),
});

export type ExtendDataInput = z.input<typeof extendDataSchema>;

export interface CallMetadata {
  instanceId?: string;
  channelId?: string;
  sentenceId?: number;
  callerNumber?: string;
  calleeNumber?: string;
  /** The raw userData string as the workflow sent it. */
  userDataRaw?: string;
  /** userData parsed as JSON, when it is a JSON object/array/value; undefined when absent or not JSON. */
  userData?: unknown;
  /** True when userData was present, non-empty and not valid JSON. */
  userDataInvalid: boolean;
}

export function toCallMetadata(extendData: z.output<typeof extendDataSchema> | undefined): CallMetadata {
  if (!extendData) return { userDataInvalid: false };
  const metadata: CallMetadata = { userDataInvalid: false };
  if (extendData.instanceId !== undefined) metadata.instanceId = extendData.instanceId;
  if (extendData.channelId !== undefined) metadata.channelId = extendData.channelId;
  if (extendData.sentenceId !== undefined) metadata.sentenceId = extendData.sentenceId;
  if (extendData.callerNumber !== undefined) metadata.callerNumber = extendData.callerNumber;
  if (extendData.calleeNumber !== undefined) metadata.calleeNumber = extendData.calleeNumber;
  const raw = extendData.userData;
  if (raw !== undefined) {
    metadata.userDataRaw = raw;
    if (raw.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(raw);
        // Too deep to hand to tools (they serialise it): kept as raw text only.
        if (exceedsJsonDepth(parsed)) metadata.userDataInvalid = true;
        else metadata.userData = parsed;
      } catch {
        metadata.userDataInvalid = true;
      }
    }
  }
  return metadata;
}
