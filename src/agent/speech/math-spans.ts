/**
 * Where LaTeX math is in a text: `$...$`, `$$...$$`, `\(...\)`, `\[...\]`, and a bare known
 * command (`3 \times 5`, `\frac{1}{2}`). A `$` that is money (`$5`, `costs $5 and $10`) is not
 * math: `$` + a number is money unless an operator follows the number and a closing `$` comes.
 */

import { isMathCommand, takesArguments } from './latex.ts';
import { isBlank, isDigit, NEED_MORE } from './scan.ts';

/** Longest math expression waited for; a longer one is not math. */
const MATH_LIMIT = 600;
/** Longest `$...$` waited for: inline math is short. */
const INLINE_MATH_LIMIT = 200;
const SENTENCE_END = /[。，；！？]/;
const MONEY_NUMBER_LIMIT = 24;
const COMMAND_NAME_LIMIT = 24;
const ARGUMENT_LIMIT = 200;

export interface MathSpan {
  /** The expression, delimiters removed. */
  contentStart: number;
  contentEnd: number;
  /** After the closing delimiter. */
  end: number;
}

/** Characters after a number that make `$5...` possibly math rather than money. */
const OPERATOR_AFTER_NUMBER = /[\\+\-*/=^_{}<>×÷]/;

/**
 * At a `$`: the math span it opens, 0 when it is money or text, NEED_MORE. Inline math closes
 * with a `$` after a non-blank, not followed by a digit (pandoc's rule), on the same line.
 */
export function dollarMath(buf: string, pos: number, final: boolean): MathSpan | 0 | typeof NEED_MORE {
  if (pos + 1 >= buf.length) return final ? 0 : NEED_MORE;
  if (buf[pos + 1] === '$') return displayDollarMath(buf, pos, final);
  const first = buf[pos + 1];
  if (isBlank(first)) return 0;
  if (isDigit(first)) {
    let end = pos + 1;
    while (end < buf.length && end - pos < MONEY_NUMBER_LIMIT && /[0-9.,]/.test(buf[end]!)) end++;
    if (end === buf.length) return final ? 0 : NEED_MORE;
    let next = buf[end]!;
    if (next === ' ') {
      if (end + 1 === buf.length) return final ? 0 : NEED_MORE;
      next = buf[end + 1]!;
    } else if (/[A-Za-z]/.test(next)) {
      next = '\\';
    }
    if (next !== '$' && !OPERATOR_AFTER_NUMBER.test(next)) return 0;
  }
  for (let i = pos + 1; i < buf.length; i++) {
    if (i - pos > INLINE_MATH_LIMIT) return 0;
    const ch = buf[i]!;
    // Inline math ends within its sentence: a `$` not closed by then is text, decided early.
    if (ch === '\n' || SENTENCE_END.test(ch)) return 0;
    if ((ch === '.' || ch === '?' || ch === '!') && i + 1 < buf.length && isBlank(buf[i + 1])) return 0;
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch !== '$') continue;
    if (isBlank(buf[i - 1])) return 0;
    if (i + 1 === buf.length && !final) return NEED_MORE;
    if (isDigit(buf[i + 1])) return 0;
    return { contentStart: pos + 1, contentEnd: i, end: i + 1 };
  }
  return final ? 0 : NEED_MORE;
}

function displayDollarMath(buf: string, pos: number, final: boolean): MathSpan | 0 | typeof NEED_MORE {
  return delimitedMath(buf, pos, 2, '$$', final);
}

/** Math between an opener of `openLength` at `pos` and `close` (`\)`, `\]`, `$$`). */
export function delimitedMath(
  buf: string,
  pos: number,
  openLength: number,
  close: string,
  final: boolean,
): MathSpan | 0 | typeof NEED_MORE {
  const from = pos + openLength;
  const found = buf.slice(from, from + MATH_LIMIT + close.length).indexOf(close);
  if (found >= 0) return { contentStart: from, contentEnd: from + found, end: from + found + close.length };
  return buf.length - from < MATH_LIMIT && !final ? NEED_MORE : 0;
}

/**
 * At a `\`: the end of a known math command written outside math, with its `{...}` arguments
 * (`\times`, `\frac{1}{2}`, `\sqrt{2}`); 0 when it is not one.
 */
export function bareCommandEnd(buf: string, pos: number, final: boolean): number {
  let end = pos + 1;
  while (end < buf.length && end - pos <= COMMAND_NAME_LIMIT && /[A-Za-z]/.test(buf[end]!)) end++;
  if (end === buf.length && !final) return NEED_MORE;
  if (end - pos > COMMAND_NAME_LIMIT) return 0;
  const name = buf.slice(pos + 1, end);
  if (!isMathCommand(name)) return 0;
  for (let args = takesArguments(name); args > 0; args--) {
    if (name === 'sqrt' && buf[end] === '[') {
      const close = buf.slice(end, end + ARGUMENT_LIMIT).indexOf(']');
      if (close < 0) return buf.length - end < ARGUMENT_LIMIT && !final ? NEED_MORE : 0;
      end += close + 1;
    }
    if (end === buf.length) return final ? 0 : NEED_MORE;
    if (buf[end] !== '{') return args === takesArguments(name) ? 0 : end;
    const close = groupEnd(buf, end, final);
    if (close <= 0) return close;
    end = close;
  }
  return end;
}

/** End of the `{...}` group at `open` (nested groups included), bounded. */
function groupEnd(buf: string, open: number, final: boolean): number {
  let depth = 0;
  for (let i = open; i < buf.length; i++) {
    if (i - open > ARGUMENT_LIMIT) return 0;
    const ch = buf[i];
    if (ch === '\\') i++;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return i + 1;
  }
  return final ? 0 : NEED_MORE;
}
