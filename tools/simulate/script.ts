import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { formatIssuePath } from '../../src/validation/issue-path.ts';
import type { CallerEvent } from './simulated-call.ts';

/**
 * A scripted conversation (`simulate --script FILE`), YAML or JSON:
 *
 * ```yaml
 * caller: '13800000001'          # extendData.callerNumber
 * callee: '13800000002'          # extendData.calleeNumber
 * userData: { customerName: Li Lei }   # sent as a JSON string; a string is sent as is
 * system: You are a helpful phone agent.
 * historySyncTts: true
 * bargeInMs: 400                 # cut every answer 400 ms after its first content
 * turns:
 *   - say: hello
 *     expect: { contains: hello }
 *   - say: tell me a long story
 *     bargeInMs: 300
 *     expect: { interrupted: true }
 *   - say: bye
 *     expect: { hangup: true }
 * ```
 *
 * On the socket platforms a turn may instead be `dtmf: '1'` (Twilio: the caller presses keys) or
 * `reminder: true` (Retell: the caller stays silent and Retell asks the agent to speak).
 *
 * Unknown keys are errors (a typo must not silently turn a check off). Command-line flags win over
 * the script's top-level settings; a turn's `bargeInMs` wins over both.
 */

const text = z.string().min(1, 'must not be empty');
const oneOrMore = z.union([text, z.array(text).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));
const phoneNumber = z.union([z.string(), z.number().transform(String)]);
const milliseconds = z.number().int().nonnegative();

export const turnExpectationSchema = z.strictObject({
  /** The spoken answer contains each of these (case-insensitive). */
  contains: oneOrMore.optional(),
  /** The spoken answer contains none of these (case-insensitive). */
  notContains: oneOrMore.optional(),
  /** The spoken answer matches this regular expression (case-insensitive). */
  matches: text
    .refine((source) => {
      try {
        new RegExp(source, 'iu');
        return true;
      } catch {
        return false;
      }
    }, 'is not a valid regular expression')
    .optional(),
  /** The answer ends the call with a hangup (tool call or text command), or does not. */
  hangup: z.boolean().optional(),
  /** The answer transfers the call, or does not. */
  transfer: z.boolean().optional(),
  /** The agent pressed these keys (Retell digit_to_press, Twilio sendDigits), any keys (true), or none (false). */
  digits: z.union([text, z.boolean()]).optional(),
  /** The session's language was switched (Twilio language) to this code (speech or transcription), to any (true), or not (false). */
  language: z.union([text, z.boolean()]).optional(),
  /** The connection was cut before the answer ended (barge-in), or not. */
  interrupted: z.boolean().optional(),
  finishReason: text.optional(),
  /** The first content arrived within this many ms. */
  maxTtftMs: milliseconds.optional(),
});

export const scriptTurnSchema = z
  .strictObject({
    /** What the caller says (the user message). */
    say: text.optional(),
    /** The caller presses keys instead (Twilio's dtmf message). */
    dtmf: z
      .string()
      .regex(/^[0-9*#A-Da-d]+$/, 'must be keypad digits (0-9, *, #, A-D)')
      .optional(),
    /** The caller stays silent until the platform prompts the agent (Retell's reminder_required). */
    reminder: z.literal(true).optional(),
    /** Cut this answer this many ms after its first content; null: never cut this one. */
    bargeInMs: milliseconds.nullable().optional(),
    expect: turnExpectationSchema.optional(),
  })
  .refine((turn) => [turn.say, turn.dtmf, turn.reminder].filter((v) => v !== undefined).length === 1, {
    message: 'a turn is one of say, dtmf or reminder',
  })
  .transform(({ say, dtmf, reminder: _reminder, ...rest }) => ({
    ...rest,
    /** The words said, the digits pressed, or '' for silence. */
    say: say ?? dtmf ?? '',
    event: (say !== undefined ? 'speech' : dtmf !== undefined ? 'dtmf' : 'reminder') as CallerEvent,
  }));

export const conversationScriptSchema = z.strictObject({
  model: text.optional(),
  caller: phoneNumber.optional(),
  callee: phoneNumber.optional(),
  /** An object or array is sent as its JSON; a string is sent as is. */
  userData: z
    .union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())])
    .transform((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
    .optional(),
  system: z.string().optional(),
  instanceId: text.optional(),
  channelId: text.optional(),
  extraQuery: z.string().optional(),
  hangupFunction: text.optional(),
  historySyncTts: z.boolean().optional(),
  bargeInMs: milliseconds.optional(),
  turns: z.array(scriptTurnSchema).min(1, 'needs at least one turn'),
});

export type TurnExpectation = z.output<typeof turnExpectationSchema>;
export type ScriptTurn = z.output<typeof scriptTurnSchema>;
export type ConversationScript = z.output<typeof conversationScriptSchema>;

/** A script that cannot be read or is not valid; `problems` name where and what. */
export class ScriptError extends Error {
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(`Invalid conversation script (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ScriptError';
    this.problems = problems;
  }
}

/** Validates an already-parsed script. */
export function parseConversationScript(raw: unknown, source = 'script'): ConversationScript {
  const parsed = conversationScriptSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ScriptError(
    source,
    parsed.error.issues.map((issue) => {
      const path = formatIssuePath(issue.path);
      return path ? `${path}: ${issue.message}` : issue.message;
    }),
  );
}

/** Parses YAML (or JSON) text and validates it. */
export function parseConversationScriptText(text: string, source = 'script'): ConversationScript {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0)
    throw new ScriptError(
      source,
      document.errors.map((e) => e.message),
    );
  return parseConversationScript(document.toJS(), source);
}

export function loadConversationScript(path: string): ConversationScript {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ScriptError(path, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  return parseConversationScriptText(text, path);
}
