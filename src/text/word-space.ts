/**
 * Where a space goes when the gateway joins texts of its own to the answer (a tool's `say`
 * phrase, a filler, a farewell): Chinese, Japanese and Korean run on without spaces, so a space
 * goes only between two characters of scripts that separate words with spaces.
 */

/** Characters of scripts written without spaces (and CJK punctuation, fullwidth forms). */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u;

/** A character of a script written without spaces between words, or its punctuation. */
export function isUnspacedChar(ch: string | undefined): boolean {
  return ch !== undefined && ch !== '' && UNSPACED.test(ch);
}

/** The space that joins `before` to `after`: ' ' between two non-CJK characters, else ''. */
export function spaceBetween(before: string, after: string): '' | ' ' {
  const last = lastChar(before);
  const first = after.codePointAt(0);
  if (last === undefined || first === undefined) return '';
  const next = String.fromCodePoint(first);
  return isSpaceable(last) && isSpaceable(next) ? ' ' : '';
}

/** `before` and `after` joined by {@link spaceBetween}. */
export function joinWords(before: string, after: string): string {
  return before + spaceBetween(before, after) + after;
}

function isSpaceable(ch: string): boolean {
  return ch.trim() !== '' && !isUnspacedChar(ch);
}

function lastChar(text: string): string | undefined {
  return [...text.slice(-2)].at(-1);
}
