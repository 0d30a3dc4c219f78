/**
 * The speech shaper's state machine: one pass over the characters of an answer, deciding at each
 * position what the text there is and what a caller should hear of it.
 *
 * When the buffered text cannot decide yet (a trailing `*`, `<ims`, `](ht`, `$5 \`, a line start
 * before its first character, half a surrogate pair, ...), only that suffix is held back, and every
 * look-ahead is bounded; everything before it is decided at once, so plain text is never delayed.
 * Runs that could grow without bound (`*****…`, a fence's backticks, a URL, an HTML comment) are
 * consumed as they come, with their state kept, so the work is linear in the text however it is
 * split. Every decision depends only on characters already seen, so any chunking of the same text
 * gives the same output.
 */

import { controlTagEnd, directiveEnd } from './control-tags.ts';
import { citationEnd } from './citations.ts';
import { entityAt } from './entities.ts';
import { COMMENT_CLOSE, COMMENT_OPEN, htmlTagAt, type TagKind } from './html.ts';
import { mathToSpeech } from './latex.ts';
import {
  autolinkEnd,
  decorativeLineEnd,
  destinationEnd,
  imageEnd,
  isDefinitionLine,
  referenceLabelEnd,
  taskBoxLength,
} from './markdown-syntax.ts';
import { bareCommandEnd, delimitedMath, dollarMath } from './math-spans.ts';
import {
  isBlank,
  isDigit,
  isIndent,
  isSpacedWordChar,
  lastCodePoint,
  NEED_MORE,
  peekCodePoint,
  runEnd,
  skipIndent,
  startsWithAt,
} from './scan.ts';
import { isArrow, isBullet, isMark, isRatingStar, MIDDLE_DOT, ratingEnd, SYMBOL_CHARS } from './symbols.ts';
import { HOST_LIMIT, hostOf, isHostChar, isTrailingPunct, isUrlChar, TRAILING_PUNCT_LIMIT, urlStart } from './urls.ts';
import { spaceBetween } from '../../text/word-space.ts';
import { resolveSpeechOptions, type ResolvedSpeechOptions, type SpeechShapeOptions } from './options.ts';

/** Longest indentation looked past at a line start. */
const INDENT_LIMIT = 16;
const MAX_HEADING_LEVEL = 6;
/** `1. ` to `999. `: longer numbers at a line start are more likely a year than a list. */
const MAX_LIST_NUMBER_DIGITS = 3;
const MIN_FENCE = 3;
/** Longer fences count as this long: a closing fence needs no more. */
const FENCE_LIMIT = 32;
/** How far a fence's info string is looked at for a backtick (then it is inline code). */
const INFO_LIMIT = 200;
/** A run of this many `*`, `_` or `~` is decoration, not emphasis: dropped to its end. */
const MARKER_RUN_LIMIT = 4;
const ZWJ = 0x200d;
const NON_BLANK = /\S/;
/**
 * After a lone `*` these show it is the star key or content: `*号键`, `*100#`, `*67` (a digit:
 * losing the star of a dialing code is worse than reading one in a rare `*2 left*`).
 */
const STAR_KEY_NEXT = /^[号键#0-9]$/;
const CLOSING_PUNCT = /^[.,;:!?)\]。，；：！？）」』]$/;
const ASCII_PUNCT = /^[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]$/;
const ALNUM = /^[A-Za-z0-9]$/;

const EMOJI_PARTS = String.raw`\u200d\u20e3\ufe0e\ufe0f\u{1F1E6}-\u{1F1FF}\u{1F3FB}-\u{1F3FF}\u{E0020}-\u{E007F}\p{Extended_Pictographic}\p{Cs}`;

/**
 * A run of characters that are spoken as they are, whatever follows. Excluded: characters that
 * may start or be a marker, emoji (and their components, lone surrogates), symbols, and
 * characters whose meaning the next one decides (`#` / digits before a keycap mark, `!` before
 * `[`, `-` before `>`, `h` / `w` starting a word (a URL?)). Blanks are always plain: a blank
 * at a chunk's end goes out at once.
 * In a heading line `#` is never plain: closing hashes are looked for.
 */
function plainRun(hashIsPlain: boolean): RegExp {
  const special = String.raw`\n*_~\x60[\]!<|#0-9$\\&{\-=hHwW` + SYMBOL_CHARS + EMOJI_PARTS;
  const alternatives = [
    `[^${special}]`,
    hashIsPlain ? String.raw`[#0-9](?=[^\u20e3\ufe0f])` : String.raw`[0-9](?=[^\u20e3\ufe0f])`,
    String.raw`!(?=[^[])`,
    String.raw`~(?=[^~])`,
    String.raw`<(?=[^A-Za-z!/])`,
    String.raw`[\-=](?=[^>])`,
    String.raw`&(?=\s)`,
    String.raw`\{(?=[^{])`,
    String.raw`(?<=[A-Za-z0-9])[hHwW]`,
  ];
  return new RegExp(`(?:${alternatives.join('|')})+`, 'uy');
}

const PLAIN_RUN = plainRun(true);
const PLAIN_RUN_IN_HEADING = plainRun(false);

/**
 * Pictographs and the invisible parts of emoji sequences: variation selectors (text / emoji
 * presentation), the keycap mark, skin-tone modifiers, regional indicators (flags), tag characters
 * (subdivision flags). ZWJ is handled apart: it is also used by some scripts.
 */
const EMOJI = /[\p{Extended_Pictographic}\u20e3\ufe0e\ufe0f\u{1F1E6}-\u{1F1FF}\u{1F3FB}-\u{1F3FF}\u{E0020}-\u{E007F}]/u;

/** End of a heading's closing hashes (`## Hours ##`) at `pos`, with the blanks after them; or 0. */
function closingHashesEnd(buf: string, pos: number, final: boolean): number {
  const run = runEnd(buf, pos, '#', MAX_HEADING_LEVEL + 1);
  const end = skipIndent(buf, run, INDENT_LIMIT);
  if (end === buf.length) return final ? end : NEED_MORE;
  return buf[end] === '\n' ? end : 0;
}

/** Length of a keycap emoji (`1️⃣`, `#⃣`) starting at `at`, 0 when there is none. */
function keycapLength(buf: string, at: number, final: boolean): number {
  const mark = buf[at + 1];
  if (mark === undefined) return final ? 0 : NEED_MORE;
  if (mark === '\u20e3') return 2;
  if (mark !== '\ufe0f') return 0;
  const keycap = buf[at + 2];
  if (keycap === undefined) return final ? 0 : NEED_MORE;
  return keycap === '\u20e3' ? 3 : 0;
}

/** The state machine. `push` / `end` / `finish` return the speakable text decided so far. */
export class SpeechShaper {
  private readonly options: ResolvedSpeechOptions;
  /** Text not decided yet: the shortest suffix that could still become a marker. */
  private held = '';
  /** Output slices of the current call, joined once. */
  private readonly out: string[] = [];
  /** At a line start (also the start of the stream): block markers are looked for. */
  private lineStart = true;
  /** Dropping the rest of the current line, its newline included. */
  private dropLine = false;
  /** Inside a fenced code block: its fence character and length. */
  private fence: { char: string; length: number } | undefined;
  /** Inside an HTML comment. */
  private comment = false;
  /** Dropping the rest of a run of this character (a decorative `*****`, a long closing fence). */
  private skipChar: string | undefined;
  /** Inside a bare URL: its host so far, then its path / query (`tail`), never spoken. */
  private url: { host: string; tail: boolean } | undefined;
  /** The current line is a heading: closing hashes go. */
  private headingLine = false;
  /** The current line is a table row: pipes separate cells. */
  private tableRow = false;
  /** A table without outer pipes is being read: its next lines are rows from their start. */
  private pipeRows = false;
  private rowHasText = false;
  /** A cell boundary was passed: ", " goes before the next cell's text. */
  private pendingSeparator = false;
  /** Whitespace at the end of table cell text, emitted only if no cell boundary follows. */
  private trailingSpace = '';
  /** Open `[` of link texts. */
  private linkDepth = 0;
  /** Drop the spaces that start the next text (after a removed marker or emoji). */
  private collapse = false;
  /** The last thing removed was an emoji: a ZWJ now joins emoji and goes too. */
  private afterEmoji = false;
  /** An emoji or symbol was removed right after a word: a space keeps the next word apart. */
  private fuse = false;
  /** The last code point emitted ('\n' at the start): decides whether `*` / `_` are markers. */
  private prev = '\n';
  /** Newlines emitted since the last visible character (the start counts as a paragraph break). */
  private newlineRun = 2;
  /** Something was removed since the last visible character: extra blank lines go too. */
  private removed = false;
  /** Something was removed from the current line / something visible was emitted on it. */
  private lineHadRemoval = false;
  private lineHasText = false;
  /** The current line started with a list marker; we are in a list; the last item's number. */
  private markerOnLine = false;
  private inList = false;
  private listNumber: number | undefined;
  /** A code block was dropped and nothing was said since: the code fallback is due at the end. */
  private codePending = false;

  constructor(options?: SpeechShapeOptions) {
    this.options = resolveSpeechOptions(options);
  }

  push(text: string): string {
    this.held += text;
    return this.run(false);
  }

  /** Decides all held-back text as if the text ended here (before a part that is not text). */
  end(): string {
    return this.run(true);
  }

  /** The end of the answer: also says the code fallback when the answer ended on dropped code. */
  finish(): string {
    const text = this.run(true);
    if (!this.codePending || this.options.codeFallback === '') return text;
    this.codePending = false;
    this.emit(spaceBetween(this.prev, this.options.codeFallback) + this.options.codeFallback);
    return text + this.takeOut();
  }

  private run(final: boolean): string {
    const buf = this.held;
    let pos = 0;
    while (pos < buf.length) {
      const used = this.step(buf, pos, final);
      if (used === NEED_MORE) break;
      pos += used;
    }
    this.held = buf.slice(pos);
    if (final) {
      if (this.url !== undefined && !this.url.tail) this.speakHost(this.url.host);
      this.url = undefined;
      this.skipChar = undefined;
    }
    return this.takeOut();
  }

  private takeOut(): string {
    const text = this.out.join('');
    this.out.length = 0;
    return text;
  }

  /** Handles the text at `pos`: the number of characters consumed (0 after a state change). */
  private step(buf: string, pos: number, final: boolean): number {
    if (this.dropLine) return this.skipLine(buf, pos);
    if (this.fence !== undefined) return this.fenceLine(buf, pos, final);
    if (this.comment) return this.commentBody(buf, pos, final);
    if (this.skipChar !== undefined) {
      const end = runEnd(buf, pos, this.skipChar, Infinity);
      if (end > pos) return end - pos;
      this.skipChar = undefined;
    }
    if (this.url !== undefined) return this.urlBody(buf, pos, final);
    if (this.lineStart) return this.lineStartMarker(buf, pos, final);
    return this.inline(buf, pos, final);
  }

  private skipLine(buf: string, pos: number): number {
    const newline = buf.indexOf('\n', pos);
    if (newline < 0) return buf.length - pos;
    this.dropLine = false;
    this.startLine();
    return newline + 1 - pos;
  }

  /**
   * A line inside a fenced code block. The body is dropped, not spoken: code read out character
   * by character is noise on a phone call. A line starting with a fence at least as long closes
   * it; text after the closing fence on the same line is spoken.
   */
  private fenceLine(buf: string, pos: number, final: boolean): number {
    const fence = this.fence!;
    const start = skipIndent(buf, pos, INDENT_LIMIT);
    const end = runEnd(buf, start, fence.char, fence.length);
    if (end === buf.length && !final) return NEED_MORE;
    if (end - start < fence.length) {
      this.dropLine = true;
      return end - pos;
    }
    this.fence = undefined;
    this.skipChar = fence.char;
    this.lineStart = false;
    this.collapse = true;
    this.lineHadRemoval = true;
    this.removed = true;
    return end - pos;
  }

  /** Inside `<!-- -->`: dropped up to the close, keeping only a `--` that may start it. */
  private commentBody(buf: string, pos: number, final: boolean): number {
    const close = buf.indexOf(COMMENT_CLOSE, pos);
    if (close >= 0) {
      this.comment = false;
      return close + COMMENT_CLOSE.length - pos;
    }
    const used = final ? buf.length - pos : buf.length - pos - (COMMENT_CLOSE.length - 1);
    return used > 0 ? used : NEED_MORE;
  }

  /** Block markers, which only count at a line start (after any indentation). */
  private lineStartMarker(buf: string, pos: number, final: boolean): number {
    const len = buf.length;
    const at = skipIndent(buf, pos, INDENT_LIMIT);
    if (at === len && !final) return NEED_MORE;
    const c = buf[at];

    // Rules and table separator rows read as nothing: drop the line with its newline.
    if (c === '-' || c === '*' || c === '_' || c === '=' || c === '|' || c === ':') {
      const end = decorativeLineEnd(buf, at, final);
      if (end === NEED_MORE) return NEED_MORE;
      if (end > 0) {
        this.removed = true;
        return end - pos;
      }
    }

    switch (c) {
      case '#':
        return this.heading(buf, pos, at, final);
      case '`':
      case '~':
        return this.fenceOpen(buf, pos, at, c, final);
      // Bullet `- item`: the marker goes. Still at a line start: `- **x**`, `- [ ] x`, `> - x`.
      case '-':
      case '*':
      case '+': {
        if (at + 1 === len && !final) return NEED_MORE;
        if (isIndent(buf[at + 1])) return this.listMarker(at + 2 - pos);
        break;
      }
      // Blockquote `> text`: the marker goes; nested quotes and lists follow it.
      case '>':
        this.collapse = true;
        return at + 1 - pos;
      // Table row: pipes become cell separators so the row reads as a list of words.
      case '|':
        this.lineStart = false;
        this.tableRow = true;
        this.rowHasText = false;
        this.collapse = true;
        return at + 1 - pos;
      case '[': {
        const box = taskBoxLength(buf, at, final);
        if (box === NEED_MORE) return NEED_MORE;
        if (box > 0) {
          this.collapse = true;
          this.lineHadRemoval = true;
          return at + box - pos;
        }
        // A reference definition `[1]: https://...` is not part of the answer.
        const definition = isDefinitionLine(buf, at, final);
        if (definition === NEED_MORE) return NEED_MORE;
        if (definition) {
          this.dropLine = true;
          this.removed = true;
          return at - pos;
        }
        break;
      }
      default:
        // A bullet or a mark starts an item; stars may be a rating (`★★★★☆`), said inline.
        if (isBullet(c) || (isMark(c) && !isRatingStar(c)) || c === MIDDLE_DOT) {
          return this.listMarker(skipIndent(buf, at + 1, INDENT_LIMIT) - pos);
        }
    }

    const numbered = this.numberedMarker(buf, at, final);
    if (numbered === NEED_MORE) return NEED_MORE;
    if (numbered > 0) return this.listMarker(numbered - pos);
    this.lineStart = false;
    // A line that is not indented and not an item ends the list.
    if (!this.markerOnLine && at === pos && c !== '\n' && c !== undefined) this.inList = false;
    // A blank line ends a table; until then each line is a row, its cell blanks held for a pipe.
    if (c === '\n' || c === undefined) this.pipeRows = false;
    else if (this.pipeRows && !this.tableRow) {
      this.tableRow = true;
      this.rowHasText = false;
    }
    return 0;
  }

  private listMarker(length: number): number {
    this.collapse = true;
    this.markerOnLine = true;
    this.inList = true;
    return length;
  }

  /**
   * End of a numbered item's marker `1. ` / `1) ` at `at`, 0 when there is none. A number is
   * a marker only where a list is: the first item (1), the next number, or any number right
   * after an item, so `42. Is there anything else?` keeps its 42.
   */
  private numberedMarker(buf: string, at: number, final: boolean): number {
    const len = buf.length;
    if (!isDigit(buf[at])) return 0;
    let end = at;
    while (end < len && end - at <= MAX_LIST_NUMBER_DIGITS && isDigit(buf[end])) end++;
    if (end - at > MAX_LIST_NUMBER_DIGITS) return 0;
    if (end === len) return final ? 0 : NEED_MORE;
    const mark = buf[end];
    if (mark !== '.' && mark !== ')') return 0;
    if (end + 1 === len) return final ? 0 : NEED_MORE;
    if (!isIndent(buf[end + 1])) return 0;
    const n = Number(buf.slice(at, end));
    if (n !== 1 && !this.inList && n !== (this.listNumber ?? -1) + 1) return 0;
    this.listNumber = n;
    return end + 2;
  }

  /** ATX heading `## Title`, `###营业时间`: the hashes go, the title is spoken. */
  private heading(buf: string, pos: number, at: number, final: boolean): number {
    const end = runEnd(buf, at, '#', MAX_HEADING_LEVEL + 1);
    if (end === buf.length && !final) return NEED_MORE;
    const level = end - at;
    const next = peekCodePoint(buf, end, final);
    if (next === null) return NEED_MORE;
    this.lineStart = false;
    if (level > MAX_HEADING_LEVEL) return 0;
    const spaced = next === '' || next === '\n' || isIndent(next);
    // Glued: `##Title`, or one `#` before Chinese (`#营业时间`) but not the pound key (`#号键`).
    const glued =
      !isBlank(next) &&
      next !== '#' &&
      next !== '\ufe0f' &&
      next !== '\u20e3' &&
      (level >= 2 || (/\p{Script=Han}/u.test(next) && next !== '号' && next !== '键'));
    if (!spaced && !glued) return 0; // `#hashtag`, `#1`, `#️⃣`: not a heading.
    this.collapse = true;
    this.headingLine = true;
    return end - pos;
  }

  /**
   * A fence opens a code block; its line (with the language tag) goes. A backtick "fence" whose
   * line has another backtick (```` ```npm install``` ````) is inline code, spoken.
   */
  private fenceOpen(buf: string, pos: number, at: number, c: string, final: boolean): number {
    const end = runEnd(buf, at, c, FENCE_LIMIT);
    if (end === buf.length && !final) return NEED_MORE;
    if (end - at >= MIN_FENCE && c === '`') {
      const info = buf.slice(end, end + INFO_LIMIT);
      const tick = info.indexOf('`');
      const newline = info.indexOf('\n');
      if (tick < 0 && newline < 0 && info.length < INFO_LIMIT && !final) return NEED_MORE;
      if (tick >= 0 && (newline < 0 || tick < newline)) {
        this.lineStart = false;
        return 0;
      }
    }
    this.lineStart = false;
    if (end - at < MIN_FENCE) return 0; // Inline code or strikethrough.
    this.fence = { char: c, length: end - at };
    this.dropLine = true;
    this.removed = true;
    this.codePending = true;
    return end - pos;
  }

  /** Text within a line. */
  private inline(buf: string, pos: number, final: boolean): number {
    const plainRun = this.headingLine ? PLAIN_RUN_IN_HEADING : PLAIN_RUN;
    plainRun.lastIndex = pos;
    const plain = plainRun.exec(buf);
    if (plain !== null) {
      this.emit(plain[0]);
      return plain[0].length;
    }
    switch (buf[pos]) {
      case '\n':
        return this.newline();
      case '*':
        return this.asterisks(buf, pos, final);
      case '_':
        return this.underscores(buf, pos, final);
      case '~':
        return this.tildes(buf, pos, final);
      // Inline code: the backticks go, the code text is spoken.
      case '`':
        return 1;
      case '[':
        return this.openBracket(buf, pos, final);
      case ']':
        return this.closeBracket(buf, pos, final);
      case '!':
        return this.bang(buf, pos, final);
      case '<':
        return this.angle(buf, pos, final);
      case '|':
        return this.pipe();
      case '$':
        return this.dollar(buf, pos, final);
      case '\\':
        return this.backslash(buf, pos, final);
      case '&':
        return this.ampersand(buf, pos, final);
      case '{':
        return this.brace(buf, pos, final);
      case '-':
      case '=':
        return this.asciiArrow(buf, pos, final);
      case 'h':
      case 'H':
      case 'w':
      case 'W':
        return this.wordStart(buf, pos, final);
      default:
        return this.symbol(buf, pos, final);
    }
  }

  private newline(): number {
    // Keep newlines (pauses), but a line left empty by removals goes with its newline, and
    // removed lines must not leave runs of blank lines.
    const emptied = this.lineHadRemoval && !this.lineHasText;
    if (!emptied && !(this.removed && this.newlineRun >= 2)) {
      this.out.push('\n');
      this.newlineRun++;
    }
    this.prev = '\n';
    this.startLine();
    return 1;
  }

  /** A line break that is not in the text (`<br>`, `</p>`): only after something was said. */
  private softBreak(): void {
    if (!this.lineHasText) {
      this.dropped(false);
      return;
    }
    this.out.push('\n');
    this.newlineRun++;
    this.prev = '\n';
    this.startLine();
  }

  private startLine(): void {
    this.lineStart = true;
    this.headingLine = false;
    this.tableRow = false;
    this.pendingSeparator = false;
    this.trailingSpace = '';
    this.collapse = false;
    this.afterEmoji = false;
    this.fuse = false;
    this.linkDepth = 0;
    this.lineHadRemoval = false;
    this.lineHasText = false;
    this.markerOnLine = false;
  }

  /**
   * Emphasis `*x*` / `**x**`: the markers go. A lone `*` that cannot be emphasis is content: the
   * star key (`press *.`, `请按*号键`, `*100#`), arithmetic (`2 * 3`, `2*3`).
   */
  private asterisks(buf: string, pos: number, final: boolean): number {
    const end = runEnd(buf, pos, '*', MARKER_RUN_LIMIT);
    if (end === buf.length && !final) return NEED_MORE;
    const count = end - pos;
    if (count >= MARKER_RUN_LIMIT) return this.decorationRun('*', count);
    if (count === 1) {
      const keycap = keycapLength(buf, pos, final);
      if (keycap === NEED_MORE) return NEED_MORE;
      // A keycap `*️⃣` is the star key: its character stays, the emoji parts go.
      if (keycap > 0) {
        this.emit('*');
        return keycap;
      }
    }
    const next = buf[end];
    const lone =
      count === 1 &&
      ((next !== undefined && STAR_KEY_NEXT.test(next)) ||
        ((isBlank(this.prev) || this.prev === '(') && (isBlank(next) || CLOSING_PUNCT.test(next!))));
    const arithmetic = (isBlank(this.prev) && isBlank(next)) || (count === 1 && isDigit(this.prev) && isDigit(next));
    if (lone || arithmetic) this.emit(buf.slice(pos, end));
    return count;
  }

  private decorationRun(char: string, count: number): number {
    this.skipChar = char;
    this.dropped(false);
    return count;
  }

  /**
   * Emphasis `_x_` / `__x__`: the markers go. Inside a word (`snake_case`) or between blanks an
   * underscore stays; between Chinese characters it is emphasis (Chinese has no spaces).
   */
  private underscores(buf: string, pos: number, final: boolean): number {
    const end = runEnd(buf, pos, '_', MARKER_RUN_LIMIT);
    if (end - pos >= MARKER_RUN_LIMIT) return this.decorationRun('_', end - pos);
    const next = peekCodePoint(buf, end, final);
    if (next === null) return NEED_MORE;
    const inWord = isSpacedWordChar(this.prev) && isSpacedWordChar(next);
    if (inWord || (isBlank(this.prev) && isBlank(next))) this.emit(buf.slice(pos, end));
    return end - pos;
  }

  /** Strikethrough `~~x~~`: the markers go (the words stay). A single `~` ("about") stays. */
  private tildes(buf: string, pos: number, final: boolean): number {
    const end = runEnd(buf, pos, '~', MARKER_RUN_LIMIT);
    if (end === buf.length && !final) return NEED_MORE;
    if (end - pos >= MARKER_RUN_LIMIT) return this.decorationRun('~', end - pos);
    if (end - pos === 1 || (isBlank(this.prev) && isBlank(buf[end]))) this.emit(buf.slice(pos, end));
    return end - pos;
  }

  /**
   * A citation marker `[1]`, `[^2]`, `[ref_1]` is dropped (with a `(url)` right after it). Any
   * other `[` opens a link text, spoken as it arrives; the brackets are never spoken.
   */
  private openBracket(buf: string, pos: number, final: boolean): number {
    const cite = citationEnd(buf, pos, final);
    if (cite === NEED_MORE) return NEED_MORE;
    if (cite === 0) {
      this.linkDepth++;
      return 1;
    }
    let end = cite;
    if (cite === buf.length && !final) return NEED_MORE;
    if (buf[cite] === '(') {
      const close = destinationEnd(buf, cite, final);
      if (close === NEED_MORE) return NEED_MORE;
      if (close > 0) end = close;
    }
    this.dropped(false);
    return end - pos;
  }

  /** The `]` closing a link text: a `(url)` or a reference label `[1]` right after it is not spoken. */
  private closeBracket(buf: string, pos: number, final: boolean): number {
    if (this.linkDepth !== 1) {
      if (this.linkDepth > 1) this.linkDepth--;
      return 1;
    }
    if (pos + 1 === buf.length && !final) return NEED_MORE;
    let end = pos + 1;
    const next = buf[pos + 1];
    if (next === '(' || next === '[') {
      const close = next === '(' ? destinationEnd(buf, pos + 1, final) : referenceLabelEnd(buf, pos + 1, final);
      if (close === NEED_MORE) return NEED_MORE;
      if (close > 0) end = close;
    }
    this.linkDepth = 0;
    return end - pos;
  }

  /** An image `![alt](url)` is dropped whole: alt text out of context confuses a listener. */
  private bang(buf: string, pos: number, final: boolean): number {
    if (pos + 1 === buf.length && !final) return NEED_MORE;
    if (buf[pos + 1] === '[') {
      const end = imageEnd(buf, pos, final);
      if (end === NEED_MORE) return NEED_MORE;
      if (end > 0) {
        this.dropped(false);
        return end - pos;
      }
    }
    this.emit('!');
    return 1;
  }

  /**
   * Workflow tags (`<imsagent_...>`, `<No Interrupting>`, `<flush />`) pass byte for byte. HTML
   * tags and comments go (a `<br>` or a block tag is a pause, `<td>` a cell boundary); an autolink
   * `<https://...>` is read as a bare URL. Any other `<` is text.
   */
  private angle(buf: string, pos: number, final: boolean): number {
    const control = controlTagEnd(buf, pos, final);
    if (control === NEED_MORE) return NEED_MORE;
    if (control > 0) {
      this.out.push(buf.slice(pos, control));
      return control - pos;
    }
    const comment = startsWithAt(buf, pos, COMMENT_OPEN, final);
    if (comment === NEED_MORE) return NEED_MORE;
    if (comment) {
      this.comment = true;
      this.dropped(false);
      return COMMENT_OPEN.length;
    }
    const tag = htmlTagAt(buf, pos, final);
    if (tag === NEED_MORE) return NEED_MORE;
    if (tag !== 0) {
      this.htmlTag(tag.kind);
      return tag.end - pos;
    }
    const autolink = autolinkEnd(buf, pos, final);
    if (autolink === NEED_MORE) return NEED_MORE;
    if (autolink > 0) {
      this.speakHost(hostOf(buf.slice(pos + 1, autolink - 1)));
      return autolink - pos;
    }
    this.emit('<');
    return 1;
  }

  private htmlTag(kind: TagKind): void {
    if (kind === 'cell') {
      if (!this.tableRow) this.rowHasText = this.lineHasText;
      this.tableRow = true;
      this.cellBoundary();
    } else if (kind === 'break' && this.tableRow) {
      this.emit(' ');
    } else if (kind === 'inline') {
      this.dropped(false);
    } else {
      this.softBreak();
    }
  }

  /**
   * In a table row a pipe separates cells. A pipe in a line of text makes it a row from there
   * on (a table without outer pipes, `Mon–Fri | 9am–5pm`): a pause, never "vertical bar".
   */
  private pipe(): number {
    if (!this.tableRow) {
      this.tableRow = true;
      this.pipeRows = true;
      this.rowHasText = this.lineHasText;
    }
    this.cellBoundary();
    return 1;
  }

  private cellBoundary(): void {
    if (this.rowHasText) this.pendingSeparator = true;
    this.trailingSpace = '';
    this.collapse = true;
  }

  /** `$...$` math is read as words; a `$` that is money (`$5`) or text stays. */
  private dollar(buf: string, pos: number, final: boolean): number {
    const span = dollarMath(buf, pos, final);
    if (span === NEED_MORE) return NEED_MORE;
    if (span === 0) {
      this.emit('$');
      return 1;
    }
    this.speakMath(buf.slice(span.contentStart, span.contentEnd));
    return span.end - pos;
  }

  /**
   * `\(...\)` and `\[...\]` math, bare math commands (`3 \times 5`), and markdown escapes: `\*`
   * and `\$` are the characters themselves, spoken as content.
   */
  private backslash(buf: string, pos: number, final: boolean): number {
    const next = buf[pos + 1];
    if (next === undefined) {
      if (!final) return NEED_MORE;
      this.emit('\\');
      return 1;
    }
    if (next === '(' || next === '[') {
      const span = delimitedMath(buf, pos, 2, next === '(' ? '\\)' : '\\]', final);
      if (span === NEED_MORE) return NEED_MORE;
      if (span !== 0) this.speakMath(buf.slice(span.contentStart, span.contentEnd));
      return span === 0 ? 2 : span.end - pos;
    }
    if (next === ')' || next === ']' || next === '\\') return 2;
    if (ASCII_PUNCT.test(next)) {
      this.emit(next);
      return 2;
    }
    const command = bareCommandEnd(buf, pos, final);
    if (command === NEED_MORE) return NEED_MORE;
    if (command > 0) {
      this.speakMath(buf.slice(pos, command));
      return command - pos;
    }
    this.emit('\\');
    return 1;
  }

  private speakMath(src: string): void {
    const text = mathToSpeech(src, this.options.language);
    if (text === '') {
      this.dropped(false);
      return;
    }
    const english = this.options.language === 'en';
    this.emit(english && isSpacedWordChar(this.prev) && isSpacedWordChar(text[0]) ? ` ${text}` : text);
    // `$2^\circ$C` → "2 degrees C", not "degreesC".
    if (english) this.fuse = true;
  }

  /** A character reference (`&amp;`, `&#39;`) is spoken as its character. */
  private ampersand(buf: string, pos: number, final: boolean): number {
    const entity = entityAt(buf, pos, final);
    if (entity === NEED_MORE) return NEED_MORE;
    if (entity === 0) {
      this.emit('&');
      return 1;
    }
    if (isArrow(entity.text)) this.arrow();
    else if (entity.text === '' || EMOJI.test(entity.text)) this.dropped(true);
    else this.emit(entity.text);
    return entity.end - pos;
  }

  /** A `{{emotion=happy}}` directive for the TTS engine passes byte for byte. */
  private brace(buf: string, pos: number, final: boolean): number {
    const end = directiveEnd(buf, pos, final);
    if (end === NEED_MORE) return NEED_MORE;
    if (end === 0) {
      this.emit('{');
      return 1;
    }
    this.out.push(buf.slice(pos, end));
    return end - pos;
  }

  /** `->` and `=>` are arrows (said "to"); a `-` or `=` not before `>` never reaches here. */
  private asciiArrow(buf: string, pos: number, final: boolean): number {
    if (pos + 1 === buf.length && !final) return NEED_MORE;
    if (buf[pos + 1] !== '>') {
      this.emit(buf[pos]!);
      return 1;
    }
    this.arrow();
    return 2;
  }

  private arrow(): void {
    const word = this.options.words.to;
    this.emit(isBlank(this.prev) ? word.trimStart() : word);
    this.collapse = true;
  }

  /** A word starting with `h` or `w` may be a bare URL (`https://…`, `www.…`). */
  private wordStart(buf: string, pos: number, final: boolean): number {
    const c = buf[pos]!;
    if (ALNUM.test(this.prev)) {
      this.emit(c);
      return 1;
    }
    const start = urlStart(buf, pos, final);
    if (start === NEED_MORE) return NEED_MORE;
    if (start === 0) {
      this.emit(c);
      return 1;
    }
    this.url = { host: start.host, tail: false };
    return start.skip;
  }

  /**
   * Inside a bare URL: the host is collected, then said (or not, as configured); the path and
   * query are dropped as they come. Punctuation that ends a sentence after a URL stays.
   */
  private urlBody(buf: string, pos: number, final: boolean): number {
    const url = this.url!;
    const c = buf[pos]!;
    if (!url.tail) {
      if (isHostChar(c) && url.host.length < HOST_LIMIT) {
        url.host += c;
        return 1;
      }
      const host = url.host.replace(/[.-]+$/, '');
      const trailing = url.host.slice(host.length);
      this.speakHost(host);
      if (trailing === '' && '/?#:'.includes(c)) {
        url.tail = true;
        return 0;
      }
      this.url = undefined;
      if (trailing !== '') this.emit(trailing);
      return 0;
    }
    if (isTrailingPunct(c)) {
      let end = pos;
      while (end < buf.length && end - pos < TRAILING_PUNCT_LIMIT && isTrailingPunct(buf[end])) end++;
      if (end === buf.length && !final) return NEED_MORE;
      if (end - pos < TRAILING_PUNCT_LIMIT && !isUrlChar(buf[end])) {
        this.url = undefined;
        return 0;
      }
      return end - pos;
    }
    if (!isUrlChar(c)) {
      this.url = undefined;
      return 0;
    }
    let end = pos + 1;
    while (end < buf.length && isUrlChar(buf[end]) && !isTrailingPunct(buf[end])) end++;
    return end - pos;
  }

  /** A rating `★★★★☆` is said ("4 out of 5 stars"); a single star decorates and goes. */
  private stars(buf: string, pos: number, final: boolean): number {
    const end = ratingEnd(buf, pos, final);
    if (end === NEED_MORE) return NEED_MORE;
    if (end === 0) {
      this.dropped(true);
      return 1;
    }
    const run = buf.slice(pos, end);
    const filled = run.length - run.replaceAll('★', '').length;
    const spoken = this.options.words.stars(filled, run.length);
    this.emit(isSpacedWordChar(this.prev) ? ` ${spoken}` : spoken);
    return end - pos;
  }

  private speakHost(host: string): void {
    if (this.options.urls === 'host' && host !== '') this.emit(host);
    else this.dropped(false);
  }

  /** Keycaps, emoji, bullets and marks go; arrows are said; anything else here is text. */
  private symbol(buf: string, pos: number, final: boolean): number {
    const c = buf[pos]!;
    if (c === '#' && this.headingLine && isBlank(this.prev)) {
      const end = closingHashesEnd(buf, pos, final);
      if (end !== 0) return end === NEED_MORE ? NEED_MORE : end - pos;
    }
    if (c === '#' || isDigit(c)) {
      // A keycap `1️⃣` is the key: "Press 1️⃣ for sales" keeps its 1.
      const keycap = keycapLength(buf, pos, final);
      if (keycap === NEED_MORE) return NEED_MORE;
      this.emit(c);
      return keycap > 0 ? keycap : 1;
    }
    if (isRatingStar(c)) return this.stars(buf, pos, final);
    if (isArrow(c)) {
      this.arrow();
      return 1;
    }
    if (c === MIDDLE_DOT) {
      if (pos + 1 === buf.length && !final) return NEED_MORE;
      if (isBlank(this.prev) && isBlank(buf[pos + 1])) this.dropped(false);
      else this.emit(c);
      return 1;
    }
    if (isBullet(c) || isMark(c)) {
      this.dropped(true);
      return 1;
    }
    const ch = peekCodePoint(buf, pos, final);
    if (ch === null) return NEED_MORE;
    if (ch.codePointAt(0) === ZWJ) {
      if (!this.afterEmoji) this.emit(ch);
      return 1;
    }
    if (EMOJI.test(ch)) this.dropped(true);
    else this.emit(ch);
    return ch.length;
  }

  /** Something visible was removed: don't leave a double space or a blank-line run behind. */
  private dropped(emoji: boolean): void {
    if (isBlank(this.prev)) this.collapse = true;
    else if (emoji && isSpacedWordChar(this.prev)) this.fuse = true;
    this.lineHadRemoval = true;
    this.removed = true;
    this.afterEmoji = emoji;
  }

  private emit(slice: string): void {
    let text = slice;
    if (this.collapse) {
      let start = 0;
      while (start < text.length && isIndent(text[start])) start++;
      if (start === text.length) return;
      this.collapse = false;
      if (start > 0) text = text.slice(start);
    }
    if (this.fuse) {
      // `Thanks🙏Have` → "Thanks Have", not one word.
      this.fuse = false;
      if (isSpacedWordChar(text[0])) text = ` ${text}`;
    }
    this.prev = lastCodePoint(text);
    this.afterEmoji = false;
    if (this.tableRow) {
      // Hold a cell's trailing blanks until we know whether a pipe follows ("Name, Age").
      let end = text.length;
      while (end > 0 && isIndent(text[end - 1])) end--;
      if (end === 0) {
        this.trailingSpace += text;
        return;
      }
      this.out.push(this.pendingSeparator ? ', ' : this.trailingSpace);
      this.pendingSeparator = false;
      this.rowHasText = true;
      this.trailingSpace = text.slice(end);
      text = text.slice(0, end);
    }
    this.out.push(text);
    if (NON_BLANK.test(text)) {
      this.newlineRun = 0;
      this.removed = false;
      this.lineHasText = true;
      this.codePending = false;
    }
  }
}
