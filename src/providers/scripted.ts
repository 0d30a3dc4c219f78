import Mustache from 'mustache';
import type { ScriptedProviderConfig } from '../config/schema.ts';
import { lastUserText, messageText, type ChatMessage } from '../core/chat-types.ts';
import { joinWords } from '../text/word-space.ts';
import type { StreamPart, TokenUsage } from '../core/stream-part.ts';
import type { Provider, ProviderCapabilities, ProviderRequest } from './provider.ts';

/**
 * The built-in deterministic engine: it answers from a script of keyword / regex rules, so the
 * gateway works end to end (console, phone line, hangup) before any upstream model is configured.
 * Matching looks only at the caller's newest words; the first matching rule wins.
 */

/**
 * Characters of scripts written without spaces between words (and CJK punctuation / fullwidth
 * forms). Keywords in these scripts match as substrings, and replies in them are streamed in
 * pieces of a few characters instead of a word at a time.
 */
const UNSPACED_CHARS =
  '[\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}\\p{Script=Thai}' +
  '\\p{Script=Lao}\\p{Script=Khmer}\\p{Script=Myanmar}\\u3000-\\u303F\\uFF00-\\uFFEF]';
const UNSPACED_CHAR = new RegExp(UNSPACED_CHARS, 'u');

/** A letter, digit or mark of a script that separates words with spaces. */
const SPACED_WORD_CHARS = `(?:(?!${UNSPACED_CHARS})[\\p{L}\\p{N}\\p{M}_])`;
const SPACED_WORD_CHAR = new RegExp(`^${SPACED_WORD_CHARS}$`, 'u');

/** Pieces of unspaced text are cut after these (。！？，、；：…) or after UNSPACED_PIECE chars. */
const UNSPACED_BREAK_AFTER = /[\u3001\u3002\uFF01\uFF0C\uFF1A\uFF1B\uFF1F\u2026]/u;
const UNSPACED_PIECE = 4;

/** Regex syntax characters (the ones that may be escaped in `u` mode) plus `/`. */
const REGEX_SYNTAX = /[\\^$.*+?()[\]{}|/]/g;

interface CompiledRule {
  readonly index: number;
  /** Keyword rules test the NFKC-normalized text (so fullwidth "ＢＹＥ" matches "bye"). */
  readonly normalize: boolean;
  readonly test: RegExp;
  readonly reply: string;
  readonly endCall: boolean;
}

const NO_ESCAPE = { escape: (value: unknown): string => String(value) };

export class ScriptedProvider implements Provider {
  readonly name: string;
  readonly type = 'scripted';
  readonly capabilities: ProviderCapabilities = { endsCalls: true };
  readonly #greeting: string | undefined;
  readonly #rules: readonly CompiledRule[];
  readonly #fallback: string;

  constructor(name: string, config: ScriptedProviderConfig) {
    this.name = name;
    const greeting = config.greeting?.trim();
    this.#greeting = greeting ? greeting : undefined;
    this.#rules = config.rules.map((rule, index) => compileRule(name, rule, index));
    this.#fallback = config.fallback;
    try {
      Mustache.parse(this.#fallback);
    } catch (error) {
      throw new Error(`scripted provider "${name}": fallback is not a valid Mustache template: ${errorMessage(error)}`, { cause: error });
    }
  }

  async *stream(request: ProviderRequest): AsyncGenerator<StreamPart, void, undefined> {
    const { signal, messages } = request;
    throwIfAborted(signal);

    const heard = lastUserText(messages).trim();
    const rule = heard ? this.#match(heard) : undefined;
    const greet = this.#greeting !== undefined && !messages.some((m) => m.role === 'assistant');

    let reply: string;
    if (rule) reply = rule.reply;
    else if (!heard && this.#greeting !== undefined) reply = this.#greeting;
    else reply = Mustache.render(this.#fallback, { heard }, {}, NO_ESCAPE);
    // With no user text the greeting *is* the reply; do not say it twice.
    if (greet && heard) reply = joinWords(this.#greeting!, reply);

    for (const piece of speechPieces(reply)) {
      throwIfAborted(signal);
      yield { type: 'text', text: piece };
    }

    if (rule?.endCall) {
      throwIfAborted(signal);
      yield { type: 'end-call' };
    }

    throwIfAborted(signal);
    yield { type: 'usage', usage: estimateUsage(messages, reply) };
    throwIfAborted(signal);
    yield { type: 'finish', reason: 'stop' };
  }

  async close(): Promise<void> {}

  #match(heard: string): CompiledRule | undefined {
    let normalized: string | undefined;
    for (const rule of this.#rules) {
      const text = rule.normalize ? (normalized ??= heard.normalize('NFKC')) : heard;
      if (rule.test.test(text)) return rule;
    }
    return undefined;
  }
}

function compileRule(provider: string, rule: ScriptedProviderConfig['rules'][number], index: number): CompiledRule {
  const where = `scripted provider "${provider}": rules[${index}]`;
  const common = { index, reply: rule.reply, endCall: rule.endCall };
  if (rule.pattern !== undefined) {
    let test: RegExp;
    try {
      test = new RegExp(rule.pattern, 'iu');
    } catch (error) {
      throw new Error(`${where}.pattern ${JSON.stringify(rule.pattern)} is not a valid regular expression: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    return { ...common, normalize: false, test };
  }
  const keywords = rule.keywords ?? [];
  const alternatives = keywords.map((keyword, k) => {
    const source = keywordSource(keyword);
    if (source === undefined) throw new Error(`${where}.keywords[${k}] is blank`);
    return source;
  });
  if (alternatives.length === 0) throw new Error(`${where} has no keywords and no pattern`);
  return { ...common, normalize: true, test: new RegExp(alternatives.join('|'), 'iu') };
}

/**
 * A keyword as a regex: whole words for scripts written with spaces ("bye" matches "OK, bye!"
 * but not "byelaw"), a substring for CJK and other unspaced scripts ("再见" inside "好的再见").
 * The word boundary is only required at an end whose character is a spaced-script letter or
 * digit, and only a spaced-script letter or digit next to it breaks the match (so "bye" matches
 * in "好的bye"). Inner whitespace matches any run of whitespace.
 */
function keywordSource(keyword: string): string | undefined {
  const words = keyword.normalize('NFKC').trim().split(/\s+/u).filter(Boolean);
  if (words.length === 0) return undefined;
  const body = words.map((word) => word.replace(REGEX_SYNTAX, '\\$&')).join('\\s+');
  const first = firstCodePoint(words[0]!);
  const last = lastCodePoint(words[words.length - 1]!);
  const before = SPACED_WORD_CHAR.test(first) ? `(?<!${SPACED_WORD_CHARS})` : '';
  const after = SPACED_WORD_CHAR.test(last) ? `(?!${SPACED_WORD_CHARS})` : '';
  return `(?:${before}${body}${after})`;
}

function firstCodePoint(text: string): string {
  return String.fromCodePoint(text.codePointAt(0)!);
}

function lastCodePoint(text: string): string {
  const chars = Array.from(text);
  return chars[chars.length - 1]!;
}

/**
 * Cuts a reply into stream pieces whose concatenation is exactly the reply: a word at a time with
 * the following whitespace attached (leading whitespace goes with the first piece); runs of
 * unspaced-script text (CJK, ...) in pieces of a few characters, cut after CJK punctuation.
 */
export function speechPieces(text: string): string[] {
  const pieces: string[] = [];
  for (const match of text.matchAll(/\S+\s*/gu)) {
    const token = match[0];
    if (UNSPACED_CHAR.test(token)) pieces.push(...chopUnspaced(token));
    else pieces.push(token);
  }
  if (pieces.length === 0) return text ? [text] : [];
  const leading = /^\s*/u.exec(text)![0];
  if (leading) pieces[0] = leading + pieces[0]!;
  return pieces;
}

/** Splits one space-free token (plus trailing whitespace) mixing unspaced and spaced scripts. */
function chopUnspaced(token: string): string[] {
  const pieces: string[] = [];
  let piece = '';
  let count = 0;
  let pieceUnspaced = false;
  for (const char of token) {
    if (/\s/u.test(char)) {
      piece += char; // trailing whitespace stays with the last piece
      continue;
    }
    const unspaced = UNSPACED_CHAR.test(char);
    const breakAfter = UNSPACED_BREAK_AFTER.test(char);
    // Punctuation stays with the words before it.
    if (piece && !breakAfter && (unspaced !== pieceUnspaced || (unspaced && count >= UNSPACED_PIECE))) {
      pieces.push(piece);
      piece = '';
      count = 0;
    }
    piece += char;
    count++;
    pieceUnspaced = unspaced;
    if (breakAfter) {
      pieces.push(piece);
      piece = '';
      count = 0;
    }
  }
  if (piece) {
    if (/^\s+$/u.test(piece) && pieces.length > 0) pieces[pieces.length - 1] += piece;
    else pieces.push(piece);
  }
  return pieces;
}

/**
 * ESTIMATED token counts (no tokenizer is involved), so that non-streaming responses and usage
 * chunks carry plausible numbers: one token per CJK (unspaced-script) character, one per four other
 * characters, rounded up, at least 1. Prompt = the text of all messages; completion = the reply.
 */
function estimateUsage(messages: readonly ChatMessage[], reply: string): TokenUsage {
  let prompt = 0;
  for (const message of messages) prompt += estimateTokens(messageText(message));
  const promptTokens = Math.max(1, Math.ceil(prompt));
  const completionTokens = Math.max(1, Math.ceil(estimateTokens(reply)));
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}

function estimateTokens(text: string): number {
  let unspaced = 0;
  let other = 0;
  for (const char of text) {
    if (UNSPACED_CHAR.test(char)) unspaced++;
    else other++;
  }
  return unspaced + other / 4;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
