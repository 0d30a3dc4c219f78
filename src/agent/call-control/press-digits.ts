import type { PressDigitsConfig } from '../../config/schema.ts';
import type { FunctionToolDefinition } from '../../core/chat-types.ts';
import type { Phrases } from '../language/phrases.ts';
import { parseArguments } from './call-functions.ts';
import type { Keypad } from './signal-form.ts';

/** Keys of a phone keypad, and `w`: a half-second pause. */
const KEYS = /^[0-9*#w]+$/;

/**
 * Why a key press the model asked for was not made: its keys were not keys (or too many for
 * `maxDigits`), the platform has no keypad, the platform's keypad cannot carry them (too many keys,
 * or `w` pauses it does not know), or the same turn ended or transferred the call.
 */
export type KeyPressDropReason = 'invalid_keys' | 'no_keypad' | 'keypad_limit' | 'call_ended';

/** A key press that was dropped, for logs and metrics. */
export interface KeyPressDropEvent {
  reason: KeyPressDropReason;
  /** What the model wrote as the keys, at most its first 32 characters; absent when it wrote none. */
  keys?: string;
}

/** The model's words go into log lines: a long one is cut. */
const SHOWN_KEYS = 32;

/** A dropped press, with at most the first 32 characters of the keys the model wrote. */
export function keyPressDrop(reason: KeyPressDropReason, keys: string | undefined): KeyPressDropEvent {
  return keys === undefined ? { reason } : { reason, keys: keys.slice(0, SHOWN_KEYS) };
}

/**
 * The keypad function as the model sees it, shaped by what the platform's keypad carries: one key
 * per answer (Retell) or a sequence, with `w` pauses where the platform knows them.
 */
export function pressDigitsFunction(config: PressDigitsConfig, phrases: Phrases, keypad: Keypad): FunctionToolDefinition {
  const maxLength = Math.min(config.maxDigits, keypad.maxKeys ?? config.maxDigits);
  return {
    type: 'function',
    function: {
      name: config.functionName,
      description: config.description ?? (maxLength === 1 ? phrases.pressKeyDescription : phrases.pressDigitsDescription),
      parameters: {
        type: 'object',
        properties: {
          digits: {
            type: 'string',
            pattern: keypad.pauses ? '^[0-9*#w]+$' : '^[0-9*#]+$',
            maxLength,
            description: phrases.digitsArgument(keypad.pauses),
          },
        },
        required: ['digits'],
      },
    },
  };
}

/**
 * The keys a call of the keypad function asks for, or undefined when they are not keys at all or
 * more than `maxDigits`: then nothing is pressed. Spaces between keys are dropped ("1 2 3"); a
 * whole number is read as its digits.
 */
export function requestedDigits(argumentsJson: string, config: PressDigitsConfig): string | undefined {
  const value = parseArguments(argumentsJson).digits;
  const written = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : value;
  if (typeof written !== 'string') return undefined;
  const digits = written.replace(/\s+/g, '');
  return KEYS.test(digits) && digits.length <= config.maxDigits ? digits : undefined;
}

/** What a call of the keypad function wrote as its keys, as text (for a dropped press's log), or undefined when it wrote none. */
export function writtenKeys(argumentsJson: string): string | undefined {
  const value = parseArguments(argumentsJson).digits;
  if (typeof value === 'string') return value;
  return typeof value === 'number' ? String(value) : undefined;
}

/** Whether the platform's keypad can press these keys in one turn. */
export function keypadCarries(keypad: Keypad, digits: string): boolean {
  return (keypad.maxKeys === undefined || digits.length <= keypad.maxKeys) && (keypad.pauses || !digits.includes('w'));
}
