/**
 * Symbols a TTS engine reads wrongly or not at all: bullets, check marks and stars (decoration:
 * dropped), and arrows (said as "to" / "到").
 */

import { NEED_MORE } from './scan.ts';

/** Bullets: a list marker at a line start, decoration elsewhere. */
const BULLETS = '•●▪◦‣■□►▸➤➢◆◇';
/** Marks that only decorate a line: dropped. */
const MARKS = '✓✗✘☆★';
const ARROWS = '→⇒➔➜⟶⟹';
/** A middle dot: between words it is part of a name (迈克尔·杰克逊), between blanks a bullet. */
export const MIDDLE_DOT = '·';

/** Every symbol character the shaper looks at, for a regex character class. */
export const SYMBOL_CHARS = BULLETS + MARKS + ARROWS + MIDDLE_DOT;

export function isBullet(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && BULLETS.includes(ch);
}

export function isMark(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && MARKS.includes(ch);
}

/** Stars that make up a rating (`★★★★☆`). */
export function isRatingStar(ch: string | undefined): boolean {
  return ch === '★' || ch === '☆';
}

const RATING_MIN = 3;
const RATING_MAX = 10;

/** At a star: the end of a rating (3 to 10 stars, `★★★★☆`), 0 when it is not one. */
export function ratingEnd(buf: string, pos: number, final: boolean): number {
  let end = pos;
  while (end < buf.length && end - pos <= RATING_MAX && isRatingStar(buf[end])) end++;
  if (end === buf.length && !final && end - pos <= RATING_MAX) return NEED_MORE;
  const length = end - pos;
  return length >= RATING_MIN && length <= RATING_MAX ? end : 0;
}

export function isArrow(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && ARROWS.includes(ch);
}
