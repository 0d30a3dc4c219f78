/**
 * Symbols a TTS engine reads wrongly or not at all: bullets, check marks and stars (decoration:
 * dropped), and arrows (said as "to" / "到").
 */

/** Bullets: a list marker at a line start, decoration elsewhere. */
export const BULLETS = '•●▪◦‣■□►▸➤➢◆◇';
/** Marks that only decorate a line: dropped. */
export const MARKS = '✓✗✘☆★';
export const ARROWS = '→⇒➔➜⟶⟹';
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

export function isArrow(ch: string | undefined): boolean {
  return ch !== undefined && ch.length === 1 && ARROWS.includes(ch);
}
