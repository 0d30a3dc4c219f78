/**
 * HTML tags models mix into markdown (`<br>`, `<b>`, `<sub>`, `<td>`, `<!-- -->`): the tags are
 * never spoken, their text is. Only known tag names count, so `a<b`, `1 < 2` and a workflow tag
 * like `<No Interrupting>` are not taken for HTML.
 */

import { NEED_MORE } from './scan.ts';

/** What a tag does to the speech around it. */
export type TagKind = 'break' | 'block' | 'cell' | 'inline';

const BLOCK = new Set([
  'p',
  'div',
  'li',
  'ul',
  'ol',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'blockquote',
  'hr',
  'table',
  'thead',
  'tbody',
  'tfoot',
  'tr',
  'pre',
  'section',
  'article',
  'header',
  'footer',
  'dl',
  'dt',
  'dd',
  'details',
  'summary',
  'figure',
  'figcaption',
  'nav',
  'center',
  'caption',
]);
const INLINE = new Set([
  'a',
  'abbr',
  'b',
  'big',
  'cite',
  'code',
  'del',
  'em',
  'font',
  'i',
  'img',
  'ins',
  'kbd',
  'mark',
  'q',
  's',
  'samp',
  'small',
  'span',
  'strike',
  'strong',
  'sub',
  'sup',
  'tt',
  'u',
  'var',
  'label',
  'time',
  'wbr',
  'ruby',
  'rt',
  'rp',
  'bdi',
  'bdo',
  'dfn',
  'data',
  'source',
  'picture',
]);
const TAG_LIMIT = 300;
const NAME_LIMIT = 12;

export const COMMENT_OPEN = '<!--';
export const COMMENT_CLOSE = '-->';

export interface HtmlTag {
  end: number;
  kind: TagKind;
}

/** At a `<`: the known HTML tag it opens (`<b>`, `</td>`, `<br/>`, `<a href="...">`), or 0. */
export function htmlTagAt(buf: string, pos: number, final: boolean): HtmlTag | 0 | typeof NEED_MORE {
  let at = pos + 1;
  const closing = buf[at] === '/';
  if (closing) at++;
  const nameStart = at;
  while (at < buf.length && at - nameStart <= NAME_LIMIT && /[A-Za-z0-9]/.test(buf[at]!)) at++;
  if (at === buf.length) return final ? 0 : NEED_MORE;
  const name = buf.slice(nameStart, at).toLowerCase();
  const kind = tagKind(name, closing);
  if (kind === undefined) return 0;
  const next = buf[at]!;
  if (next === ' ' || next === '\t') {
    // Attributes follow (`<a href="...">`, `<br />`); `a <b and c` is text, decided at once.
    let i = at + 1;
    while (i < buf.length && i - at <= NAME_LIMIT && /[A-Za-z-]/.test(buf[i]!)) i++;
    if (i === buf.length) return final ? 0 : NEED_MORE;
    if (!/[=>/]/.test(buf[i]!)) return 0;
  } else if (next !== '>' && next !== '/') {
    return 0;
  }
  const close = buf.slice(at, pos + TAG_LIMIT).indexOf('>');
  if (close < 0) return buf.length - pos < TAG_LIMIT && !final ? NEED_MORE : 0;
  return { end: at + close + 1, kind };
}

function tagKind(name: string, closing: boolean): TagKind | undefined {
  if (name === 'br') return 'break';
  if (name === 'td' || name === 'th') return closing ? 'inline' : 'cell';
  if (BLOCK.has(name)) return 'block';
  return INLINE.has(name) ? 'inline' : undefined;
}
