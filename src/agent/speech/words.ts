/**
 * What the shaper says in words, per language: mathematics read aloud, arrows, and the phrase
 * that stands for code that is not read out.
 */

import { PHRASES } from '../language/phrases.ts';

export type SpeechLanguage = 'en' | 'zh';

export interface SpeechWords {
  plus: string;
  minus: string;
  times: string;
  dividedBy: string;
  equals: string;
  lessThan: string;
  greaterThan: string;
  lessOrEqual: string;
  greaterOrEqual: string;
  notEqual: string;
  approximately: string;
  plusOrMinus: string;
  infinity: string;
  degrees: string;
  /** An arrow between two things: "Beijing → Shanghai", "Settings -> Privacy". */
  to: string;
  therefore: string;
  squared: string;
  cubed: string;
  power: (exponent: string) => string;
  fraction: (numerator: string, denominator: string) => string;
  root: (radicand: string, index: string | undefined) => string;
  /** Greek letters by name (English) or as the letter (Chinese TTS reads π as 派). */
  greek: (name: string, letter: string) => string;
  /** A star rating: `★★★★☆` is 4 of 5. */
  stars: (filled: number, total: number) => string;
  codeFallback: string;
}

const ORDINAL_ROOT: Record<string, string> = { '2': 'square', '3': 'cube' };

const EN: SpeechWords = {
  plus: ' plus ',
  minus: ' minus ',
  times: ' times ',
  dividedBy: ' divided by ',
  equals: ' equals ',
  lessThan: ' is less than ',
  greaterThan: ' is greater than ',
  lessOrEqual: ' is less than or equal to ',
  greaterOrEqual: ' is greater than or equal to ',
  notEqual: ' is not equal to ',
  approximately: ' is approximately ',
  plusOrMinus: ' plus or minus ',
  infinity: ' infinity ',
  degrees: ' degrees ',
  to: ' to ',
  therefore: ' so ',
  squared: ' squared ',
  cubed: ' cubed ',
  power: (e) => ` to the power of ${e} `,
  fraction: (a, b) => ` ${a} over ${b} `,
  root: (x, n) => ` the ${n === undefined ? 'square' : (ORDINAL_ROOT[n] ?? `${n}th`)} root of ${x} `,
  greek: (name) => ` ${name} `,
  stars: (filled, total) => `${filled} out of ${total} stars`,
  codeFallback: PHRASES.en.codeFallback,
};

const ZH: SpeechWords = {
  plus: '加',
  minus: '减',
  times: '乘以',
  dividedBy: '除以',
  equals: '等于',
  lessThan: '小于',
  greaterThan: '大于',
  lessOrEqual: '小于等于',
  greaterOrEqual: '大于等于',
  notEqual: '不等于',
  approximately: '约等于',
  plusOrMinus: '正负',
  infinity: '无穷大',
  degrees: '度',
  to: '到',
  therefore: '所以',
  squared: '的平方',
  cubed: '的立方',
  power: (e) => `的${e}次方`,
  fraction: (a, b) => `${b}分之${a}`,
  root: (x, n) => (n === undefined ? `根号${x}` : `${x}的${n}次方根`),
  greek: (_name, letter) => letter,
  stars: (filled, total) => `${total}星中的${filled}星`,
  codeFallback: PHRASES.zh.codeFallback,
};

export const SPEECH_WORDS: Record<SpeechLanguage, SpeechWords> = { en: EN, zh: ZH };
