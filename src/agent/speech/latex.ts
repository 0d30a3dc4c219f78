/**
 * LaTeX math read aloud: `$\pi r^2$` → "pi r squared", `\frac{120000}{12}` → "120000 over 12"
 * ("12分之120000"). Models write LaTeX for plain arithmetic; a TTS engine would read its
 * backslashes and braces. One pass over the expression, each character read once.
 */

import type { SpeechLanguage, SpeechWords } from './words.ts';
import { SPEECH_WORDS } from './words.ts';

const GREEK: Record<string, string> = {
  alpha: 'α',
  beta: 'β',
  gamma: 'γ',
  delta: 'δ',
  epsilon: 'ε',
  varepsilon: 'ε',
  zeta: 'ζ',
  eta: 'η',
  theta: 'θ',
  vartheta: 'θ',
  iota: 'ι',
  kappa: 'κ',
  lambda: 'λ',
  mu: 'μ',
  nu: 'ν',
  xi: 'ξ',
  pi: 'π',
  varpi: 'π',
  rho: 'ρ',
  sigma: 'σ',
  tau: 'τ',
  upsilon: 'υ',
  phi: 'φ',
  varphi: 'φ',
  chi: 'χ',
  psi: 'ψ',
  omega: 'ω',
  Gamma: 'Γ',
  Delta: 'Δ',
  Theta: 'Θ',
  Lambda: 'Λ',
  Xi: 'Ξ',
  Pi: 'Π',
  Sigma: 'Σ',
  Phi: 'Φ',
  Psi: 'Ψ',
  Omega: 'Ω',
};

type WordKey = {
  [K in keyof SpeechWords]: SpeechWords[K] extends string ? K : never;
}[keyof SpeechWords];

/** Commands that stand for an operator or a constant. */
const SYMBOL_COMMANDS: Record<string, WordKey> = {
  times: 'times',
  cdot: 'times',
  ast: 'times',
  div: 'dividedBy',
  pm: 'plusOrMinus',
  leq: 'lessOrEqual',
  le: 'lessOrEqual',
  leqslant: 'lessOrEqual',
  geq: 'greaterOrEqual',
  ge: 'greaterOrEqual',
  geqslant: 'greaterOrEqual',
  neq: 'notEqual',
  ne: 'notEqual',
  approx: 'approximately',
  thickapprox: 'approximately',
  simeq: 'approximately',
  lt: 'lessThan',
  gt: 'greaterThan',
  infty: 'infinity',
  circ: 'degrees',
  degree: 'degrees',
  to: 'to',
  rightarrow: 'to',
  longrightarrow: 'to',
  Rightarrow: 'therefore',
  implies: 'therefore',
  Longrightarrow: 'therefore',
  therefore: 'therefore',
};

/** Commands whose argument is text to say as it is. */
const TEXT_COMMANDS = new Set([
  'text',
  'textrm',
  'textbf',
  'textit',
  'texttt',
  'textsf',
  'mbox',
  'mathrm',
  'mathbf',
  'mathit',
  'mathsf',
  'mathtt',
  'operatorname',
]);

/** Commands whose argument is read, the decoration not. */
const WRAPPER_COMMANDS = new Set([
  'boxed',
  'overline',
  'underline',
  'hat',
  'bar',
  'vec',
  'tilde',
  'dot',
  'widehat',
  'mathbb',
  'mathcal',
  'boldsymbol',
  'bm',
  'pmb',
  'underbrace',
  'overbrace',
]);

/** Commands that are layout only. */
const SILENT_COMMANDS = new Set([
  'left',
  'right',
  'big',
  'Big',
  'bigl',
  'bigr',
  'Bigl',
  'Bigr',
  'bigg',
  'Bigg',
  'displaystyle',
  'textstyle',
  'limits',
  'nolimits',
  'quad',
  'qquad',
  'mathstrut',
  'middle',
]);

const FRACTIONS = new Set(['frac', 'dfrac', 'tfrac', 'cfrac']);

/** Whether `\name` is a command this module reads (so it is math even outside `$...$`). */
export function isMathCommand(name: string): boolean {
  return (
    name in SYMBOL_COMMANDS ||
    name in GREEK ||
    FRACTIONS.has(name) ||
    name === 'sqrt' ||
    TEXT_COMMANDS.has(name) ||
    WRAPPER_COMMANDS.has(name)
  );
}

/** Whether `\name` takes a `{...}` argument (so a bare one is read with it). */
export function takesArguments(name: string): number {
  if (FRACTIONS.has(name)) return 2;
  return name === 'sqrt' || TEXT_COMMANDS.has(name) || WRAPPER_COMMANDS.has(name) ? 1 : 0;
}

const SPACE_RUN = /\s+/g;
const SPACE_NEAR_CJK = / (?=[\p{Script=Han}，。；：、）])|(?<=[\p{Script=Han}（，。；：、]) /gu;
const SPACE_BEFORE_PUNCT = / (?=[,.;:!?)\]])/g;
const SPACE_AFTER_OPEN = /(?<=[([]) /g;

/** The expression `src` (delimiters removed) as words in `language`. */
export function mathToSpeech(src: string, language: SpeechLanguage): string {
  const reader = new MathReader(src, SPEECH_WORDS[language]);
  let text = reader.sequence(false).replace(SPACE_RUN, ' ').trim();
  text = text.replace(SPACE_BEFORE_PUNCT, '').replace(SPACE_AFTER_OPEN, '');
  return language === 'zh' ? text.replace(SPACE_NEAR_CJK, '') : text;
}

class MathReader {
  private i = 0;
  private readonly src: string;
  private readonly words: SpeechWords;

  constructor(src: string, words: SpeechWords) {
    this.src = src;
    this.words = words;
  }

  /** Atoms up to the end, or up to an unmatched `}` (left for the caller) when `inGroup`. */
  sequence(inGroup: boolean): string {
    let out = '';
    while (this.i < this.src.length) {
      if (this.src[this.i] === '}') {
        if (inGroup) return out;
        this.i++;
        continue;
      }
      out += this.atom();
    }
    return out;
  }

  private atom(): string {
    const c = this.src[this.i++]!;
    const w = this.words;
    switch (c) {
      case '{': {
        const inner = this.sequence(true);
        this.i++;
        return inner;
      }
      case '\\':
        return this.command();
      case '^':
        return this.power(this.argument());
      case '_':
        return ` ${this.argument()} `;
      case '+':
        return w.plus;
      case '-':
      case '−':
        return w.minus;
      case '*':
      case '×':
      case '·':
        return w.times;
      case '/':
      case '÷':
        return w.dividedBy;
      case '=':
        return w.equals;
      case '<':
        return w.lessThan;
      case '>':
        return w.greaterThan;
      case '≤':
        return w.lessOrEqual;
      case '≥':
        return w.greaterOrEqual;
      case '≠':
        return w.notEqual;
      case '≈':
        return w.approximately;
      case '±':
        return w.plusOrMinus;
      case '&':
      case '~':
        return ' ';
      default:
        return c;
    }
  }

  /** The argument of `^`, `_` or a command: a group, a command, or one character. */
  private argument(): string {
    while (this.i < this.src.length && this.src[this.i] === ' ') this.i++;
    if (this.i >= this.src.length) return '';
    return this.atom();
  }

  /** A group's raw text (for `\text{...}`), braces removed. */
  private rawArgument(): string {
    while (this.i < this.src.length && this.src[this.i] === ' ') this.i++;
    if (this.src[this.i] !== '{') return this.i < this.src.length ? this.src[this.i++]! : '';
    let depth = 0;
    const start = this.i + 1;
    for (; this.i < this.src.length; this.i++) {
      const ch = this.src[this.i];
      if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) break;
    }
    const text = this.src.slice(start, this.i);
    this.i++;
    return text.replace(/\\([%$&#_ ])/g, '$1').replace(/[{}]/g, '');
  }

  private power(exponent: string): string {
    const e = exponent.trim();
    const w = this.words;
    if (e === '2') return w.squared;
    if (e === '3') return w.cubed;
    if (e === w.degrees.trim()) return w.degrees;
    if (e === '′' || e === "'") return "'";
    return w.power(e);
  }

  private command(): string {
    const start = this.i;
    while (this.i < this.src.length && /[A-Za-z]/.test(this.src[this.i]!)) this.i++;
    if (this.i === start) {
      // A one-character command: `\,` `\%` `\\` `\{` ...
      const ch = this.src[this.i++];
      if (ch === undefined) return '';
      if (ch === '\\') return ', ';
      if (ch === '%' || ch === '$' || ch === '#') return ch;
      if (ch === '{' || ch === '}' || ch === '|') return '';
      return ' ';
    }
    const name = this.src.slice(start, this.i);
    const w = this.words;
    const symbol = SYMBOL_COMMANDS[name];
    if (symbol !== undefined) return w[symbol];
    const letter = GREEK[name];
    if (letter !== undefined) return w.greek(name, letter);
    if (FRACTIONS.has(name)) {
      const numerator = this.argument();
      return w.fraction(numerator.trim(), this.argument().trim());
    }
    if (name === 'sqrt') {
      let index: string | undefined;
      if (this.src[this.i] === '[') {
        const close = this.src.indexOf(']', this.i);
        if (close > 0) {
          index = this.src.slice(this.i + 1, close).trim();
          this.i = close + 1;
        }
      }
      return w.root(this.argument().trim(), index);
    }
    if (TEXT_COMMANDS.has(name)) return this.rawArgument();
    if (name === 'begin' || name === 'end') {
      this.rawArgument();
      return ' ';
    }
    if (SILENT_COMMANDS.has(name)) {
      if ((name === 'left' || name === 'right' || name === 'middle') && this.src[this.i] === '.') this.i++;
      return ' ';
    }
    if (WRAPPER_COMMANDS.has(name)) return this.argument();
    if (name === 'ldots' || name === 'cdots' || name === 'dots') return '…';
    if (name === 'percent') return '%';
    // `\sin`, `\log`, or a command we do not know: its name is the best guess.
    return ` ${name} `;
  }
}
