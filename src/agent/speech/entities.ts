/**
 * HTML character references (`&amp;`, `&nbsp;`, `&lt;`, `&#39;`, `&#x4E2D;`): spoken as the
 * character they stand for, never as "ampersand amp". A small table of the ones models write.
 */

import { NEED_MORE } from './scan.ts';

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ensp: ' ',
  emsp: ' ',
  thinsp: ' ',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  copy: '©',
  reg: '®',
  trade: '™',
  deg: '°',
  plusmn: '±',
  times: '×',
  divide: '÷',
  middot: '·',
  bull: '',
  yen: '¥',
  euro: '€',
  pound: '£',
  cent: '¢',
  sect: '§',
  para: '',
  frac12: '½',
  frac14: '¼',
  frac34: '¾',
  le: '≤',
  ge: '≥',
  ne: '≠',
  asymp: '≈',
  rarr: '→',
  larr: '',
  harr: '',
  uarr: '',
  darr: '',
  check: '',
  hearts: '',
  star: '',
  zwj: '',
  zwnj: '',
  shy: '',
  lrm: '',
  rlm: '',
  iexcl: '¡',
  iquest: '¿',
};
const ENTITY_LIMIT = 12;
const REFERENCE = /^&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|([A-Za-z][A-Za-z0-9]{1,10}));$/;

export interface Entity {
  end: number;
  text: string;
}

/** At a `&`: the character reference it starts and what it stands for, or 0. */
export function entityAt(buf: string, pos: number, final: boolean): Entity | 0 | typeof NEED_MORE {
  const window = buf.slice(pos, pos + ENTITY_LIMIT);
  const semicolon = window.indexOf(';');
  if (semicolon < 0) {
    const partial = /^&(?:#[xX]?[0-9A-Fa-f]*|[A-Za-z][A-Za-z0-9]*)?$/.test(window);
    return partial && window.length < ENTITY_LIMIT && !final ? NEED_MORE : 0;
  }
  const match = REFERENCE.exec(window.slice(0, semicolon + 1));
  if (match === null) return 0;
  const end = pos + semicolon + 1;
  if (match[3] !== undefined) {
    const text = NAMED[match[3]];
    return text === undefined ? 0 : { end, text };
  }
  const code = match[1] !== undefined ? Number(match[1]) : Number.parseInt(match[2]!, 16);
  return code > 0 && code <= 0x10ffff ? { end, text: String.fromCodePoint(code) } : 0;
}
