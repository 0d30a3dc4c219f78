/**
 * An agent's pronunciation rules: literal replacements applied to what is spoken (brand names,
 * `110` → `幺幺零`), after speech shaping. At each position the longest rule that matches wins
 * (the first listed among equals); replaced text is not matched again. `ignoreCase` folds letter
 * case; `wholeWord` (default) skips a match glued to a letter or digit of an alphabetic script, so
 * `110` is not replaced inside `1100` but is after `打`. IMS commands pass intact.
 *
 * Streaming: the rules form a trie walked from each position where one can start, so the work is
 * at most the longest rule's length per character; only a suffix that may still become a match
 * (at most that long) waits for the next text. The result does not depend on how the text is split.
 */

import type { PartStream } from '../../core/stream-part.ts';
import { imsCommandEnd, NEED_MORE, rewriteText, type TextScanner } from './rewrite-text.ts';

export interface PronunciationRule {
  written: string;
  spoken: string;
  ignoreCase: boolean;
  wholeWord: boolean;
}

interface TrieNode {
  next: Map<string, TrieNode>;
  /** Rules whose written form ends here, in the order listed. */
  rules: PronunciationRule[];
}

/** A letter or digit of a script written with spaces between words: a whole-word match may not touch one. */
const WORD_CHAR = /[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\p{Nd}]/u;

function fold(ch: string): string {
  const lower = ch.toLowerCase();
  return lower.length === 1 ? lower : ch;
}

const tries = new WeakMap<readonly PronunciationRule[], TrieNode>();

/** Built once per agent's rule list. */
function trieOf(rules: readonly PronunciationRule[]): TrieNode {
  let root = tries.get(rules);
  if (root !== undefined) return root;
  root = { next: new Map(), rules: [] };
  for (const rule of rules) {
    let node = root;
    for (const ch of rule.written) {
      for (const unit of ch.length === 1 ? [ch] : [ch[0]!, ch[1]!]) {
        const key = fold(unit);
        let child = node.next.get(key);
        if (child === undefined) node.next.set(key, (child = { next: new Map(), rules: [] }));
        node = child;
      }
    }
    node.rules.push(rule);
  }
  tries.set(rules, root);
  return root;
}

class PronunciationScanner implements TextScanner {
  /** The character before the text still to scan ('' at the start). */
  private prev = '';
  private readonly root: TrieNode;

  constructor(root: TrieNode) {
    this.root = root;
  }

  scan(text: string, final: boolean, out: string[]): number {
    let plain = 0;
    let at = 0;
    const emitPlain = (to: number): void => {
      if (to > plain) out.push(text.slice(plain, to));
    };
    while (at < text.length) {
      const ch = text[at]!;
      if (ch === '<') {
        const end = imsCommandEnd(text, at, final);
        if (end === NEED_MORE) break;
        if (end > 0) {
          this.prev = '>';
          at = end;
          continue;
        }
      }
      if (!this.root.next.has(fold(ch))) {
        this.prev = ch;
        at++;
        continue;
      }
      const match = this.longestMatch(text, at, final);
      if (match === NEED_MORE) break;
      if (match === undefined) {
        this.prev = ch;
        at++;
        continue;
      }
      emitPlain(at);
      out.push(match.rule.spoken);
      at = match.end;
      plain = at;
      this.prev = text[at - 1]!;
    }
    emitPlain(at);
    return at;
  }

  private longestMatch(
    text: string,
    start: number,
    final: boolean,
  ): { rule: PronunciationRule; end: number } | undefined | typeof NEED_MORE {
    let node: TrieNode | undefined = this.root;
    let best: { rule: PronunciationRule; end: number } | undefined;
    let at = start;
    while (at < text.length) {
      node = node.next.get(fold(text[at]!));
      if (node === undefined) return best;
      at++;
      for (const rule of node.rules) {
        if (this.matches(rule, text, start, at)) {
          best = { rule, end: at };
          break;
        }
      }
    }
    // The text ends inside a possible match: a longer rule, or the character that decides a whole word.
    if (!final && (node.next.size > 0 || node.rules.some((rule) => rule.wholeWord))) return NEED_MORE;
    return best;
  }

  /** At the end of the text the next character is unknown; the caller holds unless `final`. */
  private matches(rule: PronunciationRule, text: string, start: number, end: number): boolean {
    if (!rule.ignoreCase && text.slice(start, end) !== rule.written) return false;
    if (!rule.wholeWord) return true;
    const glued = (inside: string, outside: string | undefined) =>
      outside !== undefined && WORD_CHAR.test(inside) && WORD_CHAR.test(outside);
    return !glued(text[start]!, this.prev || undefined) && !glued(text[end - 1]!, text[end]);
  }
}

/** The stage for one agent's rules (a turn's own scanner over the agent's shared trie). */
export function applyPronunciations(parts: PartStream, rules: readonly PronunciationRule[]): PartStream {
  return rewriteText(parts, new PronunciationScanner(trieOf(rules)));
}
