/**
 * Citation markers models add from search results or documents: `[1]`, `[1][2]`, `[1, 2]`,
 * `[1-3]`, `[^1]`, `[ref_1]`, `[citation:1]`, `[source 2]`. Read aloud they turn "We open at
 * 9 [1][2]" into "nine twelve"; they are dropped, with a `(url)` right after them.
 */

import { NEED_MORE } from './scan.ts';

const CITATION_LIMIT = 40;
/** What the text after `[` may be while a citation is still being written. */
const CITATION_PREFIX =
  /^(?:\^[^\]\s]*|(?:r(?:e(?:f_?)?)?|c(?:i(?:t(?:e:?|a(?:t(?:i(?:o(?:n:?)?)?)?)?)?)?)?|s(?:o(?:u(?:r(?:c(?:e:?)?)?)?)?)?|来源?)?\s?(?:\d{1,3}(?:\s?[,，、\-–]\s?\d{0,3})*\^?)?)$/i;
const CITATION = /^\[(?:\^[^\]\s]{1,30}|(?:ref_?|citation:?|cite:?|source:?|来源)?\s?\d{1,3}(?:\s?[,，、\-–]\s?\d{1,3})*\^?)\]$/i;

/** At a `[`: the end of the citation marker it opens, 0 when it is not one. */
export function citationEnd(buf: string, pos: number, final: boolean): number {
  const close = buf.slice(pos, pos + CITATION_LIMIT).indexOf(']');
  if (close < 0) {
    const open = buf.slice(pos + 1, pos + CITATION_LIMIT);
    return !final && open.length < CITATION_LIMIT - 1 && CITATION_PREFIX.test(open) ? NEED_MORE : 0;
  }
  return CITATION.test(buf.slice(pos, pos + close + 1)) ? pos + close + 1 : 0;
}
