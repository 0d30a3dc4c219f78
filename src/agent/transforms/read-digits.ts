/**
 * Phone numbers and codes read digit by digit, so a TTS engine does not say "thirteen billion…".
 * A digit run (digits joined by `-`, or by single spaces before groups of 2 to 4 digits, with an
 * optional leading `+`) is read digit by digit when it has at least `minDigits` digits, or at least
 * 3 right after a word that introduces a number or code ("code", "call", "extension", 验证码,
 * 拨打, 分机, … within 12 characters, same sentence). English: `1 3 8, 0 0 1 3`; Chinese:
 * `幺三八，零零幺三` (1 is read 幺 in numbers). Left as written: runs glued to letters (`A1234567`),
 * money (after `$ ¥ € £`, USD, RMB, …, or before 元 块 万 亿 %), parts of a decimal or grouped
 * number (`1,234,567.89`), dates (`2024-05-01`), year ranges, and runs over 32 characters.
 * IMS commands pass intact.
 *
 * Streaming: only a digit run at the end of the text (with the one or two characters that decide
 * it) waits for the next text; every decision looks back at text already seen, so the result does
 * not depend on how the text is split.
 */

import type { CallerLanguage } from '../language/caller-language.ts';
import type { PartStream } from '../../providers/stream-part.ts';
import { imsCommandEnd, NEED_MORE, rewriteText, type TextScanner } from './rewrite-text.ts';

export interface ReadDigitsOptions {
  minDigits: number;
  language: CallerLanguage;
}

/** Digits after an introducing word are read one by one from this many. */
const MIN_INTRODUCED_DIGITS = 3;
const MAX_RUN_CHARS = 32;
/** What is remembered of the text before a run: enough for an introducing word and its gap. */
const CONTEXT_CHARS = 32;
const SPECIAL = /[<+0-9]/g;
const INTRODUCED = [
  /\b(?:code|pin|otp|passcode|call|dial|phone|extension|ext|hotline|number)\b[^\d.!?;\n]{0,12}$/i,
  /(?:验证码|校验码|密码|号码|电话|手机|拨打|致电|热线|分机|单号|编号|账号|卡号|尾号|工号|取件码)[^\d。！？；!?;\n]{0,12}$/,
];
const CURRENCY_BEFORE = /(?:[$¥￥€£]|\b(?:USD|RMB|CNY|EUR|HKD|JPY|GBP)|人民币)\s?$/i;
const AMOUNT_AFTER = /[元块万亿%％]/;
const NUMBER_BEFORE = /\d[.,]$/;
const DATE_OR_YEARS = /^(?:\d{4}-\d{1,2}-\d{1,2}|(?:19|20)\d\d-(?:19|20)\d\d)$/;
const WORD_CHAR = /[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}]/u;
const CHINESE_DIGITS = '零幺二三四五六七八九';

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

/** End of the digit group starting at `at` (which is a digit). */
function groupEnd(text: string, at: number): number {
  let end = at;
  while (isDigit(text[end])) end++;
  return end;
}

/** The end of the run starting at `start`, or NEED_MORE when the text may continue it. */
function runEnd(text: string, start: number, final: boolean): number {
  let end = groupEnd(text, text[start] === '+' ? start + 1 : start);
  for (;;) {
    if (end - start > MAX_RUN_CHARS) return end;
    if (end === text.length) return final ? end : NEED_MORE;
    const separator = text[end];
    if (separator !== '-' && separator !== ' ') return end;
    if (end + 1 === text.length) return final ? end : NEED_MORE;
    if (!isDigit(text[end + 1])) return end;
    const next = groupEnd(text, end + 1);
    if (next === text.length && !final) return NEED_MORE;
    if (separator === ' ' && (next - end - 1 < 2 || next - end - 1 > 4)) return end;
    end = next;
  }
}

function spokenDigits(run: string, language: CallerLanguage): string {
  const groups = run.split(/[- ]/);
  if (language === 'zh') return groups.map((group) => group.replace(/\d/g, (d) => CHINESE_DIGITS[Number(d)]!)).join('，');
  return groups.map((group) => group.replace(/\d(?=\d)/g, '$& ')).join(', ');
}

class DigitScanner implements TextScanner {
  /** The text before the position still to scan, its last CONTEXT_CHARS characters. */
  private context = '';
  private readonly options: ReadDigitsOptions;

  constructor(options: ReadDigitsOptions) {
    this.options = options;
  }

  scan(text: string, final: boolean, out: string[]): number {
    let at = 0;
    let copied = 0;
    const consume = (to: number, spoken?: string): void => {
      if (spoken !== undefined) {
        if (at > copied) out.push(text.slice(copied, at));
        out.push(spoken);
        copied = to;
      }
      this.context = (this.context + text.slice(at, to)).slice(-CONTEXT_CHARS);
      at = to;
    };
    for (;;) {
      SPECIAL.lastIndex = at;
      const found = SPECIAL.exec(text);
      if (found === null) {
        consume(text.length);
        break;
      }
      consume(found.index);
      const decided = this.decide(text, at, final);
      if (decided === NEED_MORE) break;
      consume(decided.end, decided.spoken);
    }
    if (at > copied) out.push(text.slice(copied, at));
    return at;
  }

  /** What the text at `at` (a `<`, `+` or digit) says, and where that ends. */
  private decide(text: string, at: number, final: boolean): { end: number; spoken?: string } | typeof NEED_MORE {
    const ch = text[at]!;
    if (ch === '<') {
      const end = imsCommandEnd(text, at, final);
      return end === NEED_MORE ? NEED_MORE : { end: Math.max(end, at + 1) };
    }
    const before = this.context.at(-1);
    if (isDigit(before) || (before !== undefined && WORD_CHAR.test(before)) || NUMBER_BEFORE.test(this.context)) return { end: at + 1 };
    if (ch === '+') {
      if (at + 1 === text.length) return final ? { end: at + 1 } : NEED_MORE;
      if (!isDigit(text[at + 1])) return { end: at + 1 };
    }
    const end = runEnd(text, at, final);
    if (end === NEED_MORE) return NEED_MORE;
    const run = text.slice(at, end);
    if (end - at > MAX_RUN_CHARS) return { end };
    const after = text[end];
    if (after === '.' || after === ',') {
      if (end + 1 === text.length && !final) return NEED_MORE;
      if (isDigit(text[end + 1])) return { end };
    }
    if (after !== undefined && (WORD_CHAR.test(after) || AMOUNT_AFTER.test(after))) return { end };
    if (CURRENCY_BEFORE.test(this.context) || DATE_OR_YEARS.test(run)) return { end };
    const digits = run.replace(/\D/g, '').length;
    const introduced = digits >= MIN_INTRODUCED_DIGITS && INTRODUCED.some((word) => word.test(this.context));
    if (digits < this.options.minDigits && !introduced) return { end };
    return { end, spoken: spokenDigits(run, this.options.language) };
  }
}

export function readDigits(parts: PartStream, options: ReadDigitsOptions): PartStream {
  return rewriteText(parts, new DigitScanner(options));
}
