/**
 * Bare URLs (`https://example.com/a?b=1`, `www.example.com`): a caller hears the host
 * ("example.com"), or nothing, never the scheme, path and query.
 */

import { NEED_MORE, startsWithAt } from './scan.ts';

const HOST_CHAR = /[A-Za-z0-9.-]/;
/** Characters a URL goes on with (RFC 3986), besides the host's. */
const URL_CHAR = /[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/;
/** URL characters that end a sentence when nothing URL-like follows: `see https://x.com.` */
const TRAILING_PUNCT = /[.,:;!?)'\]*]/;
export const HOST_LIMIT = 253;
/** A longer run of trailing punctuation is taken as part of the URL. */
export const TRAILING_PUNCT_LIMIT = 8;

export interface UrlStart {
  /** Characters of the scheme to skip. */
  skip: number;
  /** What the host starts with (`www.` when there is no scheme). */
  host: string;
}

/** At a word start: a URL's scheme (`http://`, `https://`) or `www.` + a host character. */
export function urlStart(buf: string, pos: number, final: boolean): UrlStart | 0 | typeof NEED_MORE {
  let pending = false;
  for (const scheme of ['https://', 'http://']) {
    const match = startsWithAt(buf, pos, scheme, final, true);
    if (match === true) return { skip: scheme.length, host: '' };
    if (match === NEED_MORE) pending = true;
  }
  const www = startsWithAt(buf, pos, 'www.', final, true);
  if (www === true) {
    if (pos + 4 === buf.length) return final ? 0 : NEED_MORE;
    return /[A-Za-z0-9]/.test(buf[pos + 4]!) ? { skip: 4, host: buf.slice(pos, pos + 4) } : 0;
  }
  return pending || www === NEED_MORE ? NEED_MORE : 0;
}

export function isHostChar(ch: string): boolean {
  return HOST_CHAR.test(ch);
}

export function isUrlChar(ch: string | undefined): boolean {
  return ch !== undefined && URL_CHAR.test(ch);
}

export function isTrailingPunct(ch: string | undefined): boolean {
  return ch !== undefined && TRAILING_PUNCT.test(ch);
}

/** The host of a complete URL (`https://a.example:8080/x` → `a.example`), '' when none. */
export function hostOf(url: string): string {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:(?:\/\/)?(?:[^@/?#\s]*@)?([A-Za-z0-9.-]*)/.exec(url);
  return match?.[1]?.replace(/\.+$/, '') ?? '';
}
