/**
 * Scanning helpers shared by the speech shaper's recognizers. A recognizer looks at the text
 * buffered so far and answers with an end position, 0 ("not this"), or NEED_MORE when the text
 * so far cannot decide yet; `final` says the text ends at the buffer's end. Every look-ahead is
 * bounded, so a decision costs a bounded number of steps however long the text grows.
 */

import { isUnspacedChar } from '../../text/word-space.ts';

/** A decision's answer when the buffered text cannot decide yet. */
export const NEED_MORE = -1;

export function isIndent(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t';
}

/** Whitespace, or the edge of the text ('' / undefined). */
export function isBlank(ch: string | undefined): boolean {
  return ch === undefined || ch.trim() === '';
}

export function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && ch >= '0' && ch <= '9';
}

const WORD = /[\p{L}\p{N}\p{M}]/u;

/** A letter, digit or mark of a script that separates words with spaces (not CJK). */
export function isSpacedWordChar(ch: string | undefined): boolean {
  return ch !== undefined && ch !== '' && WORD.test(ch) && !isUnspacedChar(ch);
}

/** End of the run of `ch` starting at `from`, looking at most `max` characters. */
export function runEnd(buf: string, from: number, ch: string, max: number): number {
  let end = from;
  while (end < buf.length && end - from < max && buf[end] === ch) end++;
  return end;
}

/** Index after the blanks (spaces, tabs) starting at `from`, looking at most `max` characters. */
export function skipIndent(buf: string, from: number, max: number): number {
  let end = from;
  while (end < buf.length && end - from < max && isIndent(buf[end])) end++;
  return end;
}

export function lastCodePoint(text: string): string {
  const last = text.length - 1;
  const code = text.charCodeAt(last);
  const start = code >= 0xdc00 && code <= 0xdfff && last > 0 ? last - 1 : last;
  return text.slice(start);
}

/**
 * The code point at `at` ('' at the end of a final text), or null when the text so far ends
 * before it or inside it (a surrogate pair split between chunks).
 */
export function peekCodePoint(buf: string, at: number, final: boolean): string | null {
  if (at >= buf.length) return final ? '' : null;
  const code = buf.charCodeAt(at);
  if (code >= 0xd800 && code <= 0xdbff && at + 1 === buf.length && !final) return null;
  return String.fromCodePoint(buf.codePointAt(at)!);
}

/**
 * Whether `buf` at `pos` starts with `literal`: true, false, or NEED_MORE when the text so far
 * is a proper prefix of it.
 */
export function startsWithAt(buf: string, pos: number, literal: string, final: boolean, ignoreCase = false): boolean | typeof NEED_MORE {
  const have = buf.slice(pos, pos + literal.length);
  const a = ignoreCase ? have.toLowerCase() : have;
  const b = ignoreCase ? literal.toLowerCase() : literal;
  if (have.length === literal.length) return a === b;
  if (!b.startsWith(a)) return false;
  return final ? false : NEED_MORE;
}
