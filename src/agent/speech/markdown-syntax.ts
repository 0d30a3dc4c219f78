/**
 * Recognizers for markdown constructs that span several characters: link destinations, images,
 * autolinks, rule / table-separator lines, reference labels and definitions, task boxes.
 */

import { isBlank, NEED_MORE } from './scan.ts';

/** Longest link or image (`[...](...)`, `<scheme:...>`) waited for before it counts as text. */
const LINK_LIMIT = 300;
/** Longest rule / table-separator line looked at. */
const DECOR_LIMIT = 512;
const MAX_SCHEME_LENGTH = 32;
const LABEL_LIMIT = 64;
const SCHEME_START = /[A-Za-z]/;
const SCHEME_CHAR = /[A-Za-z0-9+.-]/;

/**
 * End of a link destination `(url)` or `(url "title")` whose `(` is at `open`, or 0 when it is
 * not one: a destination has no whitespace (so `[a] (an aside)` keeps its aside), parentheses
 * nest, and a title is quoted.
 */
export function destinationEnd(buf: string, open: number, final: boolean): number {
  let depth = 0;
  for (let i = open; i < buf.length; i++) {
    if (i - open > LINK_LIMIT) return 0;
    const ch = buf[i];
    if (ch === '(') depth++;
    else if (ch === ')') {
      if (--depth === 0) return i + 1;
    } else if (isBlank(ch)) return depth === 1 && i > open + 1 ? titleEnd(buf, i, open, final) : 0;
  }
  return final ? 0 : NEED_MORE;
}

/** After a destination, at the blank at `from`: the end of `"title")`, or 0. */
function titleEnd(buf: string, from: number, open: number, final: boolean): number {
  let i = from;
  while (i < buf.length && (buf[i] === ' ' || buf[i] === '\t')) i++;
  if (i === buf.length) return final ? 0 : NEED_MORE;
  const quote = buf[i];
  if (quote !== '"' && quote !== "'") return 0;
  for (i++; i < buf.length; i++) {
    if (i - open > LINK_LIMIT || buf[i] === '\n') return 0;
    if (buf[i] === quote) {
      if (i + 1 === buf.length) return final ? 0 : NEED_MORE;
      return buf[i + 1] === ')' ? i + 2 : 0;
    }
  }
  return final ? 0 : NEED_MORE;
}

/** End of an image `![alt](url)` whose `!` is at `bang`, or 0 when it is not one. */
export function imageEnd(buf: string, bang: number, final: boolean): number {
  let depth = 0;
  for (let i = bang + 1; i < buf.length; i++) {
    if (i - bang > LINK_LIMIT) return 0;
    const ch = buf[i];
    if (ch === '\n') return 0;
    if (ch === '[') depth++;
    else if (ch === ']' && --depth === 0) {
      if (i + 1 === buf.length) return final ? 0 : NEED_MORE;
      return buf[i + 1] === '(' ? destinationEnd(buf, i + 1, final) : 0;
    }
  }
  return final ? 0 : NEED_MORE;
}

/** End of an autolink `<scheme:...>` whose `<` is at `open`, or 0 when it is not one. */
export function autolinkEnd(buf: string, open: number, final: boolean): number {
  let i = open + 1;
  while (i < buf.length && i - open <= MAX_SCHEME_LENGTH) {
    const ch = buf[i]!;
    if (!(i === open + 1 ? SCHEME_START : SCHEME_CHAR).test(ch)) break;
    i++;
  }
  if (i === buf.length) return final ? 0 : NEED_MORE;
  if (buf[i] !== ':' || i - open - 1 < 2) return 0;
  const colon = i;
  for (i++; i < buf.length; i++) {
    if (i - open > LINK_LIMIT) return 0;
    const ch = buf[i];
    if (ch === '>') return i > colon + 1 ? i + 1 : 0;
    if (ch === '<' || isBlank(ch)) return 0;
  }
  return final ? 0 : NEED_MORE;
}

/**
 * End (after its newline) of a line made only of rule / table-separator characters that reads
 * as nothing: a thematic break (`---`, `***`, `___`, `* * *`), a setext underline (`===`), a
 * table separator row (`|---|:--:|`, `:--- | ---:`). 0 when the line is something else.
 */
export function decorativeLineEnd(buf: string, from: number, final: boolean): number {
  const counts: Record<string, number> = { '-': 0, '*': 0, _: 0, '=': 0, '|': 0 };
  let end = from;
  for (; end < buf.length && end - from < DECOR_LIMIT; end++) {
    const ch = buf[end]!;
    if (ch in counts) counts[ch]!++;
    else if (ch !== ':' && ch !== '+' && ch !== ' ' && ch !== '\t') break;
  }
  if (end - from >= DECOR_LIMIT) return 0;
  if (end === buf.length) {
    if (!final) return NEED_MORE;
  } else if (buf[end] === '\n') {
    end++;
  } else {
    return 0;
  }
  const rule = counts['-']! >= 3 || counts['*']! >= 3 || counts._! >= 3 || counts['=']! >= 3;
  const tableSeparator = (counts['|']! > 0 || buf[from] === ':') && counts['-']! > 0;
  return rule || tableSeparator ? end : 0;
}

/** At the `[` right after a link text: the end of a reference label `[label]` / `[]`, or 0. */
export function referenceLabelEnd(buf: string, open: number, final: boolean): number {
  const window = buf.slice(open, open + LABEL_LIMIT);
  const close = window.indexOf(']');
  const newline = window.indexOf('\n');
  if (close < 0 || (newline >= 0 && newline < close)) {
    return newline < 0 && window.length < LABEL_LIMIT && !final ? NEED_MORE : 0;
  }
  return open + close + 1;
}

/** A definition's label as models write it (`1`, `^1`, `docs`, `ref-2`): short, no blanks. */
const DEFINITION_LABEL = /^\[\^?[\w.-]{0,32}(\]:?)?$/;

/**
 * At a line start `[`: whether it is a reference definition `[label]: url` (or `[^1]: note`).
 * Decided as soon as the label stops looking like one, so `[Click here](...)` is not held.
 */
export function isDefinitionLine(buf: string, open: number, final: boolean): boolean | typeof NEED_MORE {
  const window = buf.slice(open, open + LABEL_LIMIT);
  const close = window.indexOf(']');
  const head = close < 0 ? window : window.slice(0, close + 2);
  if (!DEFINITION_LABEL.test(head)) return false;
  if (close < 0 || close + 1 === window.length) return final ? false : NEED_MORE;
  return window[close + 1] === ':' && close > 1;
}

/** At a line start `[`: the length of a task box `[ ] ` / `[x] `, or 0. */
export function taskBoxLength(buf: string, open: number, final: boolean): number {
  if (open + 3 >= buf.length) {
    const partial = buf.slice(open);
    return /^\[(?:[ xX](?:\])?)?$/.test(partial) && !final ? NEED_MORE : 0;
  }
  return /^\[[ xX]\][ \t]$/.test(buf.slice(open, open + 4)) ? 4 : 0;
}
