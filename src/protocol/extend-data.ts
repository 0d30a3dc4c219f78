import { z } from 'zod';
import { exceedsJsonDepth } from '../validation/json-depth.ts';

/**
 * IMS call metadata (`extendData`). Documented types are loose in practice: sentenceId arrives as
 * an integer or a numeric string; userData is a string that may hold JSON, or not.
 */
const idString = z.union([z.string(), z.number().transform(String)]);

export const extendDataSchema = z.looseObject({
  instanceId: idString.optional(),
  channelId: idString.optional(),
  sentenceId: z
    .union([
      z.number().int().nonnegative(),
      z
        .string()
        .regex(/^\s*\d+\s*$/, 'must be an integer or a numeric string')
        .transform((value) => Number.parseInt(value, 10)),
    ])
    .optional(),
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
