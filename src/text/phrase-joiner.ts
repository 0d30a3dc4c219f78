import { spaceBetween } from './word-space.ts';

/**
 * Joins the gateway's own phrases to the text streaming around them, as the answer goes by: a
 * phrase gets a space before it and the text after it a space before that, only where
 * {@link spaceBetween} puts one (never next to Chinese). The text the model writes is never
 * respaced: only the seams around a phrase are.
 */
export class PhraseJoiner {
  /** Everything passed so far ends with this ('' before anything). */
  private tail = '';
  /** The last non-empty text was a phrase: the next text is joined to it. */
  private afterPhrase = false;

  /** A text of the answer, as it should be sent. */
  text(text: string): string {
    if (text === '') return text;
    const joined = this.afterPhrase ? spaceBetween(this.tail, text) + text : text;
    this.afterPhrase = false;
    this.tail = joined.slice(-2);
    return joined;
  }

  /** A text part of the answer, as it should be sent (the same part when nothing changes). */
  part<Part extends { text: string }>(part: Part): Part {
    const text = this.text(part.text);
    return text === part.text ? part : { ...part, text };
  }

  /** A phrase of the gateway's own, as it should be sent. */
  phrase(phrase: string): string {
    if (phrase === '') return phrase;
    const joined = spaceBetween(this.tail, phrase) + phrase;
    this.afterPhrase = true;
    this.tail = joined.slice(-2);
    return joined;
  }
}
